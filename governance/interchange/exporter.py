"""Export of a subtree and date range in the interchange format (docs/import-format.md).

The framework writes the header and the audit entry, then asks each registered record type, in
the registered order, for its rows (`RecordType.export(scope)`). Rows are read through
`restrict(user)` and streamed in pk order, a chunk at a time (`ExportScope.restricted`, `chunks`).
Personal data is written in clear only when the caller holds the type's `reveal_capability`
(event.reveal_contact, case.reveal_party) or is an unrestricted operator; otherwise masked,
under `*_masked` keys that an import keeps as masked text. Timeline moments that the row itself
keeps (reported_at, responded_at, …) are taken from the row, so that importing an export
reproduces the stored fields exactly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone

from governance import audit
from governance.choices import AuditAction
from governance.interchange.base import DEFAULT_SOURCE, FORMAT_NAME, FORMAT_VERSION, REGISTRY

CHUNK = 1000


def iso(value) -> str | None:
    """A moment in local time, or a date, as ISO 8601 (None stays None)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


def _line(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


@dataclass(frozen=True)
class ExportScope:
    """What one export covers: region `code`'s subtree, records dated start..end (local dates;
    `lo`..`hi` the same as aware moments, `hi` exclusive), read as `user` sees them."""

    code: str
    start: dt.date
    end: dt.date
    user: object = None

    @property
    def lo(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def hi(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))

    def may(self, capability: str) -> bool:
        return self.user is None or self.user.can(capability)

    def restricted(self, model):
        """The model's rows the user may see (all of them for an unrestricted operator)."""
        return model.objects.all() if self.user is None else model.objects.restrict(self.user)

    @staticmethod
    def chunks(queryset):
        """The queryset's rows in pk order, CHUNK at a time."""
        last = 0
        while True:
            rows = list(queryset.filter(pk__gt=last).order_by("pk")[:CHUNK])
            if not rows:
                return
            yield rows
            last = rows[-1].pk


def export_records(
    *, code: str, start: dt.date, end: dt.date, user=None, source: str = DEFAULT_SOURCE
) -> Iterator[str]:
    """The lines of an export of region `code`'s subtree, records dated start..end (local dates)."""
    if not REGISTRY.regions.visible(code, user):
        raise PermissionError(code)
    scope = ExportScope(code=code, start=start, end=end, user=user)
    capabilities = {t.reveal_capability for t in REGISTRY.types() if t.reveal_capability}
    audit.record(
        AuditAction.EXPORT,
        model_label="governance.interchange",
        object_repr=f"records {code} {start}..{end}",
        region_code=code,
        changes={"from": start, "to": end, "unmasked": any(scope.may(c) for c in sorted(capabilities))},
    )
    yield _line({"type": "header", "format": FORMAT_NAME, "version": FORMAT_VERSION, "source": source,
                 "region": code, "from": start.isoformat(), "to": end.isoformat()})  # fmt: skip
    for record_type in REGISTRY.types():
        for row in record_type.export(scope):
            yield _line({"type": record_type.kind, **row})
