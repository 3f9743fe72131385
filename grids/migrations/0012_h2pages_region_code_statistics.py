"""A finer histogram of the events' region codes (PostgreSQL), so that the planner's estimate of a
subtree (`region_code LIKE '620102%'`) is close to its size: the bounded list counts show that
estimate, and the plans of the list pages depend on it (docs/decisions.md, "Bounded list counts")."""

from django.db import migrations

STATISTICS_TARGET = 1000  # default 100: about one histogram bucket per county of a province


def finer_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE grids_gridevent ALTER COLUMN region_code SET STATISTICS {STATISTICS_TARGET}"
    )
    schema_editor.execute("ANALYZE grids_gridevent (region_code)")


def default_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE grids_gridevent ALTER COLUMN region_code SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("grids", "0011_h2pages_event_list_indexes")]

    operations = [migrations.RunPython(finer_statistics, default_statistics, elidable=False)]
