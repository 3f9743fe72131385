"""Reads of mediation cases that the pages and the API share: the board's statuses and order, a list
row's related rows, the list's counts, the mediators' workload, a case's detail rows and the case
registered from a grid event. Scoping stays with the caller (`Case.objects.restrict(user)`); the
overdue condition is disputes.lifecycle.case_overdue_q."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case as SqlCase
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, Value, When
from django.urls import reverse
from django.utils import timezone

from governance.choices import Role
from governance.models import User
from grids.events.conversion import LinkedCase

from .choices import CaseStatus
from .lifecycle import case_overdue_q
from .models import Case, CaseHistory, CaseSupervision, MediationSession

# The statuses the board and the "open" list show: not yet concluded, or agreed and being followed up.
BOARD_STATUSES = [CaseStatus.REGISTERED, CaseStatus.ACCEPTED, CaseStatus.MEDIATING, CaseStatus.AGREED]


def with_list_rows(queryset):
    """What a list row shows (organisation, origin region, mediator) without per-row queries."""
    return queryset.select_related("organisation", "mediator", "origin_region")


def with_supervised(queryset):
    """Each case marked `supervised` when the level above has taken it up (督办)."""
    return queryset.annotate(supervised=Exists(CaseSupervision.objects.filter(case=OuterRef("pk"))))


def board_order(queryset, now: dt.datetime):
    """Overdue first, then the other open cases by deadline (none last), then the concluded ones,
    newest first."""
    return queryset.annotate(
        overdue_rank=SqlCase(
            When(case_overdue_q(now), then=Value(0)),
            When(status__in=BOARD_STATUSES, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
        open_deadline=SqlCase(When(status__in=BOARD_STATUSES, then=F("conclusion_deadline")), default=None),
    ).order_by("overdue_rank", F("open_deadline").asc(nulls_last=True), "-registered_at", "-pk")


def board_totals(cases, now: dt.datetime) -> dict[str, int]:
    """The list's counts (open, overdue, repeat, mass) in one aggregate query."""
    return cases.aggregate(
        open=Count("pk", filter=Q(status__in=BOARD_STATUSES)),
        overdue=Count("pk", filter=case_overdue_q(now)),
        repeat=Count("pk", filter=Q(is_repeat=True, status__in=BOARD_STATUSES)),
        mass=Count("pk", filter=Q(is_mass=True, status__in=BOARD_STATUSES)),
    )


def month_start(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def mediator_workload(organisations, now: dt.datetime) -> list[User]:
    """The active mediators of `organisations`, each with open_cases, overdue_cases and
    concluded_month, in one grouped query."""
    cases = "mediated_cases__"
    return list(
        User.objects.filter(role=Role.MEDIATOR, is_active=True, mediation_org__in=organisations)
        .select_related("mediation_org", "mediation_org__region")
        .annotate(
            open_cases=Count("mediated_cases", filter=Q(**{f"{cases}status__in": BOARD_STATUSES})),
            overdue_cases=Count("mediated_cases", filter=case_overdue_q(now, prefix=cases)),
            concluded_month=Count("mediated_cases", filter=Q(**{f"{cases}concluded_at__gte": month_start(now)})),
        )
        .order_by("mediation_org__region__code", "mediation_org__name", "-open_cases", "username")
    )


def with_page_detail(queryset):
    """What the case page reads with the case itself."""
    return queryset.select_related("organisation", "organisation__region", "origin_region", "mediator", "registered_by")


def with_detail(queryset):
    """The API detail's related rows in a fixed number of queries, whatever their number."""
    return queryset.select_related("agreement", "confirmation").prefetch_related(
        "parties",
        Prefetch("sessions", queryset=MediationSession.objects.select_related("recorded_by")),
        "follow_ups__recorded_by",
        Prefetch("history", queryset=CaseHistory.objects.select_related("actor")),
    )


def linked_case(event) -> LinkedCase | None:
    """The case registered from a converted grid event, as the event's page and API show it."""
    case = Case.objects.select_related("organisation").filter(origin_event=event).first()
    if case is None:
        return None
    return LinkedCase(
        number=case.number,
        organisation=case.organisation.name,
        status=str(case.get_status_display()),
        url=reverse("disputes:detail", args=[case.pk]),
    )
