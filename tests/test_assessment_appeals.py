"""After the scores (SPEC §5.4): publication of a finalised cycle and appeals on one indicator
line — the 15-working-day window from publication, the 10-working-day answer limit and its
supervision, who may file and decide, and an upheld appeal as an input of scoring that the
total, rank, annual result, grade and every re-run follow, with the audit entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone

from assessment import appeals, services
from assessment.choices import AppealStatus, CycleStatus, LineStatus
from assessment.inputs import InputError
from assessment.models import AnnualResult, Cycle, IndicatorResult, RectificationItem, ScoreAppeal, UnitResult
from assessment.services import AssessmentError
from governance.choices import Role
from governance.models import AuditLog
from grids.models import Notification
from grids.sla import nth_working_day_after
from tests.factories import UserFactory
from tests.test_assessment_rules import assess

YEAR = 2025
APPEALED = "A04"  # a reported indicator: no monthly tables, so r = 0 (未报送) for every unit


def pdf(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% test\n", content_type="application/pdf")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def actors(world):
    return {
        "township": UserFactory(username="t_a", role=Role.CENTRE_STAFF, region=world.township_a),
        "township_b": UserFactory(username="t_b", role=Role.CENTRE_STAFF, region=world.township_b),
        "committee_a": UserFactory(username="c_a", role=Role.COMMITTEE_STAFF, region=world.county_a),
        "committee_b": UserFactory(username="c_b", role=Role.COMMITTEE_STAFF, region=world.county_b),
        "committee_city": UserFactory(username="c_city", role=Role.COMMITTEE_STAFF, region=world.city),
    }


def computed_cycle(world, kind="year_end") -> Cycle:
    """The city's cycle over counties and townships, every assessed indicator scored 100/100."""
    cycle = services.create_cycle(kind=kind, year=YEAR, root=world.city, levels=[3, 4])
    assess(cycle, [world.county_a, world.county_b, world.township_a, world.township_b])
    services.run_cycle(cycle.pk)
    return Cycle.objects.get(pk=cycle.pk)


@pytest.fixture
def published(world, actors, media, django_capture_on_commit_callbacks):
    cycle = computed_cycle(world)
    services.finalise(cycle, user=actors["committee_city"])
    with django_capture_on_commit_callbacks(execute=True):
        return services.publish(cycle, user=actors["committee_city"])


def line(cycle, region, indicator=APPEALED) -> IndicatorResult:
    return IndicatorResult.objects.get(cycle=cycle, region_code=region.code, indicator=indicator)


def file(actors, cycle, world, indicator=APPEALED, **kw) -> ScoreAppeal:
    values = {"reasons": "3月报表已按时报送，系统未收录", "evidence": pdf()}
    values.update(kw)
    with committed():
        return appeals.appeal_file(
            user=actors["township"], cycle=cycle, unit=world.township_a, indicator=indicator, **values
        )


def decide(user, appeal, **kw) -> ScoreAppeal:
    with committed():
        return appeals.appeal_decide(user=user, appeal=appeal, **kw)


def committed():
    """Run what a service queues on commit (notifications, the re-computation) when it commits."""
    return TestCase.captureOnCommitCallbacks(execute=True)


# --- Publication ---------------------------------------------------------------------------------------


def test_publication_needs_a_finalised_cycle_and_committee_staff(world, actors):
    cycle = computed_cycle(world)
    with pytest.raises(AssessmentError) as exc:
        services.publish(cycle, user=actors["committee_city"])
    assert exc.value.code == "not_finalised"
    services.finalise(cycle, user=actors["committee_city"])
    with pytest.raises(AssessmentError):
        services.publish(cycle, user=actors["township"])  # centre staff of a unit
    with pytest.raises(AssessmentError):
        services.publish(cycle, user=actors["committee_a"])  # below the organiser
    cycle.refresh_from_db()
    assert cycle.published_at is None and not RectificationItem.objects.filter(cycle=cycle).exists()


def test_publication_opens_the_rectification_items_dated_from_the_publication(world, actors, published):
    today = timezone.localdate(published.published_at)
    items = RectificationItem.objects.filter(cycle=published, region_code=world.township_a.code)
    assert items.filter(indicator=APPEALED).exists()
    notice_due = nth_working_day_after(today, services.NOTICE_WORKING_DAYS)
    assert {(i.notice_due_on, i.due_on) for i in items} == {
        (notice_due, notice_due + dt.timedelta(days=services.RECTIFY_DAYS))
    }
    with pytest.raises(AssessmentError) as exc:
        services.publish(published, user=actors["committee_city"])
    assert exc.value.code == "published"
    assert not RectificationItem.objects.filter(cycle=published).exclude(notice_due_on=notice_due).exists()
    assert Notification.objects.filter(user=actors["township"], key=f"published:{published.pk}").exists()
    assert (
        AuditLog.objects.filter(model="assessment.cycle", object_id=str(published.pk))
        .filter(changes__published=str(today))
        .exists()
    )


def test_units_below_the_organiser_see_results_only_once_published(world, actors):
    cycle = computed_cycle(world)
    assert not UnitResult.objects.restrict(actors["township"]).filter(cycle=cycle).exists()
    assert not UnitResult.objects.restrict(actors["committee_a"]).filter(cycle=cycle).exists()
    assert UnitResult.objects.restrict(actors["committee_city"]).filter(cycle=cycle).count() == 4
    services.finalise(cycle, user=actors["committee_city"])
    assert not UnitResult.objects.restrict(actors["township"]).filter(cycle=cycle).exists()
    services.publish(cycle, user=actors["committee_city"])
    assert list(
        UnitResult.objects.restrict(actors["township"]).filter(cycle=cycle).values_list("region_code", flat=True)
    ) == [world.township_a.code]


# --- Filing --------------------------------------------------------------------------------------------


def test_a_unit_appeals_one_line_within_15_working_days_of_publication(world, actors, published):
    end = appeals.appeal_window_end(published)
    assert end.date() == nth_working_day_after(timezone.localdate(published.published_at), 15)
    assert (end.hour, end.minute, end.second) == (23, 59, 59)
    appeal = file(actors, published, world, now=end)  # the last second still counts
    assert appeal.status == AppealStatus.FILED
    assert appeal.points_at_filing == Decimal(0) and appeal.ratio_at_filing == Decimal(0)
    assert timezone.localtime(appeal.decide_by).date() == nth_working_day_after(timezone.localdate(end), 10)
    with pytest.raises(InputError) as exc:
        file(actors, published, world, indicator="A05", now=end + dt.timedelta(seconds=1))
    assert "申诉期限" in exc.value.message_dict["cycle"][0]
    assert ScoreAppeal.objects.count() == 1


def test_a_line_is_appealed_once_even_when_submitted_twice(world, actors, published):
    file(actors, published, world)
    with pytest.raises(InputError) as exc:
        file(actors, published, world)
    assert "已就该指标提出过申诉" in exc.value.message_dict["indicator"][0]
    assert ScoreAppeal.objects.count() == 1


def test_an_unpublished_cycle_cannot_be_appealed(world, actors, media):
    cycle = computed_cycle(world)
    services.finalise(cycle, user=actors["committee_city"])
    with pytest.raises(InputError) as exc:
        file(actors, cycle, world)
    assert "尚未公布" in exc.value.message_dict["cycle"][0]
    assert not ScoreAppeal.objects.exists()


@pytest.mark.parametrize("who", ["township_b", "committee_a", "committee_city"])
def test_only_the_units_own_staff_file_its_appeal(world, actors, published, who):
    with pytest.raises(InputError) as exc:
        appeals.appeal_file(
            user=actors[who], cycle=published, unit=world.township_a, indicator=APPEALED, reasons="x", evidence=pdf()
        )
    assert "unit" in exc.value.message_dict
    assert not ScoreAppeal.objects.exists()


def test_an_appeal_needs_reasons_evidence_and_a_scored_line(world, actors, published):
    with pytest.raises(InputError) as exc:
        file(actors, published, world, indicator="C04", reasons=" ", evidence=None)
    errors = exc.value.message_dict
    assert errors["reasons"] == ["请填写申诉理由。"] and errors["evidence"] == ["请上传证明材料。"]
    assert "indicator" in errors  # C04 has no records: not applicable, nothing to appeal
    assert line(published, world.township_a, "C04").status == LineStatus.NOT_APPLICABLE
    exe = SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")
    with pytest.raises(InputError) as exc:
        file(actors, published, world, evidence=exe)
    assert "evidence" in exc.value.message_dict
    assert not ScoreAppeal.objects.exists()


# --- Deciding ------------------------------------------------------------------------------------------


def test_the_committee_above_decides_and_the_unit_is_told(world, actors, published):
    appeal = file(actors, published, world)
    assert Notification.objects.filter(user=actors["committee_a"], key=f"appeal:{appeal.pk}:filed").exists()
    for refused in ("township", "committee_b"):
        with pytest.raises(InputError):
            decide(actors[refused], appeal=appeal, uphold=False, note="不成立")
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.FILED and appeal.decided_at is None
    decide(actors["committee_a"], appeal=appeal, uphold=False, note="报表确未按时报送")
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.DISMISSED and appeal.adjusted_percent is None
    assert Notification.objects.filter(user=actors["township"], key=f"appeal:{appeal.pk}:decided").exists()
    with pytest.raises(InputError) as exc:
        decide(actors["committee_a"], appeal=appeal, uphold=True, note="x", adjusted_percent=50)
    assert exc.value.code == "illegal_transition"


def test_upholding_needs_a_reason_and_a_percentage_between_0_and_100(world, actors, published):
    appeal = file(actors, published, world)
    for percent, field in ((None, "adjusted_percent"), ("101", "adjusted_percent"), ("-1", "adjusted_percent")):
        with pytest.raises(InputError) as exc:
            appeals.appeal_decide(
                user=actors["committee_a"], appeal=appeal, uphold=True, note="成立", adjusted_percent=percent
            )
        assert field in exc.value.message_dict
    with pytest.raises(InputError) as exc:
        decide(actors["committee_a"], appeal=appeal, uphold=True, note="", adjusted_percent=80)
    assert "decision_note" in exc.value.message_dict
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.FILED
    assert line(published, world.township_a).points == 0


def test_an_upheld_appeal_is_an_input_every_run_keeps(world, actors, published):
    before = UnitResult.objects.get(cycle=published, region_code=world.township_a.code)
    before_line = line(published, world.township_a)
    annual_before = AnnualResult.objects.get(cycle=published, region_code=world.township_a.code)
    appeal = file(actors, published, world)
    decide(actors["committee_a"], appeal=appeal, uphold=True, note="系统故障致漏收，予以调整", adjusted_percent="100")
    adjusted = line(published, world.township_a)
    assert adjusted.status == LineStatus.SCORED and adjusted.ratio == 1
    assert adjusted.points == before_line.effective_weight and "申诉调整" in adjusted.note
    after = UnitResult.objects.get(cycle=published, region_code=world.township_a.code)
    assert after.total == before.total + before_line.effective_weight.quantize(Decimal("0.01"))
    annual = AnnualResult.objects.get(cycle=published, region_code=world.township_a.code)
    assert annual.result > annual_before.result
    published.refresh_from_db()
    assert published.status == CycleStatus.FINALISED  # still frozen and published
    appeals.rescore(published.pk)  # a re-run computes the same, adjustment included
    assert line(published, world.township_a).points == adjusted.points
    assert UnitResult.objects.get(cycle=published, region_code=world.township_a.code).total == after.total
    entries = AuditLog.objects.filter(model="assessment.scoreappeal", object_id=str(appeal.pk))
    assert set(entries.values_list("action", flat=True)) == {"create", "update"}
    adjustment = AuditLog.objects.get(model="assessment.cycle", changes__has_key="appeal_adjustment")
    assert adjustment.changes["appeal_adjustment"]["reason"] == "系统故障致漏收，予以调整"


def test_an_undecided_appeal_past_its_limit_is_supervised_once(world, actors, published):
    appeal = file(actors, published, world)
    assert appeals.sweep_appeal_deadlines(now=appeal.decide_by) == 0  # the limit's last second
    later = appeal.decide_by + dt.timedelta(seconds=1)
    assert appeals.sweep_appeal_deadlines(now=later) == 1
    assert appeals.sweep_appeal_deadlines(now=later + dt.timedelta(hours=1)) == 0
    appeal.refresh_from_db()
    assert appeal.supervised_at == later
    assert Notification.objects.filter(user=actors["committee_city"], key=f"appeal:{appeal.pk}:supervised").count() == 1
