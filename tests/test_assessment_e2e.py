"""A year of records in a small county, assessed end to end: Q1–Q4 spot-checks, the half-year
evaluation and the year-end assessment, each created with the service and run through the
Celery task (a real worker when a broker is configured, eager otherwise); then every unit's
annual result and grade against values worked out by hand from SPEC §5 and indicators.csv.

Plus: the number of queries of a cycle run does not depend on the number of units.

The county (620104, plain) and its four townships
-------------------------------------------------
    T1 620104001 plain     10 000 residents, 3 000 households   the busy one: events and cases in Q1
    T2 620104002 plain     20 000 residents, 5 000 households   assessors 90/100, survey mix flips in the year, +2 bonus
    T3 620104003 plain     10 000 residents, 2 500 households   assessors 50/60, too few answers per quarter, V01 ruling
    T4 620104004 mountain  10 000 residents, 2 000 households   B01 0.8 (V04), August table late, few visits in Q4
Each township has one village and one grid (400 residents, 10 km², rural) with one full-time
grid worker (since 2024) who logs a visit on days 1–20 of every month of 2025 (T4: days 1–15 in
Oct–Dec). Monthly tables Dec 2024 – Dec 2025 are submitted on the 3rd of the next month with
values that give r = 1 (funding = residents yuan/month, 1 mediator per 1 000 residents,
petitions 9/10, no crime, key persons 50/50, households reached = households, cadres 20/20).
Survey answers each quarter (on the 15th of its middle month):
    T1: 60 online (all 安全/满意/知晓) + 30 offline (24 安全, 6 不太安全; 满意; 知晓)
    T2: 40 online (安全; 36 满意, 4 不满意; 知晓) + 10 offline (安全; 5 满意, 5 不满意; 知晓)
    T3: 20 online (all yes)          T4: 30 online (24 安全, 6 不安全; 满意; 知晓)
Assessor scores (two groups, every assessed indicator, every cycle): T1 100/100, T2 90/100,
T3 50/60, T4 100/100 except A01 60/70, the county 80/90.
Records of T1 (Q1 only): four events, two cases of T1's committee (one with a follow-up and a
judicial confirmation); one case of the county's one-stop centre (counts for the county only).

The spot-check samples are random (seeded per cycle): the test reads each cycle's stored
sample (ceil(0.2 × 4) = 1 township) and picks the hand-computed quarter score of the sampled
township from a table that holds all four, so every draw is checked.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal
from fractions import Fraction as F

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment import catalogue, services
from assessment.choices import CycleKind, CycleStatus, Grade, LineStatus
from assessment.models import AnnualResult, Cycle, IndicatorResult, InnovationAward, UnitResult, VetoRuling
from disputes.choices import CaseOutcome, OrgKind
from governance.choices import Role
from governance.codes import Level
from grids.events.choices import EventStatus
from grids.events.models import EventCategory, GridEvent, VisitRecord
from grids.events.services.events import event_file
from grids.models import GridWorker
from tests.factories import RegionFactory, UserFactory, arrange
from tests.test_assessment_rules import (
    answers,
    assess,
    at,
    case,
    check_line,
    check_total,
    confirmation,
    end_of,
    follow_up,
    half_up,
    monthly_tables,
    org,
)

YEAR = 2025
POLL_SECONDS = 120


# --- The county ----------------------------------------------------------------------------------------


def build_county(world):
    county = RegionFactory.child(world.city, 4, name="测试区", population=50000)
    specs = [
        (10000, 3000, "plain"),
        (20000, 5000, "plain"),
        (10000, 2500, "plain"),
        (10000, 2000, "mountain"),
    ]
    towns, villages, grids, workers = [], [], [], []
    for i, (population, households, terrain) in enumerate(specs, start=1):
        town = RegionFactory.child(
            county, i, name=f"T{i}", population=population, households=households, terrain=terrain
        )
        village = RegionFactory.child(town, 1, name=f"T{i}村")
        grid = RegionFactory.child(village, 1, name=f"T{i}网格", population=400, households=100, area_km2=10.0)
        user = UserFactory(username=f"e2e_worker_{i}", role=Role.GRID_WORKER, region=grid)
        GridWorker.objects.create(grid=grid, user=user, name=f"网格员{i}", started_on=dt.date(2024, 1, 1))
        towns.append(town)
        villages.append(village)
        grids.append(grid)
        workers.append(user)
        late = [dt.date(2025, 8, 1)] if i == 4 else []  # T4's August table on 2025-09-10 (due 09-05)
        monthly_tables(town, late=late)
        visits = []
        for month in range(1, 13):
            days = 15 if i == 4 and month >= 10 else 20
            visits += [
                VisitRecord(grid=grid, worker=user, date=dt.date(YEAR, month, d), households_visited=4)
                for d in range(1, days + 1)
            ]
        VisitRecord.objects.bulk_create(visits)
    t1, t2, t3, t4 = villages
    for quarter in range(1, 5):
        when = at(YEAR, 3 * quarter - 1, 15, 10)
        yes = {"safety": "safe", "satisfaction": "satisfied", "awareness": "aware"}
        answers(t1, when, "online", 60, **yes)
        answers(t1, when, "offline", 24, **yes)
        answers(t1, when, "offline", 6, **{**yes, "safety": "not_very_safe"})
        answers(t2, when, "online", 36, **yes)
        answers(t2, when, "online", 4, **{**yes, "satisfaction": "dissatisfied"})
        answers(t2, when, "offline", 5, **yes)
        answers(t2, when, "offline", 5, **{**yes, "satisfaction": "dissatisfied"})
        answers(t3, when, "online", 20, **yes)
        answers(t4, when, "online", 24, **yes)
        answers(t4, when, "online", 6, **{**yes, "safety": "unsafe"})
    file_t1_records(towns[0], grids[0], workers[0], county, towns[1])
    VetoRuling.objects.create(
        unit=towns[2], indicator="V01", occurred_on=dt.date(2025, 5, 20), description="重大案事件",
        recorded_by=world.province_user,
    )  # fmt: skip
    InnovationAward.objects.create(
        unit=towns[1], year=YEAR, points=Decimal("2.00"), reason="平安积分制", awarded_by=world.province_user
    )
    return county, towns


def file_t1_records(t1, grid, worker, county, t2) -> None:
    """T1's events (filed through the service with their original report time, so the stored
    deadlines are the platform's own; later steps stamped explicitly) and the cases."""

    def filed(category, urgency, reported, respond_by, resolve_by, **later):
        event, created = event_file(
            reporter=worker,
            category=EventCategory.objects.get(code=category),
            title=f"{category} {reported:%m-%d}",
            description="巡查发现",
            urgency=urgency,
            source="patrol",
            region=grid,
            reported_at=reported,
        )
        assert created
        assert (event.respond_deadline, event.resolve_deadline) == (respond_by, resolve_by), "SLA deadlines"
        if later.get("resolved_at"):  # the first resolution, as the service records it
            later.update(first_resolved_at=later["resolved_at"], first_resolved_level=later.get("resolved_level"))
        arrange(GridEvent.objects.filter(pk=event.pk), **later)

    # E1: normal; respond by 10:00; resolve by the 5th working day after Mon Jan 6 (7,8,9,10,13) →
    # Jan 13 23:59:59. Accepted 09:30, resolved Jan 8 at village level (on time), 满意, archived.
    filed(
        "public_order", "normal", at(2025, 1, 6, 9), at(2025, 1, 6, 10), end_of(dt.date(2025, 1, 13)),
        status=EventStatus.CLOSED, responded_at=at(2025, 1, 6, 9, 30), self_handled=True,
        resolved_at=at(2025, 1, 8, 15), resolved_level=Level.VILLAGE, resolution="已劝散",
        verified_at=at(2025, 1, 8, 17), feedback="satisfied", feedback_at=at(2025, 1, 9, 10),
        feedback_deadline=end_of(dt.date(2025, 1, 15)), closed_at=at(2025, 1, 9, 11),
    )  # fmt: skip
    # E2: work safety, urgent: respond by 11:00, resolve within 24 h (Feb 11 10:00); escalated to the
    # township, resolved Feb 12 09:00 (late), 基本满意.
    filed(
        "work_safety", "urgent", at(2025, 2, 10, 10), at(2025, 2, 10, 11), at(2025, 2, 11, 10),
        status=EventStatus.FEEDBACK, responded_at=at(2025, 2, 10, 10, 20), handling_level=Level.TOWNSHIP,
        resolved_at=at(2025, 2, 12, 9), resolved_level=Level.TOWNSHIP, resolution="已整改",
        verified_at=at(2025, 2, 12, 12), feedback="basically", feedback_at=at(2025, 2, 13, 10),
        feedback_deadline=end_of(dt.date(2025, 2, 19)),
    )  # fmt: skip
    # E3: returned 10:00, an hour after its 09:00 response limit (late answer); resolve by Mar 10.
    filed(
        "sanitation", "normal", at(2025, 3, 3, 8), at(2025, 3, 3, 9), end_of(dt.date(2025, 3, 10)),
        status=EventStatus.RETURNED, responded_at=at(2025, 3, 3, 10), closed_at=at(2025, 3, 3, 10),
        return_reason="重复反映",
    )  # fmt: skip
    # E4: escalated to the county, resolved at 20:00 on its deadline day (Thu Mar 20 + 21,24,25,26,27
    # → Mar 27 23:59:59): on time but not local; 基本满意.
    filed(
        "public_order", "normal", at(2025, 3, 20, 9), at(2025, 3, 20, 10), end_of(dt.date(2025, 3, 27)),
        status=EventStatus.FEEDBACK, responded_at=at(2025, 3, 20, 9, 10), handling_level=Level.COUNTY,
        resolved_at=at(2025, 3, 27, 20), resolved_level=Level.COUNTY, resolution="已处理",
        verified_at=at(2025, 3, 28, 9), feedback="basically", feedback_at=at(2025, 3, 28, 10),
        feedback_deadline=end_of(dt.date(2025, 4, 3)),
    )  # fmt: skip

    committee = org(t1, OrgKind.TOWNSHIP_COMMITTEE, "T1人民调解委员会")
    centre = org(county, OrgKind.ONE_STOP, "测试区矛盾纠纷多元化解中心")
    # K1: accepted Jan 10 (due Feb 9), agreed Feb 5; follow-up Mar 5 fully fulfilled, 满意; judicial
    # confirmation applied Mon Mar 10, due the 7th working day after (11,12,13,14,17,18,19) Mar 19,
    # decided Mar 18.
    k1 = case(committee, registered=at(2025, 1, 10, 9), accepted=at(2025, 1, 10, 10), concluded=at(2025, 2, 5, 16),
              outcome=CaseOutcome.AGREED)  # fmt: skip
    follow_up(k1, dt.date(2025, 3, 5), "full", "satisfied")
    confirmation(k1, dt.date(2025, 3, 10), dt.date(2025, 3, 19), dt.date(2025, 3, 18))
    # K2: accepted Feb 20 (due Mar 22), failed Mar 20 (on time), referred to litigation.
    case(committee, registered=at(2025, 2, 20, 9), accepted=at(2025, 2, 20, 10), concluded=at(2025, 3, 20, 11),
         outcome=CaseOutcome.FAILED)  # fmt: skip
    # K3: the county's one-stop centre (a dispute arising in T2): accepted Mar 1, agreed Mar 15.
    case(centre, registered=at(2025, 3, 1, 9), accepted=at(2025, 3, 1, 10), concluded=at(2025, 3, 15, 15),
         outcome=CaseOutcome.AGREED, origin=t2)  # fmt: skip


# --- Expected scores, by hand ---------------------------------------------------------------------------
#
# r on a line and the points it loses: lost = effective weight × (1 − r), effective weight =
# weight × (dimension points / applicable weight of the dimension). Totals = 100 − Σ lost.
#
# T1 (plain; assessors 100; reported, A02, D02, D03 all r = 1)
#   Surveys, every period: both channels ≥ 30 → B01 = ½·60/60 + ½·24/30 = 0.9 → r = (0.9 − 0.7)/0.25 = 0.8;
#   B02 = C15 = 1.
#   Q1 / H1 / year (the Q1 records are all there is):
#     B all applicable (30): B03 = E1 满意, E2 基本满意, E4 基本满意 = 3/3; B04 = 1/1. Lost: B01 8 × 0.2 = 8/5.
#     C applicable 38 (C13 n/a) → × 20/19:
#       C01 K1 ✓ K2 ✗ = 1/2 → r 0                 lost 1
#       C02 2/2 → 1; C03 1/1; C07 0/2 → 1; C16 1/1
#       C04 E1 ✓ E2 ✗ E4 ✓ = 2/3 → r = (2/3 − 0.6)/0.35 = 4/21      lost 2 × 17/21
#       C05 E1 ✓ E2 ✓ E3 ✗ E4 ✓ = 3/4 → r = (0.75 − 0.7)/0.28 = 5/28  lost 23/28
#       C06 (E1 村, E2 乡镇, E4 县; K1, K2 乡镇调委会) 4/5 → r = 0.4   lost 3/5
#       C11 E2 ✗ = 0/1 → r 0                        lost 1
#     total = 100 − 8/5 − 20/19 × 2117/420 = 185723/1995 ≈ 93.09
#   Q2–Q4: B03, B04 and the record-based C lines n/a: B applicable 22 → B01 lost 8 × 30/22 × 0.2 = 24/11;
#     C applicable 13 all r = 1 → total = 100 − 24/11 = 1076/11 ≈ 97.82
T1_RECORDS = 100 - F(8, 5) - F(20, 19) * (1 + 2 * (1 - F(4, 21)) + (1 - F(5, 28)) + (1 - F(2, 5)) + 1)
T1_QUIET = 100 - 8 * F(30, 22) * (1 - F(4, 5))
# T2 (plain; assessors mean 95 → r 0.95 on A01 2, A06 1, B05–B07 6, C14 2, D04–D06 5)
#   B applicable 22 (B03, B04 n/a) → × 15/11; C applicable 13 → × 40/13.
#   Quarters and H1: offline 10 (20 in H1) < 30 → pooled: B01 50/50 = 1; B02 41/50 = 0.82 → r = 0.48; C15 1
#     total = 100 − 3 × 0.05 − 15/11 × (8 × 0.52 + 6 × 0.05) − 40/13 × 2 × 0.05 − 5 × 0.05 = 133291/1430 ≈ 93.21
#   Year: online 160, offline 40 → both ≥ 30 → B02 = ½·144/160 + ½·20/40 = 0.7 → r = 0
#     total = 100 − 0.15 − 15/11 × (8 + 0.3) − 40/13 × 0.1 − 0.25 = 125803/1430 ≈ 87.97
T2_Q = 100 - 3 * F(1, 20) - F(15, 11) * (8 * (1 - F(12, 25)) + 6 * F(1, 20)) - F(40, 13) * 2 * F(1, 20) - 5 * F(1, 20)
T2_Y = 100 - 3 * F(1, 20) - F(15, 11) * (8 + 6 * F(1, 20)) - F(40, 13) * 2 * F(1, 20) - 5 * F(1, 20)
# T3 (plain; assessors mean 55 → r 0.55, lost 0.45 of each assessed weight)
#   Quarters: 20 answers < 30 → B01, B02, C15 n/a: B applicable 6 (× 5), C applicable 9 (× 40/9)
#     total = 100 − 3 × 0.45 − 30 × 0.45 − 2 × 40/9 × 0.45 − 5 × 0.45 = 78.9
#   H1 (40 answers) and year (80): surveys all yes → r 1: B × 15/11, C × 40/13
#     total = 100 − 1.35 − 6 × 15/11 × 0.45 − 2 × 40/13 × 0.45 − 2.25 = 128627/1430 ≈ 89.95
T3_Q = 100 - 3 * F(9, 20) - 30 * F(9, 20) - 2 * F(40, 9) * F(9, 20) - 5 * F(9, 20)
T3_H = 100 - 3 * F(9, 20) - 6 * F(15, 11) * F(9, 20) - 2 * F(40, 13) * F(9, 20) - 5 * F(9, 20)
# T4 (mountain: A01 0.5, A02 8, A03 10, A04 0.5, A05 0.5, A06 0.5, all applicable; B applicable 22; C 13)
#   A01 mean 65 → lost 0.5 × 0.35; B01 24/30 = 0.8 → r 0.4 → lost 8 × 15/11 × 0.6 = 72/11
#   Q1, Q2, H1: total = 100 − 7/40 − 72/11 = 41043/440 ≈ 93.28
#   Q3: the August table is late → "missing": A04, A05 (0.5 each), C08, C09, C10, C12 (7 × 40/13), D01 (2)
#     lose everything; D03 = Jun ✓ Jul ✓ Aug ✗ = 2/3 → r 0 → lost 1   → 387479/5720 ≈ 67.74
#   Q4: 45 visits < 20 × 3 → D02 0/1 → lost 2                          → 40163/440 ≈ 91.28
#   Year: missing as in Q3; D02 225 < 240 → lost 2; D03 11/12 → r = (11/12 − 0.8)/0.2 = 7/12 → lost 5/12
#     → 1138127/17160 ≈ 66.32; and B01 = 0.8 < 0.85 with 120 answers → V04
T4_BASE = 100 - F(1, 2) * F(35, 100) - 8 * F(15, 11) * F(3, 5)
T4_MISSING = 1 + 7 * F(40, 13) + 2  # A04 + A05, C08 + C09 + C10 + C12, D01
T4_Q3 = T4_BASE - T4_MISSING - 1
T4_Q4 = T4_BASE - 2
T4_Y = T4_BASE - T4_MISSING - 2 - F(5, 12)
# County (plain; assessors mean 85 → lost 0.15; H1 and year only, never spot-checked)
#   A: A02 4/4, reported over the reporting townships (r 1) → lost 3 × 0.15
#   B all applicable (30): online 150 (B01 yes 144, B02 yes 146), offline 40 (B01 34, B02 35) each quarter
#     B01 = ½·144/150 + ½·34/40 = 0.905 → r = 0.82;  B02 = ½·146/150 + ½·35/40 = 1109/1200 → r = 269/300
#     B03 3/3, B04 1/1 → lost 8 × 0.18 + 8 × 31/300 + 6 × 0.15 = 19/6
#   C applicable 38 → × 20/19: as T1 but C01 = K1 ✓ K2 ✗ K3 ✓ = 2/3 → r 0; C06 = (E1, E2 of 3 events +
#     K1, K2 of 3 cases) 4/6 → r 0; C02 3/3; C07 0/3; C14 lost 2 × 0.15
#   D: D04–D06 lost 5 × 0.15. H1: D02 4/4, D03 24/24.
#     Year: D02 3/4 → r = (0.75 − 0.6)/0.35 = 3/7 → lost 8/7; D03 47/48 → r = 43/48 → lost 5/48
K_H = (
    100
    - 3 * F(3, 20)
    - (8 * (1 - F(41, 50)) + 8 * (1 - F(269, 300)) + 6 * F(3, 20))
    - F(20, 19) * (1 + 2 * (1 - F(4, 21)) + (1 - F(5, 28)) + 1 + 1 + 2 * F(3, 20))
    - 5 * F(3, 20)
)
K_Y = K_H - 2 * (1 - F(3, 7)) - (1 - F(43, 48))

SPOT = {  # quarter score of each township, whichever is drawn
    "T1": {1: T1_RECORDS, 2: T1_QUIET, 3: T1_QUIET, 4: T1_QUIET},
    "T2": dict.fromkeys((1, 2, 3, 4), T2_Q),
    "T3": dict.fromkeys((1, 2, 3, 4), T3_Q),
    "T4": {1: T4_BASE, 2: T4_BASE, 3: T4_Q3, 4: T4_Q4},
}
HALF = {"T1": T1_RECORDS, "T2": T2_Q, "T3": T3_H, "T4": T4_BASE, "county": K_H}
YEAR_END = {"T1": T1_RECORDS, "T2": T2_Y, "T3": T3_H, "T4": T4_Y, "county": K_Y}
BONUS = {"T2": F(2)}


def test_the_hand_arithmetic_above_adds_up():
    """The closed forms worked out on paper (guards the comments against typos)."""
    on_paper = {
        "T1_RECORDS": (T1_RECORDS, F(185723, 1995)),
        "T1_QUIET": (T1_QUIET, F(1076, 11)),
        "T2_Q": (T2_Q, F(133291, 1430)),
        "T2_Y": (T2_Y, F(125803, 1430)),
        "T3_Q": (T3_Q, F(789, 10)),
        "T3_H": (T3_H, F(128627, 1430)),
        "T4_BASE": (T4_BASE, F(41043, 440)),
        "T4_Q3": (T4_Q3, F(387479, 5720)),
        "T4_Q4": (T4_Q4, F(40163, 440)),
        "T4_Y": (T4_Y, F(1138127, 17160)),
        "K_H": (K_H, F(357467, 3990)),
        "K_Y": (K_Y, F(2819931, 31920)),
    }
    for name, (formula, paper) in on_paper.items():
        assert formula == paper, name


def annual_by_hand(name: str, spots: list[F]) -> F:
    """SPEC §5.3: 0.10 × mean(spot checks) + 0.40 × half-year + 0.50 × year-end, or 0.5/0.5 when never
    sampled; + innovation bonus (≤ 3), capped at 100."""
    h, y = HALF[name], YEAR_END[name]
    base = F(1, 10) * sum(spots, F(0)) / len(spots) + F(2, 5) * h + F(1, 2) * y if spots else (h + y) / 2
    return min(F(100), base + BONUS.get(name, F(0)))


# --- Running through Celery ------------------------------------------------------------------------------


def wait_until_computed(cycle: Cycle, worker) -> Cycle:
    deadline = time.monotonic() + (POLL_SECONDS if worker is not None else 0)
    while True:
        cycle.refresh_from_db()
        if cycle.status in (CycleStatus.COMPUTED, CycleStatus.FAILED) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert cycle.status == CycleStatus.COMPUTED, f"{cycle}: {cycle.status} {cycle.error}"
    return cycle


@pytest.mark.django_db(transaction=True)
def test_a_year_of_records_gives_the_hand_computed_annual_results(
    world, celery_worker, django_capture_on_commit_callbacks
):
    county, towns = build_county(world)
    names = {t.code: t.name for t in towns} | {county.code: "county"}
    pairs = {
        towns[1]: (90, 100),
        towns[2]: (50, 60),
        towns[3]: {"A01": (60, 70)},
        county: (80, 90),
    }
    plan = [(CycleKind.SPOT_CHECK, q) for q in (1, 2, 3, 4)] + [(CycleKind.HALF_YEAR, None), (CycleKind.YEAR_END, None)]
    cycles, sampled = {}, {}
    for kind, quarter in plan:
        cycle = services.create_cycle(kind=kind, year=YEAR, root=county, quarter=quarter, user=world.admin_province)
        if kind == CycleKind.SPOT_CHECK:
            units = [s.region for s in cycle.sample.select_related("region")]
            assert len(units) == 1, "ceil(0.2 × 4 townships) = 1"
            sampled[quarter] = names[units[0].code]
        else:
            units = [county, *towns]
        assess(cycle, units, pairs)
        with django_capture_on_commit_callbacks(execute=True):
            services.start_run(cycle, user=world.admin_province)
        cycles[(kind, quarter)] = wait_until_computed(cycle, celery_worker)

    # Every cycle's totals.
    for quarter, name in sampled.items():
        cycle = cycles[(CycleKind.SPOT_CHECK, quarter)]
        town = next(t for t in towns if t.name == name)
        assert list(UnitResult.objects.filter(cycle=cycle).values_list("region_code", flat=True)) == [town.code]
        check_total(cycle, town, SPOT[name][quarter], f"(Q{quarter} spot-check)")
    half, year_end = cycles[(CycleKind.HALF_YEAR, None)], cycles[(CycleKind.YEAR_END, None)]
    for region in (county, *towns):
        name = names[region.code]
        check_total(half, region, HALF[name], "(half-year)")
        check_total(year_end, region, YEAR_END[name], "(year-end)")

    # A few lines behind those totals.
    t1, t2, t3, t4 = towns
    check_line(year_end, t1, "C04", num=2, den=3, ratio=F(4, 21))
    check_line(year_end, county, "C06", num=4, den=6, ratio=0)
    check_line(year_end, county, "C01", num=2, den=3, ratio=0)
    check_line(year_end, t2, "B02", value=F(7, 10), ratio=0)  # both channels ≥ 30 in the year
    check_line(half, t2, "B02", value=F(41, 50), ratio=F(12, 25))  # offline 20 < 30: pooled
    check_line(year_end, t4, "C08", status=LineStatus.MISSING_REPORT, ratio=0)
    check_line(year_end, t4, "A03", num=1, den=1, ratio=1)
    check_line(year_end, county, "D02", num=3, den=4, ratio=F(3, 7))
    check_line(year_end, county, "D03", num=47, den=48, ratio=F(43, 48))
    check_line(year_end, county, "A04", ratio=1)  # over T1–T3 (T4 not reporting)
    vetoes = dict(UnitResult.objects.filter(cycle=year_end).values_list("region_code", "vetoes"))
    assert vetoes == {county.code: [], t1.code: [], t2.code: [], t3.code: ["V01"], t4.code: ["V04"]}

    # Annual results.
    spots: dict[str, list[F]] = {t.name: [] for t in towns}
    for quarter, name in sampled.items():
        spots[name].append(SPOT[name][quarter])
    expected = {names[r.code]: annual_by_hand(names[r.code], spots.get(names[r.code], [])) for r in (county, *towns)}
    # T1 ≥ 93.09 > T2 92.59 > T3 ≤ 89.95 > T4 ≤ 79.8 whatever the draw; 4 peers → ceil(0.8) = 1 excellent
    grades = {"T1": (Grade.EXCELLENT, 1), "T2": (Grade.GOOD, 2), "T3": (Grade.FAIL, 3), "T4": (Grade.FAIL, 4)}
    grades["county"] = (Grade.GOOD, 1)  # 88.97: alone at county level in this root
    rows = {names[a.region_code]: a for a in AnnualResult.objects.filter(cycle=year_end)}
    assert set(rows) == set(expected)
    for name, row in rows.items():
        want = expected[name]
        assert F(row.result_exact) == want, (
            f"{name}: annual {float(F(row.result_exact)):.6f}, expected {float(want):.6f} (samples {sampled})"
        )
        assert row.result == half_up(want), f"{name}: shown {row.result}, expected {half_up(want)}"
        assert (row.grade, row.rank) == grades[name], f"{name}: {row.grade} #{row.rank}, expected {grades[name]}"
        assert row.spot_checks == len(spots.get(name, []))
        assert abs(F(row.half_year) - HALF[name]) <= F(1, 10**8) and abs(F(row.year_end) - YEAR_END[name]) <= F(
            1, 10**8
        )
        assert F(row.bonus) == BONUS.get(name, 0)
    assert rows["T3"].vetoes == ["V01"] and rows["T4"].vetoes == ["V04"] and rows["county"].vetoes == []
    # Fiscal tilt of the excellent unit: 5 % at 90 rising linearly to 10 % at 100, from the shown result.
    assert rows["T1"].fiscal_tilt == half_up(5 + (F(rows["T1"].result) - 90) / 2)
    assert all(rows[n].fiscal_tilt is None for n in ("T2", "T3", "T4", "county"))


# --- Query count ----------------------------------------------------------------------------------------


def county_with_records(world, number: int, townships: int):
    """A county of `townships` townships, each with a village, a grid, a worker and visits, an
    event, a concluded case with follow-up and confirmation, survey answers and its tables."""
    county = RegionFactory.child(world.city, number, name=f"计数县{number}")
    category = EventCategory.objects.get(code="public_order")
    for i in range(1, townships + 1):
        town = RegionFactory.child(county, i, population=10000, households=3000)
        village = RegionFactory.child(town, 1)
        grid = RegionFactory.child(village, 1, population=400, households=100, area_km2=5.0)
        user = UserFactory(role=Role.GRID_WORKER, region=grid)
        GridWorker.objects.create(grid=grid, user=user, name=f"网格员{number}-{i}", started_on=dt.date(2024, 1, 1))
        VisitRecord.objects.bulk_create(
            [VisitRecord(grid=grid, worker=user, date=dt.date(2025, 1, d), households_visited=2) for d in range(1, 11)]
        )
        GridEvent.objects.create(
            category=category, title="t", description="t", source="patrol", region=grid, region_code=grid.code,
            reporter=user, status=EventStatus.FEEDBACK, resolved_level=Level.VILLAGE, feedback="satisfied",
            reported_at=at(2025, 2, 10, 9), responded_at=at(2025, 2, 10, 9, 30), respond_deadline=at(2025, 2, 10, 10),
            resolved_at=at(2025, 2, 11, 9), resolve_deadline=end_of(dt.date(2025, 2, 17)),
            feedback_at=at(2025, 2, 12, 9), feedback_deadline=end_of(dt.date(2025, 2, 18)),
        )  # fmt: skip
        k = case(org(town), registered=at(2025, 3, 3, 9), accepted=at(2025, 3, 3, 10), concluded=at(2025, 3, 20, 10),
                 outcome=CaseOutcome.AGREED)  # fmt: skip
        follow_up(k, dt.date(2025, 4, 1), "full", "satisfied")
        confirmation(k, dt.date(2025, 3, 24), dt.date(2025, 4, 2), dt.date(2025, 3, 28))
        answers(village, at(2025, 5, 1, 10), "online", 30, safety="safe", satisfaction="satisfied", awareness="aware")
        monthly_tables(town)
    return county


@pytest.mark.django_db
def test_a_cycle_run_makes_the_same_number_of_queries_for_2_and_10_townships(world, monkeypatch):
    """First runs and re-runs (which replace the stored results) of a half-year cycle on a county
    with 2 townships (3 units, 105 indicator lines) and one with 10 (11 units, 385 lines). The
    data-credibility checks that follow a run query the records behind the flags they raise, so
    they are left out here; test_assessment_credibility bounds their queries."""
    monkeypatch.setattr("assessment.services.credibility.run_checks", lambda **kwargs: [])
    small = county_with_records(world, 5, 2)
    large = county_with_records(world, 6, 10)
    catalogue.snapshot()  # the catalogue version exists before both runs
    runs: dict[tuple[str, int], list[str]] = {}
    for county in (small, large):
        cycle = services.create_cycle(kind=CycleKind.HALF_YEAR, year=YEAR, root=county)
        units = [county, *county.children.all()]
        assess(cycle, units)
        for label in ("first run", "re-run"):
            with CaptureQueriesContext(connection) as queries:
                services.run_cycle(cycle.pk)
            runs[(label, len(units))] = [_statement(q["sql"]) for q in queries.captured_queries]
        assert UnitResult.objects.filter(cycle=cycle).count() == len(units)
        assert IndicatorResult.objects.filter(cycle=cycle).count() == 35 * len(units)
    batched = {"INSERT assessment_indicatorresult", "DELETE assessment_indicatorresult"}
    for label in ("first run", "re-run"):
        small_q, large_q = runs[(label, 3)], runs[(label, 11)]
        # Every read and every other write is the same whatever the number of units …
        assert _difference([s for s in small_q if s not in batched], [s for s in large_q if s not in batched]) == {}
    for label in ("first run", "re-run"):
        small_q, large_q = runs[(label, 3)], runs[(label, 11)]
        # … and so is the total (the result lines are written in batches by the database backend).
        assert len(small_q) == len(large_q), (
            f"{label} of a cycle: {len(small_q)} queries for 2 townships, {len(large_q)} for 10; "
            f"differing statements (2 vs 10 townships): {_difference(small_q, large_q)} on {connection.vendor}"
        )


def _statement(sql: str) -> str:
    """The verb and table of a statement, e.g. 'INSERT assessment_indicatorresult'."""
    verb = sql.split(" ", 1)[0]
    match = re.search(r'(?:INTO|FROM|UPDATE) "?([a-z_]+)"?', sql)
    return f"{verb} {match.group(1) if match else ''}".strip()


def _difference(small: list[str], large: list[str]) -> dict[str, tuple[int, int]]:
    """Statement kinds whose count differs between the two runs: {kind: (small, large)}."""
    kinds = set(small) | set(large)
    return {k: (small.count(k), large.count(k)) for k in sorted(kinds) if small.count(k) != large.count(k)}
