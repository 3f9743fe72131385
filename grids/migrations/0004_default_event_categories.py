"""The default event taxonomy of SPEC §3 (editable afterwards) and the default time limits."""

from django.db import migrations

from grids.events.catalogue import install_defaults


def create(apps, schema_editor):
    install_defaults(apps.get_model("grids", "EventCategory"), apps.get_model("grids", "SlaPolicy"))


class Migration(migrations.Migration):
    dependencies = [("grids", "0003_grid_events")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
