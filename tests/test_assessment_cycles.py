"""Catalogue validation and versions, cycle creation and sampling, re-runs, failures,
finalisation, the beat and the command (the scoring rules are in test_assessment_rules.py)."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from assessment import catalogue
from assessment.choices import CycleStatus
from assessment.models import (
    AssessorGroup,
    AssessorScore,
    Cycle,
    Indicator,
    IndicatorResult,
    IndicatorWeight,
    RectificationItem,
    ScoreReview,
    UnitResult,
)
from assessment.periods import due_periods, period_for
from assessment.services import (
    AssessmentError,
    blocking_items,
    create_cycle,
    draw_sample,
    finalise,
    publish,
    run_cycle,
    start_due_cycles,
    start_run,
)
from governance.models import AuditLog
from tests.factories import RegionFactory
from tests.test_event_sweep_and_webhooks import wait_for

from .factories import arrange

YEAR = 2025


def _results(cycle):
    return sorted(
        IndicatorResult.objects.filter(cycle=cycle).values_list(
            "region_code", "indicator", "status", "numerator", "denominator", "ratio", "effective_weight", "points"
        )
    )


def _score_everything(cycle, user, score="80"):
    """Two groups score every assessed indicator of every unit of the cycle."""
    units = list(UnitResult.objects.filter(cycle=cycle).values_list("region_id", "region_code"))
    codes = list(Indicator.objects.filter(rule="assessed").values_list("code", flat=True))
    for name in ("第一考核组", "第二考核组"):
        group = AssessorGroup.objects.create(cycle=cycle, name=name)
        AssessorScore.objects.bulk_create(
            [
                AssessorScore(
                    cycle=cycle, group=group, unit_id=pk, region_code=code, indicator=ind, score=score, scored_by=user
                )
                for pk, code in units
                for ind in codes
            ]
        )


# --- Catalogue -----------------------------------------------------------------------------------------


def test_default_catalogue_is_valid_and_has_the_40_indicators(db):
    result = catalogue.validate()
    assert Indicator.objects.count() == 40
    assert result.ok and result.warnings == []
    assert result.profile_totals["plain"]["total"] == 100 and result.profile_totals["mountain"]["A"] == 20
    assert result.category_split == {"basic": 24, "characteristic": 12, "innovation": 4}
    assert result.nature_split == {"quantitative": 21, "qualitative": 14}
    mountain = catalogue.current_data()["profiles"]["mountain"]
    assert mountain["A02"] == "8.00" and mountain["A03"] == "10.00"
    assert "A03" not in catalogue.current_data()["profiles"]["plain"]  # weight 0: not in the plain profile


def test_broken_sums_are_errors_and_changed_splits_are_warnings(db):
    arrange(IndicatorWeight.objects.filter(profile__code="plain", indicator__code="A02"), weight=Decimal("14"))
    result = catalogue.validate()
    assert not result.ok
    assert any("plain" in e and "99" in e for e in result.errors)
    assert any("A 维度" in e for e in result.errors)
    arrange(IndicatorWeight.objects.filter(profile__code="plain", indicator__code="A02"), weight=Decimal("15"))
    arrange(Indicator.objects.filter(code="B06"), category="basic")
    result = catalogue.validate()
    assert result.ok and len(result.warnings) == 1 and "25/12/3" in result.warnings[0]


def test_a_cycle_refuses_to_run_on_an_invalid_catalogue(world):
    arrange(IndicatorWeight.objects.filter(profile__code="plain", indicator__code="A02"), weight=Decimal("1"))
    cycle = create_cycle(kind="year_end", year=YEAR, root=world.city)
    with pytest.raises(AssessmentError) as exc:
        start_run(cycle)
    assert "应为 100 分" in " ".join(exc.value.messages)
    assert Cycle.objects.get(pk=cycle.pk).status == CycleStatus.DRAFT


def test_versions_are_shared_by_identical_content_and_frozen_with_the_cycle(world):
    first = catalogue.snapshot()
    assert catalogue.snapshot().pk == first.pk
    cycle = create_cycle(kind="year_end", year=YEAR, root=world.city)
    run_cycle(cycle.pk)
    cycle.refresh_from_db()
    assert cycle.catalogue_version_id == first.pk
    arrange(Indicator.objects.filter(code="C07"), ceiling=Decimal("0.5"))
    second = catalogue.snapshot()
    assert second.number == first.number + 1
    assert cycle.catalogue_version.data["indicators"]["C07"]["ceiling"] == "0.3000"


def test_profile_follows_terrain_unless_overridden(world):
    data = catalogue.current_data()
    assert catalogue.profile_for(data, "mountain") == "mountain"
    assert catalogue.profile_for(data, "hill") == "plain"
    assert catalogue.profile_for(data, "plain", override="mountain") == "mountain"


# --- Periods and creation ------------------------------------------------------------------------------


def test_periods_are_local_calendar_ranges():
    q1 = period_for("spot_check", 2025, 1)
    assert (q1.first, q1.last, q1.days, len(q1.months)) == (dt.date(2025, 1, 1), dt.date(2025, 3, 31), 90, 3)
    assert q1.start.isoformat() == "2025-01-01T00:00:00+08:00" and q1.end.isoformat() == "2025-04-01T00:00:00+08:00"
    assert period_for("half_year", 2024, None).days == 182
    assert period_for("year_end", 2024, None).days == 366
    assert ("spot_check", 2025, 1) in due_periods(dt.date(2025, 4, 10), 10)
    assert ("spot_check", 2025, 1) not in due_periods(dt.date(2025, 4, 9), 10)


def test_creating_a_cycle_twice_returns_the_same_cycle(world):
    first = create_cycle(kind="half_year", year=YEAR, root=world.city, quarter=3)
    assert first.quarter is None and first.levels == [2, 3, 4]
    assert create_cycle(kind="half_year", year=YEAR, root=world.city).pk == first.pk
    with pytest.raises(AssessmentError):
        create_cycle(kind="spot_check", year=YEAR, root=world.city)


def test_only_staff_in_the_jurisdiction_may_create_or_run(world):
    with pytest.raises(AssessmentError):
        create_cycle(kind="year_end", year=YEAR, root=world.city, user=world.user_a)  # county staff, city cycle
    with pytest.raises(AssessmentError):
        create_cycle(kind="year_end", year=YEAR, root=world.county_a, user=world.worker_a)
    cycle = create_cycle(kind="year_end", year=YEAR, root=world.county_a, user=world.user_a)
    assert cycle.levels == [3, 4]


def test_spot_check_samples_a_fifth_of_each_countys_townships_reproducibly(world):
    for n in range(2, 7):
        RegionFactory.child(world.county_a, n)  # county A: 6 townships → 2 sampled; county B: 1 → 1
    cycle = create_cycle(kind="spot_check", year=YEAR, quarter=2, root=world.city)
    sampled = sorted(cycle.sample.values_list("region__code", flat=True))
    assert len([c for c in sampled if c.startswith("620102")]) == 2
    assert [c for c in sampled if c.startswith("620103")] == ["620103001"]
    assert (
        sorted(r.code for r in type(world.city).objects.filter(pk__in=draw_sample(world.city, cycle.seed))) == sampled
    )
    assert cycle.check_date == dt.date(YEAR, 7, 10)


def test_spot_check_is_hidden_from_township_users_until_the_check_date(world, people):
    cycle = create_cycle(kind="spot_check", year=YEAR, quarter=2, root=world.city)
    cycle.check_date = timezone.localdate() + dt.timedelta(days=3)
    cycle.save()
    township_user = people["township"]
    assert not Cycle.objects.restrict(township_user).filter(pk=cycle.pk).exists()
    assert Cycle.objects.restrict(world.user_a).filter(pk=cycle.pk).exists()
    cycle.check_date = timezone.localdate()
    cycle.save()
    assert Cycle.objects.restrict(township_user).filter(pk=cycle.pk).exists()
    assert not Cycle.objects.restrict(world.user_b).filter(region_code="620102").exists()


# --- Running -------------------------------------------------------------------------------------------


def test_rerun_replaces_results_with_identical_numbers(world, file_event):
    file_event()
    cycle = create_cycle(kind="year_end", year=timezone.localdate().year, root=world.city)
    run_cycle(cycle.pk)
    first = _results(cycle)
    units = UnitResult.objects.filter(cycle=cycle).count()
    run_cycle(cycle.pk)
    assert _results(cycle) == first
    assert UnitResult.objects.filter(cycle=cycle).count() == units == 5
    cycle.refresh_from_db()
    assert cycle.runs == 2 and cycle.status == CycleStatus.COMPUTED
    assert AuditLog.objects.filter(model="assessment.cycle", object_id=str(cycle.pk), action="bulk").count() == 2


def test_a_failed_run_leaves_the_previous_results(world, monkeypatch):
    cycle = create_cycle(kind="year_end", year=YEAR, root=world.city)
    run_cycle(cycle.pk)
    before = _results(cycle)

    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("assessment.engine.run._store_annual", boom)
    with pytest.raises(RuntimeError):
        run_cycle(cycle.pk)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FAILED and "database went away" in cycle.error
    assert _results(cycle) == before and cycle.runs == 1


def _computed(pks):
    return wait_for(lambda: all(c.status == CycleStatus.COMPUTED for c in Cycle.objects.filter(pk__in=pks)))


@pytest.mark.django_db(transaction=True)
def test_start_run_queues_the_task_and_refuses_a_busy_or_frozen_cycle(world, celery_worker):
    cycle = create_cycle(kind="half_year", year=YEAR, root=world.county_a)
    start_run(cycle)  # on the real worker when a broker is configured
    _computed([cycle.pk])
    cycle.refresh_from_db()
    assert cycle.progress == 100 and cycle.results.count() == 2
    arrange(Cycle.objects.filter(pk=cycle.pk), status=CycleStatus.RUNNING, started_at=timezone.now())
    with pytest.raises(AssessmentError) as exc:
        start_run(cycle)
    assert exc.value.code == "busy"


def test_finalise_is_blocked_until_every_assessed_indicator_is_scored(world):
    cycle = create_cycle(kind="half_year", year=YEAR, root=world.county_a, levels=[4])
    run_cycle(cycle.pk)
    cycle.refresh_from_db()
    reasons = {b["reason"] for b in blocking_items(cycle)}
    assert reasons == {"unscored"}
    with pytest.raises(AssessmentError):
        finalise(cycle, user=world.province_user)
    _score_everything(cycle, world.province_user)
    arrange(AssessorScore.objects.filter(cycle=cycle, indicator="A01", group__name="第二考核组"), score="60")
    assert "stale" in {b["reason"] for b in blocking_items(cycle)}  # scored after the run
    run_cycle(cycle.pk)
    cycle.refresh_from_db()
    assert {b["reason"] for b in blocking_items(cycle)} == {"spread"}  # 80 vs 60
    ScoreReview.objects.create(
        cycle=cycle,
        unit=world.township_a,
        indicator="A01",
        kind="accept_spread",
        reason="复核属实",
        reviewer=world.province_user,
    )
    run_cycle(cycle.pk)
    cycle.refresh_from_db()
    assert blocking_items(cycle) == []
    with pytest.raises(AssessmentError):
        finalise(cycle, user=world.user_a)  # centre staff may run but not finalise
    finalise(cycle, user=world.province_user)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FINALISED
    assert not RectificationItem.objects.filter(cycle=cycle).exists()  # opened at publication
    publish(cycle, user=world.province_user)
    items = RectificationItem.objects.filter(cycle=cycle)
    assert items.exists() and all(item.ratio < Decimal("0.6") for item in items)
    assert not items.filter(indicator="A01").exists()  # r = 0.7
    with pytest.raises(AssessmentError):
        start_run(cycle)
    assert run_cycle(cycle.pk) is None


@pytest.mark.django_db(transaction=True)
def test_the_beat_starts_due_cycles_once(world, celery_worker):
    started = start_due_cycles(today=dt.date(YEAR, 7, 10))
    kinds = sorted(Cycle.objects.filter(pk__in=started).values_list("kind", "year", "quarter"))
    assert kinds == [("half_year", YEAR, None), ("spot_check", YEAR, 2)]
    _computed(started)
    assert start_due_cycles(today=dt.date(YEAR, 7, 11)) == []


def test_run_assessment_command(world):
    out = StringIO()
    call_command(
        "run_assessment", "--cycle", "year_end", "--year", str(YEAR), "--root", "620102", stdout=out, stderr=StringIO()
    )
    assert "3 units scored" in out.getvalue() or "units scored" in out.getvalue()
    cycle = Cycle.objects.get(kind="year_end", year=YEAR, root=world.county_a)
    assert cycle.status == CycleStatus.COMPUTED and cycle.results.count() == 2


def test_d03_trace_lists_the_due_tables_and_the_missing_ones_matching_the_stored_counts(world):
    from assessment.models import MonthlyReport, month_deadline
    from assessment.selectors.results import trace_blocks, trace_check

    month = dt.date(YEAR, 3, 1)  # due 5 April: in Q2
    MonthlyReport.objects.create(
        township=world.township_a, month=month, deadline=month_deadline(month),
        submitted_at=month_deadline(month) - dt.timedelta(days=1), funding_yuan=1000, mediators_fulltime=1,
        mediators_parttime=1, petitions_received=1, petitions_resolved_first=1, criminal_cases=0,
        key_persons_registered=1, key_persons_managed=1, households_reached=10, cadres=5, cadres_on_track=5,
    )  # fmt: skip
    cycle = create_cycle(kind="spot_check", year=YEAR, quarter=2, root=world.county_a)
    run_cycle(cycle.pk)
    cycle.refresh_from_db()
    unit = UnitResult.objects.get(cycle=cycle, region_code=world.township_a.code)
    line = unit.lines.get(indicator="D03")
    assert (line.numerator, line.denominator) == (1, 3)  # March on time; April's and May's tables missing
    blocks = trace_blocks(cycle, unit, line)
    check = trace_check(line, blocks)
    assert check["matches"] and (check["numerator"], check["denominator"]) == (1, 3)
    assert [m["month"] for m in blocks[0].missing] == [dt.date(YEAR, 4, 1), dt.date(YEAR, 5, 1)]
