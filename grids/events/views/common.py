"""What the event pages share: who uses which queue, the deadline clock shown as a colour, the list
queryset, the safe "next" redirect and the permission guard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from governance.choices import Role
from grids.events.choices import DeadlineKind
from grids.events.models import GridEvent, Supervision
from grids.events.sla import current_clock, event_clocks

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


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def require(condition: bool) -> None:
    if not condition:
        raise PermissionDenied
