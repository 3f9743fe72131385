"""The audit trail: who changed what, when, from where — append-only and hash-chained.

Models deriving from `AuditedModel` are recorded on every save and delete (the
receivers live in governance.signals), so the admin, services, API and commands are
all covered by the same code. A service that changes a record's state writes that entry
itself instead (`save_and_record`, Zulip's do_* style): the entry names the transition and
the receiver stays silent for that save, so there is exactly one entry either way.

`QuerySet.update()` bypasses `save()`, so on audited models it is refused when it touches an
audited field; `audited_update(reason=...)` writes the rows and one `bulk` entry (ids, old and
new values, reason) in the same transaction. Bulk writes whose caller records one `bulk` entry
for the whole operation (demo seeding, imports) run inside `bulk_entry_recorded()`.

Writers only insert; nobody waits on anybody to append. A moment after each commit a sealer
(`seal_pending`, run after the writer's commit and every minute by the beat) gives every new
entry the next position in the chain and an HMAC over its position, the previous entry's hash
and its own content, under a secret key from the environment (`AUDIT_CHAIN_KEYS`). The sealer
also writes the chain's head, signed, to a checkpoint file outside the database
(`AUDIT_CHECKPOINT_PATH`). So a changed entry, a missing position and a cut tail are all
detected (`python manage.py verify_audit_chain`), and with database access alone nobody can
recompute the chain. The database refuses DELETE and any UPDATE but the one-time seal
(governance/audit_guard.py).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import fcntl
import hashlib
import hmac
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, router, transaction
from django.utils import timezone

from .choices import AuditAction

GENESIS_HASH = "0" * 64
_SEALER_LOCK_KEY = 720_000_001  # arbitrary constant naming the sealer's advisory lock (PostgreSQL)
SEAL_BATCH = 2000
REDACTED = "******"

logger = logging.getLogger(__name__)


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


# --- Bulk updates ----------------------------------------------------------------------------

_bulk_covered: contextvars.ContextVar[bool] = contextvars.ContextVar("audit_bulk_covered", default=False)


class UnauditedUpdate(RuntimeError):
    """`update()` on audited fields without an audit entry: use `audited_update(reason=...)`."""


@contextlib.contextmanager
def bulk_entry_recorded():
    """Inside, `update()`/`bulk_update()` on audited models are allowed: the caller promises,
    and writes, one `bulk` entry for the whole operation in the same transaction (imports, demo)."""
    token = _bulk_covered.set(True)
    try:
        yield
    finally:
        _bulk_covered.reset(token)


def _audited_names(model, fields) -> list[str]:
    """Of the fields an update writes, those the model's audit entries show."""
    excluded = set(getattr(model, "audit_exclude", ()))
    names = []
    for name in fields:
        field = model._meta.get_field(name)
        if field.name not in excluded and field.attname not in excluded:
            names.append(field.attname)
    return names


def _common_prefix(codes) -> str:
    """The longest code prefix shared by every row (not always a region's code): the trail's
    scoping (`startswith`) shows the entry exactly to users whose jurisdiction holds every row."""
    codes = [c for c in codes if c]
    if not codes:
        return ""
    shortest, longest = min(codes), max(codes)
    n = 0
    while n < min(len(shortest), len(longest)) and shortest[n] == longest[n]:
        n += 1
    return shortest[:n]


class AuditedQuerySet(models.QuerySet):
    """The queryset of audited models: `update()` of an audited field is refused outside
    `audited_update` (or a `bulk_entry_recorded` block). Fields in `audit_exclude` (progress
    counters, derived counts, encrypted values) may be updated freely, as a save of only those
    fields records nothing either."""

    def _refuse_unaudited(self, fields) -> None:
        if issubclass(self.model, AuditedModel) and not _bulk_covered.get() and _audited_names(self.model, fields):
            raise UnauditedUpdate(
                f"{self.model._meta.label}.update({', '.join(fields)}) would not be audited: "
                "use audited_update(reason=...)"
            )

    def update(self, **kwargs):
        self._refuse_unaudited(kwargs)
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        self._refuse_unaudited(fields)
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def audited_update(self, *, reason: str, **kwargs) -> int:
        """`update(**kwargs)` recorded in the same transaction: one `update` entry when one row's
        audited values changed (as its save would have written, plus the reason), one `bulk`
        entry naming the rows when several did, nothing when none did."""
        model = self.model
        names = _audited_names(model, kwargs)
        with transaction.atomic(using=self.db):
            if not names:
                return super().update(**kwargs)
            scope = getattr(model, "scope_path", "")
            columns = ["pk", *names, *([scope] if scope else [])]
            new = {model._meta.get_field(k).attname: v for k, v in kwargs.items()}
            literal = {k: v for k, v in new.items() if not hasattr(v, "resolve_expression")}
            changed = []
            # Locked (PostgreSQL), so the rows read are the rows the update then writes.
            for row in self.select_for_update(of=("self",)).values_list(*columns):
                values = dict(zip(columns, row, strict=True))
                if any(name not in literal or values[name] != literal[name] for name in names):
                    changed.append(values)
            count = super().update(**kwargs)
            changed.sort(key=lambda values: values["pk"])
            if not count:
                changed = []
            if len(changed) == 1:
                instance = model._default_manager.get(pk=changed[0]["pk"])
                diff = {name: _shown(model, name, changed[0][name], new[name]) for name in names}
                record(AuditAction.UPDATE, instance=instance, changes={**diff, "reason": reason})
            elif changed:
                old = {name: sorted({canonical_json(to_jsonable(v[name])) for v in changed}) for name in names}
                record(
                    AuditAction.BULK,
                    model_label=model._meta.label_lower,
                    object_repr=f"{model._meta.verbose_name} × {len(changed)}",
                    region_code=_common_prefix(str(v[scope] or "") for v in changed) if scope else "",
                    changes={
                        "reason": reason,
                        "ids": [str(v["pk"]) for v in changed],
                        **{name: _shown(model, name, [json.loads(o) for o in old[name]], new[name]) for name in names},
                    },
                )
        return count


def _shown(model, name: str, old, new) -> list:
    """[old, new] as an audit entry shows a change (redacted fields hidden)."""
    if name in getattr(model, "audit_redact", ()):
        return [REDACTED, REDACTED]
    return [to_jsonable(old), to_jsonable(new)]


class AuditedModel(models.Model):
    """Abstract base: every create, update and delete of the row lands in the audit trail.

    The values loaded from the database are remembered so an update records only what
    changed, as {field: [old, new]}.
    """

    audit_exclude: tuple[str, ...] = ()
    audit_redact: tuple[str, ...] = ()

    # Models that also derive from ScopedModel (listed first) take its manager, whose queryset
    # is an AuditedQuerySet too.
    objects = AuditedQuerySet.as_manager()

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
            if field.generated:  # computed by the database from fields that are recorded
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


# --- Explicit entries ---------------------------------------------------------------------------


def save_and_record(instance: AuditedModel, *, transition: str, update_fields=None) -> None:
    """The explicit write of a state change (do_* style): save `instance` and append its audit
    entry, which names the transition, in the caller's transaction. The post_save receiver
    stays silent for this save (governance.signals), so the change is recorded exactly once."""
    instance._audit_explicit = True
    try:
        instance.save(update_fields=update_fields)
    finally:
        instance._audit_explicit = False
    changes = instance.audit_changes(created=False)
    record(AuditAction.UPDATE, instance=instance, changes={**changes, "transition": transition})
    instance.audit_refresh_snapshot()


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
    """Append one entry to the trail, inside the caller's transaction if there is one; it is
    sealed into the chain just after that transaction commits."""
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
    entry.save_new(using=db)
    _seal_after_commit(db)
    return entry


def _seal_after_commit(db: str) -> None:
    """Seal what this transaction appended as soon as it commits — once per transaction
    level: a rolled-back savepoint takes its callback with it, the outer one stays."""
    connection = connections[db]
    level = set(connection.savepoint_ids)
    if any(getattr(func, "seals_audit", False) and sids == level for sids, func, *_ in connection.run_on_commit):
        return

    def seal() -> None:
        seal_soon(db)

    seal.seals_audit = True
    transaction.on_commit(seal, using=db)


def seal_soon(db: str) -> None:
    """After a commit: seal now, in the committing thread (the default), or — with
    AUDIT_SEAL_IN_BACKGROUND, as the web servers run — wake this process's sealer thread, so the
    request answers without waiting for the chain and a burst of commits is sealed in one batch."""
    from django.conf import settings

    if getattr(settings, "AUDIT_SEAL_IN_BACKGROUND", False):
        BackgroundSealer.for_database(db).wake()
    else:
        seal_pending(using=db)


class BackgroundSealer:
    """One daemon thread per process and database that seals whatever is pending each time it is
    woken. It waits for the sealer's lock instead of giving up, so every entry committed before a
    wake-up is sealed by the time the thread sleeps again, whichever process's sealer got there
    first; the beat's `seal_pending` every minute still covers a process that died in between."""

    DEBOUNCE_SECONDS = 0.02  # let the commits of a burst join one batch
    _instances: dict[tuple[int, str], BackgroundSealer] = {}
    _guard = threading.Lock()

    def __init__(self, db: str):
        self.db = db
        self.woken = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"audit-sealer-{db}", daemon=True)
        self.thread.start()

    @classmethod
    def for_database(cls, db: str) -> BackgroundSealer:
        key = (os.getpid(), db)  # a forked worker starts its own thread
        with cls._guard:
            sealer = cls._instances.get(key)
            if sealer is None or not sealer.thread.is_alive():
                sealer = cls._instances[key] = cls(db)
        return sealer

    def wake(self) -> None:
        self.woken.set()

    def _run(self) -> None:
        while True:
            self.woken.wait()
            time.sleep(self.DEBOUNCE_SECONDS)
            self.woken.clear()
            connection = connections[self.db]
            try:
                connection.close_if_unusable_or_obsolete()
                seal_pending(using=self.db, wait=True)
            except Exception:  # the next wake-up or the beat seals what is left
                logger.exception("Background audit sealing failed")
            finally:
                if not self.woken.is_set():  # kept open only while commits keep coming
                    connection.close()


# --- Keys -------------------------------------------------------------------------------


def chain_keys() -> dict[str, bytes]:
    """{key id: secret}, newest first (the first one seals)."""
    from django.conf import settings

    keys = {}
    for item in settings.AUDIT_CHAIN_KEYS:
        key_id, _, secret = item.partition(":")
        if not key_id or not secret:
            raise ValueError("AUDIT_CHAIN_KEYS entries are `id:secret`.")
        keys[key_id.strip()] = secret.strip().encode("utf-8")
    if not keys:
        raise ValueError("AUDIT_CHAIN_KEYS is empty.")
    return keys


def seal_hash(key: bytes, position: int, prev_hash: str, content: str) -> str:
    message = f"{position}\n{prev_hash}\n{content}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


# --- Sealing ----------------------------------------------------------------------------


def seal_pending(*, using: str | None = None, wait: bool = False) -> int:
    """Give every committed, unsealed entry the next chain position and its keyed hash, in
    the order of their ids, and write the new head to the checkpoint. Returns how many were
    sealed. Never waits unless `wait` (the background sealer, off any request): while another
    process is sealing it returns 0 and leaves the entries to that process or to the next run."""
    from governance.models import AuditLog

    db = using or router.db_for_write(AuditLog)
    connection = connections[db]
    key_id, key = next(iter(chain_keys().items()))
    sealed = 0
    while True:
        with transaction.atomic(using=db):
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    if wait:
                        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEALER_LOCK_KEY])
                    else:
                        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SEALER_LOCK_KEY])
                        if not cursor.fetchone()[0]:
                            return sealed
            head = AuditLog.objects.using(db).filter(chain_seq__isnull=False).order_by("-chain_seq")
            position, prev_hash = head.values_list("chain_seq", "hash").first() or (0, GENESIS_HASH)
            batch = list(AuditLog.objects.using(db).filter(chain_seq__isnull=True).order_by("seq")[:SEAL_BATCH])
            if not batch:
                return sealed
            rows = []
            for entry in batch:
                position += 1
                entry_hash = seal_hash(key, position, prev_hash, entry.content_json())
                rows.append((position, prev_hash, entry_hash, key_id, entry.seq))
                prev_hash = entry_hash
            with connection.cursor() as cursor:
                cursor.executemany(
                    "UPDATE governance_auditlog SET chain_seq = %s, prev_hash = %s, hash = %s, key_id = %s "
                    "WHERE seq = %s AND hash = ''",
                    rows,
                )
            transaction.on_commit(lambda head=(position, prev_hash): write_checkpoint(*head), using=db)
        sealed += len(batch)


# --- Checkpoint -------------------------------------------------------------------------


def _checkpoint_signature(position: int, head_hash: str, key_id: str) -> str:
    return seal_hash(chain_keys()[key_id], position, head_hash, "checkpoint")


def read_checkpoint() -> dict | None:
    from django.conf import settings

    try:
        return json.loads(settings.AUDIT_CHECKPOINT_PATH.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:
        return {"position": None}


def write_checkpoint(position: int, head_hash: str) -> None:
    """Record the head outside the database. Only ever moves forward: a slower sealer that
    finishes after a faster one does not write an older head over a newer one."""
    from django.conf import settings

    path = settings.AUDIT_CHECKPOINT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read_checkpoint() or {}
        if isinstance(current.get("position"), int) and current["position"] >= position:
            return
        key_id = next(iter(chain_keys()))
        document = {
            "position": position,
            "hash": head_hash,
            "key_id": key_id,
            "signature": _checkpoint_signature(position, head_hash, key_id),
            "written_at": timezone.now().isoformat(),
        }
        temporary = path.with_suffix(".tmp")
        temporary.write_text(canonical_json(document), "utf-8")
        os.replace(temporary, path)


# --- Verification -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """What `verify_chain` found. `broken_at` is the first chain position that is altered or
    missing (None when the chain is intact); `unsealed` entries are not in the chain yet."""

    checked: int
    broken_at: int | None = None
    reason: str = ""
    unsealed: int = 0

    @property
    def intact(self) -> bool:
        return not self.reason


def verify_chain(*, batch_size: int = 5000) -> ChainReport:
    """Walk the chain in position order, re-computing every keyed hash, then compare its head
    with the checkpoint. Reasons: `altered`, `missing`, `unknown_key`, `truncated`,
    `checkpoint_forged`, `checkpoint_missing`."""
    from governance.models import AuditLog

    keys = chain_keys()
    expected_prev = GENESIS_HASH
    position = 0
    while True:
        batch = list(AuditLog.objects.filter(chain_seq__gt=position).order_by("chain_seq")[:batch_size])
        if not batch:
            break
        for entry in batch:
            if entry.chain_seq != position + 1:
                return ChainReport(checked=position, broken_at=position + 1, reason="missing")
            key = keys.get(entry.key_id)
            if key is None:
                return ChainReport(checked=position, broken_at=entry.chain_seq, reason="unknown_key")
            if entry.prev_hash != expected_prev or entry.hash != seal_hash(
                key, entry.chain_seq, entry.prev_hash, entry.content_json()
            ):
                return ChainReport(checked=position, broken_at=entry.chain_seq, reason="altered")
            expected_prev = entry.hash
            position = entry.chain_seq
    unsealed = AuditLog.objects.filter(chain_seq__isnull=True).count()
    return _compare_with_checkpoint(position, expected_prev, unsealed)


def _compare_with_checkpoint(position: int, head_hash: str, unsealed: int) -> ChainReport:
    checkpoint = read_checkpoint()
    if checkpoint is None:
        return ChainReport(checked=position, reason="checkpoint_missing" if position else "", unsealed=unsealed)
    mark = checkpoint.get("position")
    key = chain_keys().get(checkpoint.get("key_id", ""))
    if (
        not isinstance(mark, int)
        or key is None
        or checkpoint.get("signature") != _checkpoint_signature(mark, checkpoint.get("hash", ""), checkpoint["key_id"])
    ):
        return ChainReport(checked=position, broken_at=position + 1, reason="checkpoint_forged", unsealed=unsealed)
    if mark > position:
        return ChainReport(checked=position, broken_at=position + 1, reason="truncated", unsealed=unsealed)
    marked_hash = head_hash if mark == position else _hash_at(mark)
    if mark and marked_hash != checkpoint["hash"]:
        return ChainReport(checked=mark - 1, broken_at=mark, reason="altered", unsealed=unsealed)
    return ChainReport(checked=position, unsealed=unsealed)


def _hash_at(position: int) -> str | None:
    from governance.models import AuditLog

    return AuditLog.objects.filter(chain_seq=position).values_list("hash", flat=True).first()
