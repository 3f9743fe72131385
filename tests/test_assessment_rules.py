"""The scoring rules of SPEC §5.2–§5.4 and the numerators / denominators of indicators.csv,
checked on small, directly constructed records and one cycle run each.

Every expected number is worked out by hand from the SPEC and indicators.csv (the arithmetic
is in the comments) and compared with the stored IndicatorResult / UnitResult / AnnualResult
rows; nothing is computed with the engine's own helpers.

The "baseline" township used throughout (see `build`): population 10 000, 3 000 households,
one village, no grid, no platform records, no survey answers; a monthly core table for every
month Dec 2024 – Dec 2025 submitted on the 3rd of the next month (on time) with
    funding = population yuan per month, mediators = population / 1000 (full-time),
    petitions 10 received / 9 first time, 0 criminal cases, 50 key persons all managed,
    households reached = households, 20 cadres all on track;
and two assessor groups scoring every assessed indicator 100. For any 2025 period this gives
r = 1 on every applicable line (A04 ≥ 12 yuan/resident/year ≥ 5, A05 = 10 per 10k ≥ 5,
C08 = 0.9 ≥ 0.85, C09 = 0 ≤ 20, C10 = 1, C12 = 1, D01 = 1, D03 = 1) and these applicable
weights (plain profile):
    A: A01 2, A04 1, A05 1, A06 1 = 5 of 20      (A02 n/a: no grid)   → × 20/5 = 4
    B: B05 2, B06 2, B07 2 = 6 of 30             (B01–B04 n/a)        → × 30/6 = 5
    C: C08 1, C09 1, C10 1, C12 4, C14 2 = 9 of 40 (the rest n/a)     → × 40/9
    D: D01 2, D03 1, D04 2, D05 2, D06 1 = 8 of 10 (D02 n/a: no worker) → × 10/8 = 5/4
and a total of 100. Giving the three B-assessed indicators the score s (both groups) makes the
total 100 − 30 × (1 − s/100) = 70 + 0.3 s, which the annual-result tests use to dial totals.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction as F
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from assessment import services
from assessment.choices import ClaimStatus, CycleKind, CycleStatus, Grade, LineStatus, RectificationStatus, RulingStatus
from assessment.engine.run import compute_cycle
from assessment.engine.scoring import accountability
from assessment.models import (
    AnnualResult,
    AssessorGroup,
    AssessorScore,
    Cycle,
    IndicatorResult,
    InnovationAward,
    MonthlyReport,
    RectificationItem,
    ScoreReview,
    SurveyResponse,
    ToleranceClaim,
    UnitResult,
    VetoRuling,
)
from disputes import services as dispute_services
from disputes.choices import CaseOutcome, CaseStatus, ConfirmationDecision, OrgKind
from disputes.models import Agreement, Case, FollowUp, JudicialConfirmation, MediationOrganisation
from disputes.validators import id_check_digit
from governance.choices import Role
from governance.codes import Level
from grids.events.choices import EventStatus
from grids.events.models import EventCategory, GridEvent, VisitRecord
from grids.models import GridWorker, Region
from tests.factories import RegionFactory, UserFactory

from .factories import arrange

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2025
ASSESSED = ("A01", "A06", "B05", "B06", "B07", "C14", "D04", "D05", "D06")
REPORTED = ("A04", "A05", "C08", "C09", "C10", "C12", "D01")
EPS = F(1, 10**8)  # stored lines keep 8 decimals
ANY = object()


# --- Time ---------------------------------------------------------------------------------------------


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> dt.datetime:
    """An aware Asia/Shanghai instant."""
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=TZ)


def end_of(day: dt.date) -> dt.datetime:
    """23:59:59 local on `day` (how the platform stores day-based deadlines)."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=TZ)


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(TZ).date()


def half_up(value: F, places: int = 2) -> Decimal:
    """Round an exact value half up (SPEC §5.2 "Rounding")."""
    return Decimal(math.floor(value * 10**places + F(1, 2))).scaleb(-places)


# --- Regions and monthly tables -----------------------------------------------------------------------

MONTHS = [dt.date(2024, 12, 1)] + [dt.date(YEAR, m, 1) for m in range(1, 13)]


def next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def table_deadline(month: dt.date) -> dt.datetime:
    """Due by the 5th of the next month (SPEC §5.2, default), end of that local day."""
    return end_of(next_month(month).replace(day=5))


def baseline_values(township: Region) -> dict:
    return {
        "funding_yuan": Decimal(township.population),
        "mediators_fulltime": township.population // 1000,
        "mediators_parttime": 0,
        "petitions_received": 10,
        "petitions_resolved_first": 9,
        "criminal_cases": 0,
        "key_persons_registered": 50,
        "key_persons_managed": 50,
        "households_reached": township.households,
        "cadres": 20,
        "cadres_on_track": 20,
    }


def monthly_tables(township: Region, *, late=(), skip=(), values=None, months=MONTHS) -> None:
    """One table per month; on time = the 3rd of the next month 10:00, late = the 10th.
    `values` overrides fields: {field: value} or {field: {month: value}}."""
    rows = []
    for month in months:
        if month in skip:
            continue
        deadline = table_deadline(month)
        nxt = next_month(month)
        submitted = at(nxt.year, nxt.month, 10 if month in late else 3, 10)
        data = baseline_values(township)
        for name, value in (values or {}).items():
            data[name] = value.get(month, data[name]) if isinstance(value, dict) else value
        rows.append(
            MonthlyReport(
                township=township,
                region_code=township.code,
                month=month,
                deadline=deadline,
                submitted_at=submitted,
                is_late=submitted > deadline,
                **data,
            )
        )
    MonthlyReport.objects.bulk_create(rows)


@dataclass
class Area:
    county: Region
    towns: list[Region]
    villages: dict[str, Region] = field(default_factory=dict)

    @property
    def units(self) -> list[Region]:
        return [self.county, *self.towns]

    def village(self, township: Region) -> Region:
        return self.villages[township.code]


@pytest.fixture
def build(world):
    """build(number, townships, ...) -> Area: a county 6201<number> under the world's city,
    its townships (baseline: 10 000 residents, 3 000 households) each with one village, and
    (unless tables=False) the baseline monthly tables."""

    def make(number: int, townships: int = 1, *, terrains=None, tables: bool = True, **township_fields) -> Area:
        county = RegionFactory.child(world.city, number, name=f"测试县{number}")
        area = Area(county, [])
        for i in range(1, townships + 1):
            fields = {"population": 10000, "households": 3000, **township_fields}
            terrain = (terrains or {}).get(i, "plain")
            town = RegionFactory.child(county, i, name=f"测试乡{number}-{i}", terrain=terrain, **fields)
            area.towns.append(town)
            area.villages[town.code] = RegionFactory.child(town, 1, name=f"测试村{number}-{i}")
            if tables:
                monthly_tables(town)
        return area

    return make


@pytest.fixture
def staff(world):
    return world.province_user


# --- Cycles --------------------------------------------------------------------------------------------


def assess(cycle: Cycle, units, pairs=None, default=(100, 100)) -> None:
    """Two assessor groups score every assessed indicator of every unit. `pairs` maps a region
    (all its assessed indicators) or (region, indicator) to a pair of scores, a 1-tuple (one
    group only) or None (left unscored)."""
    pairs = pairs or {}
    g1, _ = AssessorGroup.objects.get_or_create(cycle=cycle, name="第一考核组")
    g2, _ = AssessorGroup.objects.get_or_create(cycle=cycle, name="第二考核组")
    rows = []
    for unit in units:
        for indicator in ASSESSED:
            scores = pairs.get((unit, indicator), ANY)
            if scores is ANY:
                per_unit = pairs.get(unit, default)
                scores = per_unit.get(indicator, default) if isinstance(per_unit, dict) else per_unit
            if scores is None:
                continue
            for group, score in zip((g1, g2), scores, strict=False):
                rows.append(
                    AssessorScore(
                        cycle=cycle,
                        group=group,
                        unit=unit,
                        region_code=unit.code,
                        indicator=indicator,
                        score=Decimal(str(score)),
                    )
                )
    AssessorScore.objects.bulk_create(rows)


def b_scores(s) -> dict:
    """Scores s/s on B05–B07: in the baseline, total = 70 + 0.3 s."""
    return {"B05": (s, s), "B06": (s, s), "B07": (s, s)}


def run(kind, root, units, *, quarter=None, pairs=None, prepare=None) -> Cycle:
    """Create the cycle, score it, and run it through the service (synchronously)."""
    cycle = services.create_cycle(kind=kind, year=YEAR, root=root, quarter=quarter)
    if kind == CycleKind.SPOT_CHECK:
        units = [s.region for s in cycle.sample.select_related("region")]
    assess(cycle, units, pairs)
    if prepare:
        prepare(cycle)
    services.run_cycle(cycle.pk)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.COMPUTED, cycle.error
    return cycle


def half_year(area: Area, **kwargs) -> Cycle:
    return run(CycleKind.HALF_YEAR, area.county, area.units, **kwargs)


def year_end(area: Area, **kwargs) -> Cycle:
    return run(CycleKind.YEAR_END, area.county, area.units, **kwargs)


# --- Checking stored rows ------------------------------------------------------------------------------


def line(cycle: Cycle, region: Region, code: str) -> IndicatorResult:
    return IndicatorResult.objects.get(cycle=cycle, region_code=region.code, indicator=code)


def check_line(cycle, region, code, *, status=LineStatus.SCORED, **expected) -> IndicatorResult:
    """Compare a stored line with hand-computed values (num, den, value, ratio, eff, points,
    tolerance; None = stored NULL)."""
    row = line(cycle, region, code)
    where = f"{code} of {region.code} in {cycle.kind} {cycle.quarter or ''}"
    assert row.status == status, f"{where}: status {row.status!r}, expected {status!r} ({row.note})"
    names = {
        "num": "numerator",
        "den": "denominator",
        "value": "value",
        "ratio": "ratio",
        "eff": "effective_weight",
        "points": "points",
        "tolerance": "tolerance",
    }
    for key, want in expected.items():
        got = getattr(row, names[key])
        if want is None:
            assert got is None, f"{where}: {key} = {got}, expected none"
        else:
            assert got is not None, f"{where}: {key} missing, expected {float(F(want)):.8f}"
            assert abs(F(got) - F(want)) <= EPS, f"{where}: {key} = {got}, expected {F(want)} ≈ {float(F(want)):.8f}"
    return row


def check_total(cycle, region, expected: F, message: str = "") -> UnitResult:
    result = UnitResult.objects.get(cycle=cycle, region=region)
    got = F(result.total_exact)
    assert got == expected, (
        f"{region.code} {cycle.kind}: total {got} ≈ {float(got):.4f}, expected {expected} ≈ {float(expected):.4f} {message}"
    )
    assert result.total == half_up(expected)
    return result


def annual(cycle: Cycle, region: Region) -> AnnualResult:
    return AnnualResult.objects.get(cycle=cycle, region=region)


def check_annual(cycle, region, expected: F, grade: str, rank: int | None = None) -> AnnualResult:
    row = annual(cycle, region)
    assert F(row.result_exact) == expected, (
        f"{region.code}: annual {row.result_exact} ≈ {float(F(row.result_exact)):.4f}, expected {expected} ≈ {float(expected):.4f}"
    )
    assert row.result == half_up(expected), f"{region.code}: shown {row.result}, expected {half_up(expected)}"
    assert row.grade == grade, (
        f"{region.code}: grade {row.grade}, expected {grade} (result {row.result}, rank {row.rank})"
    )
    if rank is not None:
        assert row.rank == rank, f"{region.code}: rank {row.rank}, expected {rank}"
    return row


# --- Records -------------------------------------------------------------------------------------------


def event(
    region: Region,
    *,
    reported: dt.datetime,
    respond_by: dt.datetime,
    resolve_by: dt.datetime,
    category: str = "public_order",
    urgency: str = "normal",
    responded: dt.datetime | None = None,
    resolved: dt.datetime | None = None,
    level: int | None = None,
    feedback: str = "",
    feedback_at: dt.datetime | None = None,
    returned: bool = False,
    reporter=None,
) -> GridEvent:
    """An event with every stored timestamp set explicitly (the services would stamp "now")."""
    if returned:
        status = EventStatus.RETURNED
    elif feedback:
        status = EventStatus.FEEDBACK
    elif resolved:
        status = EventStatus.RESOLVED
    elif responded:
        status = EventStatus.ACCEPTED
    else:
        status = EventStatus.REPORTED
    return GridEvent.objects.create(
        category=EventCategory.objects.get(code=category),
        title="测试事件",
        description="测试",
        urgency=urgency,
        source="patrol",
        region=region,
        region_code=region.code,
        reporter=reporter,
        status=status,
        handling_level=level or Level.VILLAGE,
        resolved_level=level if resolved else None,
        resolution="已处理" if resolved else "",
        return_reason="不属于受理范围" if returned else "",
        feedback=feedback,
        feedback_at=feedback_at,
        reported_at=reported,
        responded_at=responded,
        resolved_at=resolved,
        verified_at=resolved + dt.timedelta(hours=1) if feedback else None,
        closed_at=responded if returned else None,
        respond_deadline=respond_by,
        resolve_deadline=resolve_by,
        feedback_deadline=end_of(local_date(resolved) + dt.timedelta(days=7)) if resolved else None,
    )


_person = itertools.count(1)


def citizen_id(n: int | None = None) -> str:
    """A valid 18-digit citizen ID (GB 11643 check digit), distinct per n."""
    first17 = f"62010219800101{(n or next(_person)) % 1000:03d}"
    return first17 + id_check_digit(first17)


def org(region: Region, kind=OrgKind.TOWNSHIP_COMMITTEE, name: str | None = None) -> MediationOrganisation:
    return MediationOrganisation.objects.create(region=region, kind=kind, name=name or f"{region.name}调委会")


def case(
    organisation: MediationOrganisation,
    *,
    registered: dt.datetime,
    accepted: dt.datetime | None = None,
    concluded: dt.datetime | None = None,
    outcome: str = "",
    declined: dt.datetime | None = None,
    origin: Region | None = None,
    persons=(),
) -> Case:
    """Registered through the service (which sets the repeat flag from the parties), then the
    later steps stamped explicitly: conclusion deadline = end of the local day 30 days after
    acceptance, amber at 20."""
    origin = origin or organisation.region
    created = dispute_services.case_register(
        user=None,
        organisation=organisation,
        origin_region=origin,
        dispute_type="neighbour",
        title="邻里纠纷",
        facts="测试",
        registered_at=registered,
        parties=[{"side": "applicant", "name": f"当事人{i}", "id_number": p} for i, p in enumerate(persons)],
    )
    values: dict = {}
    if accepted:
        day = local_date(accepted)
        values.update(
            accepted_at=accepted,
            status=CaseStatus.MEDIATING,
            conclusion_deadline=end_of(day + dt.timedelta(days=30)),
            conclusion_warn_at=end_of(day + dt.timedelta(days=20)),
        )
    if declined:
        values.update(status=CaseStatus.DECLINED, concluded_at=declined, decline_reason="已在诉讼中")
    if concluded:
        values.update(concluded_at=concluded, outcome=outcome, first_concluded_at=concluded, first_outcome=outcome)
        if outcome == CaseOutcome.AGREED:
            values["status"] = CaseStatus.AGREED
        else:
            values.update(status=CaseStatus.REFERRED, failure_reason="双方分歧较大", referral="litigation")
    arrange(Case.objects.filter(pk=created.pk), **values)
    created.refresh_from_db()
    if outcome == CaseOutcome.AGREED:
        Agreement.objects.create(case=created, terms="双方达成协议", signed_on=local_date(concluded))
    return created


def follow_up(c: Case, day: dt.date, fulfilment: str, satisfaction: str) -> FollowUp:
    return FollowUp.objects.create(case=c, visited_on=day, fulfilment=fulfilment, satisfaction=satisfaction)


def confirmation(c: Case, applied: dt.date, deadline: dt.date, decided: dt.date | None = None):
    return JudicialConfirmation.objects.create(
        case=c,
        court="城关区人民法院",
        applied_on=applied,
        deadline=deadline,
        decided_on=decided,
        decision=ConfirmationDecision.CONFIRMED if decided else "",
    )


def answers(village: Region, when: dt.datetime, channel: str, n: int, **answer) -> None:
    SurveyResponse.objects.bulk_create(
        [
            SurveyResponse(
                village=village,
                region_code=village.code,
                channel=channel,
                answered_at=when,
                client_key=uuid.uuid4().hex,
                **answer,
            )
            for _ in range(n)
        ]
    )


def review(cycle, unit, indicator, kind, reviewer) -> ScoreReview:
    return ScoreReview.objects.create(
        cycle=cycle, unit=unit, indicator=indicator, kind=kind, reason="测试", reviewer=reviewer
    )


# ======================================================================================================
# Weights: redistribution of not-applicable indicators
# ======================================================================================================


def test_baseline_unit_redistributes_not_applicable_weights_within_each_dimension(build):
    area = build(10, 2, terrains={2: "mountain"})
    plain, mountain = area.towns
    cycle = half_year(area)
    # Plain: applicable A 5 of 20 → ×4; B 6 of 30 → ×5; C 9 of 40 → ×40/9; D 8 of 10 → ×5/4 (see module doc).
    check_line(cycle, plain, "A01", eff=8, points=8, ratio=1, value=100)
    check_line(cycle, plain, "A02", status=LineStatus.NOT_APPLICABLE, num=0, den=0, ratio=None, eff=0, points=0)
    check_line(cycle, plain, "A03", status=LineStatus.NOT_IN_PROFILE, eff=0, points=0)  # weight 0 in `plain`
    # A04 = 6 months × 10 000 yuan / 10 000 residents × 365 / 181 days (H1 2025) = 2190/181 ≥ 5 → r = 1
    check_line(cycle, plain, "A04", value=F(2190, 181), ratio=1, eff=4, points=4)
    # A05 = 10 mediators (last month) / 10 000 residents × 10 000 = 10 ≥ 5 → r = 1
    check_line(cycle, plain, "A05", value=10, ratio=1, eff=4)
    for code in ("B01", "B02", "B03", "B04"):
        check_line(cycle, plain, code, status=LineStatus.NOT_APPLICABLE, eff=0, points=0, ratio=None)
    for code in ("B05", "B06", "B07"):
        check_line(cycle, plain, code, eff=10, points=10)
    check_line(cycle, plain, "C08", value=F(54, 60), ratio=1, eff=F(40, 9))  # 54/60 = 0.9 ≥ 0.85
    check_line(cycle, plain, "C09", value=0, ratio=1, eff=F(40, 9))  # 0 ≤ 20 → clamped to 1
    check_line(cycle, plain, "C10", value=1, ratio=1, eff=F(40, 9))
    check_line(cycle, plain, "C12", value=1, ratio=1, eff=F(160, 9))  # min(1, 6 × 3000 / 3000)
    check_line(cycle, plain, "C14", eff=F(80, 9))
    for code in ("C01", "C02", "C03", "C04", "C05", "C06", "C07", "C11", "C13", "C15", "C16"):
        check_line(cycle, plain, code, status=LineStatus.NOT_APPLICABLE, eff=0, points=0)
    check_line(cycle, plain, "D01", eff=F(5, 2))
    check_line(cycle, plain, "D02", status=LineStatus.NOT_APPLICABLE, eff=0)
    # D03: tables due in H1 = Dec 2024 … May 2025 (due Jan 5 … Jun 5), all on time: 6/6
    check_line(cycle, plain, "D03", num=6, den=6, value=1, ratio=1, eff=F(5, 4))
    check_line(cycle, plain, "D06", eff=F(5, 4))
    result = check_total(cycle, plain, F(100))
    assert result.profile == "plain"
    assert result.dimensions == {"A": "20.00", "B": "30.00", "C": "40.00", "D": "10.00"}

    # Mountain: A01 0.5, A02 8, A03 10, A04 0.5, A05 0.5, A06 0.5; A02/A03 n/a (no grid)
    # → applicable A = 2 → × 20/2 = 10: A01 0.5 × 10 = 5.
    result = check_total(cycle, mountain, F(100))
    assert result.profile == "mountain"
    check_line(cycle, mountain, "A01", eff=5, points=5)
    check_line(cycle, mountain, "A03", status=LineStatus.NOT_APPLICABLE, eff=0)
    check_line(cycle, mountain, "A04", eff=5)
    # The county: the same records summed, so the same applicability and 100.
    check_total(cycle, area.county, F(100))


def test_c01_not_applicable_scales_the_other_c_indicators_by_40_over_39(build, staff):
    """Every C indicator applicable except C01 (no case concluded in H1): each other C weight
    w becomes w × 40 / (40 − 1)."""
    area = build(11, 1)
    town = area.towns[0]
    village = area.village(town)
    committee = org(town)
    # X1: concluded in 2024 (so not in C01/C02 of H1), its agreement followed up and confirmed in H1.
    x1 = case(
        committee,
        registered=at(2024, 12, 2, 9),
        accepted=at(2024, 12, 2, 10),
        concluded=at(2024, 12, 20, 15),
        outcome=CaseOutcome.AGREED,
    )
    follow_up(x1, dt.date(2025, 2, 10), "full", "satisfied")  # C03 1/1, B04 1/1
    # applied Mon 2025-01-06; 7th working day after: 7,8,9,10,13,14,15 → 2025-01-15; decided 14th → C16 1/1
    confirmation(x1, dt.date(2025, 1, 6), dt.date(2025, 1, 15), dt.date(2025, 1, 14))
    # X2: accepted 2025-01-02, still open on 2025-06-30 (more than 30 days) → C02 0/1; registered in H1 → C07 0/1.
    case(committee, registered=at(2025, 1, 2, 9), accepted=at(2025, 1, 2, 10))
    # W1: work-safety event, reported Mon 2025-03-03 09:00 (respond by 10:00, resolve by the 5th
    # working day after: 4,5,6,7,10 → 2025-03-10 23:59:59), accepted 09:20, resolved on 03-05 at
    # village level, no feedback → C04 1/1, C05 1/1, C06 1/1, C11 1/1; B03 n/a.
    event(
        village,
        category="work_safety",
        reported=at(2025, 3, 3, 9),
        respond_by=at(2025, 3, 3, 10),
        resolve_by=end_of(dt.date(2025, 3, 10)),
        responded=at(2025, 3, 3, 9, 20),
        resolved=at(2025, 3, 5, 16),
        level=Level.VILLAGE,
    )
    # C13: an item of an earlier cycle due 2025-02-10 and closed on 2025-02-08 → 1/1.
    earlier = Cycle.objects.create(
        kind=CycleKind.YEAR_END, year=2024, root=area.county, levels=[3, 4], status=CycleStatus.FINALISED
    )
    RectificationItem.objects.create(
        cycle=earlier,
        unit=town,
        indicator="C08",
        ratio=Decimal("0.5"),
        notice_due_on=dt.date(2025, 1, 10),
        due_on=dt.date(2025, 2, 10),
        status=RectificationStatus.CLOSED,
        report="已整改",
        reported_at=at(2025, 2, 1, 10),
        closed_on=dt.date(2025, 2, 8),
        closed_by=staff,
    )
    # C15: 30 online answers to the anti-fraud question only (safety and satisfaction blank).
    answers(village, at(2025, 4, 15, 10), "online", 30, awareness="aware")

    cycle = half_year(area)
    c_scale = F(40, 39)
    check_line(cycle, town, "C01", status=LineStatus.NOT_APPLICABLE, num=0, den=0, ratio=None, eff=0, points=0)
    check_line(cycle, town, "C02", num=0, den=1, value=0, ratio=0, eff=15 * c_scale, points=0)  # 200/13
    for code, weight in {"C03": 2, "C04": 2, "C05": 1, "C06": 1, "C11": 1, "C13": 2, "C16": 1}.items():
        check_line(cycle, town, code, num=1, den=1, value=1, ratio=1, eff=weight * c_scale)
    check_line(cycle, town, "C07", num=0, den=1, value=0, ratio=1, eff=c_scale)  # lower_better, 0 → clamped 1
    for code, weight in {"C08": 1, "C09": 1, "C10": 1, "C12": 4, "C14": 2}.items():
        check_line(cycle, town, code, ratio=1, eff=weight * c_scale, points=weight * c_scale)
    check_line(cycle, town, "C15", num=30, den=30, value=1, ratio=1, eff=4 * c_scale)
    # B: B04 3 + B05–B07 6 = 9 applicable → × 30/9; B04 = 1/1 → 10 points.
    check_line(cycle, town, "B04", num=1, den=1, ratio=1, eff=10)
    check_line(cycle, town, "B01", status=LineStatus.NOT_APPLICABLE)  # no safety answer
    check_line(cycle, town, "B03", status=LineStatus.NOT_APPLICABLE)
    # Total: A 20 + B 30 + C (40 − 200/13) + D 10 = 60 + 320/13 = 1100/13 ≈ 84.62
    result = check_total(cycle, town, F(1100, 13))
    assert result.dimensions["C"] == "24.62"  # 320/13 = 24.615… → 24.62


def test_a_whole_dimension_not_applicable_is_spread_over_the_other_dimensions(build, staff):
    """B entirely n/a (no surveys, no feedback, no follow-ups, B05–B07 marked n/a by a reviewer):
    its 30 points go to the applicable indicators of A, C and D in proportion to their weights
    after the within-dimension step, i.e. every effective weight × 100 / 70."""
    area = build(12, 1)
    town = area.towns[0]

    def mark_b_not_applicable(cycle):
        for code in ("B05", "B06", "B07"):
            review(cycle, town, code, ScoreReview.Kind.NOT_APPLICABLE, staff)

    cycle = run(
        CycleKind.HALF_YEAR,
        town,  # root = the township: one unit
        [town],
        pairs={(town, "D04"): (50, 60)},  # mean 55 → r = 0.55
        prepare=mark_b_not_applicable,
    )
    across = F(100, 70)
    for code in ("B01", "B02", "B03", "B04", "B05", "B06", "B07"):
        check_line(cycle, town, code, status=LineStatus.NOT_APPLICABLE, eff=0, points=0)
    check_line(cycle, town, "A01", eff=2 * 4 * across)  # 80/7
    check_line(cycle, town, "A04", eff=1 * 4 * across)  # 40/7
    check_line(cycle, town, "C08", eff=F(40, 9) * across)  # 400/63
    check_line(cycle, town, "C12", eff=4 * F(40, 9) * across)  # 1600/63
    check_line(cycle, town, "D01", eff=2 * F(5, 4) * across)  # 25/7
    check_line(cycle, town, "D03", eff=F(5, 4) * across)  # 25/14
    # D04: eff 2 × 5/4 × 10/7 = 25/7, r = 0.55 → points 55/28
    check_line(cycle, town, "D04", value=55, ratio=F(55, 100), eff=F(25, 7), points=F(55, 28))
    # total = 100 − 25/7 × 0.45 = 100 − 45/28 = 2755/28 ≈ 98.39
    result = check_total(cycle, town, F(2755, 28))
    # A 200/7 = 28.571…, B 0, C 400/7 = 57.142…, D 100/7 − 45/28 = 355/28 = 12.678…
    assert result.dimensions == {"A": "28.57", "B": "0.00", "C": "57.14", "D": "12.68"}


# ======================================================================================================
# Monthly core tables
# ======================================================================================================


def test_a_missing_monthly_table_scores_zero_and_counties_use_reporting_townships(build):
    area = build(13, 3, tables=False)
    ta, tb, tc = area.towns
    monthly_tables(ta, late=[dt.date(2025, 8, 1)])  # late outside H1: no effect on H1
    no_first_time = {"petitions_resolved_first": 0}
    monthly_tables(tb, late=[dt.date(2025, 3, 1)], values=no_first_time)  # March table on 2025-04-10 > 04-05
    monthly_tables(tc, skip=[dt.date(2025, 6, 1)], values=no_first_time)  # June never submitted (due 07-05)
    cycle = half_year(area)

    check_total(cycle, ta, F(100))
    check_line(cycle, ta, "C08", num=54, den=60, value=F(9, 10), ratio=1)

    # Tb: every reported line "missing", r = 0, weight kept (applicable): A04/A05 eff 4, C eff
    # (1 + 1 + 1 + 4) × 40/9 = 280/9, D01 eff 5/2.
    for code, eff in {"A04": 4, "A05": 4, "C08": F(40, 9), "C12": F(160, 9), "D01": F(5, 2)}.items():
        row = check_line(cycle, tb, code, status=LineStatus.MISSING_REPORT, ratio=0, value=None, eff=eff, points=0)
    assert "2025-03" in row.note
    # D03: tables due in H1 (Dec 2024 … May 2025): March late → 5/6 → r = (5/6 − 0.8) / 0.2 = 1/6
    check_line(cycle, tb, "D03", num=5, den=6, value=F(5, 6), ratio=F(1, 6), eff=F(5, 4), points=F(5, 24))
    # total = 100 − 8 − 280/9 − 5/2 − 5/4 × 5/6 = (7200 − 576 − 2240 − 180 − 75) / 72 = 4129/72
    check_total(cycle, tb, F(4129, 72))

    # Tc: June (due 2025-07-05, past) not submitted → missing; D03 is still 6/6 (June is due in July).
    for code in REPORTED:
        check_line(cycle, tc, code, status=LineStatus.MISSING_REPORT, ratio=0, points=0)
    check_line(cycle, tc, "D03", num=6, den=6, ratio=1)
    check_total(cycle, tc, F(4204, 72))  # 100 − 8 − 280/9 − 5/2 = 4204/72

    # The county: reported values over its reporting townships only (Ta).
    county = area.county
    check_line(cycle, county, "A04", value=F(2190, 181), ratio=1)  # 6 × 10 000 / 10 000 × 365/181
    check_line(cycle, county, "C08", num=54, den=60, value=F(9, 10), ratio=1)  # Tb, Tc (0 first-time) left out
    check_line(cycle, county, "A05", value=10, ratio=1)
    # D03 over all townships: (6 + 5 + 6) / 18 = 17/18 → r = (17/18 − 0.8) / 0.2 = 13/18
    check_line(cycle, county, "D03", num=17, den=18, ratio=F(13, 18), eff=F(5, 4), points=F(65, 72))
    check_total(cycle, county, 100 - F(5, 4) * F(5, 18))  # 7175/72


def test_a_table_not_yet_due_is_left_out(build):
    """A table whose deadline has not passed at run time and that was not submitted is simply
    left out (SPEC §5.2); the engine is run with an explicit "now" of 2025-07-03."""
    area = build(14, 2, tables=False)
    tn, to = area.towns
    monthly_tables(tn, skip=[dt.date(2025, 6, 1)])
    monthly_tables(to, values={})  # June submitted on 2025-07-03 10:00, before its deadline
    cycle = half_year(area)
    # Run today (after 2025-07-05): June is past due and missing.
    check_line(cycle, tn, "C08", status=LineStatus.MISSING_REPORT)
    # The same cycle computed as of 2025-07-03 12:00: June not due yet → left out.
    compute_cycle(cycle, now=at(2025, 7, 3, 12))
    # Tn: Jan–May tables only: A04 = 5 × 10 000 / 10 000 × 365/181 = 1825/181; C08 45/50
    check_line(cycle, tn, "A04", value=F(1825, 181), ratio=1)
    check_line(cycle, tn, "C08", num=45, den=50, ratio=1)
    check_line(cycle, tn, "D03", num=6, den=6, ratio=1)
    check_total(cycle, tn, F(100))
    check_line(cycle, to, "A04", value=F(2190, 181), ratio=1)  # June counted: 6 months


# ======================================================================================================
# Surveys
# ======================================================================================================


def test_survey_channels_mixed_pooled_or_not_applicable(build):
    area = build(15, 3)
    ta, tb, tc = area.towns
    may = at(2025, 5, 10, 10)
    # Ta: online 40 (20 安全 + 16 比较安全 + 4 不安全), offline 30 (21 安全 + 9 不太安全): both ≥ 30
    answers(area.village(ta), may, "online", 20, safety="safe")
    answers(area.village(ta), may, "online", 16, safety="fairly_safe")
    answers(area.village(ta), may, "online", 4, safety="unsafe")
    answers(area.village(ta), may, "offline", 21, safety="safe")
    answers(area.village(ta), may, "offline", 9, safety="not_very_safe")
    # Tb: online 40 (36 yes), offline 29 (20 yes): offline < 30 → pooled
    answers(area.village(tb), may, "online", 36, safety="safe")
    answers(area.village(tb), may, "online", 4, safety="unsafe")
    answers(area.village(tb), may, "offline", 20, safety="fairly_safe")
    answers(area.village(tb), may, "offline", 9, safety="unsafe")
    # Tc: 14 + 1 (2025-06-30 23:59:59, in H1) online, 14 offline = 29 < 30 → n/a;
    # 5 more at 2025-07-01 00:00:00 lie outside H1 (they would make it 34).
    answers(area.village(tc), may, "online", 14, safety="safe")
    answers(area.village(tc), at(2025, 6, 30, 23, 59, 59), "online", 1, safety="safe")
    answers(area.village(tc), may, "offline", 14, safety="safe")
    answers(area.village(tc), at(2025, 7, 1), "online", 5, safety="safe")
    cycle = half_year(area)

    # Ta: 0.5 × 36/40 + 0.5 × 21/30 = 0.45 + 0.35 = 0.8 (pooled would be 57/70) → r = (0.8 − 0.7)/0.25 = 0.4
    check_line(cycle, ta, "B01", num=57, den=70, value=F(4, 5), ratio=F(2, 5))
    # Tb: pooled 56/69 → r = (56/69 − 0.7) × 4 = 154/345
    check_line(cycle, tb, "B01", num=56, den=69, value=F(56, 69), ratio=F(154, 345))
    check_line(cycle, tc, "B01", status=LineStatus.NOT_APPLICABLE, num=29, den=29, ratio=None, eff=0)
    for town in area.towns:  # nobody answered the other questions
        check_line(cycle, town, "B02", status=LineStatus.NOT_APPLICABLE)
        check_line(cycle, town, "C15", status=LineStatus.NOT_APPLICABLE)
    # County: online 40 + 40 + 15 = 95 (yes 36 + 36 + 15 = 87), offline 30 + 29 + 14 = 73
    # (yes 21 + 20 + 14 = 55): both ≥ 30 → 0.5 × 87/95 + 0.5 × 55/73
    value = F(87, 190) + F(55, 146)
    check_line(cycle, area.county, "B01", num=142, den=168, value=value, ratio=(value - F(7, 10)) / F(1, 4))
    # Ta's B: B01 8 + B05–B07 6 = 14 applicable → × 30/14: total = 100 − 8 × 15/7 × 0.6 = 100 − 72/7
    check_total(cycle, ta, 100 - F(72, 7))
    # No V04 in a half-year cycle even with B01 < 0.85 and ≥ 30 answers.
    assert UnitResult.objects.get(cycle=cycle, region=ta).vetoes == []


# ======================================================================================================
# Clamping
# ======================================================================================================


def test_ratios_are_clamped_at_both_ends(build):
    area = build(16, 3, tables=False)
    ta, tb, tc = area.towns
    # C09 (lower_better, target 20, ceiling 60) over the year: cases / 10 000 residents × 10 000 × 365/365
    # C08 (higher_better, floor 0.6, target 0.85): first-time / received per month
    monthly_tables(ta, values={"criminal_cases": {dt.date(2025, 1, 1): 5}})  # C08 9/10
    monthly_tables(tb, values={"criminal_cases": {dt.date(2025, 3, 1): 40}, "petitions_resolved_first": 7})
    monthly_tables(tc, values={"criminal_cases": {dt.date(2025, 7, 1): 80}, "petitions_resolved_first": 5})
    # C07 (lower_better, target 0.1, ceiling 0.3): repeats among cases registered in 2025.
    p1, p2, p3 = citizen_id(101), citizen_id(102), citizen_id(103)
    oa, ob, oc = org(ta), org(tb), org(tc)
    case(oa, registered=at(2024, 10, 1, 9), persons=[p1])  # earlier case of P1 (2024: not counted)
    case(oa, registered=at(2025, 3, 1, 9), persons=[p1])  # repeat (within 365 days)
    for day in (2, 3, 4, 5):
        case(oa, registered=at(2025, 3, day, 9), persons=[citizen_id()])
    case(ob, registered=at(2024, 11, 1, 9), persons=[p2])
    case(ob, registered=at(2025, 4, 1, 9), persons=[p2])  # repeat
    case(ob, registered=at(2025, 4, 2, 9))
    case(oc, registered=at(2024, 1, 1, 9), persons=[p3])  # 425 days earlier: not within 365
    case(oc, registered=at(2025, 3, 1, 9), persons=[p3])
    case(oc, registered=at(2025, 3, 2, 9))
    assert Case.objects.filter(is_repeat=True).count() == 2
    cycle = year_end(area)

    check_line(cycle, ta, "C09", value=5, ratio=1)  # (60 − 5)/40 = 1.375 → 1
    check_line(cycle, tb, "C09", value=40, ratio=F(1, 2))  # (60 − 40)/40
    check_line(cycle, tc, "C09", value=80, ratio=0)  # (60 − 80)/40 = −0.5 → 0
    check_line(cycle, ta, "C08", value=F(9, 10), ratio=1)  # (0.9 − 0.6)/0.25 = 1.2 → 1
    check_line(cycle, tb, "C08", value=F(7, 10), ratio=F(2, 5))  # (0.7 − 0.6)/0.25
    check_line(cycle, tc, "C08", value=F(1, 2), ratio=0)  # (0.5 − 0.6)/0.25 < 0 → 0
    check_line(cycle, ta, "C07", num=1, den=5, value=F(1, 5), ratio=F(1, 2))  # (0.3 − 0.2)/0.2
    check_line(cycle, tb, "C07", num=1, den=2, value=F(1, 2), ratio=0)  # (0.3 − 0.5)/0.2 = −1 → 0
    check_line(cycle, tc, "C07", num=0, den=2, value=0, ratio=1)  # 0.3/0.2 = 1.5 → 1
    # County: 2 repeats of 9 → r = (0.3 − 2/9)/0.2 = 7/18; C09 = 125 cases / 30 000 × 10 000 = 125/3
    check_line(cycle, area.county, "C07", num=2, den=9, ratio=F(7, 18))
    check_line(cycle, area.county, "C09", value=F(125, 3), ratio=(60 - F(125, 3)) / 40)


# ======================================================================================================
# Rounding, assessed scores
# ======================================================================================================


def test_totals_round_half_up(build):
    area = build(17, 1)
    town = area.towns[0]
    pairs = {(town, "D06"): (65, 75)}  # mean 70 → r 0.7; D06 eff 1 × 5/4 → points 7/8, loss 3/8
    h1 = run(CycleKind.HALF_YEAR, town, [town], pairs=pairs)
    y = run(CycleKind.YEAR_END, town, [town], pairs=pairs)
    check_line(h1, town, "D06", value=70, ratio=F(7, 10), eff=F(5, 4), points=F(7, 8))
    for cycle in (h1, y):
        result = check_total(cycle, town, F(797, 8))  # 99.625
        assert result.total == Decimal("99.63"), "half up, not half to even (99.62)"
        assert result.dimensions["D"] == "9.63"  # 10 − 3/8 = 9.625
    # annual (never sampled) = 0.5 × 99.625 + 0.5 × 99.625 = 99.625 → 99.63
    row = check_annual(y, town, F(797, 8), Grade.EXCELLENT, rank=1)
    assert row.result == Decimal("99.63")


def test_assessed_scores_are_averaged_and_spreads_or_gaps_block_finalisation(build, staff):
    area = build(18, 1)
    town = area.towns[0]
    pairs = {(town, "A01"): (70, 90), (town, "A06"): (100,), (town, "D06"): None}
    cycle = run(CycleKind.HALF_YEAR, town, [town], pairs=pairs)
    # A01: mean 80 → r 0.8, eff 8 → 6.4; spread 20 > 15 → flagged, blocks finalisation.
    check_line(cycle, town, "A01", value=80, ratio=F(4, 5), eff=8, points=F(32, 5))
    check_line(cycle, town, "A06", value=100, ratio=1, eff=4)  # one group only: blocks
    # D06 unscored: stays applicable with r = 0 until scored or marked n/a.
    check_line(cycle, town, "D06", status=LineStatus.UNSCORED, ratio=0, eff=F(5, 4), points=0)
    check_total(cycle, town, 100 - F(8, 5) - F(5, 4))  # 97.15
    reasons = {(b["indicator"], b["reason"]) for b in UnitResult.objects.get(cycle=cycle, region=town).blocking}
    assert reasons == {("A01", "spread"), ("A06", "groups"), ("D06", "unscored")}
    with pytest.raises(services.AssessmentError):
        services.finalise(cycle, user=None)

    review(cycle, town, "A01", ScoreReview.Kind.ACCEPT_SPREAD, staff)
    review(cycle, town, "A06", ScoreReview.Kind.ACCEPT_SPREAD, staff)
    review(cycle, town, "D06", ScoreReview.Kind.NOT_APPLICABLE, staff)
    services.run_cycle(cycle.pk)
    # D06 n/a → D applicable 7 → × 10/7, all r = 1 → D 10; total = 100 − 1.6 = 98.4
    check_line(cycle, town, "D06", status=LineStatus.NOT_APPLICABLE, eff=0)
    check_line(cycle, town, "D04", eff=F(20, 7))
    check_total(cycle, town, F(492, 5))
    services.finalise(cycle, user=None)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FINALISED
    assert not RectificationItem.objects.filter(cycle=cycle).exists()  # every r ≥ 0.6


# ======================================================================================================
# Vetoes, grades, annual results
# ======================================================================================================


def test_veto_rulings_and_v04_fail_the_year_without_propagating(build, staff):
    area = build(19, 5)
    ta, tb, tc, td, te = area.towns
    VetoRuling.objects.create(
        unit=ta, indicator="V01", occurred_on=dt.date(2025, 5, 20), description="x", recorded_by=staff
    )
    VetoRuling.objects.create(
        unit=tb, indicator="V03", occurred_on=dt.date(2025, 3, 1), description="x", recorded_by=staff,
        status=RulingStatus.REVOKED,
    )  # fmt: skip
    VetoRuling.objects.create(
        unit=tb, indicator="V02", occurred_on=dt.date(2024, 12, 31), description="x", recorded_by=staff
    )
    may = at(2025, 5, 15, 10)
    answers(area.village(tb), may, "online", 150, safety="safe")
    answers(area.village(tc), may, "online", 32, safety="safe")  # 32/40 = 0.8 < 0.85
    answers(area.village(tc), may, "online", 8, safety="unsafe")
    answers(area.village(td), may, "online", 34, safety="fairly_safe")  # 34/40 = 0.85: not below
    answers(area.village(td), may, "online", 6, safety="unsafe")
    answers(area.village(te), may, "online", 10, safety="safe")  # 29 answers: n/a, no V04
    answers(area.village(te), may, "online", 19, safety="unsafe")
    pairs = {ta: b_scores(60)}  # 88
    h1 = half_year(area, pairs=pairs)
    y = year_end(area, pairs=pairs)

    # B with B01 applicable: B01 8 + B05–B07 6 = 14 → × 15/7 → B01 eff 120/7.
    # Tc: r = (0.8 − 0.7)/0.25 = 0.4 → total 100 − 120/7 × 0.6 = 628/7 (H1 and year)
    # Td: r = (0.85 − 0.7)/0.25 = 0.6 → total 100 − 120/7 × 0.4 = 652/7
    for cycle in (h1, y):
        check_line(cycle, tc, "B01", value=F(4, 5), ratio=F(2, 5), eff=F(120, 7))
        check_total(cycle, tc, F(628, 7))
        check_total(cycle, td, F(652, 7))
        check_total(cycle, ta, F(88))
        check_line(cycle, te, "B01", status=LineStatus.NOT_APPLICABLE, den=29)
    vetoes = {r.region_code: r.vetoes for r in UnitResult.objects.filter(cycle=h1)}
    assert vetoes[ta.code] == ["V01"] and vetoes[tc.code] == [], "V04 only in a year-end cycle"
    vetoes = {r.region_code: r.vetoes for r in UnitResult.objects.filter(cycle=y)}
    assert vetoes[ta.code] == ["V01"]
    assert vetoes[tc.code] == ["V04"]
    assert vetoes[tb.code] == vetoes[td.code] == vetoes[te.code] == []

    # 5 peers → ceil(0.2 × 5) = 1 excellent. Tb and Te tie at 100.00 with equal year-end → lower code (Tb).
    check_annual(y, tb, F(100), Grade.EXCELLENT, rank=1)
    check_annual(y, te, F(100), Grade.GOOD, rank=2)
    check_annual(y, td, F(652, 7), Grade.GOOD, rank=3)  # 93.14
    row = check_annual(y, tc, F(628, 7), Grade.FAIL, rank=4)  # 89.71, V04
    assert row.vetoes == ["V04"]
    row = check_annual(y, ta, F(88), Grade.FAIL, rank=5)  # V01
    assert row.vetoes == ["V01"]
    assert annual(y, tb).vetoes == []  # revoked ruling and 2024 ruling ignored
    # The county is not vetoed by its township's ruling; its own B01 = 226/259 ≥ 0.85.
    # County B01 r = (226/259 − 0.7) × 4, eff 120/7 → total = 100 − 120/7 × (1 − r) in both cycles.
    county_total = 100 - F(120, 7) * (1 - (F(226, 259) - F(7, 10)) * 4)
    check_total(y, area.county, county_total)
    row = check_annual(y, area.county, county_total, Grade.EXCELLENT, rank=1)  # 94.69, alone at its level
    assert row.vetoes == []


def test_excellent_is_limited_to_the_top_20_percent_with_tie_breaks(build):
    area = build(20, 5)
    t1, t2, t3, t4, t5 = area.towns
    # total = 70 + 0.3 s: s 90 → 97, 70 → 91, 60 → 88, 0 → 70
    h1 = half_year(
        area, pairs={t1: b_scores(90), t2: b_scores(70), t3: b_scores(60), t4: b_scores(60), t5: b_scores(0)}
    )
    y = year_end(area, pairs={t1: b_scores(70), t2: b_scores(90), t3: b_scores(60), t4: b_scores(60), t5: b_scores(0)})
    check_total(h1, t1, F(97))
    check_total(y, t1, F(91))
    # annual (never sampled) = 0.5 H + 0.5 Y: T1 (97 + 91)/2 = 94, T2 (91 + 97)/2 = 94, T3 = T4 = 88, T5 = 70.
    # 5 peers → ceil(1) = 1 excellent: T2 (tie on 94 broken by the higher year-end 97); T1 ≥ 90 but good.
    row = check_annual(y, t2, F(94), Grade.EXCELLENT, rank=1)
    assert row.fiscal_tilt == Decimal("7.00")  # 5 % at 90 → 10 % at 100: 5 + (94 − 90)/10 × 5
    row = check_annual(y, t1, F(94), Grade.GOOD, rank=2)
    assert row.fiscal_tilt is None
    check_annual(y, t3, F(88), Grade.GOOD, rank=3)  # tie with T4 on result and year-end: lower code
    check_annual(y, t4, F(88), Grade.GOOD, rank=4)
    check_annual(y, t5, F(70), Grade.PASS, rank=5)  # 60 ≤ 70 < 80
    assert {annual(y, t).peers for t in area.towns} == {5}
    row = check_annual(y, area.county, F(100), Grade.EXCELLENT, rank=1)
    assert row.fiscal_tilt == Decimal("10.00")


def test_sampled_units_weigh_spot_checks_and_never_sampled_ones_do_not(build):
    # County P: 2 townships, ceil(0.2 × 2) = 1 sampled in Q1 → one sampled, one never.
    p = build(21, 2)
    q1 = run(CycleKind.SPOT_CHECK, p.county, [], quarter=1, pairs={t: b_scores(0) for t in p.towns})  # 70
    sampled = [s.region for s in q1.sample.all()]
    assert len(sampled) == 1
    h1 = half_year(p, pairs={t: b_scores(60) for t in p.units})  # 88
    y = year_end(p, pairs={t: b_scores(80) for t in p.units})  # 94
    check_total(q1, sampled[0], F(70))
    assert UnitResult.objects.filter(cycle=q1).count() == 1  # only the sampled township is scored
    never = next(t for t in p.towns if t != sampled[0])
    # sampled: 0.1 × 70 + 0.4 × 88 + 0.5 × 94 = 7 + 35.2 + 47 = 89.2; never: 0.5 × 88 + 0.5 × 94 = 91
    row = check_annual(y, sampled[0], F(892, 10), Grade.GOOD, rank=2)
    assert row.spot_checks == 1 and F(row.spot_check_mean) == 70
    row = check_annual(y, never, F(91), Grade.EXCELLENT, rank=1)
    assert row.spot_checks == 0 and row.spot_check_mean is None
    check_annual(y, p.county, F(91), Grade.EXCELLENT)  # counties are never spot-checked
    assert h1.kind == CycleKind.HALF_YEAR

    # County R: 1 township, always sampled; Q1 70 and Q2 76 (s = 20) → mean 73:
    # 0.1 × 73 + 0.4 × 88 + 0.5 × 94 = 7.3 + 35.2 + 47 = 89.5
    r = build(22, 1)
    town = r.towns[0]
    run(CycleKind.SPOT_CHECK, r.county, [], quarter=1, pairs={town: b_scores(0)})
    q2 = run(CycleKind.SPOT_CHECK, r.county, [], quarter=2, pairs={town: b_scores(20)})
    check_total(q2, town, F(76))
    half_year(r, pairs={t: b_scores(60) for t in r.units})
    y = year_end(r, pairs={t: b_scores(80) for t in r.units})
    row = check_annual(y, town, F(895, 10), Grade.GOOD)
    assert row.spot_checks == 2 and F(row.spot_check_mean) == 73


def test_innovation_bonus_is_capped_at_3_and_the_result_at_100(build, staff):
    area = build(23, 3)
    ta, tb, tc = area.towns
    InnovationAward.objects.create(unit=ta, year=YEAR, points=Decimal("3"), reason="双语调解", awarded_by=staff)
    InnovationAward.objects.create(unit=tb, year=YEAR, points=Decimal("2.5"), reason="平安积分", awarded_by=staff)
    InnovationAward.objects.create(unit=tb, year=2024, points=Decimal("3"), reason="上年度", awarded_by=staff)
    with pytest.raises(IntegrityError), transaction.atomic():
        InnovationAward.objects.create(unit=area.county, year=YEAR, points=Decimal("3.5"), reason="x", awarded_by=staff)
    # Tb: 85; Tc: every assessed indicator 0 → loses all its assessed effective weight:
    # A01 8 + A06 4 + B05–B07 30 + C14 80/9 + D04 5/2 + D05 5/2 + D06 5/4 = 2057/36 → 100 − 2057/36 = 1543/36 ≈ 42.86
    pairs = {tb: b_scores(50), tc: (0, 0)}
    half_year(area, pairs=pairs)
    y = year_end(area, pairs=pairs)
    check_total(y, tc, F(1543, 36))
    check_annual(y, tc, F(1543, 36), Grade.FAIL, rank=3)  # < 60
    row = check_annual(y, ta, F(100), Grade.EXCELLENT, rank=1)  # min(100, 100 + 3)
    assert row.bonus == Decimal("3.00")
    row = check_annual(y, tb, F(175, 2), Grade.GOOD, rank=2)  # 85 + 2.5 (the 2024 award is not this year's)
    assert row.bonus == Decimal("2.50")


# ======================================================================================================
# Tolerance and accountability
# ======================================================================================================


def test_an_approved_tolerance_claim_restores_half_the_lost_points(build, staff):
    area = build(24, 3, tables=False)
    ta, tb, tc = area.towns
    for town in area.towns:
        monthly_tables(town, values={"petitions_resolved_first": 7})  # C08 = 0.7 → r = 0.4
    claims = {ta: ClaimStatus.APPROVED, tb: ClaimStatus.PENDING, tc: ClaimStatus.REJECTED}

    def claim(cycle):
        for town, status in claims.items():
            ToleranceClaim.objects.create(
                cycle=cycle, unit=town, indicator="C08", reasons="暴雨导致信访集中", claimed_by=staff, status=status,
                decided_by=None if status == ClaimStatus.PENDING else staff,
                decided_at=None if status == ClaimStatus.PENDING else at(2025, 7, 20, 10),
            )  # fmt: skip

    cycle = half_year(area, prepare=claim)
    # C08 eff 40/9, r 0.4 → points 16/9, lost 24/9; approved: + 12/9 → points 28/9, total 100 − 4/3
    check_line(cycle, ta, "C08", ratio=F(2, 5), eff=F(40, 9), tolerance=F(4, 3), points=F(28, 9))
    check_total(cycle, ta, F(296, 3))
    for town in (tb, tc):
        check_line(cycle, town, "C08", ratio=F(2, 5), tolerance=0, points=F(16, 9))
        check_total(cycle, town, F(292, 3))  # 100 − 8/3
    with pytest.raises(services.AssessmentError):
        services.finalise(cycle, user=None)  # the pending claim blocks


def test_lost_points_are_attributed_60_40_to_lead_and_collaborating_departments(build):
    area = build(25, 1, tables=False)
    town = area.towns[0]
    monthly_tables(town, values={"key_persons_managed": 40})  # C10 = 40/50 = 0.8 < 0.9 → r = 0
    cycle = run(CycleKind.HALF_YEAR, town, [town], pairs={(town, "D04"): (50, 50)})  # D04 r = 0.5
    check_line(cycle, town, "C10", ratio=0, eff=F(40, 9), points=0)  # lost 40/9
    check_line(cycle, town, "D04", ratio=F(1, 2), eff=F(5, 2), points=F(5, 4))  # lost 5/4
    lines = [
        SimpleNamespace(code=row.indicator, lost=F(row.effective_weight) - F(row.points))
        for row in IndicatorResult.objects.filter(cycle=cycle, region_code=town.code)
    ]
    got = accountability(lines, cycle.catalogue_version.data["indicators"])
    # C10: lead 公安 60 % of 40/9 = 8/3; 司法, 民政, 卫健 share 40 %: 40/9 × 0.4 / 3 = 16/27 each.
    # D04: lead 政法委, no collaborators: 100 % of 5/4.
    expected = {"公安": F(8, 3), "司法": F(16, 27), "民政": F(16, 27), "卫健": F(16, 27), "政法委": F(5, 4)}
    assert set(got) == set(expected)
    for dept, value in expected.items():
        assert abs(got[dept] - value) <= 4 * EPS, f"{dept}: {got[dept]} vs {value}"


# ======================================================================================================
# Numerators and denominators of the computed indicators (indicators.csv)
# ======================================================================================================


def test_event_indicators_follow_their_definitions_across_quarters(build):
    """B03, C04, C05, C06, C11 on a county with one township (always sampled)."""
    area = build(26, 1)
    town = area.towns[0]
    v = area.village(town)

    def normal(reported, resolve_day, **kw):
        # respond within 1 hour; resolve by the end of the 5th working day after the report date
        return event(
            v, reported=reported, respond_by=reported + dt.timedelta(hours=1), resolve_by=end_of(resolve_day), **kw
        )

    # a: answered exactly at the limit, resolved exactly at the deadline (both on time), 满意
    normal(at(2025, 1, 6, 9), dt.date(2025, 1, 13), responded=at(2025, 1, 6, 10), resolved=end_of(dt.date(2025, 1, 13)),
           level=Level.VILLAGE, feedback="satisfied", feedback_at=at(2025, 1, 14, 10))  # fmt: skip
    # b: answered 1 s late, resolved late at county level, 不满意 (Feb 17 + 5 working days = Feb 24)
    normal(at(2025, 2, 17, 9), dt.date(2025, 2, 24), responded=at(2025, 2, 17, 10, 0, 1), resolved=at(2025, 2, 25, 9),
           level=Level.COUNTY, feedback="dissatisfied", feedback_at=at(2025, 2, 26, 10))  # fmt: skip
    # c: work-safety sub-category, open and overdue at the end of Q1 (due Mar 17), resolved late in Q2
    normal(at(2025, 3, 10, 9), dt.date(2025, 3, 17), category="work_safety_hazmat", responded=at(2025, 3, 10, 9, 5),
           resolved=at(2025, 4, 2, 10), level=Level.TOWNSHIP)  # fmt: skip
    # d: reported 23:30 on Mar 31, answer due 00:30 Apr 1, answered 00:10 Apr 1: unanswered at Q1's end
    # with its limit after the end → left out of C05; due Apr 8 (Apr 1,2,3,[4 清明],7,8), resolved Apr 3
    normal(at(2025, 3, 31, 23, 30), dt.date(2025, 4, 8), responded=at(2025, 4, 1, 0, 10), resolved=at(2025, 4, 3, 10),
           level=Level.VILLAGE)  # fmt: skip
    # e: reported Fri Mar 28 15:00, still unanswered at Q1's end past its limit; due Apr 7
    normal(at(2025, 3, 28, 15), dt.date(2025, 4, 7), responded=at(2025, 4, 1, 9), resolved=at(2025, 4, 3, 10),
           level=Level.VILLAGE)  # fmt: skip
    # f: returned (invalid) within the limit: answered; not open
    normal(at(2025, 1, 13, 9), dt.date(2025, 1, 20), responded=at(2025, 1, 13, 9, 30), returned=True)
    # g: reported in 2024 (Dec 30; due Dec 31, [Jan 1], Jan 2, 3, 6, 7), resolved late in Q1
    normal(at(2024, 12, 30, 9), dt.date(2025, 1, 7), responded=at(2024, 12, 30, 9, 10), resolved=at(2025, 1, 8, 10),
           level=Level.VILLAGE)  # fmt: skip
    # h: on time at township level, 基本满意
    normal(at(2025, 2, 10, 9), dt.date(2025, 2, 17), responded=at(2025, 2, 10, 9, 30), resolved=at(2025, 2, 11, 16),
           level=Level.TOWNSHIP, feedback="basically", feedback_at=at(2025, 2, 12, 10))  # fmt: skip
    # i: work safety, on time, 满意
    normal(at(2025, 3, 3, 9), dt.date(2025, 3, 10), category="work_safety", responded=at(2025, 3, 3, 9, 10),
           resolved=at(2025, 3, 6, 10), level=Level.VILLAGE, feedback="satisfied", feedback_at=at(2025, 3, 7, 10))  # fmt: skip

    q1 = run(CycleKind.SPOT_CHECK, area.county, [], quarter=1)
    q2 = run(CycleKind.SPOT_CHECK, area.county, [], quarter=2)
    # B03 Q1: feedback a 满意, b 不满意, h 基本满意, i 满意 → 3/4 → r = (0.75 − 0.7)/0.25 = 0.2
    check_line(q1, town, "B03", num=3, den=4, value=F(3, 4), ratio=F(1, 5))
    # C04 Q1: resolved a ✓, b ✗, g ✗, h ✓, i ✓ + open overdue c → 3/6 → r = (0.5 − 0.6)/0.35 → 0
    check_line(q1, town, "C04", num=3, den=6, value=F(1, 2), ratio=0)
    # C05 Q1: reported a ✓ b ✗ c ✓ e ✗ f ✓ h ✓ i ✓ (d left out) → 5/7 → r = (5/7 − 0.7)/0.28 = 5/98
    check_line(q1, town, "C05", num=5, den=7, value=F(5, 7), ratio=F(5, 98))
    # C06 Q1: resolved a (村) b (县) g (村) h (乡镇) i (村) → 4/5 → r = (0.8 − 0.7)/0.25 = 0.4
    check_line(q1, town, "C06", num=4, den=5, ratio=F(2, 5))
    # C11 Q1: work safety i ✓ + c open overdue → 1/2 → r 0
    check_line(q1, town, "C11", num=1, den=2, ratio=0)
    # Q2: C04 resolved c ✗ (Apr 2 > Mar 17), d ✓, e ✓ → 2/3 → r = (2/3 − 0.6)/0.35 = 4/21
    check_line(q2, town, "C04", num=2, den=3, ratio=F(4, 21))
    check_line(q2, town, "C05", status=LineStatus.NOT_APPLICABLE, num=0, den=0)  # nothing reported in Q2
    check_line(q2, town, "C06", num=3, den=3, ratio=1)
    check_line(q2, town, "C11", num=0, den=1, ratio=0)
    check_line(q2, town, "B03", status=LineStatus.NOT_APPLICABLE)


def test_case_indicators_follow_their_definitions_across_quarters(build):
    """C01, C02, C06 (cases), C07, C03, B04, C16 on a county with one township."""
    area = build(27, 1)
    town = area.towns[0]
    township_org = org(town)
    village_org = org(area.village(town), OrgKind.VILLAGE_COMMITTEE)
    p1 = citizen_id(201)
    # a: accepted Jan 10, concluded Feb 9 20:00 = 30 days → on time; agreed
    ka = case(township_org, registered=at(2025, 1, 10, 9), accepted=at(2025, 1, 10, 10), concluded=at(2025, 2, 9, 20),
              outcome=CaseOutcome.AGREED, persons=[p1])  # fmt: skip
    # b: same party (repeat), concluded Feb 10 08:00 = 31 days → late; failed
    kb = case(township_org, registered=at(2025, 1, 10, 9, 30), accepted=at(2025, 1, 10, 10), concluded=at(2025, 2, 10, 8),
              outcome=CaseOutcome.FAILED, persons=[p1])  # fmt: skip
    assert kb.is_repeat and not ka.is_repeat
    # c: accepted Feb 28 = Mar 31 − 31 days, open → in C02's denominator; d: accepted Mar 1 = 30 days → not
    case(township_org, registered=at(2025, 2, 28, 9), accepted=at(2025, 2, 28, 10))
    case(township_org, registered=at(2025, 3, 1, 9), accepted=at(2025, 3, 1, 10))
    # e: declined (no outcome): neither concluded nor open; registered in Q1
    case(township_org, registered=at(2025, 3, 5, 9), declined=at(2025, 3, 6, 9))
    # f: village committee, agreed on time
    kf = case(village_org, registered=at(2025, 3, 2, 9), accepted=at(2025, 3, 2, 10), concluded=at(2025, 3, 10, 15),
              outcome=CaseOutcome.AGREED)  # fmt: skip
    # h: all in 2024
    case(township_org, registered=at(2024, 12, 20, 9), accepted=at(2024, 12, 20, 10), concluded=at(2024, 12, 30, 10),
         outcome=CaseOutcome.AGREED)  # fmt: skip
    # i: agreed the next day
    ki = case(township_org, registered=at(2025, 3, 20, 9), accepted=at(2025, 3, 20, 10), concluded=at(2025, 3, 21, 10),
              outcome=CaseOutcome.AGREED)  # fmt: skip
    follow_up(ka, dt.date(2025, 2, 15), "partly", "satisfied")
    follow_up(ka, dt.date(2025, 3, 20), "full", "basically")  # a's last in Q1: full
    follow_up(ka, dt.date(2025, 4, 10), "not", "dissatisfied")  # a's last in Q2: not
    follow_up(kf, dt.date(2025, 3, 15), "partly", "dissatisfied")
    follow_up(ki, dt.date(2025, 3, 25), "full", "satisfied")
    follow_up(ki, dt.date(2025, 3, 25), "partly", "satisfied")  # same day, recorded later: i's last
    # Judicial confirmations (7th working day after the application date):
    confirmation(ka, dt.date(2025, 2, 10), dt.date(2025, 2, 19), dt.date(2025, 2, 19))  # on the deadline
    confirmation(kf, dt.date(2025, 3, 17), dt.date(2025, 3, 26), dt.date(2025, 4, 2))  # pending at Q1 end, late
    confirmation(ki, dt.date(2025, 3, 25), dt.date(2025, 4, 3), dt.date(2025, 4, 3))  # deadline after Mar 31

    q1 = run(CycleKind.SPOT_CHECK, area.county, [], quarter=1)
    q2 = run(CycleKind.SPOT_CHECK, area.county, [], quarter=2)
    # C01 Q1: concluded a ✓ b ✗ f ✓ i ✓ → 3/4 → r = (0.75 − 0.8)/0.15 → 0
    check_line(q1, town, "C01", num=3, den=4, ratio=0)
    # C02 Q1: on time a f i = 3; concluded 4 + open c = 5 → 0.6 → r = (0.6 − 0.6)/0.35 = 0
    check_line(q1, town, "C02", num=3, den=5, value=F(3, 5), ratio=0)
    # C06 Q1 (cases only): a b i (乡镇调委会) f (村调委会) → 4/4
    check_line(q1, town, "C06", num=4, den=4, ratio=1)
    # C07 Q1: registered a b c d e f i = 7, repeat b → 1/7 → r = (0.3 − 1/7)/0.2 = 11/14
    check_line(q1, town, "C07", num=1, den=7, ratio=F(11, 14))
    # C03 Q1: last follow-up per agreement: a full, f partly, i partly → 1/3 → r 0
    check_line(q1, town, "C03", num=1, den=3, ratio=0)
    # B04 Q1: rated a ✓✓, f ✗, i ✓✓ → 4/5 → r = (0.8 − 0.7)/0.25 = 0.4
    check_line(q1, town, "B04", num=4, den=5, ratio=F(2, 5))
    # C16 Q1: decided a (on the deadline) ✓; pending f (deadline Mar 26 < Mar 31); i left out → 1/2
    check_line(q1, town, "C16", num=1, den=2, ratio=0)
    # Q2: C03 a's last = not → 0/1; B04 0/1; C16 decided f ✗ i ✓ → 1/2;
    # C02: nothing concluded, open c and d accepted before May 31 → 0/2; C01, C07 n/a
    check_line(q2, town, "C03", num=0, den=1, ratio=0)
    check_line(q2, town, "B04", num=0, den=1, ratio=0)
    check_line(q2, town, "C16", num=1, den=2, ratio=0)
    check_line(q2, town, "C02", num=0, den=2, ratio=0)
    check_line(q2, town, "C01", status=LineStatus.NOT_APPLICABLE)
    check_line(q2, town, "C07", status=LineStatus.NOT_APPLICABLE)


def test_grid_and_worker_indicators_follow_their_definitions(build):
    """A02, A03 (mountain profile) and D02 over the first half-year (ends Jun 30, 6 months)."""
    area = build(28, 1, terrains={1: "mountain"})
    town = area.towns[0]
    village = area.village(town)

    def grid(n, population, area_km2, urban=False):
        return RegionFactory.child(village, n, population=population, households=100, area_km2=area_km2, is_urban=urban)

    g1 = grid(1, 500, 12.0)  # rural, √(12/π) = 1.95 km ≤ 2
    g2 = grid(2, 501, 13.0)  # rural, 2.03 km
    g3 = grid(3, 900, 0.7, urban=True)  # urban, 0.47 km ≤ 0.5
    g4 = grid(4, 300, None)  # area unknown
    g5 = grid(5, 100, 0.8, urban=True)  # urban, 0.505 km
    g6 = grid(6, 400, 1.0)

    def worker(g, name, *, start=dt.date(2024, 1, 1), end=None, full_time=True):
        user = UserFactory(role=Role.GRID_WORKER, region=g)
        GridWorker.objects.create(grid=g, user=user, name=name, is_full_time=full_time, started_on=start, ended_on=end)
        return user

    def visits(user, g, n, first=dt.date(2025, 1, 1)):
        VisitRecord.objects.bulk_create(
            [
                VisitRecord(grid=g, worker=user, date=first + dt.timedelta(days=i), households_visited=3)
                for i in range(n)
            ]
        )

    w1 = worker(g1, "一")
    visits(w1, g1, 120)  # 120 ≥ 20 × 6 ✓
    visits(w1, g1, 3, first=dt.date(2025, 7, 1))  # after H1: not counted
    w2 = worker(g2, "二")
    visits(w2, g2, 119)
    event(g2, reported=at(2025, 5, 6, 9), respond_by=at(2025, 5, 6, 10), resolve_by=end_of(dt.date(2025, 5, 13)),
          responded=at(2025, 5, 6, 9, 10), resolved=at(2025, 5, 7, 10), level=Level.VILLAGE, reporter=w2)  # fmt: skip
    w3a = worker(g3, "三甲")
    visits(w3a, g3, 130)
    worker(g3, "三乙", end=dt.date(2025, 6, 30))  # active on the last day, no activity
    worker(g4, "四", end=dt.date(2025, 6, 29))  # left before the end
    worker(g4, "四兼", full_time=False)
    worker(g5, "五", start=dt.date(2025, 6, 30))  # joined on the last day: active, no activity
    w6 = worker(g6, "六")
    visits(w6, g6, 119)
    visits(w6, g6, 1, first=dt.date(2025, 6, 30))

    cycle = run(CycleKind.HALF_YEAR, town, [town])
    assert UnitResult.objects.get(cycle=cycle, region=town).profile == "mountain"
    # A02: g1 (500 ≤ 1 × 500) ✓, g2 (501) ✗, g3 (900 ≤ 2 × 500) ✓, g4 ✗ (nobody full-time at the end),
    # g5 (100 ≤ 500) ✓, g6 ✓ → 4/6 → r = (2/3 − 0.6)/0.4 = 1/6; weight 8 (mountain)
    check_line(cycle, town, "A02", num=4, den=6, value=F(2, 3), ratio=F(1, 6))
    # A03: known area g1 ✓ g2 ✗ g3 ✓ g5 ✗ g6 ✓ → 3/5 → r = (0.6 − 0.5)/0.45 = 2/9
    check_line(cycle, town, "A03", num=3, den=5, value=F(3, 5), ratio=F(2, 9))
    # D02: full-time at the end: w1 120 ✓, w2 119 + 1 event ✓, w3a 130 ✓, 三乙 0 ✗, 五 0 ✗, w6 120 ✓
    # → 4/6 → r = (2/3 − 0.6)/0.35 = 4/21
    check_line(cycle, town, "D02", num=4, den=6, value=F(2, 3), ratio=F(4, 21))


def test_rectification_completion_counts_items_due_in_the_period(build, staff):
    area = build(29, 1)
    town = area.towns[0]
    earlier = Cycle.objects.create(
        kind=CycleKind.YEAR_END, year=2024, root=area.county, levels=[3, 4], status=CycleStatus.FINALISED
    )

    def item(indicator, due, closed=None):
        RectificationItem.objects.create(
            cycle=earlier, unit=town, indicator=indicator, ratio=Decimal("0.5"), notice_due_on=due - dt.timedelta(days=30),
            due_on=due, status=RectificationStatus.CLOSED if closed else RectificationStatus.OPEN,
            closed_on=closed, closed_by=staff if closed else None,
        )  # fmt: skip

    item("A01", dt.date(2025, 3, 10), dt.date(2025, 3, 10))  # closed on the due date ✓
    item("A04", dt.date(2025, 4, 1), dt.date(2025, 4, 2))  # a day late ✗
    item("A05", dt.date(2025, 6, 30), dt.date(2025, 6, 1))  # ✓
    item("A06", dt.date(2025, 1, 1), dt.date(2024, 12, 31))  # ✓
    item("B05", dt.date(2025, 7, 15))  # due after H1: left out
    cycle = run(CycleKind.HALF_YEAR, town, [town])
    # 3/4 → r = (0.75 − 0.6)/0.4 = 3/8
    check_line(cycle, town, "C13", num=3, den=4, value=F(3, 4), ratio=F(3, 8))


# ======================================================================================================
# Scores do not depend on when the cycle runs (SPEC §5.2)
# ======================================================================================================


def test_a_later_reopening_or_transfer_does_not_rewrite_an_earlier_quarter(build, world):
    """SPEC §5.2: "Scores depend only on the records' own timestamps and the period (a state 'at
    period end' is read from the history), never on when the cycle happens to run." An event
    resolved on time in Q1 and a case concluded in Q1 stay so for Q1 when, later, the event is
    reopened (核查不通过) and the case transferred to the county's centre — through the services."""
    from disputes.services import case_transfer
    from grids.events.models import EventHistory
    from grids.events.services.events import event_reopen

    area = build(30, 1)
    town = area.towns[0]
    grid = RegionFactory.child(area.village(town), 1, population=300, households=100)
    worker_user = UserFactory(role=Role.GRID_WORKER, region=grid)
    centre = UserFactory(role=Role.CENTRE_STAFF, region=town)
    # Reported Mon Mar 17 09:00 (respond by 10:00; resolve by 18,19,20,21,24 → Mar 24 23:59:59),
    # accepted 09:10, resolved Mar 20 10:00 at village level: on time.
    ev = event(grid, reported=at(2025, 3, 17, 9), respond_by=at(2025, 3, 17, 10), resolve_by=end_of(dt.date(2025, 3, 24)),
               responded=at(2025, 3, 17, 9, 10), resolved=at(2025, 3, 20, 10), level=Level.VILLAGE, reporter=worker_user)  # fmt: skip
    for when, action, before, after in [
        (at(2025, 3, 17, 9), "report", "", EventStatus.REPORTED),
        (at(2025, 3, 17, 9, 10), "accept", EventStatus.REPORTED, EventStatus.ACCEPTED),
        (at(2025, 3, 20, 10), "resolve", EventStatus.ACCEPTED, EventStatus.RESOLVED),
    ]:
        EventHistory.objects.create(
            event=ev, at=when, actor_name="测试", action=action, from_status=before, to_status=after
        )
    # Case accepted Feb 10 (due Mar 12), mediation failed Mar 5: concluded on time in Q1.
    kc = case(org(town), registered=at(2025, 2, 10, 9), accepted=at(2025, 2, 10, 10), concluded=at(2025, 3, 5, 10),
              outcome=CaseOutcome.FAILED)  # fmt: skip
    arrange(Case.objects.filter(pk=kc.pk), status=CaseStatus.FAILED, referral="")
    county_centre = org(area.county, OrgKind.ONE_STOP, "测试县化解中心")

    q1 = run(CycleKind.SPOT_CHECK, area.county, [], quarter=1)

    def q1_lines():
        rows = IndicatorResult.objects.filter(
            cycle=q1, region_code=town.code, indicator__in=["C01", "C02", "C04", "C06"]
        )
        return {r.indicator: (r.status, r.numerator, r.denominator) for r in rows}

    # By hand, Q1: C04 1/1 (resolved by its deadline); C06 (event at 村 + case at 乡镇调委会) 2/2;
    # C01 0/1 (调解不成); C02 1/1 (concluded 23 days after acceptance).
    expected = {
        "C01": (LineStatus.SCORED, 0, 1),
        "C02": (LineStatus.SCORED, 1, 1),
        "C04": (LineStatus.SCORED, 1, 1),
        "C06": (LineStatus.SCORED, 2, 2),
    }
    assert q1_lines() == expected

    event_reopen(event=GridEvent.objects.get(pk=ev.pk), user=centre, reason="核查发现问题未解决")
    case_transfer(case=Case.objects.get(pk=kc.pk), user=centre, to=county_centre, reason="涉及跨乡镇")
    services.run_cycle(q1.pk)  # the same, unfinalised Q1 cycle run again afterwards
    assert q1_lines() == expected, (
        "Q1 changed because of steps taken after Q1 (reopen / transfer), contrary to SPEC §5.2 "
        f"('never on when the cycle happens to run'): expected {expected}, got {q1_lines()}"
    )
