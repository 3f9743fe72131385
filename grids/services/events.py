"""Writes to grid events: filing, every transition of the state machine, attachments, merging.

Each transition locks the event row, checks the table in grids/transitions.py and who is
acting, writes the event (its audit entry comes from AuditedModel) and one EventHistory
row in the same transaction, and queues notifications and webhooks with on_commit.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid as uuid_lib
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import personal_data
from governance.choices import Role
from governance.models import Department, User
from governance.scoping import in_jurisdiction

from ..choices import (
    CODE_LENGTH,
    UNRESOLVED_STATUSES,
    AttachmentStage,
    DispatchRole,
    DispatchState,
    EventStatus,
    Feedback,
    Level,
)
from ..models import EventAttachment, EventCategory, EventDispatch, EventHistory, GridEvent, Region
from ..sla import add_limit, limits_for
from ..transitions import TRANSITIONS, Transition

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = {
    "image/jpeg",
    "image/png",
    "image/webp",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
DUPLICATE_WINDOW = dt.timedelta(hours=24)
DUPLICATE_DISTANCE_M = 100


class TransitionError(ValidationError):
    """A refused transition: the message says why (wrong state, wrong actor, missing input)."""


# --- Who is acting ---------------------------------------------------------------------------


def actor_kinds(user: User, event: GridEvent) -> set[str]:
    """The parts of the state-machine table this user may play on this event."""
    if user.is_superuser:
        return {"centre", "department", "worker"}
    kinds: set[str] = set()
    region_code = user.region.code if user.region_id else ""
    inside = bool(region_code) and event.region_code.startswith(region_code)
    # Centre staff act at the level that holds the event, or above it (a higher centre may take over).
    holds = bool(region_code) and event.handling_region_code().startswith(region_code)
    if user.role in (Role.CENTRE_STAFF, Role.GRID_LEADER) and holds:
        kinds.add("centre")
    if user.role == Role.GRID_WORKER and inside:
        kinds.add("worker")
    if user.role == Role.DEPARTMENT_HANDLER and event.lead_department_id == user.department_id:
        kinds.add("department")
    return kinds


def _check(event: GridEvent, transition: Transition, user: User) -> None:
    if event.status not in transition.sources:
        raise TransitionError(
            _("事件当前状态为“%(status)s”，不能执行“%(action)s”。")
            % {"status": event.get_status_display(), "action": transition.label},
            code="illegal_transition",
        )
    kinds = actor_kinds(user, event) & transition.actors
    if transition.name == "resolve" and kinds == {"worker"} and not event.self_handled:
        kinds = set()  # a grid worker resolves only what was left to them (自办)
    if not kinds:
        raise TransitionError(_("您无权对该事件执行“%(action)s”。") % {"action": transition.label}, code="not_allowed")


def _actor_name(user: User | None) -> str:
    return (user.display_name or user.username) if user else _("系统")


def _record(event: GridEvent, transition_name: str, from_status: str, user: User | None, note: str = "", **data):
    return EventHistory.objects.create(
        event=event,
        at=timezone.now(),
        actor=user,
        actor_name=_actor_name(user),
        action=transition_name,
        from_status=from_status,
        to_status=event.status,
        note=note,
        data=data,
    )


def _locked(event: GridEvent) -> GridEvent:
    return GridEvent.objects.select_for_update().select_related("category").get(pk=event.pk)


def _after_commit(event: GridEvent, history: EventHistory, departments: Iterable[Department] = ()) -> None:
    from .event_effects import on_event_changed

    department_ids = [d.pk for d in departments]
    transaction.on_commit(lambda: on_event_changed(event.pk, history.pk, department_ids))


# --- Filing ----------------------------------------------------------------------------------


def _deadlines(event: GridEvent) -> None:
    limits = limits_for(event.category, event.urgency)
    event.respond_deadline = add_limit(event.reported_at, limits.respond)
    event.resolve_deadline = add_limit(event.reported_at, limits.resolve)


@transaction.atomic
def event_file(
    *,
    reporter: User | None,
    category: EventCategory,
    title: str,
    description: str,
    urgency: str,
    source: str,
    region: Region,
    client_uuid: uuid_lib.UUID | str | None = None,
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
    reporter_name: str = "",
    contact_phone: str = "",
    reported_at: dt.datetime | None = None,
) -> tuple[GridEvent, bool]:
    """File an event; re-sending the same client UUID returns the existing event (created=False)."""
    if client_uuid:
        existing = GridEvent.objects.filter(client_uuid=client_uuid).first()
        if existing is not None:
            _check_same_filer(existing, reporter)
            return existing, False
    errors = {}
    if region.level not in (Level.VILLAGE, Level.GRID):
        errors["region"] = [_("请选择事件所在的网格或村（社区）。")]
    elif reporter is not None and not in_jurisdiction(reporter, region.code):
        errors["region"] = [_("该网格不在您的管辖范围内。")]
    if not category.is_active:
        errors["category"] = [_("该事件类别已停用。")]
    if errors:
        raise ValidationError(errors)
    event = GridEvent(
        client_uuid=client_uuid or uuid_lib.uuid4(),
        category=category,
        title=title,
        description=description,
        urgency=urgency,
        source=source,
        region=region,
        region_code=region.code,
        address=address,
        lat=lat,
        lng=lng,
        reporter=reporter,
        reporter_name=reporter_name or (_actor_name(reporter) if reporter else ""),
        contact_phone=personal_data.encrypt(contact_phone),
        contact_phone_index=personal_data.blind_index(contact_phone),
        reported_at=reported_at or timezone.now(),
        handling_level=Level.VILLAGE,
    )
    _deadlines(event)
    event.duplicate_of = find_likely_duplicate(event)
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        # Two sends of the same UUID raced; the other one won.
        existing = GridEvent.objects.filter(client_uuid=event.client_uuid).first()
        if existing is None:
            raise
        _check_same_filer(existing, reporter)
        return existing, False
    history = _record(event, "report", "", reporter, duplicate_of=event.duplicate_of_id)
    _after_commit(event, history)
    return event, True


def _check_same_filer(existing: GridEvent, reporter: User | None) -> None:
    if reporter is not None and not in_jurisdiction(reporter, existing.region_code):
        raise ValidationError({"client_uuid": [_("该客户端编号已被使用。")]})


def _distance_m(lat1, lng1, lat2, lng2) -> float:
    """Equirectangular approximation: exact enough within a few hundred metres."""
    x = math.radians(lng2 - lng1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6_371_000 * math.hypot(x, y)


def find_likely_duplicate(event: GridEvent) -> GridEvent | None:
    """Same category and grid within 24 h, and the same reporter or a nearby location (SPEC §3)."""
    candidates = GridEvent.objects.filter(
        category=event.category,
        region=event.region,
        reported_at__gte=event.reported_at - DUPLICATE_WINDOW,
        reported_at__lte=event.reported_at,
    ).exclude(status__in=[EventStatus.RETURNED, EventStatus.MERGED])
    same_reporter = Q(pk__in=[])
    if event.reporter_id:
        same_reporter |= Q(reporter_id=event.reporter_id)
    if event.contact_phone_index:
        same_reporter |= Q(contact_phone_index=event.contact_phone_index)
    if event.address:
        same_reporter |= Q(address=event.address)
    for candidate in candidates.order_by("reported_at", "pk")[:50]:
        if candidates.filter(pk=candidate.pk).filter(same_reporter).exists():
            return candidate
        if None not in (event.lat, event.lng, candidate.lat, candidate.lng) and (
            _distance_m(event.lat, event.lng, candidate.lat, candidate.lng) <= DUPLICATE_DISTANCE_M
        ):
            return candidate
    return None


@transaction.atomic
def event_attach(
    *, event: GridEvent, upload, stage: str = AttachmentStage.REPORT, user: User | None
) -> EventAttachment:
    """Attach a photo or document after checking its size and real type (images are opened)."""
    content_type = (getattr(upload, "content_type", "") or "").lower()
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"file": [_("单个文件不能超过10MB。")]})
    if content_type not in ALLOWED_TYPES:
        raise ValidationError({"file": [_("只能上传照片（JPG、PNG、WEBP）或PDF、Word文件。")]})
    if content_type.startswith("image/"):
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(upload) as image:
                image.verify()
        except (UnidentifiedImageError, OSError) as exc:
            raise ValidationError({"file": [_("照片文件已损坏或不是图片。")]}) from exc
        upload.seek(0)
    return EventAttachment.objects.create(
        event=event,
        file=upload,
        original_name=upload.name[:200],
        content_type=content_type,
        size=upload.size,
        stage=stage,
        uploaded_by=user,
    )


# --- Transitions -----------------------------------------------------------------------------


def _begin(event: GridEvent, name: str, user: User) -> tuple[GridEvent, Transition, str]:
    transition = TRANSITIONS[name]
    locked = _locked(event)
    _check(locked, transition, user)
    return locked, transition, locked.status


def _finish(
    event: GridEvent, name: str, from_status: str, user: User, fields: list[str], note: str = "", departments=(), **data
):
    event.save(update_fields=[*fields, "status", "updated_at"])
    history = _record(event, name, from_status, user, note, **data)
    _after_commit(event, history, departments)
    return event


def _require(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise TransitionError({field: [message]})
    return value


def _respond(event: GridEvent, now: dt.datetime) -> list[str]:
    if event.responded_at is None:
        event.responded_at = now
        return ["responded_at"]
    return []


@transaction.atomic
def event_accept(*, event: GridEvent, user: User, note: str = "") -> GridEvent:
    event, t, before = _begin(event, "accept", user)
    event.status = t.target
    return _finish(event, t.name, before, user, _respond(event, timezone.now()), note)


@transaction.atomic
def event_return(*, event: GridEvent, user: User, reason: str) -> GridEvent:
    event, t, before = _begin(event, "return", user)
    event.return_reason = _require(reason, "reason", _("退回必须说明理由。"))[:200]
    now = timezone.now()
    event.status, event.closed_at = t.target, now
    return _finish(event, t.name, before, user, ["return_reason", "closed_at", *_respond(event, now)], reason)


@transaction.atomic
def event_self_handle(*, event: GridEvent, user: User, note: str = "") -> GridEvent:
    event, t, before = _begin(event, "self_handle", user)
    event.self_handled = True
    event.status = t.target
    return _finish(event, t.name, before, user, ["self_handled"], note)


@transaction.atomic
def event_dispatch(
    *, event: GridEvent, user: User, lead: Department, collaborators: Iterable[Department] = (), note: str = ""
) -> GridEvent:
    """中心吹哨、部门报到: send the event to one lead department and any collaborating ones."""
    event, t, before = _begin(event, "dispatch", user)
    collaborators = [d for d in collaborators if d.pk != lead.pk]
    visible = Department.objects.restrict(user).filter(is_active=True)
    for department in [lead, *collaborators]:
        if not visible.filter(pk=department.pk).exists():
            raise TransitionError({"lead": [_("部门“%(name)s”不在您的管辖范围内或已停用。") % {"name": department}]})
    now = timezone.now()
    EventDispatch.objects.filter(event=event, state__in=[DispatchState.PENDING, DispatchState.ACCEPTED]).update(
        state=DispatchState.CLOSED
    )
    EventDispatch.objects.create(event=event, department=lead, role=DispatchRole.LEAD, dispatched_at=now)
    for department in collaborators:
        EventDispatch.objects.create(
            event=event, department=department, role=DispatchRole.COLLABORATOR, dispatched_at=now
        )
    event.lead_department = lead
    event.self_handled = False
    event.status = t.target
    return _finish(
        event, t.name, before, user, ["lead_department", "self_handled"], note,
        departments=[lead, *collaborators], lead=lead.pk, collaborators=[d.pk for d in collaborators],
    )  # fmt: skip


def _lead_dispatch(event: GridEvent) -> EventDispatch:
    return EventDispatch.objects.filter(event=event, role=DispatchRole.LEAD).latest("dispatched_at", "pk")


@transaction.atomic
def event_department_accept(*, event: GridEvent, user: User, note: str = "") -> GridEvent:
    event, t, before = _begin(event, "department_accept", user)
    dispatch = _lead_dispatch(event)
    dispatch.state, dispatch.answered_at = DispatchState.ACCEPTED, timezone.now()
    dispatch.save(update_fields=["state", "answered_at"])
    event.status = t.target
    return _finish(event, t.name, before, user, [], note, departments=[event.lead_department])


@transaction.atomic
def event_department_return(*, event: GridEvent, user: User, reason: str) -> GridEvent:
    event, t, before = _begin(event, "department_return", user)
    reason = _require(reason, "reason", _("退回必须说明理由。"))
    dispatch = _lead_dispatch(event)
    dispatch.state, dispatch.answered_at, dispatch.return_reason = DispatchState.RETURNED, timezone.now(), reason[:200]
    dispatch.save(update_fields=["state", "answered_at", "return_reason"])
    EventDispatch.objects.filter(event=event, state=DispatchState.PENDING).update(state=DispatchState.CLOSED)
    department = event.lead_department
    event.lead_department = None
    event.status = t.target
    return _finish(event, t.name, before, user, ["lead_department"], reason, departments=[department])


@transaction.atomic
def event_escalate(*, event: GridEvent, user: User, reason: str) -> GridEvent:
    """上报上级: the next level's centre takes the event; the clocks keep running from the report."""
    event, t, before = _begin(event, "escalate", user)
    reason = _require(reason, "reason", _("上报上级必须说明理由。"))
    if event.handling_level <= Level.PROVINCE:
        raise TransitionError(_("事件已在省级受理，无法继续上报。"), code="top_level")
    EventDispatch.objects.filter(event=event, state__in=[DispatchState.PENDING, DispatchState.ACCEPTED]).update(
        state=DispatchState.CLOSED
    )
    event.handling_level -= 1
    event.lead_department = None
    event.self_handled = False
    event.status = t.target
    return _finish(
        event, t.name, before, user, ["handling_level", "lead_department", "self_handled"], reason,
        to_level=event.handling_level,
    )  # fmt: skip


@transaction.atomic
def event_resolve(*, event: GridEvent, user: User, resolution: str) -> GridEvent:
    event, t, before = _begin(event, "resolve", user)
    event.resolution = _require(resolution, "resolution", _("请填写办理结果。"))
    now = timezone.now()
    event.resolved_at = now
    event.resolved_level = event.handling_level
    first = []
    if event.first_resolved_at is None:
        event.first_resolved_at, event.first_resolved_level = now, event.handling_level
        first = ["first_resolved_at", "first_resolved_level"]
    limits = limits_for(event.category, event.urgency)
    event.feedback_deadline = add_limit(now, limits.feedback)
    EventDispatch.objects.filter(event=event, state__in=[DispatchState.PENDING, DispatchState.ACCEPTED]).update(
        state=DispatchState.CLOSED
    )
    event.status = t.target
    fields = ["resolution", "resolved_at", "resolved_level", "feedback_deadline", *first]
    departments = [event.lead_department] if event.lead_department_id else []
    return _finish(event, t.name, before, user, fields, departments=departments)


@transaction.atomic
def event_verify(*, event: GridEvent, user: User, note: str = "") -> GridEvent:
    event, t, before = _begin(event, "verify", user)
    event.verified_at = timezone.now()
    event.status = t.target
    return _finish(event, t.name, before, user, ["verified_at"], note)


@transaction.atomic
def event_reopen(*, event: GridEvent, user: User, reason: str) -> GridEvent:
    """核查不通过: back to handling; the resolution no longer stands from now on (the first
    resolution stays recorded for periods that ended before the reopening)."""
    event, t, before = _begin(event, "reopen", user)
    reason = _require(reason, "reason", _("重新办理必须说明核查发现的问题。"))
    event.resolved_at = event.resolved_level = event.feedback_deadline = None
    event.reopened_at = timezone.now()
    if event.lead_department_id:
        lead = _lead_dispatch(event)
        lead.state = DispatchState.ACCEPTED
        lead.save(update_fields=["state"])
    event.status = t.target
    departments = [event.lead_department] if event.lead_department_id else []
    return _finish(
        event,
        t.name,
        before,
        user,
        ["resolved_at", "resolved_level", "feedback_deadline", "reopened_at"],
        reason,
        departments=departments,
    )


@transaction.atomic
def event_feedback(*, event: GridEvent, user: User, feedback: str, note: str = "") -> GridEvent:
    event, t, before = _begin(event, "feedback", user)
    if feedback not in Feedback.values:
        raise TransitionError({"feedback": [_("请选择回访评价：满意、基本满意或不满意。")]})
    event.feedback, event.feedback_note, event.feedback_at = feedback, note[:500], timezone.now()
    event.status = t.target
    return _finish(event, t.name, before, user, ["feedback", "feedback_note", "feedback_at"], note)


@transaction.atomic
def event_close(*, event: GridEvent, user: User, note: str = "") -> GridEvent:
    event, t, before = _begin(event, "close", user)
    event.closed_at = timezone.now()
    event.status = t.target
    return _finish(event, t.name, before, user, ["closed_at"], note)


@transaction.atomic
def event_merge(*, event: GridEvent, into: GridEvent, user: User) -> GridEvent:
    """Fold a duplicate into the event it repeats; the duplicate keeps its history."""
    if into.pk == event.pk:
        raise TransitionError({"into": [_("不能与自身合并。")]})
    if (
        not GridEvent.objects.restrict(user)
        .filter(pk=into.pk)
        .exclude(status__in=[EventStatus.MERGED, EventStatus.RETURNED])
        .exists()
    ):
        raise TransitionError({"into": [_("合并目标不存在、不在您的管辖范围内或已结束。")]})
    event, t, before = _begin(event, "merge", user)
    event.merged_into = into
    now = timezone.now()
    event.status, event.closed_at = t.target, now
    _finish(event, t.name, before, user, ["merged_into", "closed_at"], into=into.pk)
    _record(into, "absorb", into.status, user, merged=event.pk)
    return event


@transaction.atomic
def event_convert(*, event: GridEvent, user: User, organisation, dispute_type: str, note: str = "", **case_fields):
    """转矛盾纠纷: register a mediation case at `organisation` that links back to this event."""
    from disputes.services import case_register

    event, t, before = _begin(event, "convert", user)
    case = case_register(
        user=user,
        organisation=organisation,
        origin_region=event.region,
        dispute_type=dispute_type,
        title=case_fields.pop("title", "") or event.title,
        facts=case_fields.pop("facts", "") or event.description,
        origin_event=event,
        **case_fields,
    )
    EventDispatch.objects.filter(event=event, state__in=[DispatchState.PENDING, DispatchState.ACCEPTED]).update(
        state=DispatchState.CLOSED
    )
    now = timezone.now()
    event.status, event.closed_at = t.target, now
    return _finish(event, t.name, before, user, ["closed_at"], note, case=case.pk, case_number=case.number)


TRANSITION_SERVICES = {
    "accept": event_accept,
    "return": event_return,
    "self_handle": event_self_handle,
    "dispatch": event_dispatch,
    "department_accept": event_department_accept,
    "department_return": event_department_return,
    "escalate": event_escalate,
    "resolve": event_resolve,
    "verify": event_verify,
    "reopen": event_reopen,
    "feedback": event_feedback,
    "close": event_close,
    "merge": event_merge,
    "convert": event_convert,
}


def transition(name: str, **kwargs) -> GridEvent:
    """Run a named transition (pages and API use this entry point)."""
    if name not in TRANSITION_SERVICES:
        raise TransitionError(_("未知操作。"), code="unknown_transition")
    return TRANSITION_SERVICES[name](**kwargs)


def is_unresolved(event: GridEvent) -> bool:
    return event.status in UNRESOLVED_STATUSES


def handling_region(event: GridEvent) -> Region:
    return Region.objects.get(code=event.region_code[: CODE_LENGTH[Level(event.handling_level)]])
