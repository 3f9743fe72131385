"""Make the audit trail append-only in the database itself, not only in the ORM.

PostgreSQL refuses UPDATE and DELETE on the table (TRUNCATE, used by test flushes and
a deliberate operator reset, is not a row change and stays possible). SQLite refuses
UPDATE; its DELETE is left alone because SQLite flushes tables with DELETE.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION governance_auditlog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'governance_auditlog is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER governance_auditlog_no_change
    BEFORE UPDATE OR DELETE ON governance_auditlog
    FOR EACH ROW EXECUTE FUNCTION governance_auditlog_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS governance_auditlog_no_change ON governance_auditlog;
DROP FUNCTION IF EXISTS governance_auditlog_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER governance_auditlog_no_update BEFORE UPDATE ON governance_auditlog
BEGIN SELECT RAISE(ABORT, 'governance_auditlog is append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS governance_auditlog_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("governance", "0002_initial")]
    operations = [migrations.RunPython(forward, backward)]
