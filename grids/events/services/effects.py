"""Side effects of event changes, run after commit: notifications, webhooks, and the
deadline sweep that puts overdue events under supervision (督办)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import codes
from governance.choices import Role
from governance.models import User
from grids.events.choices import UNRESOLVED_STATUSES, DeadlineKind, EventStatus
from grids.events.models import EventHistory, GridEvent, Notification, Supervision, Webhook, WebhookDelivery
from grids.models import Region

CENTRE_ROLES = (Role.CENTRE_STAFF, Role.GRID_LEADER)


def notify(users, *, key: str, message: str, event: GridEvent | None = None) -> int:
    """Send a notification once per user and key (repeats are ignored)."""
    rows = [Notification(user=user, event=event, key=key[:80], message=message[:300]) for user in users]
    return len(Notification.objects.bulk_create(rows, ignore_conflicts=True))


def centre_staff_of(region_code: str):
    return User.objects.filter(is_active=True, role__in=CENTRE_ROLES, region__code=region_code)


def on_event_changed(event_id: int, history_id: int, department_ids: list[int]) -> None:
    """After a committed change: tell the departments involved (in-app and by webhook)."""
    history = EventHistory.objects.select_related("event").get(pk=history_id)
    event = history.event
    if department_ids:
        handlers = User.objects.filter(is_active=True, role=Role.DEPARTMENT_HANDLER, department_id__in=department_ids)
        if history.action == "dispatch":
            notify(
                handlers,
                key=f"dispatch:{history.pk}",
                message=_("新分派事件：%(title)s") % {"title": event.title},
                event=event,
            )
    queue_webhooks(event, history, department_ids)


def webhook_payload(event: GridEvent, history: EventHistory) -> dict:
    return {
        "event_id": event.pk,
        "client_uuid": str(event.client_uuid),
        "action": history.action,
        "status": event.status,
        "at": history.at.isoformat(),
        "category": event.category.code,
        "title": event.title,
        "urgency": event.urgency,
        "region_code": event.region_code,
        "address": event.address,
        "lead_department": event.lead_department_id,
        "resolve_deadline": event.resolve_deadline.isoformat(),
        "note": history.note,
    }


def queue_webhooks(event: GridEvent, history: EventHistory, department_ids: list[int]) -> None:
    """Departments hear of dispatches to them and of every later change of an event they lead."""
    targets = set(department_ids)
    if event.lead_department_id:
        targets.add(event.lead_department_id)
    if not targets:
        return
    from grids.events.tasks import deliver_webhook

    payload = webhook_payload(event, history)
    for webhook in Webhook.objects.filter(department_id__in=targets, is_active=True):
        delivery, created = WebhookDelivery.objects.get_or_create(
            webhook=webhook, key=f"event:{event.pk}:history:{history.pk}", defaults={"payload": payload}
        )
        if created:
            # robust: a broker that is down, or (in eager mode) a receiver that fails, is logged and
            # left on the delivery row; it never turns the committed change into an error response.
            transaction.on_commit(lambda pk=delivery.pk: deliver_webhook.delay(pk), robust=True)


# --- Deadline sweep --------------------------------------------------------------------------


def supervising_code(event: GridEvent) -> str:
    """The level above the one holding the event supervises it (the province supervises itself)."""
    return codes.supervising_code(event.region_code, event.handling_level)


OVERDUE = {
    DeadlineKind.RESPOND: ("respond_deadline", {"status": EventStatus.REPORTED, "responded_at__isnull": True}),
    DeadlineKind.RESOLVE: ("resolve_deadline", {"status__in": UNRESOLVED_STATUSES}),
    DeadlineKind.FEEDBACK: ("feedback_deadline", {"status__in": [EventStatus.RESOLVED, EventStatus.VERIFIED]}),
}


def sweep_deadlines(now: dt.datetime | None = None) -> dict[str, int]:
    """Put every newly overdue limit under supervision and notify the supervising centre.

    Idempotent: a limit is supervised once (unique event × kind) and each notification has
    a key, so running the sweep twice — or two sweeps at once — sends nothing twice.
    """
    now = now or timezone.now()
    created: dict[str, int] = {}
    for kind, (deadline_field, state) in OVERDUE.items():
        already = Supervision.objects.filter(event=OuterRef("pk"), kind=kind)
        overdue = (
            GridEvent.objects.filter(**state, **{f"{deadline_field}__lt": now})
            .exclude(Exists(already))
            .only("pk", "title", "region_code", "handling_level", deadline_field)
        )
        created[kind] = 0
        for batch in _batches(overdue.iterator(chunk_size=500), 500):
            created[kind] += _supervise(batch, kind, deadline_field, now)
    return created


def _batches(iterable, size):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _supervise(events: list[GridEvent], kind: str, deadline_field: str, now: dt.datetime) -> int:
    codes = {supervising_code(event) for event in events}
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    rows = [
        Supervision(
            event=event,
            kind=kind,
            supervising_region=regions[supervising_code(event)],
            deadline=getattr(event, deadline_field),
            created_at=now,
        )
        for event in events
        if supervising_code(event) in regions
    ]
    with transaction.atomic():
        Supervision.objects.bulk_create(rows, ignore_conflicts=True)
        staff_by_code: dict[str, list[User]] = {}
        for user in User.objects.filter(is_active=True, role__in=CENTRE_ROLES, region__code__in=codes).select_related(
            "region"
        ):
            staff_by_code.setdefault(user.region.code, []).append(user)
        label = DeadlineKind(kind).label
        for event in events:
            notify(
                staff_by_code.get(supervising_code(event), []),
                key=f"overdue:{kind}:{event.pk}",
                message=_("督办：事件“%(title)s”%(kind)s超期") % {"title": event.title, "kind": label},
                event=event,
            )
    return len(rows)
