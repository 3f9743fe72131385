"""The audit chain becomes keyed and sealed after commit (governance/audit.py).

Writers no longer take a global lock to append: each entry is inserted unsealed, and the
sealer later gives it a chain position (`chain_seq`), the previous hash and an HMAC under
AUDIT_CHAIN_KEYS. The old SHA-256 chain is verified first — a broken one stops the migration,
so that tampering is never laundered into the new chain — and its entries are then left
unsealed for the first sealer run. The database guard now also refuses DELETE on SQLite and
lets an UPDATE through only as the one-time seal (governance/audit_guard.py).
"""

import hashlib

from django.db import migrations, models

from governance import audit_guard
from governance.audit import GENESIS_HASH, canonical_json

OLD_PG_REMOVE = """
DROP TRIGGER IF EXISTS governance_auditlog_no_change ON governance_auditlog;
DROP FUNCTION IF EXISTS governance_auditlog_append_only();
"""
OLD_SQLITE_REMOVE = "DROP TRIGGER IF EXISTS governance_auditlog_no_update;"


def _old_hash(entry) -> str:
    content = canonical_json(
        {
            "at": entry.at.isoformat(),
            "actor_id": entry.actor_id,
            "actor_name": entry.actor_name,
            "ip": entry.ip,
            "action": entry.action,
            "model": entry.model,
            "object_id": entry.object_id,
            "object_repr": entry.object_repr,
            "region_code": entry.region_code,
            "changes": entry.changes,
        }
    )
    return hashlib.sha256((entry.prev_hash + content).encode("utf-8")).hexdigest()


def verify_old_chain_and_unseal(apps, schema_editor):
    AuditLog = apps.get_model("governance", "AuditLog")
    expected = GENESIS_HASH
    for entry in AuditLog.objects.order_by("seq").iterator(chunk_size=5000):
        if entry.prev_hash != expected or entry.hash != _old_hash(entry):
            raise RuntimeError(f"The audit chain is broken at entry #{entry.seq}; investigate before migrating.")
        expected = entry.hash
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("UPDATE governance_auditlog SET prev_hash = '', hash = ''")


def drop_old_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(OLD_PG_REMOVE)
    elif vendor == "sqlite":
        schema_editor.execute(OLD_SQLITE_REMOVE)


def install_guard(apps, schema_editor):
    audit_guard.install(schema_editor)


def remove_guard(apps, schema_editor):
    audit_guard.remove(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("governance", "0006_interchange")]

    operations = [
        migrations.RunPython(drop_old_guard, migrations.RunPython.noop),
        migrations.AddField(
            model_name="auditlog",
            name="chain_seq",
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True, verbose_name="链序号"),
        ),
        migrations.AddField(
            model_name="auditlog",
            name="key_id",
            field=models.CharField(blank=True, default="", editable=False, max_length=32),
        ),
        migrations.AlterField(
            model_name="auditlog",
            name="hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="auditlog",
            name="prev_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(verify_old_chain_and_unseal, migrations.RunPython.noop),
        migrations.RunPython(install_guard, remove_guard),
    ]
