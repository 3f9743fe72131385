"""Reads of the assessment's inputs for the pages and the API: the monthly tables of a year and
their state, assessor groups of an assessor, score lines of a cycle, the indicator lists of the
input forms. Every read starts from `restrict(user)` where it returns records.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from governance.models import User
from grids.models import Region

from ..choices import Dimension, Rule
from ..models import (
    AssessorGroup,
    AssessorScore,
    Cycle,
    Indicator,
    MonthlyReport,
    month_deadline,
)
from ..services.vetoes import RULED_VETOES


def assessed_indicators() -> list[Indicator]:
    """The qualitative indicators scored by assessor groups (rule 评分)."""
    return list(Indicator.objects.filter(rule=Rule.ASSESSED).order_by("sort_order", "code"))


def report_state(report: MonthlyReport | None, month: dt.date, now: dt.datetime, deadline=None) -> str:
    """on_time | late | missing (deadline passed, nothing submitted) | open (due, not yet late) | future."""
    if report is not None:
        return "late" if report.is_late else "on_time"
    if now > (deadline or month_deadline(month)):
        return "missing"
    return "open" if month <= timezone.localdate(now) else "future"


def report_months(year: int) -> list[dt.date]:
    return [dt.date(year, m, 1) for m in range(1, 13)]


def report_grid(*, user: User, townships: list[Region], year: int, now: dt.datetime | None = None) -> list[dict]:
    """For each township, its twelve months of `year` with their state — one query for all."""
    now = now or timezone.now()
    months = report_months(year)
    deadlines = {m: month_deadline(m) for m in months}
    reports = {
        (r.township_id, r.month): r
        for r in MonthlyReport.objects.restrict(user).filter(
            township__in=townships, month__gte=months[0], month__lte=months[-1]
        )
    }
    rows = []
    for township in townships:
        cells = []
        for month in months:
            report = reports.get((township.pk, month))
            cells.append(
                {"month": month, "report": report, "state": report_state(report, month, now, deadlines[month])}
            )
        rows.append({"township": township, "cells": cells})
    return rows


def report_totals(*, user: User, townships, year: int, now: dt.datetime | None = None) -> dict:
    """Submitted on time, late and missing tables of `year` over all `townships` (two queries)."""
    now = now or timezone.now()
    months = report_months(year)
    due = [m for m in months if month_deadline(m) < now]
    count = townships.count()
    totals = (
        MonthlyReport.objects.restrict(user)
        .filter(township__in=townships, month__gte=months[0], month__lte=months[-1])
        .aggregate(
            on_time=Count("pk", filter=Q(is_late=False)),
            late=Count("pk", filter=Q(is_late=True)),
            due_submitted=Count("pk", filter=Q(month__in=due)),
        )
    )
    totals["missing"] = count * len(due) - totals.pop("due_submitted")
    totals["townships"] = count
    return totals


def groups_of_assessor(user: User):
    """The groups a user belongs to, in cycles the user may see.

    AssessorGroup is scoped by its cycle's root, which lies above most assessors; membership
    is what gives an assessor a group (the units are still restricted to their jurisdiction).
    """
    return AssessorGroup.objects.filter(members=user, cycle__in=Cycle.objects.restrict(user))


def visible_groups(user: User):
    """Groups inside the caller's jurisdiction, and the groups the caller is a member of."""
    return AssessorGroup.objects.filter(
        Q(AssessorGroup.jurisdiction_q(user)) | Q(pk__in=groups_of_assessor(user).values("pk"))
    )


def score_lines(*, user: User, cycle: Cycle):
    """Per unit and indicator of a cycle: groups that scored, lowest and highest score (one query)."""
    return (
        AssessorScore.objects.restrict(user)
        .filter(cycle=cycle)
        .values("unit_id", "unit__code", "unit__name", "indicator")
        .annotate(groups=Count("group", distinct=True), low=Min("score"), high=Max("score"))
        .order_by("unit__code", "indicator")
    )


def veto_indicators() -> list[Indicator]:
    return list(Indicator.objects.filter(code__in=RULED_VETOES).order_by("sort_order", "code"))


def claimable_indicators() -> list[Indicator]:
    """Every scored indicator (not the veto ones)."""
    return list(Indicator.objects.exclude(dimension=Dimension.V).order_by("sort_order", "code"))
