"""After the scores (SPEC §5.4): publication of a finalised cycle and appeals on one indicator
line — the 15-working-day window from publication, the 10-working-day answer limit and its
supervision, who may file and decide, and an upheld appeal as an input of scoring that the
total, rank, annual result, grade and every re-run follow, with the audit entries. Then the
same through the pages and the API, the flags with their records, the diagnostic report and the
rectification notice (PDFs with the embedded CJK font), the ZIP of a cycle's reports with its
progress, rectification evidence and the return reason — and a sibling county that can see,
appeal or download none of it."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from assessment import services
from assessment.choices import AppealStatus, CycleStatus, FlagRule, JobStatus, LineStatus, RectificationStatus
from assessment.models import (
    AnnualResult,
    CredibilityFlag,
    Cycle,
    Indicator,
    IndicatorResult,
    RectificationItem,
    ReportBundle,
    ScoreAppeal,
    UnitResult,
)
from assessment.services import AssessmentError, InputError, appeals
from governance.choices import Role
from governance.models import AuditLog
from grids.events.models import Notification
from grids.events.sla import nth_working_day_after
from tests.factories import UserFactory
from tests.pdf_checks import cjk_font_is_embedded_subset, pdf_text
from tests.test_assessment_credibility import events
from tests.test_assessment_rules import assess

YEAR = 2025
APPEALED = "A04"  # a reported indicator: no monthly tables, so r = 0 (未报送) for every unit


def pdf(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% test\n", content_type="application/pdf")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def tasks_in_process():
    """These tests run inside one uncommitted transaction that a worker process cannot see: the
    tasks queued on commit (re-computation, report ZIP) run in-process here, through the same
    code. tests/test_browser_appeals.py drives the real worker when a broker is configured."""
    from governance.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


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


# === Pages and API ===

API = "/api/v1/assessment/"


def unit_url(cycle, region, name="assessment:unit", *args):
    return reverse(name, args=[cycle.pk, region.code, *args])


def page_text(response) -> str:
    return response.content.decode()


@pytest.fixture
def flag(world, published):
    """An instant-closure flag on township A over the cycle's year, with its event."""
    event = events(
        world.grid_a, 1, reported=timezone.now() - dt.timedelta(days=400), resolved_after=dt.timedelta(minutes=1)
    )[0]
    period = published.period
    return CredibilityFlag.objects.create(
        rule=FlagRule.INSTANT_CLOSURE,
        region=world.township_a,
        region_code=world.township_a.code,
        first=period.first,
        last=period.last,
        figures={"resolved": 1, "instant": 1, "share": "1.0000"},
        record_model="grids.gridevent",
        record_ids=[event.pk],
    )


# --- Publication ---------------------------------------------------------------------------------------


def test_committee_staff_publish_from_the_cycle_page_and_a_unit_cannot(client, world, actors, media):
    cycle = computed_cycle(world)
    client.force_login(actors["committee_city"])
    client.post(reverse("assessment:cycle-finalise", args=[cycle.pk]))
    page = client.get(reverse("assessment:cycle-detail", args=[cycle.pk]))
    assert page.context["may_publish"] and "公布结果" in page_text(page)
    client.force_login(actors["committee_a"])  # below the organiser: the cycle is not theirs to publish
    client.post(reverse("assessment:cycle-publish", args=[cycle.pk]))
    cycle.refresh_from_db()
    assert cycle.published_at is None and not RectificationItem.objects.exists()
    client.force_login(actors["committee_city"])
    response = client.post(reverse("assessment:cycle-publish", args=[cycle.pk]), follow=True)
    assert "考核结果已公布" in page_text(response)
    cycle.refresh_from_db()
    assert cycle.published_at is not None and RectificationItem.objects.filter(cycle=cycle).exists()


def test_the_api_publishes_once(api, world, actors, media):
    cycle = computed_cycle(world)
    api.force_authenticate(actors["committee_city"])
    assert api.post(f"{API}cycles/{cycle.pk}/publish/").status_code == 400  # not finalised
    api.post(f"{API}cycles/{cycle.pk}/finalise/")
    response = api.post(f"{API}cycles/{cycle.pk}/publish/")
    assert response.status_code == 200 and response.json()["status"] == "finalised"
    assert response.json()["published_at"] is not None
    again = api.post(f"{API}cycles/{cycle.pk}/publish/")
    assert again.status_code == 400 and "已公布" in again.json()["detail"]


# --- Appeals through the pages -------------------------------------------------------------------------


def test_a_township_appeals_from_its_breakdown_and_the_county_committee_upholds_it(
    client, world, actors, published, django_capture_on_commit_callbacks
):
    client.force_login(actors["township"])
    page = client.get(unit_url(published, world.township_a))
    new_url = unit_url(published, world.township_a, "assessment:appeal-new", APPEALED)
    assert new_url in page_text(page)
    refused = client.post(new_url, {"reasons": ""})
    assert "请填写申诉理由。" in page_text(refused) and "请上传证明材料。" in page_text(refused)
    assert not ScoreAppeal.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(new_url, {"reasons": "报表已报送", "evidence": pdf()})
    appeal = ScoreAppeal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("assessment:appeal-detail", args=[appeal.pk])
    assert client.get(reverse("assessment:appeal-detail", args=[appeal.pk])).context["form"] is None
    client.force_login(actors["committee_a"])
    detail = reverse("assessment:appeal-detail", args=[appeal.pk])
    bad = client.post(detail, {"decision": "uphold", "adjusted_percent": "", "decision_note": "成立"})
    assert "申诉成立时请填写调整后得分率" in page_text(bad)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(detail, {"decision": "uphold", "adjusted_percent": "100", "decision_note": "系统漏收"})
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD
    client.force_login(actors["township"])
    page = client.get(unit_url(published, world.township_a))
    row = next(r for r in page.context["rows"] if r.code == APPEALED)
    assert row.appeal == appeal and row.ratio == "100.00%" and "申诉调整：系统漏收" in row.note
    trace = client.get(unit_url(published, world.township_a, "assessment:trace", APPEALED))
    assert "得分率调整为 100.00%" in page_text(trace)


def test_the_appeal_list_is_scoped_and_its_queries_bounded(
    client, world, actors, published, django_assert_max_num_queries
):
    file(actors, published, world)
    file(actors, published, world, indicator="A05")
    client.force_login(actors["committee_a"])
    with django_assert_max_num_queries(12):
        page = client.get(reverse("assessment:appeal-list"))
    assert len(page.context["page_obj"]) == 2
    client.force_login(actors["committee_b"])
    assert len(client.get(reverse("assessment:appeal-list")).context["page_obj"]) == 0


# --- Appeals through the API ---------------------------------------------------------------------------


def test_the_appeal_api_files_decides_and_answers_field_errors(
    api, world, actors, published, django_capture_on_commit_callbacks
):
    api.force_authenticate(actors["township"])
    body = {"cycle": published.pk, "unit": world.township_a.code, "indicator": APPEALED, "reasons": "漏收"}
    missing = api.post(f"{API}appeals/", body, format="multipart")
    assert missing.status_code == 400 and missing.json()["fields"]["evidence"] == ["请上传证明材料。"]
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(f"{API}appeals/", {**body, "evidence": pdf()}, format="multipart")
    assert created.status_code == 201 and created.json()["status"] == "filed"
    twice = api.post(f"{API}appeals/", {**body, "evidence": pdf()}, format="multipart")
    assert twice.status_code == 400 and "已就该指标提出过申诉" in twice.json()["fields"]["indicator"][0]
    assert ScoreAppeal.objects.count() == 1
    appeal_id = created.json()["id"]
    assert api.post(f"{API}appeals/{appeal_id}/decide/", {"result": "dismiss", "decision_note": "x"}).status_code == 403
    api.force_authenticate(actors["committee_a"])
    no_percent = api.post(f"{API}appeals/{appeal_id}/decide/", {"result": "uphold", "decision_note": "成立"})
    assert no_percent.status_code == 400 and "adjusted_percent" in no_percent.json()["fields"]
    before = UnitResult.objects.get(cycle=published, region_code=world.township_a.code).total
    with django_capture_on_commit_callbacks(execute=True):
        upheld = api.post(
            f"{API}appeals/{appeal_id}/decide/", {"result": "uphold", "decision_note": "成立", "adjusted_percent": "50"}
        )
    assert upheld.status_code == 200 and upheld.json()["adjusted_percent"] == "50.00"
    line = IndicatorResult.objects.get(cycle=published, region_code=world.township_a.code, indicator=APPEALED)
    result = api.get(f"{API}results/?cycle={published.pk}&under={world.township_a.code}").json()["results"][0]
    assert float(result["total"]) == pytest.approx(float(before + (line.effective_weight / 2).quantize(before)))


# --- A sibling county ----------------------------------------------------------------------------------


def test_a_sibling_county_can_neither_see_nor_appeal_nor_download(client, api, world, actors, published, flag):
    appeal = file(actors, published, world)
    outsider = actors["committee_b"]
    client.force_login(outsider)
    for url in (
        reverse("assessment:appeal-detail", args=[appeal.pk]),
        reverse("assessment:appeal-evidence", args=[appeal.pk]),
        unit_url(published, world.township_a, "assessment:appeal-new", "A05"),
        unit_url(published, world.township_a, "assessment:unit-report"),
        unit_url(published, world.township_a, "assessment:unit-notice"),
        reverse("assessment:flag-detail", args=[flag.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            reverse("assessment:appeal-detail", args=[appeal.pk]), {"decision": "dismiss", "decision_note": "x"}
        ).status_code
        == 404
    )
    township_b = actors["township_b"]
    api.force_authenticate(township_b)
    assert api.get(f"{API}appeals/").json()["count"] == 0
    assert api.get(f"{API}appeals/{appeal.pk}/").status_code == 404
    assert api.get(f"{API}flags/{flag.pk}/").status_code == 404
    unit = UnitResult.objects.get(cycle=published, region_code=world.township_a.code)
    assert api.get(f"{API}results/{unit.pk}/report/").status_code == 404
    foreign = api.post(
        f"{API}appeals/",
        {"cycle": published.pk, "unit": world.township_a.code, "indicator": "A05", "reasons": "x", "evidence": pdf()},
        format="multipart",
    )
    assert foreign.status_code == 400 and "unit" in foreign.json()["fields"]
    appeal.refresh_from_db()
    assert ScoreAppeal.objects.count() == 1 and appeal.status == AppealStatus.FILED


# --- Flags ---------------------------------------------------------------------------------------------


def test_flags_are_listed_on_the_breakdown_and_open_with_their_records(client, api, world, actors, published, flag):
    client.force_login(actors["township"])
    page = client.get(unit_url(published, world.township_a))
    assert [f.pk for f, _summary in page.context["credibility"]] == [flag.pk]
    assert "10分钟内办结1件" in page_text(page)
    detail = client.get(reverse("assessment:flag-detail", args=[flag.pk]))
    assert [row["id"] for row in detail.context["rows"]] == flag.record_ids
    api.force_authenticate(actors["committee_city"])
    listed = api.get(f"{API}flags/?cycle={published.pk}").json()
    assert [f["id"] for f in listed["results"]] == [flag.pk] and listed["results"][0]["records"] == 1
    assert api.get(f"{API}flags/{flag.pk}/").json()["record_rows"][0]["id"] == flag.record_ids[0]


# --- Documents -----------------------------------------------------------------------------------------


def test_the_diagnostic_report_shows_dimensions_losses_flags_items_and_advice(
    client, api, world, actors, published, flag
):
    item = RectificationItem.objects.get(cycle=published, region_code=world.township_a.code, indicator=APPEALED)
    item.recurring = True
    item.save(update_fields=["recurring"])
    client.force_login(actors["township"])
    response = client.get(unit_url(published, world.township_a, "assessment:unit-report"))
    assert response["Content-Type"] == "application/pdf" and cjk_font_is_embedded_subset(response.content)
    text = pdf_text(response.content)
    advice = Indicator.objects.get(code=APPEALED).advice
    for expected in (
        "绩效诊断报告",
        "资源投入",
        "同级单位平均",
        "失分最多的指标",
        APPEALED,
        "秒办结",
        "回头看",
        advice[:12],
    ):
        assert expected in text.replace("\n", ""), expected
    api.force_authenticate(actors["township"])
    unit = UnitResult.objects.get(cycle=published, region_code=world.township_a.code)
    assert api.get(f"{API}results/{unit.pk}/report/").content[:5] == b"%PDF-"


def test_every_indicator_ships_with_advice(db):
    assert Indicator.objects.count() == 40 and not Indicator.objects.filter(advice="").exists()


def test_the_rectification_notice_lists_the_items_and_the_deadline(client, api, world, actors, published):
    items = RectificationItem.objects.filter(cycle=published, region_code=world.township_a.code)
    client.force_login(actors["township"])
    response = client.get(unit_url(published, world.township_a, "assessment:unit-notice"))
    assert cjk_font_is_embedded_subset(response.content)
    text = pdf_text(response.content).replace("\n", "")
    due = max(i.due_on for i in items)
    assert "整改通知书" in text and f"{due:%Y年%m月%d日}" in text and "甲街道" in text
    assert all(i.indicator in text for i in items)
    item = items.first()
    from_item = client.get(reverse("assessment:rectification-notice", args=[item.pk]))
    assert from_item.status_code == 200 and pdf_text(from_item.content).replace("\n", "") == text
    api.force_authenticate(actors["township"])
    assert api.get(f"{API}rectifications/{item.pk}/notice/").content[:5] == b"%PDF-"


def test_an_unpublished_cycle_has_no_notice(client, world, actors, media):
    cycle = computed_cycle(world)
    client.force_login(actors["committee_city"])
    assert client.get(unit_url(cycle, world.township_a, "assessment:unit-notice")).status_code == 404


def test_the_report_zip_is_built_by_a_job_with_progress(
    client, world, actors, published, django_capture_on_commit_callbacks
):
    client.force_login(actors["committee_city"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("assessment:bundle-start", args=[published.pk]))
    bundle = ReportBundle.objects.get()
    assert bundle.status == JobStatus.DONE and bundle.units == 4 and bundle.progress == 100
    progress = client.get(reverse("assessment:bundle-progress", args=[published.pk])).json()
    assert progress["running"] is False and progress["status"] == "done"
    archive = zipfile.ZipFile(
        io.BytesIO(b"".join(client.get(reverse("assessment:bundle-download", args=[published.pk])).streaming_content))
    )
    assert sorted(name.split("_")[0] for name in archive.namelist()) == sorted(
        [world.county_a.code, world.county_b.code, world.township_a.code, world.township_b.code]
    )
    assert "绩效诊断报告" in pdf_text(archive.read(archive.namelist()[0]))
    client.force_login(actors["committee_b"])  # the city's bundle is not theirs
    assert client.get(reverse("assessment:bundle-download", args=[published.pk])).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("assessment:bundle-start", args=[published.pk]))
    own = ReportBundle.objects.get(region_code=world.county_b.code)
    assert own.units == 2  # county B and its township


# --- Rectification -------------------------------------------------------------------------------------


def test_a_rectification_report_carries_evidence_and_a_return_its_reason(client, api, world, actors, published):
    item = RectificationItem.objects.filter(cycle=published, region_code=world.township_a.code).first()
    client.force_login(actors["township"])
    page = client.get(reverse("assessment:rectification-detail", args=[item.pk]))
    assert 'enctype="multipart/form-data"' in page_text(page)
    api.force_authenticate(actors["township"])
    fake = api.post(
        f"{API}rectifications/{item.pk}/report/",
        {"report": "已整改", "evidence": _exe()},
        format="multipart",
    )
    assert fake.status_code == 400 and "evidence" in fake.json()["fields"]
    item.refresh_from_db()
    assert item.status == RectificationStatus.OPEN and not item.evidence
    client.post(
        reverse("assessment:rectification-act", args=[item.pk, "report"]), {"report": "已补齐台账", "evidence": pdf()}
    )
    item.refresh_from_db()
    assert item.status == RectificationStatus.REPORTED and item.evidence
    assert client.get(reverse("assessment:rectification-evidence", args=[item.pk])).status_code == 200
    assessor = UserFactory(username="kh_a", role=Role.ASSESSOR, region=world.county_a)
    client.force_login(assessor)
    client.post(reverse("assessment:rectification-act", args=[item.pk, "return"]), {"note": "佐证不足"})
    item.refresh_from_db()
    assert item.status == RectificationStatus.OPEN and item.return_reason == "佐证不足"
    client.force_login(actors["township"])
    assert "退回理由：佐证不足" in page_text(client.get(reverse("assessment:rectification-detail", args=[item.pk])))
    assert api.get(f"{API}rectifications/{item.pk}/").json()["return_reason"] == "佐证不足"


def _exe():
    return SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")


# --- End to end ----------------------------------------------------------------------------------------


def test_publish_notice_appeal_upheld_changes_result_grade_and_excel_and_a_rerun_keeps_it(
    client, world, actors, media, django_capture_on_commit_callbacks
):
    """publish → notice → appeals upheld → total, annual result, grade and the ranking Excel
    change → a re-run keeps them → filing, decision and adjustment are in the audit trail."""
    from openpyxl import load_workbook

    cycle = computed_cycle(world)
    client.force_login(actors["committee_city"])
    client.post(reverse("assessment:cycle-finalise", args=[cycle.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("assessment:cycle-publish", args=[cycle.pk]))
    cycle.refresh_from_db()
    annual = AnnualResult.objects.get(cycle=cycle, region_code=world.township_a.code)
    assert annual.grade == "fail" and annual.result < 60  # no monthly table: every reported line scores 0

    client.force_login(actors["township"])
    notice = client.get(unit_url(cycle, world.township_a, "assessment:unit-notice"))
    assert "整改通知书" in pdf_text(notice.content)
    missing = list(
        IndicatorResult.objects.filter(cycle=cycle, region_code=world.township_a.code, status=LineStatus.MISSING_REPORT)
        .order_by("-effective_weight")
        .values_list("indicator", flat=True)
    )
    filed = []
    for indicator in missing:  # the unit appeals every unreported line: its tables were lost
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                unit_url(cycle, world.township_a, "assessment:appeal-new", indicator),
                {"reasons": "月报已按时报送，系统迁移时丢失", "evidence": pdf()},
            )
        filed.append(ScoreAppeal.objects.get(cycle=cycle, indicator=indicator, region_code=world.township_a.code))

    client.force_login(actors["committee_a"])
    for appeal in filed:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse("assessment:appeal-detail", args=[appeal.pk]),
                {"decision": "uphold", "adjusted_percent": "100", "decision_note": "经核实报表已按时报送"},
            )
    after = AnnualResult.objects.get(cycle=cycle, region_code=world.township_a.code)
    assert after.result > annual.result and after.grade != annual.grade
    total = UnitResult.objects.get(cycle=cycle, region_code=world.township_a.code).total

    client.force_login(actors["committee_city"])
    sheet = client.get(
        reverse("assessment:ranking", args=[cycle.pk]),
        {"level": 4, "parent": world.county_a.code, "format": "xlsx"},
    )
    workbook = load_workbook(io.BytesIO(sheet.content))
    rows = [[c.value for c in row] for row in workbook.active.iter_rows()]
    township = next(r for r in rows if world.township_a.code in r)
    assert float(after.result) in [float(v) for v in township if isinstance(v, int | float)]
    assert after.get_grade_display() in township

    from assessment.services import appeals as appeal_services

    appeal_services.rescore(cycle.pk)  # a re-run of the frozen cycle with the same inputs
    assert UnitResult.objects.get(cycle=cycle, region_code=world.township_a.code).total == total
    assert AnnualResult.objects.get(cycle=cycle, region_code=world.township_a.code).grade == after.grade

    trail = AuditLog.objects.filter(model="assessment.scoreappeal", object_id__in=[str(a.pk) for a in filed])
    assert trail.filter(action="create").count() == len(filed) and trail.filter(action="update").count() == len(filed)
    adjustments = AuditLog.objects.filter(model="assessment.cycle", object_id=str(cycle.pk)).filter(
        changes__has_key="appeal_adjustment"
    )
    assert adjustments.count() == len(filed)


def test_appeal_errors_are_english_under_english(world, actors, published):
    from django.utils import translation

    with translation.override("en"), pytest.raises(InputError) as exc:
        file(actors, published, world, reasons="", evidence=None)
    assert exc.value.message_dict["reasons"] == ["Please give the grounds for the appeal."]
    assert exc.value.message_dict["evidence"] == ["Please upload supporting documents."]
    assert not ScoreAppeal.objects.exists()


def test_the_appeal_and_flag_lists_of_the_api_make_a_bounded_number_of_queries(
    api, world, actors, published, flag, django_assert_max_num_queries
):
    file(actors, published, world)
    file(actors, published, world, indicator="A05")
    api.force_authenticate(actors["committee_city"])
    with django_assert_max_num_queries(10):
        appeals_page = api.get(f"{API}appeals/")
    with django_assert_max_num_queries(10):
        flags_page = api.get(f"{API}flags/?cycle={published.pk}")
    assert appeals_page.json()["count"] == 2 and flags_page.json()["count"] == 1


def test_an_upheld_half_year_appeal_moves_the_annual_result_of_the_year_end_cycle(world, actors, media):
    half = computed_cycle(world, kind="half_year")
    services.finalise(half, user=actors["committee_city"])
    with committed():
        services.publish(half, user=actors["committee_city"])
    year_end = computed_cycle(world)
    before = AnnualResult.objects.get(cycle=year_end, region_code=world.township_a.code)
    appeal = file(actors, half, world)
    assert appeals.rescore(half.pk) == [half.pk, year_end.pk]  # what upholding will queue
    decide(actors["committee_a"], appeal=appeal, uphold=True, note="漏收", adjusted_percent="100")
    after = AnnualResult.objects.get(cycle=year_end, region_code=world.township_a.code)
    assert after.half_year > before.half_year and after.result > before.result
