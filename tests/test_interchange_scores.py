"""Issue #6: the `assessor_score` record type (docs/import-format.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from assessment import services as assessment
from assessment.choices import CycleStatus, Rule
from assessment.models import AssessorGroup, AssessorScore, Indicator
from governance.interchange.exporter import export_records
from governance.interchange.importer import import_records
from governance.models import ExternalRef

from .factories import arrange
from .test_interchange import HEADER, at, run


@pytest.fixture
def group(world):
    cycle = assessment.create_cycle(kind="year_end", year=2025, root=world.county_a)
    group = AssessorGroup.objects.create(cycle=cycle, name="第一考核组")
    group.units.add(world.township_a)
    return group


def score_row(world, n=1, **overrides):
    indicator = Indicator.objects.filter(rule=Rule.ASSESSED).order_by("code").values_list("code", flat=True)[n - 1]
    row = {"type": "assessor_score", "id": f"S{n}", "group": "第一考核组", "unit": world.township_a.code,
           "cycle": {"kind": "year_end", "year": 2025, "quarter": None, "root": world.county_a.code},
           "indicator": indicator, "score": "86.50", "note": "台账齐全", "scored_by": world.user_a.username,
           "scored_at": at(2026, 1, 10, 15)}  # fmt: skip
    row.update(overrides)
    return row


def test_a_score_is_imported_once(world, group):
    lines = [HEADER, score_row(world)]
    report = run(lines)
    assert report.ok and report.written, report.as_dict()
    score = AssessorScore.objects.get()
    assert (score.group, score.unit, score.region_code, str(score.score)) == (
        group, world.township_a, world.township_a.code, "86.50",
    )  # fmt: skip
    assert score.scored_by == world.user_a
    again = run(lines)
    assert again.ok and again.unchanged == {"assessor_score": 1} and AssessorScore.objects.count() == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"group": "不存在的组"}, "group"),
        ({"unit": "620102001001"}, "unit"),  # a village, not among the group's units
        ({"indicator": "ZZ9"}, "indicator"),
        ({"score": "100.5"}, "score"),
        ({"score": "80.123"}, "score"),
        ({"cycle": {"kind": "half_year", "year": 2025, "quarter": None, "root": "620102"}}, "cycle"),
        ({"cycle": "2025"}, "cycle"),
        ({"scored_by": "nobody"}, "scored_by"),
    ],
)
def test_each_bad_score_row_is_rejected(world, group, change, field):
    report = run([HEADER, score_row(world, **change)])
    assert not report.ok and not report.written
    assert field in report.rejected[0].reasons, report.rejected[0].reasons
    assert AssessorScore.objects.count() == 0


def test_a_second_score_of_the_same_group_unit_and_indicator_is_rejected(world, group):
    report = run([HEADER, score_row(world), score_row(world, id="S2", score="70")])
    assert not report.ok and report.rejected[0].line == 3 and "indicator" in report.rejected[0].reasons


def test_scores_of_a_finalised_cycle_are_refused(world, group):
    arrange(type(group.cycle).objects.filter(pk=group.cycle.pk), status=CycleStatus.FINALISED)
    report = run([HEADER, score_row(world)])
    assert not report.ok and "cycle" in report.rejected[0].reasons


def test_a_county_user_cannot_import_scores_of_another_county(world, group):
    report = run([HEADER, score_row(world, unit=world.township_b.code)], user=world.user_a)
    assert not report.ok and "unit" in report.rejected[0].reasons


def test_exported_scores_are_imported_back(world, group):
    assert run([HEADER, score_row(world, 1), score_row(world, 2, score="60")]).ok
    before = sorted(
        AssessorScore.objects.values_list("group__name", "unit__code", "indicator", "score", "note", "scored_at")
    )
    lines = list(export_records(code=world.county_a.code, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31)))
    assert sum('"type":"assessor_score"' in line for line in lines) == 2
    AssessorScore.objects.all().delete()
    ExternalRef.objects.all().delete()
    report = import_records(open_stream=lambda: iter(lines))
    assert report.ok and report.created.get("assessor_score") == 2, report.as_dict()
    after = sorted(
        AssessorScore.objects.values_list("group__name", "unit__code", "indicator", "score", "note", "scored_at")
    )
    assert after == before
