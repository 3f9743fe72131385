"""Notifications (站内通知), the unread count for the menu and the home page's event card."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.choices import Role
from governance.counting import bounded_counts
from grids.events.choices import OPEN_STATUSES, DispatchState, EventStatus
from grids.events.models import EventDispatch, GridEvent, Notification
from grids.events.sla import overdue_q
from grids.events.views.common import PAGE_SIZE, can_use_queue, is_department_handler, safe_next


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
    """Counts for the home page (one query): where the user's work is and how much is late.

    Each count reads only rows that can count, from an index (event_status_region_idx, and the
    partial event_unresolved_region_idx for the overdue ones), and is exact up to
    LIST_EXACT_COUNT_LIMIT, beyond it shown as "超过 N" (governance/counting.py): a province's open
    events are counted in milliseconds.
    """
    if not user.is_authenticated:
        return None
    now = timezone.now()
    events = GridEvent.objects.restrict(user)
    open_events = events.filter(status__in=OPEN_STATUSES)
    counts = {"open": open_events, "overdue": events.filter(overdue_q(now))}
    if user.role == Role.GRID_WORKER:
        # Own reports (open / overdue) and what waits for the worker on site in their grids.
        card = {"kind": "worker", "url": reverse("events:mine"), "new_url": reverse("events:event-new")}
        counts["open"] = open_events.filter(reporter=user)
        counts["overdue"] = counts["overdue"].filter(reporter=user)
        counts["todo"] = events.filter(
            Q(status=EventStatus.HANDLING, self_handled=True)
            | Q(status__in=[EventStatus.RESOLVED, EventStatus.VERIFIED])
        )
    elif is_department_handler(user):
        card = {"kind": "department", "url": reverse("events:department")}
        pending = EventDispatch.objects.filter(
            event=OuterRef("pk"), department_id=user.department_id, state=DispatchState.PENDING
        )
        counts["pending"] = events.filter(Exists(pending))
    elif can_use_queue(user):
        card = {"kind": "queue", "url": reverse("events:queue")}
        counts["reported"] = events.filter(status=EventStatus.REPORTED)
    else:
        return None
    card.update(bounded_counts(counts))
    return card
