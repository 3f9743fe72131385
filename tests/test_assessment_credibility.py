"""The data-credibility checks (智能预警, SPEC §5.4), each built on both sides of its threshold:
mediation spikes (exactly 3σ, exactly 10 cases, exactly double, half without sessions), instant
closures (exactly 30 %), under-reporting (exactly 20 % of the peers' median), duplicate
submissions; the records behind every flag; runs with the cycle and monthly; one grouped query
per rule whatever the number of units; flags never change a score."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from assessment import services
from assessment.choices import FlagRule
from assessment.models import CredibilityFlag, Cycle, UnitResult
from assessment.periods import period_for
from assessment.selectors import cycle_flags
from assessment.services.credibility import add_months, is_spike, month_period, run_checks, run_monthly_checks
from disputes.models import MediationSession
from grids.events.models import EventCategory, GridEvent
from tests.factories import RegionFactory
from tests.test_assessment_rules import case, org

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
MARCH = dt.date(2025, 3, 1)
LEVELS = [3, 4]


def at(day: dt.date, hh=10, mm=0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ)


def events(region, n, *, reported: dt.datetime, resolved_after: dt.timedelta | None = None, duplicate_of=None):
    """n events in `region` reported at `reported` (bulk: the checks read stored columns only)."""
    category = EventCategory.objects.get(code="public_order")
    resolved = reported + resolved_after if resolved_after is not None else None
    return GridEvent.objects.bulk_create(
        [
            GridEvent(
                category=category,
                title="测试事件",
                description="测试",
                source="patrol",
                region=region,
                region_code=region.code,
                status="resolved" if resolved else "reported",
                reported_at=reported,
                resolved_at=resolved,
                first_resolved_at=resolved,
                respond_deadline=reported + dt.timedelta(hours=1),
                resolve_deadline=reported + dt.timedelta(days=5),
                duplicate_of=duplicate_of,
            )
            for _ in range(n)
        ]
    )


def flags(rule=None, **kw):
    qs = CredibilityFlag.objects.filter(**kw)
    if rule:
        qs = qs.filter(rule=rule)
    return {(f.rule, f.region_code): f for f in qs}


# --- Mediation spikes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "bare", "history", "flagged"),
    [
        (10, 10, [2, 6, 2, 6, 2, 6], False),  # mean 4, σ 2: exactly mean + 3σ = 10
        (11, 11, [2, 6, 2, 6, 2, 6], True),
        (9, 9, [0] * 6, False),  # one case short of 10
        (10, 10, [0] * 6, True),  # exactly 10 cases
        (11, 11, [6] * 6, False),  # not double the mean of 6
        (12, 12, [6] * 6, True),  # exactly double
        (10, 5, [0] * 6, False),  # half without sessions is not most
        (10, 6, [0] * 6, True),
    ],
)
def test_a_spike_needs_3_sigma_double_10_cases_and_most_without_sessions(n, bare, history, flagged):
    assert is_spike(n, bare, history) is flagged


def test_the_spike_check_agrees_with_the_rule_stated_in_rationals():
    """is_spike compares integers multiplied through by the history's length; the rule itself is
    mean + 3σ over exact rationals. Every small history and month, including every tie."""
    import itertools
    import statistics
    from fractions import Fraction

    def stated(n, bare, history):
        mean = Fraction(sum(history), len(history))
        sigma2 = statistics.pvariance([Fraction(h) for h in history])
        return n > mean and (n - mean) ** 2 > 9 * sigma2 and n >= 2 * mean and n >= 10 and 2 * bare > n

    checked = 0
    for history in itertools.product([0, 1, 2, 4, 6, 9], repeat=3):
        for n in range(0, 25):
            for bare in (n // 2, n // 2 + 1, n):
                assert is_spike(n, bare, list(history) * 2) is stated(n, bare, list(history) * 2)
                checked += 1
    assert checked == 6**3 * 25 * 3


def mediation_history(organisation, counts: list[int], month_cases: int, with_sessions: int):
    """Cases in the six months before March 2025 (oldest first) and in March."""
    for back, count in zip(range(6, 0, -1), counts, strict=True):
        for _ in range(count):
            case(organisation, registered=at(add_months(MARCH, -back), 9))
    march = [case(organisation, registered=at(MARCH + dt.timedelta(days=i % 20), 9)) for i in range(month_cases)]
    for c in march[:with_sessions]:
        MediationSession.objects.create(case=c, held_on=MARCH, place="调解室", attendees="双方", notes="调解")
    return march


def test_a_spike_of_cases_without_sessions_is_flagged_with_its_cases(world):
    organisation = org(world.township_a)
    march = mediation_history(organisation, [2, 6, 2, 6, 2, 6], month_cases=11, with_sessions=5)
    run_checks(root_code=world.city.code, period=month_period(MARCH), levels=LEVELS)
    found = flags(FlagRule.MEDIATION_SPIKE)
    assert set(found) == {
        (FlagRule.MEDIATION_SPIKE, world.township_a.code),
        (FlagRule.MEDIATION_SPIKE, world.county_a.code),
    }
    flag = found[(FlagRule.MEDIATION_SPIKE, world.township_a.code)]
    assert flag.first == MARCH and flag.last == dt.date(2025, 3, 31)
    assert flag.figures["cases"] == 11 and flag.figures["without_sessions"] == 6
    assert flag.figures["history"] == [2, 6, 2, 6, 2, 6] and flag.figures["mean"] == "4.0000"
    assert sorted(flag.record_ids) == sorted(c.pk for c in march[5:])
    assert flag.record_model == "disputes.case"


def test_a_month_at_exactly_3_sigma_is_not_a_spike(world):
    mediation_history(org(world.township_a), [2, 6, 2, 6, 2, 6], month_cases=10, with_sessions=0)
    run_checks(root_code=world.city.code, period=month_period(MARCH), levels=LEVELS)
    assert not CredibilityFlag.objects.exists()


# --- Instant closures ------------------------------------------------------------------------------------


def test_instant_closures_over_30_percent_are_flagged_exactly_30_is_not(world):
    ten = dt.timedelta(minutes=10)
    events(world.grid_a, 3, reported=at(MARCH), resolved_after=ten)  # exactly 10 minutes: "within"
    events(world.grid_a, 7, reported=at(MARCH), resolved_after=ten + dt.timedelta(seconds=1))
    events(world.grid_b, 1, reported=at(MARCH), resolved_after=dt.timedelta(hours=2))
    run_checks(root_code=world.city.code, period=month_period(MARCH), levels=LEVELS)
    assert not flags(FlagRule.INSTANT_CLOSURE)  # 3 of 10 = 30 %
    quick = events(world.grid_a, 1, reported=at(MARCH), resolved_after=dt.timedelta(minutes=2))
    run_checks(root_code=world.city.code, period=month_period(MARCH), levels=LEVELS)
    found = flags(FlagRule.INSTANT_CLOSURE)
    assert set(found) == {
        (FlagRule.INSTANT_CLOSURE, world.township_a.code),  # 4 of 11
        (FlagRule.INSTANT_CLOSURE, world.county_a.code),
    }
    flag = found[(FlagRule.INSTANT_CLOSURE, world.township_a.code)]
    assert flag.figures == {"resolved": 11, "instant": 4, "share": "0.3636"}
    assert quick[0].pk in flag.record_ids and len(flag.record_ids) == 4


# --- Under-reporting -------------------------------------------------------------------------------------


def test_under_reporting_is_below_20_percent_of_the_peers_median(world):
    county_c = RegionFactory.child(world.city, 5, name="安宁区", population=10000)
    for county in (world.county_a, world.county_b):
        county.population = 10000
        county.save(update_fields=["population"])
    grid_c = RegionFactory.child(RegionFactory.child(RegionFactory.child(county_c, 1), 1), 1)
    events(world.grid_b, 100, reported=at(MARCH))  # 10 per 1,000
    events(grid_c, 100, reported=at(MARCH))  # 10 per 1,000: the median of 2, 10, 10 is 10
    events(world.grid_a, 20, reported=at(MARCH))  # 2 per 1,000: exactly 20 % of the median
    run_checks(root_code=world.city.code, period=month_period(MARCH), levels=LEVELS)
    assert not flags(FlagRule.UNDER_REPORTING)
    GridEvent.objects.filter(pk=GridEvent.objects.filter(region=world.grid_a).first().pk).delete()
    run_checks(root_code=world.city.code, period=month_period(MARCH), levels=LEVELS)
    found = flags(FlagRule.UNDER_REPORTING)
    assert set(found) == {(FlagRule.UNDER_REPORTING, world.county_a.code)}  # 1.9 per 1,000
    flag = found[(FlagRule.UNDER_REPORTING, world.county_a.code)]
    assert flag.figures["per_1000"] == "1.9000" and flag.figures["peer_median"] == "10.0000"
    assert flag.figures["peers"] == 3 and len(flag.record_ids) == 19


# --- Duplicate submissions -------------------------------------------------------------------------------


def test_duplicate_submissions_over_10_percent_and_at_least_5_are_flagged(world):
    original = events(world.grid_a, 1, reported=at(MARCH))[0]
    events(world.grid_a, 44, reported=at(MARCH))
    dups = events(world.grid_a, 5, reported=at(MARCH, 11), duplicate_of=original)  # 5 of 50 = 10 %
    run_checks(root_code=world.city.code, period=month_period(MARCH), levels=LEVELS)
    assert not flags(FlagRule.DUPLICATE_SUBMISSION)
    dups += events(world.grid_a, 1, reported=at(MARCH, 12), duplicate_of=original)  # 6 of 51
    events(world.grid_b, 4, reported=at(MARCH, 12), duplicate_of=original)  # 4 of 4, fewer than 5
    run_checks(root_code=world.city.code, period=month_period(MARCH), levels=LEVELS)
    found = flags(FlagRule.DUPLICATE_SUBMISSION)
    assert set(found) == {
        (FlagRule.DUPLICATE_SUBMISSION, world.township_a.code),
        (FlagRule.DUPLICATE_SUBMISSION, world.county_a.code),
    }
    assert sorted(found[(FlagRule.DUPLICATE_SUBMISSION, world.township_a.code)].record_ids) == sorted(
        d.pk for d in dups
    )


# --- Runs ------------------------------------------------------------------------------------------------


def test_a_rerun_replaces_the_flags_and_flags_never_change_a_score(world):
    events(world.grid_a, 4, reported=at(MARCH), resolved_after=dt.timedelta(minutes=1))
    cycle = services.create_cycle(kind="spot_check", year=2025, quarter=1, root=world.city, levels=LEVELS)
    services.run_cycle(cycle.pk)
    totals = dict(UnitResult.objects.filter(cycle=cycle).values_list("region_code", "total"))
    quarter = period_for("spot_check", 2025, 1)
    assert set(flags(FlagRule.INSTANT_CLOSURE, first=quarter.first, last=quarter.last)) == {
        (FlagRule.INSTANT_CLOSURE, world.township_a.code),
        (FlagRule.INSTANT_CLOSURE, world.county_a.code),
    }
    CredibilityFlag.objects.all().delete()
    services.run_cycle(cycle.pk)
    assert dict(UnitResult.objects.filter(cycle=cycle).values_list("region_code", "total")) == totals
    services.run_cycle(cycle.pk)
    assert CredibilityFlag.objects.count() == 2  # replaced, not added


def test_the_beat_checks_last_month(world):
    events(world.grid_a, 2, reported=at(MARCH), resolved_after=dt.timedelta(minutes=1))
    assert run_monthly_checks(today=dt.date(2025, 4, 1)) == 3  # township, county and city (every level)
    assert set(CredibilityFlag.objects.values_list("first", "last").distinct()) == {(MARCH, dt.date(2025, 3, 31))}
    assert run_monthly_checks(today=dt.date(2025, 4, 2)) == 3
    assert CredibilityFlag.objects.count() == 3


def test_a_cycle_lists_its_periods_flags_and_its_months_spikes(world):
    half = period_for("half_year", 2025, None)
    unit = world.township_a
    for rule, first, last in [
        (FlagRule.INSTANT_CLOSURE, half.first, half.last),
        (FlagRule.MEDIATION_SPIKE, MARCH, dt.date(2025, 3, 31)),
        (FlagRule.INSTANT_CLOSURE, MARCH, dt.date(2025, 3, 31)),  # a monthly run: not the cycle's
        (FlagRule.MEDIATION_SPIKE, dt.date(2025, 7, 1), dt.date(2025, 7, 31)),  # outside
    ]:
        CredibilityFlag.objects.create(
            rule=rule, region=unit, region_code=unit.code, first=first, last=last, record_model="x"
        )
    cycle = Cycle.objects.create(kind="half_year", year=2025, root=world.city, levels=LEVELS)
    listed = cycle_flags(cycle=cycle, unit_codes=[unit.code, world.county_b.code])
    assert [(f.rule, f.first) for f in listed] == [
        (FlagRule.INSTANT_CLOSURE, half.first),
        (FlagRule.MEDIATION_SPIKE, MARCH),
    ]
    assert not cycle_flags(cycle=cycle, unit_codes=[world.county_b.code]).exists()


def test_each_rule_is_one_grouped_query_whatever_the_number_of_units(world, django_assert_max_num_queries):
    events(world.grid_a, 3, reported=at(MARCH), resolved_after=dt.timedelta(minutes=1))
    with django_assert_max_num_queries(14) as small:
        run_checks(root_code=world.province.code, period=month_period(MARCH))
    for i in range(2, 12):  # ten more counties with a township, a village and a grid each
        grid = RegionFactory.child(
            RegionFactory.child(RegionFactory.child(RegionFactory.child(world.city, 10 + i), 1), 1), 1
        )
        events(grid, 3, reported=at(MARCH), resolved_after=dt.timedelta(minutes=1))
    with django_assert_max_num_queries(len(small.captured_queries)):
        run_checks(root_code=world.province.code, period=month_period(MARCH))
    # every township and county with its instant closures, and the city above them
    assert CredibilityFlag.objects.filter(rule=FlagRule.INSTANT_CLOSURE).count() == 2 + 2 * 10 + 1
