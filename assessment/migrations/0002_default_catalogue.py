"""The default 40-indicator catalogue and the plain / mountain weight profiles (editable afterwards)."""

from django.db import migrations

from assessment.catalogue import install_defaults


def create(apps, schema_editor):
    install_defaults(
        apps.get_model("assessment", "Indicator"),
        apps.get_model("assessment", "WeightProfile"),
        apps.get_model("assessment", "IndicatorWeight"),
    )


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
