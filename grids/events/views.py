"""Event pages: the grid worker's filing form, own events and visit log; the centre and
department queues; the event page with its transitions; attachments; the ledger export;
notifications.

Every lookup goes through `GridEvent.objects.restrict(user)`, so an event outside the
user's jurisdiction answers 404 on every page, download and action.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from governance import audit, personal_data
from governance.choices import AuditAction, Role
from governance.codes import Level
from governance.files import CSV, XLSX, stored_file_response, streaming_response
from governance.models import Department
from governance.xlsx import safe_text, stream_xlsx
from grids.events.choices import (
    OPEN_STATUSES,
    UNRESOLVED_STATUSES,
    AttachmentStage,
    DeadlineKind,
    DispatchState,
    EventSource,
    EventStatus,
    Feedback,
    Urgency,
)
from grids.events.conversion import conversion
from grids.events.filtersets import EventFilterSet
from grids.events.forms import (
    TRANSITION_FORMS,
    EventFileForm,
    VisitForm,
    active_categories,
    category_choices,
    transition_form,
)
from grids.events.models import (
    EventAttachment,
    EventDispatch,
    GridEvent,
    Notification,
    Supervision,
    VisitRecord,
)
from grids.events.services.events import event_attach, event_file, transition
from grids.events.sla import clock_state, current_clock, event_clocks, overdue_q
from grids.events.transitions import EVENTS, TRANSITIONS
from grids.models import Region

PAGE_SIZE = 50
QUEUE_ROLES = frozenset({Role.CENTRE_STAFF, Role.GRID_LEADER, Role.COMMITTEE_STAFF})


def can_use_queue(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in QUEUE_ROLES)


def is_department_handler(user) -> bool:
    return user.is_authenticated and user.role == Role.DEPARTMENT_HANDLER and bool(user.department_id)


# --- Deadlines shown as colours ------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """The clock that matters now for an event: state ok / amber / red / done / none."""

    state: str
    kind: str = ""
    deadline: dt.datetime | None = None

    @property
    def label(self) -> str:
        return {
            "ok": _("正常"),
            "amber": _("预警"),
            "red": _("超期"),
            "done": _("按期办结"),
        }.get(self.state, "")

    @property
    def kind_label(self) -> str:
        return DeadlineKind(self.kind).label if self.kind else ""


def event_clock(event: GridEvent, now: dt.datetime) -> Clock:
    """The limit that matters now and its state (grids.events.sla.current_clock, event_clocks)."""
    kind = current_clock(event)
    if not kind:
        return Clock("none")
    return Clock(event_clocks(event, now)[kind], kind, getattr(event, f"{kind}_deadline"))


def with_clocks(events, now: dt.datetime | None = None) -> list[GridEvent]:
    now = now or timezone.now()
    events = list(events)
    for event in events:
        event.clock = event_clock(event, now)
    return events


# --- Helpers -------------------------------------------------------------------------------------


def list_queryset(user):
    """Events in the user's jurisdiction with everything a list row shows (no per-row queries)."""
    return (
        GridEvent.objects.restrict(user)
        .select_related("category", "category__parent", "region", "lead_department")
        .annotate(supervised=Exists(Supervision.objects.filter(event=OuterRef("pk"))))
    )


def apply_errors(form, exc: ValidationError, mapping: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError onto the form (unknown fields become form errors)."""
    mapping = mapping or {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = mapping.get(field, field)
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _require(condition: bool) -> None:
    if not condition:
        raise PermissionDenied


@login_required
def index(request):
    user = request.user
    if can_use_queue(user):
        return redirect("events:queue")
    if is_department_handler(user):
        return redirect("events:department")
    return redirect("events:mine")


# --- Grid worker: filing, own events, visits ------------------------------------------------------


@login_required
def event_new(request):
    """上报事件: the phone-sized filing form; the same client UUID never files twice."""
    user = request.user
    _require(user.can("event.file"))
    if request.method == "POST":
        form = EventFileForm(request.POST, request.FILES, user=user)
        existing = _already_filed(user, request.POST.get("client_uuid", ""))
        if existing is not None:
            messages.info(request, _("该表单此前已提交成功，已为您打开原事件，未重复创建。"))
            return redirect("events:detail", pk=existing.pk)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    event, created = event_file(
                        reporter=user,
                        category=data["category"],
                        title=data["title"],
                        description=data["description"],
                        urgency=data["urgency"],
                        source=data["source"],
                        region=data["grid"],
                        client_uuid=data["client_uuid"],
                        address=data["address"],
                        lat=data["lat"],
                        lng=data["lng"],
                    )
                    if created:
                        for photo in data["photos"]:
                            event_attach(event=event, upload=photo, stage=AttachmentStage.REPORT, user=user)
            except ValidationError as exc:
                apply_errors(form, exc, {"region": "grid", "file": "photos"})
                if "client_uuid" in getattr(exc, "error_dict", {}):
                    form.data = form.data.copy()
                    form.data["client_uuid"] = str(uuid.uuid4())
            else:
                if created:
                    messages.success(request, _("事件已上报，编号 #%(pk)s。") % {"pk": event.pk})
                else:
                    messages.info(request, _("该表单此前已提交成功，已为您打开原事件，未重复创建。"))
                return redirect("events:detail", pk=event.pk)
    else:
        form = EventFileForm(user=user)
    return render(request, "events/event_form.html", {"form": form})


def _already_filed(user, raw_uuid: str) -> GridEvent | None:
    try:
        key = uuid.UUID(str(raw_uuid))
    except ValueError:
        return None
    return GridEvent.objects.restrict(user).filter(client_uuid=key, reporter=user).first()


@login_required
def mine(request):
    """我的事件: what the user reported, and (grid workers) what waits for them on site."""
    user = request.user
    _require(user.can("event.file"))
    now = timezone.now()
    base = list_queryset(user)
    page = Paginator(base.filter(reporter=user).order_by("-reported_at", "-pk"), 20).get_page(request.GET.get("page"))
    page.object_list = with_clocks(page.object_list, now)
    todo = []
    if user.role == Role.GRID_WORKER:
        todo = with_clocks(
            base.filter(
                Q(status=EventStatus.HANDLING, self_handled=True)
                | Q(status__in=[EventStatus.RESOLVED, EventStatus.VERIFIED])
            ).order_by("resolve_deadline", "pk")[:20],
            now,
        )
    return render(request, "events/mine.html", {"page_obj": page, "todo": todo})


@login_required
def visit_new(request):
    """走访记录: one entry per worker, grid and day, and the worker's recent entries."""
    user = request.user
    _require(user.can("visit.record"))
    form = VisitForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        visit = form.save(commit=False)
        visit.worker = user
        try:
            with transaction.atomic():
                visit.save()
        except IntegrityError:
            form.add_error("date", _("您已记录过该网格这一天的走访，每个网格每天一条。"))
        else:
            messages.success(request, _("走访记录已保存。"))
            return redirect("events:visit-new")
    recent = VisitRecord.objects.restrict(user).filter(worker=user).select_related("grid").order_by("-date", "-pk")[:30]
    return render(request, "events/visits.html", {"form": form, "recent": recent})


# --- Queues ---------------------------------------------------------------------------------------


def _filter_context(request, base, *, with_department: bool, first: tuple[str, ...] = ()) -> dict:
    """Apply EventFilterSet to `base`; the options of the filter bar; status counts (one query)."""
    user = request.user
    data = request.GET.copy()
    sort = data.pop("sort", ["new"])[-1]
    data.pop("page", None)
    filterset = EventFilterSet(data or None, queryset=base, request=request)
    events = filterset.qs
    order = ("resolve_deadline", "pk") if sort == "deadline" else ("-reported_at", "-pk")
    events = events.order_by(*first, *order)

    count_data = data.copy()
    count_data.pop("status", None)
    count_base = EventFilterSet(count_data or None, queryset=GridEvent.objects.restrict(user), request=request)
    now = timezone.now()
    rows = count_base.qs.order_by().values("status").annotate(n=Count("pk"), overdue=Count("pk", filter=overdue_q(now)))
    by_status = {row["status"]: row for row in rows}
    status_counts = [
        (value, label, by_status[value]["n"]) for value, label in EventStatus.choices if value in by_status
    ]
    overdue_total = sum(by_status[s]["overdue"] for s in UNRESOLVED_STATUSES if s in by_status)
    open_total = sum(by_status[s]["n"] for s in OPEN_STATUSES if s in by_status)

    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = with_clocks(page.object_list, now)
    selected = {key: request.GET.getlist(key) for key in request.GET}
    context = {
        "filterset": filterset,
        "filter_errors": filterset.form.errors if filterset.is_bound else {},
        "page_obj": page,
        "status_counts": status_counts,
        "status_total": sum(n for _v, _l, n in status_counts),
        "overdue_total": overdue_total,
        "open_total": open_total,
        "selected": selected,
        "sort": sort,
        "category_options": category_choices(
            active_categories(), value=lambda c: c.code, parent_label=_("全部%(name)s")
        ),
        "region_options": _region_options(user),
        "status_options": EventStatus.choices,
        "urgency_options": GridEvent._meta.get_field("urgency").choices,
        "source_options": GridEvent._meta.get_field("source").choices,
    }
    if with_department:
        context["department_options"] = list(
            Department.objects.restrict(user).filter(is_active=True).order_by("region__code", "kind", "name")
        )
    return context


def _region_options(user) -> list[tuple[str, str]]:
    """The subtree filter's options: the user's region and two levels below it (one query)."""
    region = user.region if user.region_id else None
    if region is None:
        regions = Region.objects.filter(level__lte=Level.CITY)
        top = Level.PROVINCE
    else:
        regions = Region.objects.restrict(user).filter(level__lte=min(region.level + 2, Level.GRID))
        top = region.level
    return [
        (code, "\u3000" * (level - top) + name)
        for code, name, level in regions.order_by("code").values_list("code", "name", "level")[:2000]
    ]


@login_required
def queue(request):
    """事件受理: the centre's queue of events in its jurisdiction."""
    user = request.user
    _require(can_use_queue(user))
    context = _filter_context(request, list_queryset(user), with_department=True)
    context["can_export"] = user.can("event.export")
    context["can_file"] = user.can("event.file")
    return render(request, "events/queue.html", context)


@login_required
def department_queue(request):
    """部门待办: events dispatched to the user's department, pending ones first."""
    user = request.user
    _require(is_department_handler(user))
    mine = EventDispatch.objects.filter(event=OuterRef("pk"), department_id=user.department_id).order_by(
        "-dispatched_at", "-pk"
    )
    pending = EventDispatch.objects.filter(
        event=OuterRef("pk"), department_id=user.department_id, state=DispatchState.PENDING
    )
    base = list_queryset(user).annotate(
        my_state=Subquery(mine.values("state")[:1]),
        my_role=Subquery(mine.values("role")[:1]),
        my_pending=Exists(pending),
    )
    context = _filter_context(request, base, with_department=False, first=("-my_pending",))
    for event in context["page_obj"].object_list:
        event.allowed = EVENTS.allowed_names(user, event)  # the row's buttons (签收)
    context["can_export"] = user.can("event.export")
    context["department"] = user.department
    context["dispatch_states"] = dict(DispatchState.choices)
    return render(request, "events/department_queue.html", context)


# --- The event page ---------------------------------------------------------------------------------

HISTORY_LABELS = {"report": gettext_lazy("上报"), "absorb": gettext_lazy("并入重复事件")}


# The usual next step first (its form opens by default), refusals and merging last.
PRIMARY_ACTIONS = {"accept", "dispatch", "department_accept", "resolve", "verify", "feedback", "close"}
ACTION_ORDER = [
    "accept", "dispatch", "department_accept", "resolve", "verify", "feedback", "close",
    "self_handle", "escalate", "reopen", "department_return", "return", "merge",
]  # fmt: skip


def available_transitions(user, event: GridEvent):
    """The transitions this user may perform on this event now (grids.events.transitions.EVENTS), in page order."""
    allowed = EVENTS.allowed_transitions(user, event)
    return sorted(allowed, key=lambda t: ACTION_ORDER.index(t.name) if t.name in ACTION_ORDER else 99)


def _detail_queryset(user):
    return GridEvent.objects.restrict(user).select_related("category", "category__parent", "region", "lead_department")


def _detail_context(request, event: GridEvent, *, bound=None, revealed_phone: str = "") -> dict:
    user = request.user
    visible = GridEvent.objects.restrict(user)
    actions = []
    for index, t in enumerate(available_transitions(user, event)):
        form = (
            bound if bound is not None and bound.prefix == t.name else transition_form(t.name, event=event, user=user)
        )
        primary = t.name in PRIMARY_ACTIONS
        actions.append(
            {
                "transition": t,
                "form": form,
                "primary": primary,
                # The usual next step opens by default; after a refusal, the form that was sent.
                "open": form.is_bound if bound is not None else (index == 0 and primary),
                "danger": t.name in ("return", "department_return", "merge"),
                "confirm": _("合并后本事件将以“已合并”结束，确定合并吗？") if t.name == "merge" else "",
            }
        )
    history = list(event.history.all())
    for entry in history:
        entry.label = (
            TRANSITIONS[entry.action].label
            if entry.action in TRANSITIONS
            else HISTORY_LABELS.get(entry.action, entry.action)
        )
        entry.to_label = EventStatus(entry.to_status).label if entry.to_status in EventStatus.values else ""
    attachments = list(event.attachments.all())
    try:
        masked_phone = personal_data.mask_phone(personal_data.decrypt(event.contact_phone))
    except ValueError:
        masked_phone = _("（无法解密）")
    return {
        "event": event,
        "clock": event_clock(event, timezone.now()),
        "actions": actions,
        "bound": bound,
        "history": history,
        "dispatches": list(event.dispatches.select_related("department", "department__region")),
        "supervisions": list(event.supervisions.select_related("supervising_region")),
        "attachments": attachments,
        "report_photos": [a for a in attachments if a.stage == AttachmentStage.REPORT],
        "other_attachments": [a for a in attachments if a.stage != AttachmentStage.REPORT],
        "duplicate_of": visible.filter(pk=event.duplicate_of_id).first() if event.duplicate_of_id else None,
        "likely_duplicates": list(visible.filter(duplicate_of=event).exclude(status=EventStatus.MERGED)[:10]),
        "merged_into": visible.filter(pk=event.merged_into_id).first() if event.merged_into_id else None,
        "mediation_case": _mediation_case(event),
        "merged_events": list(visible.filter(merged_into=event)[:20]),
        "masked_phone": masked_phone,
        "revealed_phone": revealed_phone,
        "can_reveal": bool(event.contact_phone) and user.can("event.reveal_contact") and not revealed_phone,
        "back_url": _back_url(user),
    }


def _mediation_case(event: GridEvent):
    """The case registered from a converted event (grids.events.conversion: number, organisation, status, url)."""
    if event.status != "converted":
        return None
    return conversion().linked(event)


def _back_url(user) -> str:
    if can_use_queue(user):
        return reverse("events:queue")
    if is_department_handler(user):
        return reverse("events:department")
    return reverse("events:mine")


@login_required
def event_detail(request, pk: int):
    event = get_object_or_404(_detail_queryset(request.user), pk=pk)
    return render(request, "events/event_detail.html", _detail_context(request, event))


@login_required
@require_POST
def event_act(request, pk: int, name: str):
    """Run one transition; a refusal re-renders the event page with the message and the typed input."""
    user = request.user
    event = get_object_or_404(_detail_queryset(user), pk=pk)
    if name not in TRANSITION_FORMS:
        raise Http404
    form = transition_form(name, request.POST, request.FILES, event=event, user=user)
    label = TRANSITIONS[name].label
    if form.is_valid():
        try:
            with transaction.atomic():
                transition(name, event=event, user=user, **form.kwargs())
                for photo in form.photos():
                    event_attach(event=event, upload=photo, stage=form.photo_stage, user=user)
        except ValidationError as exc:
            apply_errors(form, exc, {"file": "photos"})
        else:
            messages.success(request, _("已完成“%(action)s”。") % {"action": label})
            return redirect(safe_next(request, reverse("events:detail", args=[event.pk])))
    event = get_object_or_404(_detail_queryset(user), pk=pk)
    context = _detail_context(request, event, bound=form)
    context["action_error"] = {"label": label, "errors": form.non_field_errors(), "fields": bool(form.errors)}
    return render(request, "events/event_detail.html", context)


@login_required
@require_POST
@never_cache
def reveal_phone(request, pk: int):
    """Show the contact phone in full to roles that need it; the read is audited."""
    user = request.user
    event = get_object_or_404(_detail_queryset(user), pk=pk)
    _require(user.can("event.reveal_contact"))
    phone = personal_data.reveal(
        instance=event, field="contact_phone", value=event.contact_phone, user=user, reason="event page"
    )
    response = render(request, "events/event_detail.html", _detail_context(request, event, revealed_phone=phone))
    response["Cache-Control"] = "no-store"
    return response


@login_required
def attachment_download(request, pk: int, attachment_pk: int):
    """A photo or file of an event inside the user's jurisdiction (images inline, others as download)."""
    user = request.user
    event = get_object_or_404(GridEvent.objects.restrict(user), pk=pk)
    attachment = get_object_or_404(EventAttachment.objects.restrict(user), pk=attachment_pk, event=event)
    return stored_file_response(
        attachment.file,
        filename=attachment.original_name,
        content_type=attachment.content_type,
        attachment=not attachment.is_image or "download" in request.GET,
    )


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
    _require(user.can("event.export"))
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


@login_required
def notifications(request):
    """站内通知; POST marks one (id) or all as read."""
    user = request.user
    mine = Notification.objects.filter(user=user)
    if request.method == "POST":
        unread = mine.filter(read_at__isnull=True)
        ids = [value for value in request.POST.getlist("id") if value.isdigit()]
        if ids:
            unread = unread.filter(pk__in=ids)
        marked = unread.update(read_at=timezone.now())
        messages.success(request, _("已标记%(n)s条通知为已读。") % {"n": marked})
        return redirect(safe_next(request, reverse("events:notifications")))
    page = Paginator(mine.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    unread_count = mine.filter(read_at__isnull=True).count()
    return render(request, "events/notifications.html", {"page_obj": page, "unread_count": unread_count})


def unread_notifications(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- The home page's card -----------------------------------------------------------------------------


def event_card(user) -> dict | None:
    """Counts for the home page (one aggregate query): where the user's work is and how much is late."""
    if not user.is_authenticated:
        return None
    now = timezone.now()
    counts = {
        "open": Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        "overdue": Count("pk", filter=overdue_q(now)),
    }
    events = GridEvent.objects.restrict(user)
    if user.role == Role.GRID_WORKER:
        # Own reports (open / overdue) and what waits for the worker on site in their grids.
        card = {"kind": "worker", "url": reverse("events:mine"), "new_url": reverse("events:event-new")}
        counts["open"] = Count("pk", filter=Q(status__in=OPEN_STATUSES, reporter=user))
        counts["overdue"] = Count("pk", filter=overdue_q(now) & Q(reporter=user))
        counts["todo"] = Count(
            "pk",
            filter=Q(status=EventStatus.HANDLING, self_handled=True)
            | Q(status__in=[EventStatus.RESOLVED, EventStatus.VERIFIED]),
        )
    elif is_department_handler(user):
        card = {"kind": "department", "url": reverse("events:department")}
        pending = EventDispatch.objects.filter(
            event=OuterRef("pk"), department_id=user.department_id, state=DispatchState.PENDING
        )
        counts["pending"] = Count("pk", filter=Q(Exists(pending)))
    elif can_use_queue(user):
        card = {"kind": "queue", "url": reverse("events:queue")}
        counts["reported"] = Count("pk", filter=Q(status=EventStatus.REPORTED))
    else:
        return None
    card.update(events.aggregate(**counts))
    return card
