"""Writes to grid events: filing, every transition of the state machine, attachments, merging.

Each transition locks the event row, asks grids.events.transitions.EVENTS whether this user may take it
(the one place that decides; pages, API and templates ask the same machine), writes the event
with its audit entry (governance.audit.save_and_record, naming the transition) and one EventHistory
row in the same transaction, and queues notifications and webhooks with on_commit.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid as uuid_lib
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import audit, personal_data
from governance.codes import Level
from governance.models import Department, User
from governance.scoping import in_jurisdiction
from governance.uploads import check_upload_field
from grids.events import lifecycle
from grids.events.choices import (
    UNRESOLVED_STATUSES,
    AttachmentStage,
    DispatchRole,
    DispatchState,
    EventStatus,
)
from grids.events.conversion import conversion
from grids.events.lifecycle import TransitionError
from grids.events.models import (
    EventAttachment,
    EventCategory,
    EventDispatch,
    EventHistory,
    GridEvent,
    WithdrawnResolution,
)
from grids.events.sla import add_limit, limits_for
from grids.events.transitions import EVENTS, Transition
from grids.models import Region

DUPLICATE_WINDOW = dt.timedelta(hours=24)
DUPLICATE_DISTANCE_M = 100


def _actor_name(user: User | None) -> str:
    return (user.display_name or user.username) if user else _("系统")


def _record(
    event: GridEvent,
    transition_name: str,
    from_status: str,
    user: User | None,
    note: str = "",
    at: dt.datetime | None = None,
    **data,
):
    return EventHistory.objects.create(
        event=event,
        at=at or timezone.now(),
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
    from grids.events.services.effects import on_event_changed

    department_ids = [d.pk for d in departments]
    if not department_ids and event.lead_department_id is None:
        return  # no department to tell (a filing, most moves before dispatch): nothing to read after commit
    transaction.on_commit(lambda: on_event_changed(event.pk, history.pk, department_ids))


# --- Filing ----------------------------------------------------------------------------------


def _deadlines(event: GridEvent) -> None:
    limits = limits_for(event.category, event.urgency)
    event.respond_deadline = add_limit(event.reported_at, limits.respond)
    event.resolve_deadline = add_limit(event.reported_at, limits.resolve)


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
    check_written: Callable[[GridEvent], None] | None = None,
) -> tuple[GridEvent, bool]:
    """File an event; re-sending the same client UUID returns the existing event (created=False).
    `check_written` runs inside the filing's transaction after the write and may refuse it by
    raising (the API's check that the caller can still see the row).

    A resend is recognised by the unique constraint on client_uuid, not by a look-up first: the
    insert of a resend fails, its savepoint (or transaction) is rolled back, and only then is the
    existing event read. So a filing costs no query for a question whose answer is nearly always no,
    and two simultaneous sends still make one event."""
    errors = {}
    if region.level not in (Level.VILLAGE, Level.GRID):
        errors["region"] = [_("请选择事件所在的网格或村（社区）。")]
    elif reporter is not None and not in_jurisdiction(reporter, region.code):
        errors["region"] = [_("该网格不在您的管辖范围内。")]
    if not category.is_active:
        errors["category"] = [_("该事件类别已停用。")]
    if errors:
        existing = _existing(client_uuid, reporter)  # a resend after the rules changed stays a resend
        if existing is not None:
            return existing, False
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
    event.duplicate_of_id = find_likely_duplicate(event)
    try:
        with transaction.atomic():
            event.save()
            # The timeline starts when the event was reported (a phone filing offline sends that moment).
            history = _record(event, "report", "", reporter, at=event.reported_at, duplicate_of=event.duplicate_of_id)
            _after_commit(event, history)
            if check_written is not None:
                check_written(event)
    except IntegrityError:
        # A resend, or two sends of the same UUID raced and the other one won.
        existing = _existing(event.client_uuid, reporter)
        if existing is None:
            raise
        return existing, False
    return event, True


def _existing(client_uuid, reporter: User | None) -> GridEvent | None:
    """The event already filed under this client UUID, if the reporter may be told of it."""
    if not client_uuid:
        return None
    existing = GridEvent.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        _check_same_filer(existing, reporter)
    return existing


def _check_same_filer(existing: GridEvent, reporter: User | None) -> None:
    if reporter is not None and not in_jurisdiction(reporter, existing.region_code):
        raise ValidationError({"client_uuid": [_("该客户端编号已被使用。")]})


def _distance_m(lat1, lng1, lat2, lng2) -> float:
    """Equirectangular approximation: exact enough within a few hundred metres."""
    x = math.radians(lng2 - lng1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6_371_000 * math.hypot(x, y)


def find_likely_duplicate(event: GridEvent) -> int | None:
    """The id of the event this one likely repeats: same category and grid within 24 h, and the same
    reporter (account, phone or address) or a nearby location (SPEC §3).

    One query on (region_code, reported_at) for the first 50 candidates in report order, as plain
    tuples; who reported them and where is compared here."""
    mine = (
        ("reporter_id", event.reporter_id),
        ("contact_phone_index", event.contact_phone_index),
        ("address", event.address),
    )
    candidates = (
        GridEvent.objects.filter(
            region_code=event.region_code,
            category=event.category,
            reported_at__gte=event.reported_at - DUPLICATE_WINDOW,
            reported_at__lte=event.reported_at,
        )
        .exclude(status__in=[EventStatus.RETURNED, EventStatus.MERGED])
        .order_by("reported_at", "pk")
        .values_list("pk", "lat", "lng", *(field for field, _value in mine))[:50]
    )
    for pk, lat, lng, *theirs in candidates:
        if any(value and value == other for (_field, value), other in zip(mine, theirs, strict=True)):
            return pk
        if None not in (event.lat, event.lng, lat, lng) and (
            _distance_m(event.lat, event.lng, lat, lng) <= DUPLICATE_DISTANCE_M
        ):
            return pk
    return None


@transaction.atomic
def event_attach(
    *, event: GridEvent, upload, stage: str = AttachmentStage.REPORT, user: User | None
) -> EventAttachment:
    """Attach a photo or document after checking its size and real type (governance.uploads)."""
    content_type = check_upload_field(upload, field="file")
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
    """Lock the row and check the move on it (grids.events.transitions.EVENTS: state, actor, conditions)."""
    locked = _locked(event)
    transition = EVENTS.check(user, locked, name)
    return locked, transition, locked.status


def _finish(
    event: GridEvent, name: str, from_status: str, user: User, fields: list[str], note: str = "", departments=(), **data
):
    audit.save_and_record(event, transition=name, update_fields=[*fields, "status", "updated_at"])
    history = _record(event, name, from_status, user, note, **data)
    _after_commit(event, history, departments)
    return event


def _respond(event: GridEvent, now: dt.datetime) -> list[str]:
    if event.responded_at is None:
        event.responded_at = now
        return ["responded_at"]
    return []


class RowDispatches:
    """The dispatch rows of a locked event, for grids.events.lifecycle."""

    def __init__(self, event: GridEvent, transition: str):
        self.event = event
        self.open = EventDispatch.objects.filter(event=event)
        self.reason = f"event {event.pk}: {transition}"  # the bulk audit entry of closed dispatches

    def close_open(self) -> None:
        self.open.filter(state__in=[DispatchState.PENDING, DispatchState.ACCEPTED]).audited_update(
            reason=self.reason, state=DispatchState.CLOSED
        )

    def close_pending(self) -> None:
        self.open.filter(state=DispatchState.PENDING).audited_update(reason=self.reason, state=DispatchState.CLOSED)

    def add(self, department: Department, role: str, at: dt.datetime) -> None:
        EventDispatch.objects.create(event=self.event, department=department, role=role, dispatched_at=at)

    def set_lead(self, **values) -> None:
        lead = self.open.filter(role=DispatchRole.LEAD).latest("dispatched_at", "pk")
        for name, value in values.items():
            setattr(lead, name, value)
        lead.save(update_fields=list(values))


def _step(event: GridEvent, name: str, user: User, **inputs) -> GridEvent:
    """Lock, check, apply the step's effects (grids.events.lifecycle) now, save, record, notify on commit."""
    event, _t, before = _begin(event, name, user)
    step = lifecycle.apply(event, name, at=timezone.now(), dispatches=RowDispatches(event, name), **inputs)
    if step.withdrawn:
        WithdrawnResolution.objects.create(event=event, **step.withdrawn)
    return _finish(event, name, before, user, step.fields, step.note, departments=step.departments, **step.data)


@transaction.atomic
def event_accept(*, event: GridEvent, user: User, note: str = "") -> GridEvent:
    return _step(event, "accept", user, note=note)


@transaction.atomic
def event_return(*, event: GridEvent, user: User, reason: str) -> GridEvent:
    return _step(event, "return", user, reason=reason)


@transaction.atomic
def event_self_handle(*, event: GridEvent, user: User, note: str = "") -> GridEvent:
    return _step(event, "self_handle", user, note=note)


@transaction.atomic
def event_dispatch(
    *, event: GridEvent, user: User, lead: Department, collaborators: Iterable[Department] = (), note: str = ""
) -> GridEvent:
    """中心吹哨、部门报到: send the event to one lead department and any collaborating ones
    among those whose jurisdiction covers the event (grids.events.selectors.dispatch_departments)."""
    from grids.events.selectors import dispatch_departments

    collaborators = list(collaborators)
    offered = set(dispatch_departments(event=event, user=user).values_list("pk", flat=True))
    for department in [lead, *collaborators]:
        if department.pk not in offered:
            raise TransitionError({"lead": [_("部门“%(name)s”不在您的管辖范围内或已停用。") % {"name": department}]})
    return _step(event, "dispatch", user, lead=lead, collaborators=collaborators, note=note)


@transaction.atomic
def event_department_accept(*, event: GridEvent, user: User, note: str = "") -> GridEvent:
    return _step(event, "department_accept", user, note=note)


@transaction.atomic
def event_department_return(*, event: GridEvent, user: User, reason: str) -> GridEvent:
    return _step(event, "department_return", user, reason=reason)


@transaction.atomic
def event_escalate(*, event: GridEvent, user: User, reason: str) -> GridEvent:
    """上报上级: the next level's centre takes the event; the clocks keep running from the report."""
    return _step(event, "escalate", user, reason=reason)


@transaction.atomic
def event_resolve(*, event: GridEvent, user: User, resolution: str) -> GridEvent:
    return _step(event, "resolve", user, resolution=resolution)


@transaction.atomic
def event_verify(*, event: GridEvent, user: User, note: str = "") -> GridEvent:
    return _step(event, "verify", user, note=note)


@transaction.atomic
def event_reopen(*, event: GridEvent, user: User, reason: str) -> GridEvent:
    """核查不通过: back to handling (see grids.events.lifecycle.reopen)."""
    return _step(event, "reopen", user, reason=reason)


@transaction.atomic
def event_feedback(*, event: GridEvent, user: User, feedback: str, note: str = "") -> GridEvent:
    return _step(event, "feedback", user, feedback=feedback, note=note)


@transaction.atomic
def event_close(*, event: GridEvent, user: User, note: str = "") -> GridEvent:
    return _step(event, "close", user, note=note)


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
    event = _step(event, "merge", user, into=into)
    _record(into, "absorb", into.status, user, merged=event.pk)
    return event


@transaction.atomic
def event_convert(*, event: GridEvent, user: User, organisation, dispute_type: str, note: str = "", **case_fields):
    """转矛盾纠纷: register a mediation case at `organisation` that links back to this event (through
    the app registered in grids.events.conversion: events never import the cases above them)."""
    event, _t, before = _begin(event, "convert", user)
    case = conversion().register(
        user=user,
        organisation=organisation,
        origin_region=event.region,
        dispute_type=dispute_type,
        title=case_fields.pop("title", "") or event.title,
        facts=case_fields.pop("facts", "") or event.description,
        origin_event=event,
        **case_fields,
    )
    step = lifecycle.apply(event, "convert", at=timezone.now(), dispatches=RowDispatches(event, "convert"), note=note)
    return _finish(event, "convert", before, user, step.fields, note, case=case.pk, case_number=case.number)


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
    return Region.objects.get(code=event.handling_region_code())
