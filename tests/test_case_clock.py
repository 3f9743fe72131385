"""One overdue condition for cases: disputes.lifecycle.case_overdue_q selects exactly the cases whose
30-day clock (case_clock_state) is red and still running, in every state a case can be in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from disputes import services as svc
from disputes.lifecycle import case_clock_state, case_overdue_q
from disputes.models import Case
from disputes.selectors import board_totals

from .factories import arrange

pytestmark = pytest.mark.django_db


def _register(world, mediation, title):
    return svc.case_register(
        user=mediation["mediator"], organisation=mediation["village_org"], origin_region=world.grid_a,
        dispute_type="neighbour", title=title, facts="邻里纠纷。",
    )  # fmt: skip


def _late(case, days: int) -> None:
    """Move the case's acceptance back so that its deadline lies `days` days before now."""
    now = timezone.now()
    arrange(
        Case.objects.filter(pk=case.pk),
        accepted_at=now - dt.timedelta(days=30 + days),
        conclusion_deadline=now - dt.timedelta(days=days),
        conclusion_warn_at=now - dt.timedelta(days=days + 10),
    )


def test_the_overdue_query_and_the_clock_agree_in_every_state(world, mediation):
    m = mediation["mediator"]
    made = {"registered": _register(world, mediation, "registered")}
    for title in ("accepted", "mediating", "agreed", "failed", "in-time"):
        case = _register(world, mediation, title)
        svc.case_accept(case=case, user=m)
        made[title] = case
    for title in ("mediating", "agreed", "failed", "in-time"):
        svc.case_assign(case=made[title], user=m, mediator=m)
    for title in ("accepted", "mediating"):
        _late(made[title], 3)
    svc.case_agree(case=made["agreed"], user=m, terms="赔偿维修费。", signed_on=timezone.localdate())
    svc.case_fail(case=made["failed"], user=m, reason="双方分歧较大")
    for title in ("agreed", "failed"):
        _late(made[title], 3)  # concluded, then the deadline passed: no longer running
    svc.case_decline(case=_register(world, mediation, "declined"), user=m, reason="已进入诉讼程序")

    now = timezone.now()
    everything = Case.objects.all()
    red_and_running = {
        case.title for case in everything if case_clock_state(case, now) == "red" and case.concluded_at is None
    }
    assert red_and_running == {"accepted", "mediating"}
    assert set(everything.filter(case_overdue_q(now)).values_list("title", flat=True)) == red_and_running
    assert board_totals(everything, now)["overdue"] == 2
