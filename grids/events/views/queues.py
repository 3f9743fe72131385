"""The centre's and the department's queues: the filter bar, status counts and pages of events."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Subquery
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from governance.codes import Level
from governance.counting import BoundedCount, BoundedPaginator, bounded_counts
from governance.models import Department
from grids.events.choices import DispatchState, EventStatus
from grids.events.filtersets import EventFilterSet
from grids.events.forms import active_categories, category_choices
from grids.events.models import EventDispatch, GridEvent
from grids.events.sla import overdue_q
from grids.events.transitions import EVENTS
from grids.events.views.common import (
    PAGE_SIZE,
    can_use_queue,
    is_department_handler,
    list_queryset,
    require,
    with_clocks,
)
from grids.models import Region


def _filter_context(request, base, *, with_department: bool, first: tuple[str, ...] = ()) -> dict:
    """Apply EventFilterSet to `base`; the options of the filter bar; status counts (one bounded query)."""
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
    count_base = EventFilterSet(count_data or None, queryset=GridEvent.objects.restrict(user), request=request).qs
    now = timezone.now()
    counts = _status_counts(count_base, now)
    status_counts = [(value, label, counts[value]) for value, label in EventStatus.choices if counts[value]]

    page = BoundedPaginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = with_clocks(page.object_list, now)
    selected = {key: request.GET.getlist(key) for key in request.GET}
    context = {
        "filterset": filterset,
        "filter_errors": filterset.form.errors if filterset.is_bound else {},
        "page_obj": page,
        "status_counts": status_counts,
        "status_total": counts["all"],
        "overdue_total": counts["overdue"],
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
        context["department_options"] = _department_options(user, selected.get("department", []))
    return context


def _department_options(user, selected: list[str]) -> str:
    """The lead-department filter's <option>s, built here: a province has over a thousand departments,
    and rendering them one template node at a time cost more than all of the page's queries."""
    departments = (
        Department.objects.restrict(user)
        .filter(is_active=True)
        .order_by("region__code", "kind", "name")
        .values_list("pk", "name")
    )
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((pk, mark_safe(" selected") if str(pk) in selected else "", name) for pk, name in departments),
    )


def _status_counts(events, now) -> dict[str, BoundedCount]:
    """The chips' counts — all, each status, overdue — each exact up to LIST_EXACT_COUNT_LIMIT (one query)."""
    querysets = {"all": events, "overdue": events.filter(overdue_q(now))}
    querysets.update({value: events.filter(status=value) for value in EventStatus.values})
    return bounded_counts(querysets)


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
    require(can_use_queue(user))
    context = _filter_context(request, list_queryset(user), with_department=True)
    context["can_export"] = user.can("event.export")
    context["can_file"] = user.can("event.file")
    return render(request, "events/queue.html", context)


@login_required
def department_queue(request):
    """部门待办: events dispatched to the user's department, pending ones first."""
    user = request.user
    require(is_department_handler(user))
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
