"""The ledger export (台账) as CSV and as a streamed workbook, filtered like the queues and audited."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib.auth.decorators import login_required
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import audit, personal_data
from governance.choices import AuditAction
from governance.codes import Level
from governance.files import CSV, XLSX, streaming_response
from governance.xlsx import safe_text, stream_xlsx
from grids.events.choices import UNRESOLVED_STATUSES, EventSource, EventStatus, Feedback, Urgency
from grids.events.filtersets import EventFilterSet
from grids.events.models import GridEvent
from grids.events.sla import clock_state
from grids.events.views.common import require

# --- Ledger export (台账) -------------------------------------------------------------------------


def ledger_headers() -> list[str]:
    return [
        _("事件编号"),
        _("上报时间"),
        _("类别"),
        _("子类"),
        _("标题"),
        _("情况描述"),
        _("紧急程度"),
        _("来源"),
        _("状态"),
        _("所在区划"),
        _("区划代码"),
        _("地址"),
        _("反映人"),
        _("联系电话"),
        _("牵头部门"),
        _("响应期限"),
        _("办结期限"),
        _("办结时间"),
        _("化解层级"),
        _("办理结果"),
        _("回访评价"),
        _("时限情况"),
    ]


LEDGER_FIELDS = (
    "pk", "reported_at", "category__name", "category__parent__name", "title", "description", "urgency", "source",
    "status", "region__name", "region_code", "address", "reporter_name", "contact_phone", "lead_department__name",
    "respond_deadline", "resolve_deadline", "resolved_at", "resolved_level", "resolution", "feedback",
)  # fmt: skip


class LedgerRows:
    """The ledger's rows from plain values (no model instances), every label translated once:
    a province's 100,000 rows spent most of their time in get_FOO_display and audit snapshots."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self.zone = timezone.get_current_timezone()
        self.labels = {
            name: {value: str(label) for value, label in choices}
            for name, choices in (
                ("urgency", Urgency.choices),
                ("source", EventSource.choices),
                ("status", EventStatus.choices),
                ("resolved_level", Level.choices),
                ("feedback", Feedback.choices),
            )
        }
        self.timing = {key: str(label) for key, label in (
            ("overdue_open", _("超期未办结")), ("open", _("办理中")), ("overdue_done", _("超期办结")), ("done", _("按期办结")),
        )}  # fmt: skip

    def __call__(self, events):
        for row in events.values_list(*LEDGER_FIELDS).iterator(chunk_size=2000):
            yield self.row(dict(zip(LEDGER_FIELDS, row, strict=True)))

    def local(self, value: dt.datetime | None) -> dt.datetime | None:
        return value.astimezone(self.zone).replace(tzinfo=None, microsecond=0) if value else None

    def label(self, name: str, value) -> str:
        return self.labels[name].get(value, "") if value not in (None, "") else ""

    def row(self, e: dict) -> list:
        top, sub = (e["category__parent__name"], e["category__name"]) if e["category__parent__name"] else (e["category__name"], "")  # fmt: skip
        try:
            phone = personal_data.mask_phone(personal_data.decrypt(e["contact_phone"]))
        except ValueError:
            phone = ""
        unresolved = e["status"] in UNRESOLVED_STATUSES
        if unresolved or e["resolved_at"]:
            done_at = None if unresolved else e["resolved_at"]
            late = clock_state(e["reported_at"], e["resolve_deadline"], done_at, self.now) == "red"
            timing = self.timing[("overdue_" if late else "") + ("open" if unresolved else "done")]
        else:
            timing = ""
        return [
            e["pk"], self.local(e["reported_at"]), top, sub, e["title"], e["description"],
            self.label("urgency", e["urgency"]), self.label("source", e["source"]), self.label("status", e["status"]),
            e["region__name"], e["region_code"], e["address"], e["reporter_name"], phone,
            e["lead_department__name"] or "", self.local(e["respond_deadline"]), self.local(e["resolve_deadline"]),
            self.local(e["resolved_at"]), self.label("resolved_level", e["resolved_level"]), e["resolution"],
            self.label("feedback", e["feedback"]), timing,
        ]  # fmt: skip


def _ledger(request, fmt: str):
    user = request.user
    require(user.can("event.export"))
    base = GridEvent.objects.restrict(user)
    data = request.GET.copy()
    for key in ("page", "sort"):
        data.pop(key, None)
    events = EventFilterSet(data or None, queryset=base, request=request).qs.order_by("reported_at", "pk")
    audit.record(
        AuditAction.EXPORT,
        model_label="grids.gridevent",
        object_repr=_("事件台账"),
        region_code=user.region.code if user.region_id else "",
        changes={"format": fmt, "filters": {key: data.getlist(key) for key in data}},
    )
    return events


def _filename(fmt: str) -> str:
    return f"{_('事件台账')}-{timezone.localdate():%Y%m%d}.{fmt}"


class _Echo:
    def write(self, value):
        return value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return safe_text(value)  # shown, never evaluated (spreadsheet formula injection)


@login_required
def export_csv(request):
    events = _ledger(request, "csv")
    now = timezone.now()
    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff" + writer.writerow(ledger_headers())
        for row in LedgerRows(now)(events):
            yield writer.writerow([_csv_cell(v) for v in row])

    return streaming_response(rows(), _filename("csv"), CSV)


@login_required
def export_xlsx(request):
    """The ledger as a workbook, streamed row by row (governance.xlsx): constant memory, first byte at once."""
    events = _ledger(request, "xlsx")
    now = timezone.now()

    def rows():
        for row in LedgerRows(now)(events):
            yield [_csv_cell(v) if isinstance(v, str) else v for v in row]

    widths = [10, 17, 14, 14, 28, 40, 9, 12, 12, 18, 17, 24, 10, 14, 20, 17, 17, 17, 12, 40, 10, 12]
    return streaming_response(
        stream_xlsx(sheet_name=_("事件台账"), headers=[str(h) for h in ledger_headers()], rows=rows(), widths=widths),
        _filename("xlsx"),
        XLSX,
    )


# --- Notifications ----------------------------------------------------------------------------------
