"""The audit trail: who changed what, when, from where — append-only and hash-chained.

Models deriving from `AuditedModel` are recorded on every save and delete (the
receivers live in governance.signals), so the admin, services, API and commands are
all covered by the same code. Bulk writes that bypass `save()` (demo seeding, imports)
record one `bulk` entry through `record()` themselves.

Each entry carries the SHA-256 of the previous entry's hash and its own content, so a
changed or deleted row breaks the chain (`python manage.py verify_audit_chain`).
Appending takes a transaction-scoped advisory lock on PostgreSQL so that concurrent
writers cannot fork the chain; SQLite serialises writers anyway.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, router, transaction
from django.utils import timezone

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 720_000_001  # arbitrary constant naming the audit chain lock
REDACTED = "******"


@dataclass(frozen=True)
class AuditContext:
    actor_id: int | None
    actor_name: str
    ip: str | None


_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar("audit_context", default=None)


def set_context(ctx: AuditContext | None) -> contextvars.Token:
    return _context.set(ctx)


def reset_context(token: contextvars.Token) -> None:
    _context.reset(token)


def current_context() -> AuditContext:
    from django.conf import settings

    return _context.get() or AuditContext(actor_id=None, actor_name=settings.AUDIT_SYSTEM_ACTOR, ip=None)


def to_jsonable(value: Any) -> Any:
    """Field values as plain JSON, stable across a database round trip."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if hasattr(value, "name") and hasattr(value, "storage"):  # FieldFile
        return value.name or ""
    return str(value)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class AuditedModel(models.Model):
    """Abstract base: every create, update and delete of the row lands in the audit trail.

    The values loaded from the database are remembered so an update records only what
    changed, as {field: [old, new]}.
    """

    audit_exclude: tuple[str, ...] = ()
    audit_redact: tuple[str, ...] = ()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._audit_snapshot = instance.audit_values()
        return instance

    def audit_values(self) -> dict[str, Any]:
        values = {}
        for field in self._meta.concrete_fields:
            if field.attname in self.audit_exclude or field.name in self.audit_exclude:
                continue
            if field.attname not in self.__dict__:  # deferred
                continue
            values[field.attname] = to_jsonable(getattr(self, field.attname))
        return values

    def audit_region_code(self) -> str:
        """The region the record belongs to, so the trail itself can be scoped."""
        path = getattr(self, "scope_path", "")
        value: Any = self
        for part in path.split("__") if path else ():
            value = getattr(value, part, None)
            if value is None:
                return ""
        return str(value) if path else ""

    def audit_changes(self, created: bool) -> dict[str, list[Any]]:
        new = self.audit_values()
        old = {} if created else getattr(self, "_audit_snapshot", {})
        changes = {}
        for name, value in new.items():
            before = old.get(name)
            if created or name not in old or before != value:
                if name in self.audit_redact:
                    changes[name] = [None if created else REDACTED, REDACTED]
                else:
                    changes[name] = [None if created else before, value]
        return changes

    def audit_refresh_snapshot(self) -> None:
        self._audit_snapshot = self.audit_values()


def record(
    action: str,
    *,
    instance: models.Model | None = None,
    model_label: str = "",
    object_id: str = "",
    object_repr: str = "",
    region_code: str = "",
    changes: dict | None = None,
    context: AuditContext | None = None,
):
    """Append one entry to the trail, inside the caller's transaction if there is one."""
    from governance.models import AuditLog

    ctx = context or current_context()
    if instance is not None:
        model_label = model_label or instance._meta.label_lower
        object_id = object_id or str(instance.pk)
        object_repr = object_repr or str(instance)[:200]
        if not region_code and isinstance(instance, AuditedModel):
            region_code = instance.audit_region_code()
    entry = AuditLog(
        at=timezone.now(),
        actor_id=ctx.actor_id,
        actor_name=ctx.actor_name[:150],
        ip=ctx.ip,
        action=action,
        model=model_label,
        object_id=object_id[:64],
        object_repr=object_repr[:200],
        region_code=region_code,
        changes=to_jsonable(changes or {}),
    )
    db = router.db_for_write(AuditLog)
    with transaction.atomic(using=db):
        connection = connections[db]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        entry.prev_hash = (
            AuditLog.objects.using(db).order_by("-seq").values_list("hash", flat=True).first() or GENESIS_HASH
        )
        entry.hash = entry.compute_hash()
        entry.save_new(using=db)
    return entry


def verify_chain(*, batch_size: int = 5000) -> tuple[int, int | None]:
    """Walk the whole trail; return (entries checked, seq of the first broken entry or None)."""
    from governance.models import AuditLog

    expected_prev = GENESIS_HASH
    checked = 0
    last_seq = 0
    while True:
        batch = list(AuditLog.objects.filter(seq__gt=last_seq).order_by("seq")[:batch_size])
        if not batch:
            return checked, None
        for entry in batch:
            if entry.prev_hash != expected_prev or entry.hash != entry.compute_hash():
                return checked, entry.seq
            expected_prev = entry.hash
            checked += 1
            last_seq = entry.seq
