"""The assessment's inputs (SPEC §5.2–§5.4): monthly core tables (on time, late, corrections,
concurrent submissions), the public questionnaire (idempotent, rate-limited, anonymous in the
trail), household samples and offline entry, assessor groups and scores (finalised cycles
refuse), score reviews, veto rulings with their appeal path, innovation awards, tolerance
claims and the rectification loop — jurisdiction (404), roles (403), Chinese field errors and
bounded list queries on pages and the API."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessment import services
from assessment.choices import ClaimStatus, CycleStatus, RectificationStatus, RulingStatus, SurveyChannel
from assessment.models import (
    AssessorGroup,
    AssessorScore,
    Cycle,
    InnovationAward,
    MonthlyReport,
    RectificationItem,
    ScoreReview,
    SurveyResponse,
    ToleranceClaim,
    VetoRuling,
    month_deadline,
)
from assessment.services import monthly_reports
from assessment.views.surveys import SURVEY_LIMIT
from governance.choices import AuditAction, Role
from governance.models import AuditLog, User
from tests.factories import RegionFactory, UserFactory

from .factories import arrange

pytestmark = pytest.mark.django_db

API = "/api/v1/assessment/"
VALUES = {
    "funding_yuan": Decimal("12000.50"),
    "mediators_fulltime": 2,
    "mediators_parttime": 5,
    "petitions_received": 10,
    "petitions_resolved_first": 8,
    "criminal_cases": 1,
    "key_persons_registered": 6,
    "key_persons_managed": 6,
    "households_reached": 300,
    "cadres": 20,
    "cadres_on_track": 15,
}


def as_user(api, user):
    api.force_authenticate(User.objects.get(pk=user.pk))
    return api


def previous_month(months: int = 1) -> dt.date:
    day = timezone.localdate().replace(day=1)
    for _ in range(months):
        day = (day - dt.timedelta(days=1)).replace(day=1)
    return day


def pdf(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% test\n", content_type="application/pdf")


def fields_of(response) -> dict:
    body = response.json()
    assert set(body) == {"detail", "fields"}, body
    return body["fields"]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def ax(world, people):
    """County A and B under the city, a year-end cycle of the city, and the assessment's actors."""
    world.village_a.households = 200
    world.village_a.save()
    world.village_b.households = 150
    world.village_b.save()
    cycle = Cycle.objects.create(kind="year_end", year=2026, root=world.city, levels=[2, 3, 4])
    return {
        "cycle": cycle,
        "township": people["township"],  # centre staff of township A
        "township_b": UserFactory(username="township_b", role=Role.CENTRE_STAFF, region=world.township_b),
        "committee_city": UserFactory(username="zfw_city", role=Role.COMMITTEE_STAFF, region=world.city),
        "committee_a": UserFactory(username="zfw_a", role=Role.COMMITTEE_STAFF, region=world.county_a),
        "assessor_a": UserFactory(username="khy_a", role=Role.ASSESSOR, region=world.county_a),
        "assessor_a2": UserFactory(username="khy_a2", role=Role.ASSESSOR, region=world.county_a),
        "assessor_b": UserFactory(username="khy_b", role=Role.ASSESSOR, region=world.county_b),
        "assessor_city": UserFactory(username="khy_city", role=Role.ASSESSOR, region=world.city),
    }


def make_group(ax, world, name="第一考核组", members=None, units=None):
    return services.group_save(
        user=ax["committee_city"],
        cycle=ax["cycle"],
        name=name,
        members=members or [ax["assessor_a"]],
        units=units or [world.township_a],
    )


# --- Monthly core table ----------------------------------------------------------------------------------


def report_url(township, month: dt.date) -> str:
    return reverse("assessment:report-form", args=[township.code, month.year, month.month])


def test_a_township_submits_its_table_on_the_page(client, world, ax):
    month = timezone.localdate().replace(day=1)
    client.force_login(ax["township"])
    response = client.post(report_url(world.township_a, month), VALUES)
    assert response.status_code == 302
    report = MonthlyReport.objects.get()
    assert (report.township, report.month, report.is_late) == (world.township_a, month, False)
    assert report.deadline == month_deadline(month)
    assert report.submitted_by == ax["township"]
    assert report.cadres_on_track == 15
    assert AuditLog.objects.filter(model="assessment.monthlyreport", action=AuditAction.CREATE).count() == 1
    page = client.get(report_url(world.township_a, month)).content.decode()
    assert "按时报送" in page and "保存更正" in page


def test_a_table_submitted_after_the_deadline_is_stored_as_late(world, ax):
    month = dt.date(2026, 3, 1)
    after = month_deadline(month) + dt.timedelta(seconds=1)
    report, created = services.report_submit(
        user=ax["township"], township=world.township_a, month=month, values=VALUES, now=after
    )
    assert created and report.is_late
    on_time, _created = services.report_submit(
        user=ax["township"], township=world.township_a, month=dt.date(2026, 4, 1), values=VALUES,
        now=month_deadline(dt.date(2026, 4, 1)),
    )  # fmt: skip
    assert not on_time.is_late  # the deadline itself is still on time


def test_a_correction_before_the_deadline_keeps_the_first_submission_time(world, ax):
    month = dt.date(2026, 3, 1)
    first_at = timezone.make_aware(dt.datetime(2026, 4, 1, 9))
    report, _ = services.report_submit(
        user=ax["township"], township=world.township_a, month=month, values=VALUES, now=first_at
    )
    corrected, created = services.report_submit(
        user=world.user_a, township=world.township_a, month=month, values={**VALUES, "criminal_cases": 3},
        now=timezone.make_aware(dt.datetime(2026, 4, 5, 23)),
    )  # fmt: skip
    assert not created and corrected.pk == report.pk
    corrected.refresh_from_db()
    assert (corrected.criminal_cases, corrected.submitted_at, corrected.is_late) == (3, first_at, False)
    assert corrected.submitted_by == ax["township"]
    update = AuditLog.objects.filter(model="assessment.monthlyreport", action=AuditAction.UPDATE).get()
    assert update.changes["criminal_cases"] == [1, 3]
    assert MonthlyReport.objects.count() == 1


def test_a_table_cannot_be_changed_after_its_deadline_but_resending_it_is_harmless(world, ax):
    month = dt.date(2026, 3, 1)
    services.report_submit(
        user=ax["township"], township=world.township_a, month=month, values=VALUES,
        now=timezone.make_aware(dt.datetime(2026, 4, 2)),
    )  # fmt: skip
    later = month_deadline(month) + dt.timedelta(days=1)
    _same, created = services.report_submit(
        user=ax["township"], township=world.township_a, month=month, values=VALUES, now=later
    )
    assert not created
    with pytest.raises(services.InputError) as exc:
        services.report_submit(
            user=ax["township"], township=world.township_a, month=month, values={**VALUES, "cadres": 30}, now=later
        )
    assert "不能再修改" in exc.value.message_dict["month"][0]
    assert MonthlyReport.objects.get().cadres == 20


def test_a_future_month_cannot_be_submitted(world, ax):
    next_month = (timezone.localdate().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    with pytest.raises(services.InputError) as exc:
        services.report_submit(user=ax["township"], township=world.township_a, month=next_month, values=VALUES)
    assert exc.value.message_dict == {"month": ["不能报送尚未开始的月份。"]}


def test_a_part_larger_than_its_whole_is_a_chinese_field_error_on_page_and_api(client, api, world, ax):
    month = previous_month()
    bad = {**VALUES, "petitions_resolved_first": 11, "key_persons_managed": 7, "cadres_on_track": 21}
    client.force_login(ax["township"])
    response = client.post(report_url(world.township_a, month), bad)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["petitions_resolved_first"] == ["一次性化解的信访事项不能多于受理的信访事项。"]
    assert errors["key_persons_managed"] == ["在管的重点人员不能多于登记的重点人员。"]
    assert errors["cadres_on_track"] == ["培训学时达进度的干部不能多于基层干部总数。"]
    body = {**{k: str(v) for k, v in bad.items()}, "township": world.township_a.code, "month": f"{month:%Y-%m}"}
    response = as_user(api, ax["township"]).post(f"{API}monthly-reports/", body, format="json")
    assert response.status_code == 400
    fields = fields_of(response)
    assert fields["petitions_resolved_first"] == ["一次性化解的信访事项不能多于受理的信访事项。"]
    assert set(fields) == {"petitions_resolved_first", "key_persons_managed", "cadres_on_track"}
    response = as_user(api, ax["township"]).post(
        f"{API}monthly-reports/", {**body, "month": "2026/13", "cadres": -1}, format="json"
    )
    fields = fields_of(response)
    assert fields["month"] == ["月份格式应为YYYY-MM，例如2026-03。"]
    assert fields["cadres"] == ["不能为负数。"]
    assert not MonthlyReport.objects.exists()


def test_posting_the_same_table_twice_over_the_api_keeps_one_row(api, world, ax):
    month = previous_month()
    body = {**{k: str(v) for k, v in VALUES.items()}, "township": world.township_a.code, "month": f"{month:%Y-%m}"}
    first = as_user(api, ax["township"]).post(f"{API}monthly-reports/", body, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["month"] == f"{month:%Y-%m}"
    second = as_user(api, ax["township"]).post(f"{API}monthly-reports/", body, format="json")
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert MonthlyReport.objects.count() == 1


def test_a_concurrent_first_submission_becomes_a_correction_not_a_duplicate(monkeypatch, world, ax):
    """The other request's row appears between our check and our insert: the unique
    constraint fires and the service answers with the stored table."""
    month = previous_month()
    other, _ = services.report_submit(user=ax["township"], township=world.township_a, month=month, values=VALUES)
    real = monthly_reports._existing_report
    calls = []

    def not_yet_visible(township, month):
        calls.append(1)
        return None if len(calls) == 1 else real(township, month)

    monkeypatch.setattr(monthly_reports, "_existing_report", not_yet_visible)
    report, created = services.report_submit(user=world.user_a, township=world.township_a, month=month, values=VALUES)
    assert (report.pk, created, len(calls)) == (other.pk, False, 2)
    assert MonthlyReport.objects.count() == 1


def test_api_corrections_use_patch_and_keep_township_and_month(api, world, ax):
    month = timezone.localdate().replace(day=1)
    report, _ = services.report_submit(user=ax["township"], township=world.township_a, month=month, values=VALUES)
    url = f"{API}monthly-reports/{report.pk}/"
    response = as_user(api, world.user_a).patch(url, {"households_reached": 350}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["households_reached"] == 350
    response = as_user(api, world.user_a).patch(url, {"township": world.township_b.code}, format="json")
    assert response.status_code == 400  # not in the caller's jurisdiction: answered like an unknown code
    response = as_user(api, world.user_a).patch(url, {"cadres": 1}, format="json")
    assert fields_of(response) == {"cadres_on_track": ["培训学时达进度的干部不能多于基层干部总数。"]}


def test_monthly_tables_outside_the_jurisdiction_answer_404(client, api, world, ax):
    month = previous_month()
    report, _ = services.report_submit(user=ax["township"], township=world.township_a, month=month, values=VALUES)
    client.force_login(world.user_b)
    assert client.get(report_url(world.township_a, month)).status_code == 404
    assert client.post(report_url(world.township_a, month), VALUES).status_code == 404
    assert as_user(api, world.user_b).get(f"{API}monthly-reports/{report.pk}/").status_code == 404
    assert as_user(api, world.user_b).patch(f"{API}monthly-reports/{report.pk}/", {"cadres": 21}).status_code == 404
    assert as_user(api, world.user_b).get(f"{API}monthly-reports/").json()["count"] == 0
    body = {**{k: str(v) for k, v in VALUES.items()}, "township": world.township_a.code, "month": f"{month:%Y-%m}"}
    response = as_user(api, world.user_b).post(f"{API}monthly-reports/", body, format="json")
    assert "township" in fields_of(response)
    assert as_user(api, world.province_user).get(f"{API}monthly-reports/").json()["count"] == 1


def test_roles_without_the_capability_are_refused(client, api, world, ax):
    month = previous_month()
    client.force_login(world.worker_a)
    assert client.get(reverse("assessment:report-list")).status_code == 403
    client.force_login(ax["assessor_a"])
    assert client.get(reverse("assessment:report-list")).status_code == 200  # assessors read
    assert client.post(report_url(world.township_a, month), VALUES).status_code == 403
    body = {**{k: str(v) for k, v in VALUES.items()}, "township": world.township_a.code, "month": f"{month:%Y-%m}"}
    assert as_user(api, ax["assessor_a"]).post(f"{API}monthly-reports/", body, format="json").status_code == 403
    assert as_user(api, world.worker_a).get(f"{API}monthly-reports/").status_code == 403


def test_the_grid_shows_on_time_late_and_missing_with_bounded_queries(client, world, ax):
    old = dt.date(2026, 1, 1)
    services.report_submit(
        user=ax["township"], township=world.township_a, month=old, values=VALUES,
        now=month_deadline(old) + dt.timedelta(days=2),
    )  # fmt: skip
    client.force_login(world.province_user)

    def render():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("assessment:report-list"), {"year": 2026})
        assert response.status_code == 200
        return response, len(ctx.captured_queries)

    render()  # warm the per-day caches (calendar warning) and the session
    response, small = render()
    rows = response.context["rows"]
    cells = {row["township"].code: [c["state"] for c in row["cells"]] for row in rows}
    assert cells[world.township_a.code][0] == "late"
    assert cells[world.township_b.code][0] == "missing"
    assert response.context["totals"]["late"] == 1
    for n in range(2, 8):
        township = RegionFactory.child(world.county_b, n, name=f"新镇{n}")
        services.report_submit(user=None, township=township, month=old, values=VALUES, now=month_deadline(old))
    response, large = render()
    assert len(response.context["rows"]) == 8
    assert response.context["totals"]["on_time"] == 6
    assert small == large
    assert large <= 14


# --- Surveys: the public page ----------------------------------------------------------------------------


def answers(**overrides) -> dict:
    return {
        "client_key": str(uuid.uuid4()),
        "safety": "safe",
        "satisfaction": "basically",
        "awareness": "aware",
        **overrides,
    }


def survey_url(village) -> str:
    return reverse("survey:form", args=[village.code])


def test_the_public_questionnaire_needs_no_login_and_records_an_anonymous_answer(client, world, ax):
    page = client.get(survey_url(world.village_a))
    assert page.status_code == 200
    html = page.content.decode()
    assert world.village_a.name in html and "比较安全" in html and "基本满意" in html and "不知晓" in html
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    response = client.post(survey_url(world.village_a), answers(), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302
    assert response["Location"] == reverse("survey:thanks", args=[world.village_a.code])
    sheet = SurveyResponse.objects.get()
    assert (sheet.channel, sheet.region_code, sheet.safety) == (SurveyChannel.ONLINE, world.village_a.code, "safe")
    assert sheet.evaluator is None and sheet.household == ""
    entry = AuditLog.objects.get(model="assessment.surveyresponse")
    assert (entry.actor_name, entry.ip, entry.region_code) == ("anonymous", None, world.village_a.code)
    assert "safety" not in entry.changes  # the trail does not repeat the answers
    assert client.get(response["Location"]).status_code == 200


def test_sending_the_same_sheet_again_records_it_once(client, world, ax):
    data = answers()
    for _ in range(3):
        assert client.post(survey_url(world.village_a), data).status_code == 302
    assert SurveyResponse.objects.count() == 1


def test_the_questionnaire_is_rate_limited_per_address(client, world, ax):
    for _ in range(SURVEY_LIMIT):
        assert client.post(survey_url(world.village_a), answers()).status_code == 302
    response = client.post(survey_url(world.village_a), answers(safety="unsafe"))
    assert response.status_code == 429
    html = response.content.decode()
    assert "提交过于频繁" in html
    assert response.context["form"]["safety"].value() == "unsafe"  # the choice is kept
    assert SurveyResponse.objects.count() == SURVEY_LIMIT
    assert client.post(survey_url(world.village_a), answers(), REMOTE_ADDR="10.9.9.9").status_code == 302


def test_unanswered_questions_are_field_errors_and_nothing_is_stored(client, world, ax):
    response = client.post(survey_url(world.village_a), answers(satisfaction="", awareness="maybe"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["satisfaction"] == ["请选择一项。"]
    assert errors["awareness"] == ["请选择有效的选项。"]
    assert not SurveyResponse.objects.exists()


def test_only_villages_have_a_questionnaire(client, world, ax):
    assert client.get(reverse("survey:form", args=[world.township_a.code])).status_code == 404
    assert client.get(reverse("survey:form", args=["999999999999"])).status_code == 404


# --- Surveys: staff pages, samples and household visits --------------------------------------------------


def test_centre_staff_print_qr_codes_made_on_the_server(client, world, ax):
    client.force_login(world.user_a)
    response = client.get(reverse("assessment:survey-qr"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == 1 and world.village_a.name in html and world.village_b.name not in html
    assert f"/survey/{world.village_a.code}/" in html
    svg = client.get(reverse("assessment:survey-qr-svg", args=[world.village_a.code]))
    assert svg["Content-Type"] == "image/svg+xml" and svg.content.startswith(b"<?xml")
    assert client.get(reverse("assessment:survey-qr-svg", args=[world.village_b.code])).status_code == 404


def test_the_household_sample_is_reproducible_distinct_and_in_range(world, ax):
    first = services.survey_sample(world.village_a, 2026, 1)
    again = services.survey_sample(world.village_a, 2026, 1)
    numbers = [h.number for h in first]
    assert numbers == [h.number for h in again]
    assert len(numbers) == services.SURVEY_SAMPLE_SIZE + services.SURVEY_RESERVE_SIZE == len(set(numbers))
    assert all(1 <= n <= 200 for n in numbers)
    assert [h.reserve for h in first].count(True) == services.SURVEY_RESERVE_SIZE
    assert numbers != [h.number for h in services.survey_sample(world.village_a, 2026, 2)]
    small = services.sample_households("620102001001", 7, 2026, 1, 40)
    assert sorted(small) == list(range(1, 8))  # a small village: everyone, once


def test_an_evaluator_enters_a_sampled_household_and_entering_it_again_corrects_it(client, world, ax):
    today = timezone.localdate()
    round_no = services.round_of(today)
    household = services.survey_sample(world.village_a, today.year, round_no)[0].number
    client.force_login(ax["assessor_a"])
    sample_page = client.get(reverse("assessment:survey-sample", args=[world.village_a.code]))
    assert sample_page.status_code == 200
    assert len(sample_page.context["sample"]) == 40
    url = reverse("assessment:survey-entry", args=[world.village_a.code, today.year, round_no, household])
    data = {"visited_on": today.isoformat(), "safety": "fairly_safe", "satisfaction": "", "awareness": "unaware"}
    assert client.post(url, data).status_code == 302
    assert client.post(url, {**data, "satisfaction": "satisfied"}).status_code == 302
    sheet = SurveyResponse.objects.get()
    assert (sheet.channel, sheet.household, sheet.evaluator) == (
        SurveyChannel.OFFLINE,
        str(household),
        ax["assessor_a"],
    )
    assert (sheet.safety, sheet.satisfaction, sheet.awareness) == ("fairly_safe", "satisfied", "unaware")
    actions = list(AuditLog.objects.filter(model="assessment.surveyresponse").values_list("action", "actor_name"))
    assert sorted(actions) == [("create", "khy_a"), ("update", "khy_a")]
    page = client.get(reverse("assessment:survey-sample", args=[world.village_a.code]))
    assert page.context["entered"] == 1


def test_households_outside_the_sample_and_empty_sheets_are_refused(client, world, ax):
    today = timezone.localdate()
    round_no = services.round_of(today)
    sample = {h.number for h in services.survey_sample(world.village_a, today.year, round_no)}
    outside = next(n for n in range(1, 201) if n not in sample)
    client.force_login(ax["assessor_a"])
    url = reverse("assessment:survey-entry", args=[world.village_a.code, today.year, round_no, outside])
    assert client.get(url).status_code == 404
    with pytest.raises(services.InputError) as exc:
        services.survey_record_offline(
            user=ax["assessor_a"], village=world.village_a, year=today.year, round_no=round_no,
            household=outside, visited_on=today, safety="safe",
        )  # fmt: skip
    assert exc.value.message_dict["household"] == [f"第{outside}户不在本轮抽样名单内。"]
    inside = min(sample)
    with pytest.raises(services.InputError) as exc:
        services.survey_record_offline(
            user=ax["assessor_a"], village=world.village_a, year=today.year, round_no=round_no,
            household=inside, visited_on=today + dt.timedelta(days=1),
        )  # fmt: skip
    assert exc.value.message_dict["visited_on"] == ["走访日期不能晚于今天。"]
    assert exc.value.message_dict["safety"] == ["请至少记录一个问题的回答。"]
    assert not SurveyResponse.objects.exists()


def test_only_evaluators_of_the_village_see_its_sample(client, api, world, ax):
    client.force_login(ax["assessor_b"])
    assert client.get(reverse("assessment:survey-sample", args=[world.village_a.code])).status_code == 404
    client.force_login(ax["township"])  # the surveyed unit must not know whom the evaluator will ask
    assert client.get(reverse("assessment:survey-sample", args=[world.village_a.code])).status_code == 403
    response = as_user(api, ax["township"]).get(f"{API}surveys/sample/", {"village": world.village_a.code})
    assert response.status_code == 403
    response = as_user(api, ax["assessor_b"]).get(f"{API}surveys/sample/", {"village": world.village_a.code})
    assert response.status_code == 404
    response = as_user(api, ax["assessor_a"]).get(
        f"{API}surveys/sample/", {"village": world.village_a.code, "year": 2026, "round": 2}
    )
    assert response.status_code == 200
    assert len(response.json()["households"]) == 40


def test_the_api_records_offline_answers_and_lists_them_in_scope(api, world, ax):
    household = services.survey_sample(world.village_a, 2026, 1)[0].number
    body = {
        "village": world.village_a.code, "year": 2026, "round_no": 1, "household": household,
        "visited_on": "2026-05-10", "safety": "safe", "satisfaction": "satisfied", "awareness": "aware",
    }  # fmt: skip
    first = as_user(api, ax["assessor_a"]).post(f"{API}surveys/", body, format="json")
    assert first.status_code == 201, first.json()
    again = as_user(api, ax["assessor_a"]).post(f"{API}surveys/", {**body, "safety": "unsafe"}, format="json")
    assert again.status_code == 200 and again.json()["safety"] == "unsafe"
    bad = as_user(api, ax["assessor_a"]).post(
        f"{API}surveys/", {**body, "visited_on": "2026-08-01", "round_no": 3}, format="json"
    )
    assert fields_of(bad)["round_no"] == ["轮次只能是1（上半年）或2（下半年）。"]
    bad = as_user(api, ax["assessor_a"]).post(f"{API}surveys/", {**body, "visited_on": "2026-08-01"}, format="json")
    assert fields_of(bad) == {"visited_on": ["走访日期须在2026年上半年。"]}
    denied = as_user(api, ax["assessor_b"]).post(f"{API}surveys/", body, format="json")
    assert "village" in fields_of(denied)
    assert as_user(api, world.user_a).post(f"{API}surveys/", body, format="json").status_code == 403
    services.survey_answer_online(
        village=world.village_b,
        client_key=uuid.uuid4().hex,
        **{k: body[k] for k in ("safety", "satisfaction", "awareness")},
    )
    listed = as_user(api, world.user_a).get(f"{API}surveys/").json()
    assert listed["count"] == 1 and listed["results"][0]["village"] == world.village_a.code
    assert "client_key" not in listed["results"][0]
    assert as_user(api, world.province_user).get(f"{API}surveys/", {"channel": "online"}).json()["count"] == 1


def test_the_survey_village_list_has_bounded_queries(client, world, ax):
    client.force_login(world.province_user)

    def render():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("assessment:survey-villages"))
        assert response.status_code == 200
        return response, len(ctx.captured_queries)

    services.survey_answer_online(
        village=world.village_a, client_key="a" * 32, safety="safe", satisfaction="satisfied", awareness="aware"
    )
    render()  # warm the per-day caches
    response, small = render()
    counts = {v.code: v.counts for v in response.context["villages"]}
    assert counts[world.village_a.code]["online"] == 1
    for n in range(2, 9):
        village = RegionFactory.child(world.township_b, n, households=50)
        services.survey_answer_online(
            village=village, client_key=f"{n:032d}", safety="safe", satisfaction="satisfied", awareness="aware"
        )
    response, large = render()
    assert small == large and len(response.context["villages"]) == 9


# --- Assessor groups and scores --------------------------------------------------------------------------


def test_committee_staff_form_a_group_on_the_page_and_its_assessor_scores(client, world, ax):
    client.force_login(ax["committee_city"])
    response = client.post(
        reverse("assessment:group-list"),
        {
            "cycle": ax["cycle"].pk,
            "name": "第一考核组",
            "members": [ax["assessor_a"].pk, ax["assessor_city"].pk],
            "units": [world.township_a.code, world.county_a.code],
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    group = AssessorGroup.objects.get()
    assert set(group.units.values_list("code", flat=True)) == {world.township_a.code, world.county_a.code}
    assert AuditLog.objects.filter(model="assessment.assessorgroup", action="update").exists()  # membership
    client.force_login(ax["assessor_a"])
    scoring = client.get(reverse("assessment:scoring"))
    assert scoring.status_code == 200 and world.township_a.name in scoring.content.decode()
    url = reverse("assessment:score-unit", args=[group.pk, world.township_a.code])
    page = client.get(url)
    assert page.status_code == 200
    assert "A01" in page.content.decode() and "A02" not in page.content.decode()  # only assessed indicators
    assert client.post(url, {"score_A01": "85", "note_A01": "场所规范", "score_B05": "90.5"}).status_code == 302
    assert client.post(url, {"score_A01": "80"}).status_code == 302
    scores = dict(AssessorScore.objects.values_list("indicator", "score"))
    assert scores == {"A01": Decimal("80.00"), "B05": Decimal("90.50")}
    response = client.post(url, {"score_A01": "101"})
    assert response.context["form"].errors["score_A01"] == ["评分应在0到100之间。"]


def test_every_member_must_cover_every_unit_of_the_group(world, ax):
    with pytest.raises(services.InputError) as exc:
        make_group(ax, world, members=[ax["assessor_b"], world.user_a], units=[world.township_a])
    messages = exc.value.message_dict["members"]
    assert "考核员“khy_b”的管辖范围不包括：甲街道。" in messages
    assert "“centre_a”不是在用的考核员账号。" in messages
    with pytest.raises(services.InputError) as exc:
        make_group(ax, world, units=[world.village_a])
    assert exc.value.message_dict["units"] == ["“甲社区”不是本考核周期的被考核单位。"]


def test_groups_are_formed_at_or_above_the_cycle_root_only(world, ax):
    with pytest.raises(services.InputError) as exc:
        services.group_save(
            user=ax["committee_a"], cycle=ax["cycle"], name="县组", members=[ax["assessor_a"]], units=[world.township_a]
        )
    assert "cycle" in exc.value.message_dict


def test_groups_over_the_api_keep_units_that_were_scored(api, world, ax):
    body = {
        "cycle": ax["cycle"].pk,
        "name": "接口组",
        "members": [ax["assessor_a"].pk],
        "units": [world.township_a.code],
    }
    created = as_user(api, ax["committee_city"]).post(f"{API}assessor-groups/", body, format="json")
    assert created.status_code == 201, created.json()
    url = f"{API}assessor-groups/{created.json()['id']}/"
    duplicate = as_user(api, ax["committee_city"]).post(f"{API}assessor-groups/", body, format="json")
    assert fields_of(duplicate) == {"name": ["本考核周期已有同名考核组。"]}
    group = AssessorGroup.objects.get()
    services.score_record(user=ax["assessor_a"], group=group, unit=world.township_a, indicator="A01", score=88)
    moved = as_user(api, ax["committee_city"]).patch(url, {"units": [world.county_a.code]}, format="json")
    assert fields_of(moved) == {"units": ["已有评分的单位不能移出考核组：甲街道。"]}
    grown = as_user(api, ax["committee_city"]).patch(
        url,
        {"units": [world.township_a.code, world.county_a.code], "members": [ax["assessor_a"].pk, ax["assessor_a2"].pk]},
        format="json",
    )
    assert grown.status_code == 200, grown.json()
    assert sorted(grown.json()["units"]) == [world.county_a.code, world.township_a.code]
    assert as_user(api, ax["assessor_a"]).patch(url, {"name": "改名"}, format="json").status_code == 403
    assert as_user(api, ax["committee_a"]).patch(url, {"name": "改名"}, format="json").status_code == 404


def test_rescoring_over_the_api_updates_the_one_row(api, world, ax):
    group = make_group(ax, world)
    body = {"group": group.pk, "unit": world.township_a.code, "indicator": "A01", "score": "70", "note": "初评"}
    first = as_user(api, ax["assessor_a"]).post(f"{API}assessor-scores/", body, format="json")
    assert first.status_code == 201, first.json()
    again = as_user(api, ax["assessor_a"]).post(f"{API}assessor-scores/", {**body, "score": "75.5"}, format="json")
    assert again.status_code == 200 and again.json()["score"] == "75.50"
    assert AssessorScore.objects.get().score == Decimal("75.50")
    assert first.json()["cycle"] == ax["cycle"].pk


def test_scores_are_checked_field_by_field(api, world, ax):
    group = make_group(ax, world)

    def post(*args, **kwargs):
        return as_user(api, ax["assessor_a"]).post(*args, **kwargs)

    body = {"group": group.pk, "unit": world.township_a.code, "indicator": "A01", "score": "70"}
    assert fields_of(post(f"{API}assessor-scores/", {**body, "score": "150"}, format="json")) == {
        "score": ["评分应在0到100之间。"]
    }
    assert fields_of(post(f"{API}assessor-scores/", {**body, "indicator": "A02"}, format="json")) == {
        "indicator": ["只能对由考核组评分的定性指标评分。"]
    }
    assert fields_of(post(f"{API}assessor-scores/", {**body, "unit": world.county_a.code}, format="json")) == {
        "unit": ["该单位不在本考核组的负责范围内。"]
    }
    # A fellow assessor of the county who is not a member: the group is not theirs to see.
    other = as_user(api, ax["assessor_a2"]).post(f"{API}assessor-scores/", body, format="json")
    assert "group" in fields_of(other)
    assert not AssessorScore.objects.exists()


def test_a_finalised_cycle_refuses_scores_groups_and_reviews(client, api, world, ax):
    group = make_group(ax, world)
    arrange(Cycle.objects.filter(pk=ax["cycle"].pk), status=CycleStatus.FINALISED)
    body = {"group": group.pk, "unit": world.township_a.code, "indicator": "A01", "score": "70"}
    response = as_user(api, ax["assessor_a"]).post(f"{API}assessor-scores/", body, format="json")
    assert response.status_code == 400
    assert fields_of(response)["cycle"] == ["考核周期已定稿发布，不能再修改评分、审核、考核组或容错申请。"]
    client.force_login(ax["assessor_a"])
    page = client.get(reverse("assessment:score-unit", args=[group.pk, world.township_a.code]))
    assert page.context["frozen"] and "不能再修改" in page.content.decode()
    response = client.post(
        reverse("assessment:score-unit", args=[group.pk, world.township_a.code]), {"score_A01": "60"}
    )
    assert response.status_code == 200 and not AssessorScore.objects.exists()
    with pytest.raises(services.InputError):
        make_group(ax, world, name="补充组")
    with pytest.raises(services.InputError):
        services.review_record(
            user=ax["committee_city"], cycle=ax["cycle"], unit=world.township_a, indicator="A01",
            kind="not_applicable", reason="无校园",
        )  # fmt: skip


def test_groups_scores_and_reviews_outside_the_jurisdiction_answer_404(client, api, world, ax):
    group = make_group(ax, world)
    score, _ = services.score_record(
        user=ax["assessor_a"], group=group, unit=world.township_a, indicator="A01", score=70
    )
    assert as_user(api, ax["assessor_b"]).get(f"{API}assessor-scores/{score.pk}/").status_code == 404
    assert as_user(api, ax["assessor_b"]).get(f"{API}assessor-groups/{group.pk}/").status_code == 404
    assert as_user(api, ax["assessor_a"]).get(f"{API}assessor-groups/{group.pk}/").status_code == 200  # member
    assert as_user(api, world.user_b).get(f"{API}assessor-scores/").json()["count"] == 0
    client.force_login(ax["assessor_b"])
    assert client.get(reverse("assessment:score-unit", args=[group.pk, world.township_a.code])).status_code == 404
    client.force_login(ax["committee_city"])
    assert client.get(reverse("assessment:group-edit", args=[group.pk])).status_code == 200
    client.force_login(ax["committee_a"])
    assert client.get(reverse("assessment:group-edit", args=[group.pk])).status_code == 404


def test_a_reviewer_accepts_a_spread_over_15_points_or_marks_a_line_not_applicable(client, world, ax):
    g1 = make_group(ax, world, name="一组")
    g2 = make_group(ax, world, name="二组", members=[ax["assessor_a2"]])
    services.score_record(user=ax["assessor_a"], group=g1, unit=world.township_a, indicator="A01", score=90)
    services.score_record(user=ax["assessor_a2"], group=g2, unit=world.township_a, indicator="A01", score=80)
    review = {"user": ax["committee_city"], "cycle": ax["cycle"], "unit": world.township_a, "indicator": "A01"}
    with pytest.raises(services.InputError) as exc:
        services.review_record(**review, kind="accept_spread", reason="差异大")
    assert exc.value.message_dict == {"kind": ["各考核组评分差异未超过15分，无需审核。"]}
    services.score_record(user=ax["assessor_a2"], group=g2, unit=world.township_a, indicator="A01", score=70)
    accepted = services.review_record(**review, kind="accept_spread", reason="两组标准不同，予以接受")
    assert accepted.reviewer == ax["committee_city"]
    with pytest.raises(services.InputError) as exc:
        services.review_record(**{**review, "indicator": "C14"}, kind="accept_spread", reason="x")
    assert "尚无评分" in exc.value.message_dict["kind"][0]
    services.review_record(**{**review, "indicator": "C14"}, kind="not_applicable", reason="辖区内无学校")
    assert ScoreReview.objects.count() == 2
    with pytest.raises(services.InputError) as exc:  # a unit never reviews itself
        services.review_record(
            user=ax["committee_a"],
            cycle=ax["cycle"],
            unit=world.county_a,
            indicator="A01",
            kind="not_applicable",
            reason="x",
        )
    assert "unit" in exc.value.message_dict
    client.force_login(ax["committee_city"])
    page = client.get(reverse("assessment:review-list"), {"cycle": ax["cycle"].pk, "all": "1"})
    line = next(iter(page.context["page_obj"]))
    assert (line["groups"], line["spread"], line["flagged"], line["reviewed"]) == (2, Decimal("20.00"), True, True)


def test_reviews_are_recorded_on_the_page_with_field_errors(client, world, ax):
    client.force_login(ax["committee_city"])
    url = f"{reverse('assessment:review-list')}?cycle={ax['cycle'].pk}"
    response = client.post(
        url,
        {
            "cycle": ax["cycle"].pk,
            "unit": world.township_a.code,
            "indicator": "C14",
            "kind": "not_applicable",
            "reason": "",
        },
    )
    assert response.context["form"].errors["reason"] == ["请填写审核理由。"]
    response = client.post(
        url,
        {
            "cycle": ax["cycle"].pk,
            "unit": world.township_a.code,
            "indicator": "C14",
            "kind": "not_applicable",
            "reason": "无学校",
        },
    )
    assert response.status_code == 302
    assert ScoreReview.objects.get().kind == "not_applicable"
    client.force_login(ax["assessor_a"])
    assert client.post(url, {"cycle": ax["cycle"].pk}).status_code == 403


# --- Veto rulings ----------------------------------------------------------------------------------------


def test_a_veto_ruling_is_appealed_by_the_unit_and_decided_by_the_committee(client, world, ax, media):
    client.force_login(ax["committee_city"])
    response = client.post(
        reverse("assessment:veto-new"),
        {
            "unit": world.township_a.code,
            "indicator": "V03",
            "occurred_on": "2026-06-01",
            "description": "发生重大群体性事件。",
            "evidence": pdf(),
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    ruling = VetoRuling.objects.get()
    assert (ruling.status, ruling.recorded_by, ruling.region_code) == (
        RulingStatus.IN_FORCE,
        ax["committee_city"],
        world.township_a.code,
    )
    detail = reverse("assessment:veto-detail", args=[ruling.pk])
    assert client.get(reverse("assessment:veto-evidence", args=[ruling.pk])).status_code == 200
    # The committee cannot appeal on the unit's behalf.
    assert (
        client.post(reverse("assessment:veto-act", args=[ruling.pk, "appeal"]), {"appeal_reason": "x"}).status_code
        == 200
    )
    assert VetoRuling.objects.get().status == RulingStatus.IN_FORCE
    client.force_login(ax["township"])
    page = client.get(detail)
    assert page.context["appeal_form"] is not None and page.context["decision_form"] is None
    response = client.post(reverse("assessment:veto-act", args=[ruling.pk, "appeal"]), {"appeal_reason": ""})
    assert response.context["appeal_form"].errors["appeal_reason"] == ["请填写申诉理由。"]
    response = client.post(
        reverse("assessment:veto-act", args=[ruling.pk, "appeal"]), {"appeal_reason": "事件系外地人员引发。"}
    )
    assert response.status_code == 302
    assert VetoRuling.objects.get().status == RulingStatus.APPEALED
    client.force_login(ax["committee_city"])
    response = client.post(
        reverse("assessment:veto-act", args=[ruling.pk, "decide"]),
        {"decision": "revoke", "decision_note": "经核实不属实。"},
    )
    assert response.status_code == 302
    ruling.refresh_from_db()
    assert (ruling.status, ruling.decision_note) == (RulingStatus.REVOKED, "经核实不属实。")
    statuses = [
        e.changes.get("status")
        for e in AuditLog.objects.filter(model="assessment.vetoruling").order_by("seq")
        if "status" in e.changes
    ]
    assert statuses == [[None, "in_force"], ["in_force", "appealed"], ["appealed", "revoked"]]


def test_veto_rulings_over_the_api_with_the_appeal_path(api, world, ax, media):
    body = {
        "unit": world.township_a.code,
        "indicator": "V05",
        "occurred_on": "2026-03-01",
        "description": "材料造假",
        "evidence": pdf(),
    }
    created = as_user(api, ax["committee_city"]).post(f"{API}veto-rulings/", body, format="multipart")
    assert created.status_code == 201, created.json()
    ruling_id = created.json()["id"]
    assert created.json()["appeal_deadline"]
    url = f"{API}veto-rulings/{ruling_id}/"
    assert as_user(api, world.user_a).post(f"{url}appeal/", {"appeal_reason": "x"}, format="json").status_code == 403
    appealed = as_user(api, ax["township"]).post(f"{url}appeal/", {"appeal_reason": "不服"}, format="json")
    assert appealed.status_code == 200 and appealed.json()["status"] == "appealed"
    again = as_user(api, ax["township"]).post(f"{url}appeal/", {"appeal_reason": "再次申诉"}, format="json")
    assert again.status_code == 400 and "不能提出申诉" in again.json()["detail"]
    decided = as_user(api, ax["committee_city"]).post(
        f"{url}decide/", {"result": "uphold", "decision_note": "维持"}, format="json"
    )
    assert decided.json()["status"] == "upheld"
    assert as_user(api, world.user_b).get(url).status_code == 404
    assert as_user(api, world.user_b).get(f"{url}evidence/").status_code == 404
    assert as_user(api, ax["committee_city"]).get(f"{url}evidence/").status_code == 200


def test_veto_rulings_are_validated_field_by_field(api, world, ax, media):
    def post(body):
        return as_user(api, ax["committee_city"]).post(f"{API}veto-rulings/", body, format="multipart")

    exe = pdf("x.exe")
    exe.content_type = "application/octet-stream"
    body = {
        "unit": world.township_a.code,
        "indicator": "V04",
        "occurred_on": "2099-01-01",
        "description": "事实",
        "evidence": exe,
    }
    fields = fields_of(post(body))
    assert fields == {
        "indicator": ["请选择V01、V02、V03或V05（V04由问卷结果自动判定）。"],
        "occurred_on": ["发生日期不能晚于今天。"],
        "evidence": ["只能上传照片（JPG、PNG、WEBP）或PDF、Word文件。"],
    }
    no_file = {k: v for k, v in body.items() if k != "evidence"}
    assert fields_of(post({**no_file, "indicator": "V01", "occurred_on": "2026-01-01"})) == {
        "evidence": ["请上传证明材料。"]
    }
    fake = SimpleUploadedFile("fake.pdf", b"not a pdf", content_type="application/pdf")
    assert fields_of(post({**no_file, "indicator": "V01", "occurred_on": "2026-01-01", "evidence": fake})) == {
        "evidence": ["文件不是有效的PDF。"]
    }
    assert fields_of(post({**no_file, "description": ""}))["description"] == ["请填写事实与依据。"]
    with pytest.raises(services.InputError) as exc:  # a county committee never rules on its own county
        services.veto_record(
            user=ax["committee_a"],
            unit=world.county_a,
            indicator="V01",
            occurred_on=dt.date(2026, 1, 1),
            description="x",
            evidence=pdf(),
        )
    assert exc.value.message_dict == {"unit": ["只有被考核单位上级的政法委工作人员可以作出一票否决裁定。"]}
    assert not VetoRuling.objects.exists()


def test_an_appeal_after_15_working_days_is_refused(world, ax, media):
    ruling = services.veto_record(
        user=ax["committee_city"], unit=world.township_a, indicator="V02", occurred_on=dt.date(2026, 1, 5),
        description="事故", evidence=pdf(),
    )  # fmt: skip
    late = services.appeal_deadline(ruling) + dt.timedelta(minutes=1)
    with pytest.raises(services.InputError) as exc:
        services.veto_appeal(user=ax["township"], ruling=ruling, reason="不服", now=late)
    assert "申诉期限" in exc.value.message_dict["appeal_reason"][0]
    assert (services.appeal_deadline(ruling).date() - timezone.localdate(ruling.recorded_at)).days >= 15


# --- Innovation awards -----------------------------------------------------------------------------------


def test_innovation_awards_are_0_to_3_points_once_per_unit_and_year(client, api, world, ax):
    def post(*args, **kwargs):
        return as_user(api, ax["committee_city"]).post(*args, **kwargs)

    body = {"unit": world.county_a.code, "year": 2026, "points": "2.5", "reason": "首创双语调解"}
    assert post(f"{API}innovation-awards/", body, format="json").status_code == 201
    changed = post(f"{API}innovation-awards/", {**body, "points": "3"}, format="json")
    assert changed.status_code == 200 and changed.json()["points"] == "3.00"
    assert InnovationAward.objects.count() == 1
    assert fields_of(post(f"{API}innovation-awards/", {**body, "points": "3.5"}, format="json")) == {
        "points": ["创新加分应在0到3分之间。"]
    }
    assert as_user(api, world.user_a).post(f"{API}innovation-awards/", body, format="json").status_code == 403
    arrange(Cycle.objects.filter(pk=ax["cycle"].pk), status=CycleStatus.FINALISED)
    frozen = post(f"{API}innovation-awards/", {**body, "points": "1"}, format="json")
    assert fields_of(frozen) == {"year": ["2026年度年终考核已定稿，不能再调整创新加分。"]}
    client.force_login(ax["committee_city"])
    page = client.get(reverse("assessment:award-list"), {"year": 2026})
    assert page.status_code == 200 and "首创双语调解" in page.content.decode()
    client.force_login(world.user_b)
    assert "首创双语调解" not in client.get(reverse("assessment:award-list"), {"year": 2026}).content.decode()


# --- Tolerance claims ------------------------------------------------------------------------------------


def test_a_unit_claims_tolerance_once_per_cycle_and_an_assessor_decides(client, api, world, ax, media):
    client.force_login(ax["township"])
    response = client.post(
        reverse("assessment:claim-new"),
        {
            "cycle": ax["cycle"].pk,
            "unit": world.township_a.code,
            "indicator": "C04",
            "reasons": "暴雨致道路中断",
            "evidence": pdf(),
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    claim = ToleranceClaim.objects.get()
    assert (claim.status, claim.claimed_by, claim.indicator) == (ClaimStatus.PENDING, ax["township"], "C04")
    second = client.post(
        reverse("assessment:claim-new"),
        {
            "cycle": ax["cycle"].pk,
            "unit": world.township_a.code,
            "indicator": "C05",
            "reasons": "再申请",
            "evidence": pdf(),
        },
    )
    assert second.context["form"].errors["indicator"] == ["本单位在本考核周期已申请过容错（每个周期限一项指标）。"]
    detail = reverse("assessment:claim-detail", args=[claim.pk])
    assert client.get(detail).context["form"] is None  # the claimant does not decide
    client.force_login(ax["assessor_b"])
    assert client.get(detail).status_code == 404
    client.force_login(ax["assessor_a"])
    assert client.get(detail).context["form"] is not None
    assert client.get(reverse("assessment:claim-evidence", args=[claim.pk])).status_code == 200
    url = f"{API}tolerance-claims/{claim.pk}/decide/"
    assert as_user(api, ax["township"]).post(url, {"result": "approve"}, format="json").status_code == 403
    rejected = as_user(api, ax["assessor_a"]).post(url, {"result": "reject"}, format="json")
    assert fields_of(rejected) == {"decision_note": ["不予批准时请填写审核意见。"]}
    approved = as_user(api, ax["assessor_a"]).post(
        url, {"result": "approve", "decision_note": "情况属实"}, format="json"
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    claim.refresh_from_db()
    assert (claim.decided_by, claim.decided_at is not None) == (ax["assessor_a"], True)
    assert as_user(api, ax["assessor_b"]).get(f"{API}tolerance-claims/{claim.pk}/").status_code == 404


def test_tolerance_claims_are_refused_for_other_units_vetoes_and_finalised_cycles(api, world, ax, media):
    def post(*args, **kwargs):
        return as_user(api, ax["township"]).post(*args, **kwargs)

    body = {
        "cycle": ax["cycle"].pk,
        "unit": world.township_a.code,
        "indicator": "V01",
        "reasons": "理由",
        "evidence": pdf(),
    }
    assert fields_of(post(f"{API}tolerance-claims/", body, format="multipart")) == {
        "indicator": ["请选择一项计分指标（一票否决指标不适用容错）。"]
    }
    county = as_user(api, world.user_a).post(
        f"{API}tolerance-claims/", {**body, "indicator": "C04", "evidence": pdf()}, format="multipart"
    )
    assert fields_of(county) == {"unit": ["只有被考核单位本级的工作人员可以申请容错。"]}
    no_evidence = {k: v for k, v in body.items() if k != "evidence"}
    assert fields_of(post(f"{API}tolerance-claims/", {**no_evidence, "indicator": "C04"}, format="multipart")) == {
        "evidence": ["请上传证明材料。"]
    }
    arrange(Cycle.objects.filter(pk=ax["cycle"].pk), status=CycleStatus.FINALISED)
    frozen = post(f"{API}tolerance-claims/", {**body, "indicator": "C04", "evidence": pdf()}, format="multipart")
    assert "cycle" in fields_of(frozen)
    assert not ToleranceClaim.objects.exists()


def test_a_pending_claim_cannot_be_decided_once_the_cycle_is_finalised(world, ax, media):
    claim = services.claim_file(
        user=ax["township"], cycle=ax["cycle"], unit=world.township_a, indicator="C04", reasons="暴雨", evidence=pdf()
    )
    arrange(Cycle.objects.filter(pk=ax["cycle"].pk), status=CycleStatus.FINALISED)
    claim.cycle.refresh_from_db()
    with pytest.raises(services.InputError):
        services.claim_decide(user=ax["assessor_a"], claim=claim, approve=True)
    assert ToleranceClaim.objects.get().status == ClaimStatus.PENDING


# --- Rectification ---------------------------------------------------------------------------------------


@pytest.fixture
def item(world, ax):
    today = timezone.localdate()
    return RectificationItem.objects.create(
        cycle=ax["cycle"], unit=world.township_a, indicator="C04", ratio=Decimal("0.4"),
        notice_due_on=today + dt.timedelta(days=14), due_on=today + dt.timedelta(days=44),
    )  # fmt: skip


def test_the_unit_reports_and_an_assessor_closes_or_returns_the_item(client, api, world, ax, item):
    client.force_login(ax["township"])
    act = lambda step, **data: client.post(reverse("assessment:rectification-act", args=[item.pk, step]), data)  # noqa: E731
    response = act("report", report="")
    assert response.context["report_form"].errors["report"] == ["请填写整改报告。"]
    assert act("report", report="已建立按期办结督办机制。").status_code == 302
    item.refresh_from_db()
    assert item.status == RectificationStatus.REPORTED and item.reported_at is not None
    client.force_login(ax["assessor_a"])
    assert act("return", note="缺少佐证材料").status_code == 302
    item.refresh_from_db()
    assert item.status == RectificationStatus.OPEN
    assert AuditLog.objects.filter(
        model="assessment.rectificationitem", changes__return_note=[None, "缺少佐证材料"]
    ).exists()
    reported = as_user(api, ax["township"]).post(
        f"{API}rectifications/{item.pk}/report/", {"report": "已补充材料"}, format="json"
    )
    assert reported.json()["status"] == "reported"
    closed = as_user(api, ax["assessor_a"]).post(f"{API}rectifications/{item.pk}/close/", format="json")
    assert closed.status_code == 200
    item.refresh_from_db()
    assert (item.status, item.closed_on, item.closed_by) == (
        RectificationStatus.CLOSED,
        timezone.localdate(),
        ax["assessor_a"],
    )
    again = as_user(api, ax["assessor_a"]).post(f"{API}rectifications/{item.pk}/close/", format="json")
    assert again.status_code == 400 and "已销号" in again.json()["detail"]


def test_only_the_unit_reports_and_only_assessors_recheck(client, api, world, ax, item):
    # County A's centre covers the township but is not the unit itself.
    assert (
        as_user(api, world.user_a)
        .post(f"{API}rectifications/{item.pk}/report/", {"report": "x"}, format="json")
        .status_code
        == 403
    )
    assert as_user(api, ax["township"]).post(f"{API}rectifications/{item.pk}/close/", format="json").status_code == 403
    assert as_user(api, ax["township_b"]).get(f"{API}rectifications/{item.pk}/").status_code == 404
    client.force_login(ax["assessor_b"])
    assert client.get(reverse("assessment:rectification-detail", args=[item.pk])).status_code == 404
    assert client.post(reverse("assessment:rectification-act", args=[item.pk, "close"])).status_code == 404


# --- Lists: bounded queries ------------------------------------------------------------------------------


def _grow(world, ax, n: int) -> None:
    """n more of each listed input in county A (rulings, claims in new cycles, items, awards)."""
    for i in range(n):
        township = RegionFactory.child(world.county_a, 10 + len(VetoRuling.objects.all()) + i, name=f"扩展镇{i}")
        staff = UserFactory(role=Role.CENTRE_STAFF, region=township)
        ruling = VetoRuling.objects.create(
            unit=township,
            indicator="V01",
            occurred_on=dt.date(2026, 2, 1),
            description="x",
            recorded_by=ax["committee_city"],
        )
        ToleranceClaim.objects.create(cycle=ax["cycle"], unit=township, indicator="C04", reasons="x", claimed_by=staff)
        RectificationItem.objects.create(
            cycle=ax["cycle"], unit=township, indicator="C04", ratio=Decimal("0.3"),
            notice_due_on=dt.date(2026, 1, 10), due_on=dt.date(2026, 2, 10),
        )  # fmt: skip
        InnovationAward.objects.create(unit=township, year=2026, points=1, reason="x", awarded_by=ax["committee_city"])
        assert ruling.region_code == township.code


@pytest.mark.parametrize(
    "url",
    [
        "assessment:veto-list",
        "assessment:claim-list",
        "assessment:rectification-list",
        "assessment:award-list",
        "assessment:group-list",
        "assessment:review-list",
    ],
)
def test_list_pages_do_not_query_per_row(client, world, ax, url):
    client.force_login(ax["committee_city"])
    _grow(world, ax, 1)
    make_group(ax, world)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse(url), {"year": 2026})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    count()  # warm the per-day caches
    small = count()
    _grow(world, ax, 6)
    make_group(ax, world, name="第二考核组", members=[ax["assessor_a2"]], units=[world.township_a, world.county_a])
    assert count() == small


@pytest.mark.parametrize(
    "prefix",
    ["monthly-reports", "surveys", "assessor-groups", "assessor-scores", "score-reviews", "veto-rulings",
     "innovation-awards", "tolerance-claims", "rectifications"],
)  # fmt: skip
def test_api_lists_do_not_query_per_row(api, world, ax, prefix, media):
    group = make_group(ax, world)

    def add(i):
        township = RegionFactory.child(world.county_a, 30 + i, name=f"接口镇{i}")
        village = RegionFactory.child(township, 1, households=40)
        services.report_submit(user=None, township=township, month=dt.date(2026, 1, 1), values=VALUES)
        services.survey_answer_online(
            village=village, client_key=f"{i:032d}", safety="safe", satisfaction="satisfied", awareness="aware"
        )
        g = make_group(ax, world, name=f"组{i}", members=[ax["assessor_a"]], units=[township])
        services.score_record(user=ax["assessor_a"], group=g, unit=township, indicator="A01", score=60)
        services.review_record(
            user=ax["committee_city"],
            cycle=ax["cycle"],
            unit=township,
            indicator="A01",
            kind="accept_spread",
            reason="x",
        )
        services.veto_record(
            user=ax["committee_city"],
            unit=township,
            indicator="V01",
            occurred_on=dt.date(2026, 1, 2),
            description="x",
            evidence=pdf(),
        )
        services.award_record(user=ax["committee_city"], unit=township, year=2026, points=1, reason="x")
        staff = UserFactory(role=Role.CENTRE_STAFF, region=township)
        services.claim_file(user=staff, cycle=ax["cycle"], unit=township, indicator="C04", reasons="x", evidence=pdf())
        RectificationItem.objects.create(
            cycle=ax["cycle"], unit=township, indicator="C04", ratio=Decimal("0.3"),
            notice_due_on=dt.date(2026, 1, 10), due_on=dt.date(2026, 2, 10),
        )  # fmt: skip

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = as_user(api, ax["committee_city"]).get(f"{API}{prefix}/", {"page_size": 100})
        assert response.status_code == 200, response.json()
        return len(ctx.captured_queries), response.json()["count"]

    add(1)
    small, n_small = count()
    for i in range(2, 6):
        add(i)
    large, n_large = count()
    assert n_large > n_small
    assert small == large
    assert group.pk


# --- Navigation ------------------------------------------------------------------------------------------


def test_the_home_page_and_the_hub_link_the_input_pages_of_the_role(client, world, ax):
    client.force_login(ax["assessor_a"])
    home = client.get("/").content.decode()
    assert "考核数据录入" in home and reverse("assessment:scoring") in home
    client.force_login(ax["township"])
    hub = client.get(reverse("assessment:inputs")).content.decode()
    assert reverse("assessment:report-list") in hub and reverse("assessment:scoring") not in hub
    client.force_login(world.worker_a)
    assert client.get(reverse("assessment:inputs")).status_code == 403


def test_an_award_is_recorded_on_the_page_and_a_refused_one_keeps_its_errors(client, world, ax):
    client.force_login(ax["committee_city"])
    url = reverse("assessment:award-list")
    body = {"unit": world.county_a.code, "year": 2026, "points": "2", "reason": "首创双语调解"}
    response = client.post(url, body)
    assert response.status_code == 302 and response["Location"] == f"{url}?year=2026"
    assert InnovationAward.objects.get().points == Decimal("2")
    arrange(Cycle.objects.filter(pk=ax["cycle"].pk), status=CycleStatus.FINALISED)
    refused = client.post(url, {**body, "points": "1"})
    assert refused.status_code == 200
    assert refused.context["form"].errors == {"year": ["2026年度年终考核已定稿，不能再调整创新加分。"]}
    assert InnovationAward.objects.get().points == Decimal("2")
