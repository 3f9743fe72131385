"""Assessment result pages, exports and API: cycles, run and progress, blocking items and
finalisation, the spot-check's secrecy, rankings, a unit's breakdown, traceability, and the
jurisdiction (a foreign cycle, unit or line answers 404) with bounded query counts."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from assessment import services
from assessment.choices import CycleKind, CycleStatus, LineStatus
from assessment.models import AnnualResult, Cycle, IndicatorResult, ScoreReview, UnitResult
from governance.choices import AuditAction, Role
from governance.models import AuditLog
from grids.events.services.events import transition

from .factories import RegionFactory, UserFactory, arrange
from .test_event_sweep_and_webhooks import wait_for

ASSESSED = ("A01", "A06", "B05", "B06", "B07", "C14", "D04", "D05", "D06")
EIGHT_DECIMALS = re.compile(r"\d\.\d{5,}|E-\d")


def year() -> int:
    return timezone.localdate().year


def quarter() -> int:
    return (timezone.localdate().month - 1) // 3 + 1


def computed(cycle: Cycle, shown_to_units: bool = True) -> Cycle:
    """Run the cycle. These pages are seen by the units below the organiser, who see results
    once published (公布); a cycle of the running year cannot be finalised, so its publication
    is stamped directly here (the publication steps have their own tests)."""
    services.run_cycle(cycle.pk)
    if shown_to_units:
        arrange(Cycle.objects.filter(pk=cycle.pk), published_at=timezone.now())
    cycle.refresh_from_db()
    return cycle


@pytest.fixture
def events(world, file_event):
    """Three events in county A's first grid, one of them accepted (answered on time)."""
    filed = [file_event(title=f"事件{i}") for i in range(3)]
    transition("accept", event=filed[0], user=world.user_a)
    return filed


@pytest.fixture
def year_end(world, events) -> Cycle:
    """The province's year-end cycle, computed: units at city, county and township level."""
    cycle = services.create_cycle(kind=CycleKind.YEAR_END, year=year(), root=world.province, user=world.province_user)
    return computed(cycle)


@pytest.fixture
def cycle_b(world) -> Cycle:
    """A half-year cycle run by county B (invisible to county A)."""
    cycle = services.create_cycle(kind=CycleKind.HALF_YEAR, year=year(), root=world.county_b, user=world.user_b)
    return computed(cycle)


@pytest.fixture
def township_user(world):
    return UserFactory(username="township_a", role=Role.CENTRE_STAFF, region=world.township_a)


@pytest.fixture
def spot_check(world) -> Cycle:
    """County A's spot-check of this quarter, its check date still ahead (its only township is drawn)."""
    cycle = services.create_cycle(
        kind=CycleKind.SPOT_CHECK,
        year=year(),
        quarter=quarter(),
        root=world.county_a,
        user=world.user_a,
        check_date=timezone.localdate() + dt.timedelta(days=30),
    )
    return computed(cycle)


def text_of(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def workbook(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))


# --- Cycle list and creation ---------------------------------------------------------------------------


def test_the_cycle_list_shows_cycles_at_and_above_the_users_region_but_not_the_siblings(
    client, world, year_end, cycle_b
):
    client.force_login(world.user_a)
    response = client.get(reverse("assessment:cycles"))
    assert response.status_code == 200
    cycles = list(response.context["page_obj"])
    assert cycles == [year_end]
    assert "甘肃省" in text_of(response) and "七里河区" not in text_of(response)
    assert response.context["form"] is not None  # centre staff run assessments


def test_a_grid_worker_sees_cycles_but_no_creation_form(client, world, year_end):
    client.force_login(world.worker_a)
    response = client.get(reverse("assessment:cycles"))
    assert response.status_code == 200 and response.context["form"] is None
    assert client.post(reverse("assessment:cycles"), {"kind": "year_end", "year": year()}).status_code == 403


def test_a_cycle_is_created_from_the_page_for_the_users_own_region_by_default(client, world):
    client.force_login(world.user_a)
    form = client.get(reverse("assessment:cycles")).context["form"]
    assert form.initial["root"] == "620102"
    assert set(form.fields["root"].queryset.values_list("code", flat=True)) == {"620102"}
    response = client.post(reverse("assessment:cycles"), {"kind": "half_year", "year": year(), "root": "620102"})
    cycle = Cycle.objects.get(kind="half_year", root=world.county_a)
    assert response.status_code == 302 and response.url == reverse("assessment:cycle-detail", args=[cycle.pk])
    assert cycle.levels == [3, 4]
    again = client.post(reverse("assessment:cycles"), {"kind": "half_year", "year": year(), "root": "620102"})
    assert again.url == response.url and Cycle.objects.count() == 1


def test_a_cycle_cannot_be_created_for_a_region_outside_the_jurisdiction(client, world):
    client.force_login(world.user_a)
    response = client.post(reverse("assessment:cycles"), {"kind": "half_year", "year": year(), "root": "620103"})
    assert response.status_code == 200 and "root" in response.context["form"].errors
    assert not Cycle.objects.exists()


def test_a_spot_check_without_quarter_shows_the_services_message_on_the_field(client, world):
    client.force_login(world.user_a)
    response = client.post(reverse("assessment:cycles"), {"kind": "spot_check", "year": year(), "root": "620102"})
    assert response.status_code == 200
    assert "季度抽查须选择季度" in str(response.context["form"].errors["quarter"])


# --- Cycle page: run, progress, blocking, finalise -----------------------------------------------------


def test_the_cycle_page_shows_status_version_runs_and_blocking_items_of_the_jurisdiction_only(client, world, year_end):
    client.force_login(world.user_a)
    response = client.get(reverse("assessment:cycle-detail", args=[year_end.pk]))
    assert response.status_code == 200
    text = text_of(response)
    assert "已计算" in text and f"v{year_end.catalogue_version.number}" in text
    per_unit = [item for item in response.context["blocking"] if "unit" in item]
    assert {item["unit"] for item in per_unit} == {"620102", "620102001"}  # not 6201, 620103, 620103001
    assert len(per_unit) == 2 * len(ASSESSED)
    rows = response.context["blocking_units"]
    assert [(u["code"], u["name"]) for u in rows] == [("620102", "城关区"), ("620102001", "甲街道")]
    assert rows[0]["reasons"] == [("未评分", list(ASSESSED))]
    assert response.context["units"] == 2
    assert response.context["may_run"] is False  # a county user may not re-run the province's cycle
    assert response.context["may_finalise"] is False


@pytest.mark.django_db(transaction=True)
def test_starting_a_run_from_the_page_computes_the_cycle(client, world, celery_worker):
    cycle = services.create_cycle(kind=CycleKind.HALF_YEAR, year=year(), root=world.county_a, user=world.user_a)
    client.force_login(world.user_a)
    page = client.get(reverse("assessment:cycle-detail", args=[cycle.pk]))
    assert page.context["may_run"] and "开始计算" in text_of(page)
    response = client.post(reverse("assessment:cycle-run", args=[cycle.pk]))  # the worker computes it
    assert response.status_code == 302
    wait_for(lambda: Cycle.objects.get(pk=cycle.pk).status == CycleStatus.COMPUTED)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.COMPUTED and cycle.runs == 1 and cycle.progress == 100
    assert UnitResult.objects.filter(cycle=cycle).count() == 2
    progress = client.get(reverse("assessment:cycle-progress", args=[cycle.pk])).json()
    assert progress == {
        "id": cycle.pk,
        "status": "computed",
        "status_display": "已计算",
        "progress": 100,
        "note": cycle.progress_note,
        "running": False,
        "runs": 1,
        "records_read": cycle.records_read,
        "computed_at": cycle.computed_at.isoformat(),
    }


def test_a_running_cycle_page_has_the_progress_bar_and_the_poller(client, world):
    cycle = services.create_cycle(kind=CycleKind.HALF_YEAR, year=year(), root=world.county_a, user=world.user_a)
    arrange(Cycle.objects.filter(pk=cycle.pk), status=CycleStatus.RUNNING, progress=50, progress_note="读取问卷")
    client.force_login(world.user_a)
    html = client.get(reverse("assessment:cycle-detail", args=[cycle.pk])).content.decode()
    assert '<progress max="100" value="50">' in html and "读取问卷" in html
    assert f'data-progress-url="/assessment/{cycle.pk}/progress.json"' in html
    assert "assessment/cycle.js" in html
    assert client.get(reverse("assessment:cycle-progress", args=[cycle.pk])).json()["running"] is True


def test_a_refused_run_shows_the_services_message(client, world, year_end):
    arrange(Cycle.objects.filter(pk=year_end.pk), status=CycleStatus.FINALISED)
    client.force_login(world.province_user)
    response = client.post(reverse("assessment:cycle-run", args=[year_end.pk]), follow=True)
    assert "已定稿，结果已冻结，不能重新计算" in text_of(response)
    assert Cycle.objects.get(pk=year_end.pk).runs == 1


def test_finalising_is_refused_while_items_block_it(client, world, year_end):
    client.force_login(world.province_user)
    page = client.get(reverse("assessment:cycle-detail", args=[year_end.pk]))
    per_unit = [item for item in page.context["blocking"] if "unit" in item]
    assert page.context["may_finalise"] and len(per_unit) == 5 * len(ASSESSED)
    assert any(item["reason"] == "period_open" for item in page.context["blocking"])  # this year is not over
    response = client.post(reverse("assessment:cycle-finalise", args=[year_end.pk]), follow=True)
    assert "尚未评分" in text_of(response)
    assert Cycle.objects.get(pk=year_end.pk).status == CycleStatus.COMPUTED


def test_finalising_after_the_reviews_freezes_the_cycle(client, world, events):
    cycle = computed(
        services.create_cycle(kind=CycleKind.HALF_YEAR, year=year(), root=world.county_a, user=world.user_a)
    )
    committee = UserFactory(username="committee_a", role=Role.COMMITTEE_STAFF, region=world.county_a)
    for unit in (world.county_a, world.township_a):
        for code in ASSESSED:
            ScoreReview.objects.create(
                cycle=cycle, unit=unit, indicator=code, kind="not_applicable", reason="试点", reviewer=committee
            )
    computed(cycle)  # the reviews came after the last run
    client.force_login(committee)
    assert client.get(reverse("assessment:cycle-detail", args=[cycle.pk])).context["blocking"] == []
    response = client.post(reverse("assessment:cycle-finalise", args=[cycle.pk]), follow=True)
    assert "已定稿发布" in text_of(response)
    assert Cycle.objects.get(pk=cycle.pk).status == CycleStatus.FINALISED
    page = client.get(reverse("assessment:cycle-detail", args=[cycle.pk]))
    assert page.context["may_run"] is False and "结果已冻结" in text_of(page)


# --- Jurisdiction ---------------------------------------------------------------------------------------


def test_every_page_of_a_sibling_countys_cycle_answers_404(client, world, cycle_b):
    client.force_login(world.user_a)
    pk = cycle_b.pk
    for url in (
        reverse("assessment:cycle-detail", args=[pk]),
        reverse("assessment:cycle-progress", args=[pk]),
        reverse("assessment:ranking", args=[pk]),
        reverse("assessment:ranking", args=[pk]) + "?format=xlsx",
        reverse("assessment:unit", args=[pk, "620103"]),
        reverse("assessment:unit", args=[pk, "620103"]) + "?format=xlsx",
        reverse("assessment:trace", args=[pk, "620103", "C05"]),
    ):
        assert client.get(url).status_code == 404, url
    for name in ("cycle-run", "cycle-finalise", "cycle-check-date"):
        assert client.post(reverse(f"assessment:{name}", args=[pk])).status_code == 404, name
    assert Cycle.objects.get(pk=pk).runs == 1


def test_units_of_a_visible_cycle_outside_the_jurisdiction_answer_404(client, world, year_end):
    client.force_login(world.user_a)
    pk = year_end.pk
    for url in (
        reverse("assessment:unit", args=[pk, "620103"]),
        reverse("assessment:unit", args=[pk, "6201"]),
        reverse("assessment:unit", args=[pk, "abc"]),
        reverse("assessment:trace", args=[pk, "620103", "C05"]),
        reverse("assessment:trace", args=[pk, "620102", "X99"]),
        reverse("assessment:ranking", args=[pk]) + "?parent=620103",
        reverse("assessment:ranking", args=[pk]) + "?parent=6201",
    ):
        assert client.get(url).status_code == 404, url


# --- Spot-checks (四不两直) -----------------------------------------------------------------------------


def test_a_spot_check_is_hidden_from_the_township_until_its_check_date(client, api, world, spot_check, township_user):
    assert UnitResult.objects.filter(cycle=spot_check, region=world.township_a).exists()
    client.force_login(township_user)
    assert spot_check not in client.get(reverse("assessment:cycles")).context["page_obj"]
    assert client.get(reverse("assessment:cycle-detail", args=[spot_check.pk])).status_code == 404
    assert client.get(reverse("assessment:unit", args=[spot_check.pk, "620102001"])).status_code == 404
    api.force_authenticate(township_user)
    assert api.get(f"/api/v1/assessment/cycles/{spot_check.pk}/").status_code == 404
    # Its own result lies in its subtree, but belongs to a cycle it may not see yet.
    assert api.get("/api/v1/assessment/results/", {"cycle": spot_check.pk}).json()["count"] == 0
    result = UnitResult.objects.get(cycle=spot_check, region=world.township_a)
    assert api.get(f"/api/v1/assessment/results/{result.pk}/").status_code == 404

    arrange(Cycle.objects.filter(pk=spot_check.pk), check_date=timezone.localdate())
    page = client.get(reverse("assessment:cycle-detail", args=[spot_check.pk]))
    assert page.status_code == 200 and page.context["show_sample"]
    assert [r.code for r in page.context["sample"]] == ["620102001"]
    assert api.get("/api/v1/assessment/results/", {"cycle": spot_check.pk}).json()["count"] == 1


def test_the_county_sees_the_sample_and_moves_the_check_date(client, world, spot_check):
    client.force_login(world.user_a)
    page = client.get(reverse("assessment:cycle-detail", args=[spot_check.pk]))
    assert page.context["show_sample"] and page.context["may_set_check_date"]
    assert "甲街道" in text_of(page)
    new_date = timezone.localdate() + dt.timedelta(days=5)
    response = client.post(reverse("assessment:cycle-check-date", args=[spot_check.pk]), {"check_date": new_date})
    assert response.status_code == 302
    assert Cycle.objects.get(pk=spot_check.pk).check_date == new_date
    bad = client.post(reverse("assessment:cycle-check-date", args=[spot_check.pk]), {"check_date": "x"}, follow=True)
    assert "有效的日期" in text_of(bad)


# --- Ranking --------------------------------------------------------------------------------------------


def test_the_ranking_defaults_to_the_level_below_the_users_region(client, world, year_end):
    client.force_login(world.user_a)
    response = client.get(reverse("assessment:ranking", args=[year_end.pk]))
    assert response.status_code == 200
    scope = response.context["scope"]
    assert (scope.parent.code, scope.level) == ("620102", 4)
    assert [row.unit.region_code for row in response.context["rows"]] == ["620102001"]
    assert response.context["is_year_end"]


def test_the_province_ranks_the_counties_with_annual_results_and_the_failing_units(client, world, year_end):
    client.force_login(world.province_user)
    default = client.get(reverse("assessment:ranking", args=[year_end.pk]))
    assert (default.context["scope"].parent.code, default.context["scope"].level) == ("62", 2)
    response = client.get(reverse("assessment:ranking", args=[year_end.pk]), {"level": 3, "parent": "6201"})
    rows = response.context["rows"]
    totals = [row.unit.total for row in rows]
    assert totals == sorted(totals, reverse=True)
    assert {row.unit.region_code for row in rows} == {"620102", "620103"}
    assert all(row.annual is not None for row in rows)
    html = response.content.decode()
    assert f"?level=4&amp;parent={rows[0].unit.region_code}" in html  # drill down
    assert reverse("assessment:unit", args=[year_end.pk, "620102"]) in html
    failing = {a.region_code for a in response.context["failing"]}
    expected = set(
        AnnualResult.objects.filter(cycle=year_end, level=3, grade="fail").values_list("region_code", flat=True)
    )
    assert failing == expected and failing  # the scores of this small world are low
    assert not EIGHT_DECIMALS.search(text_of(response))


def test_the_ranking_exports_to_excel_with_the_rows_of_the_page(client, world, year_end):
    client.force_login(world.province_user)
    response = client.get(
        reverse("assessment:ranking", args=[year_end.pk]), {"level": 3, "parent": "6201", "format": "xlsx"}
    )
    assert response.status_code == 200
    book = workbook(response)
    sheet = book["排名"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("序号", "单位", "区划代码", "权重方案", "总分")
    assert "年度结果" in rows[0] and "等次" in rows[0]
    by_code = {r[2]: r for r in rows[1:]}
    assert set(by_code) == {"620102", "620103"}
    for code, row in by_code.items():
        unit = UnitResult.objects.get(cycle=year_end, region_code=code)
        assert row[4] == float(unit.total)
    assert [r[0] for r in rows[1:]] == [1, 2]
    failing = list(book["不合格单位"].iter_rows(values_only=True))[1:]
    assert {r[1] for r in failing} == set(
        AnnualResult.objects.filter(cycle=year_end, level=3, grade="fail").values_list("region_code", flat=True)
    )
    entry = AuditLog.objects.get(action=AuditAction.EXPORT, object_id=str(year_end.pk))
    assert entry.region_code == "62" and entry.changes["document"] == "ranking"


def test_a_county_exports_only_its_own_units(client, world, year_end):
    client.force_login(world.user_a)
    response = client.get(reverse("assessment:ranking", args=[year_end.pk]), {"format": "xlsx"})
    rows = list(workbook(response)["排名"].iter_rows(values_only=True))[1:]
    assert [r[2] for r in rows] == ["620102001"]
    assert AuditLog.objects.get(action=AuditAction.EXPORT).region_code == "620102"


# --- A unit's breakdown ---------------------------------------------------------------------------------


def test_the_unit_page_lists_every_line_rounded_with_names_subtotals_and_accountability(client, world, year_end):
    client.force_login(world.user_a)
    response = client.get(reverse("assessment:unit", args=[year_end.pk, "620102"]))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == IndicatorResult.objects.filter(unit__cycle=year_end, region_code="620102").count()
    by_code = {r.code: r for r in rows}
    assert by_code["A02"].name == "网格员覆盖率"
    assert by_code["A02"].value == "50.00%"  # one of the two grids has a full-time worker
    assert (by_code["C05"].numerator, by_code["C05"].denominator) == ("1", "3")
    assert by_code["C05"].ratio.endswith("%")
    assert by_code["A01"].status == LineStatus.UNSCORED
    text = text_of(response)
    assert not EIGHT_DECIMALS.search(text), EIGHT_DECIMALS.search(text)
    assert [d["code"] for d in response.context["dimensions"]] == ["A", "B", "C", "D"]
    departments = dict(response.context["departments"])
    assert departments and "政法委" in departments
    html = response.content.decode()
    assert reverse("assessment:trace", args=[year_end.pk, "620102", "C05"]) in html
    assert reverse("assessment:trace", args=[year_end.pk, "620102", "A03"]) not in html  # not in the plain profile


def test_the_accountability_table_attributes_every_lost_point_by_the_rule(client, world, year_end):
    from fractions import Fraction

    from assessment.engine.scoring import accountability, round2

    client.force_login(world.user_a)
    response = client.get(reverse("assessment:unit", args=[year_end.pk, "620102"]))
    indicators = year_end.catalogue_version.data["indicators"]
    lines = IndicatorResult.objects.filter(unit__cycle=year_end, region_code="620102")
    expected = accountability(
        [type("Line", (), {"code": line.indicator, "lost": Fraction(str(line.lost))})() for line in lines], indicators
    )
    shown = dict(response.context["departments"])
    assert shown == {dept: f"{round2(lost):.2f}" for dept, lost in expected.items()}
    # A02 (lead 政法委, collaborator 民政) lost its whole effective weight: 60 % / 40 %.
    a02 = lines.get(indicator="A02")
    assert indicators["A02"]["lead"] == "政法委" and indicators["A02"]["collaborators"] == ["民政"]
    assert expected["民政"] >= Fraction(str(a02.lost)) * Fraction(2, 5) > 0


def test_the_unit_breakdown_exports_to_excel(client, world, year_end):
    client.force_login(world.user_a)
    response = client.get(reverse("assessment:unit", args=[year_end.pk, "620102"]), {"format": "xlsx"})
    book = workbook(response)
    lines = list(book["指标得分"].iter_rows(values_only=True))
    assert lines[0][0] == "指标编号"
    stored = IndicatorResult.objects.filter(unit__cycle=year_end, region_code="620102")
    assert {r[0] for r in lines[1:]} == set(stored.values_list("indicator", flat=True))
    c05 = next(r for r in lines[1:] if r[0] == "C05")
    assert c05[1] == "事件响应及时率" and (c05[5], c05[6]) == (1, 3)
    dims = list(book["分维度得分"].iter_rows(values_only=True))
    assert [r[0][:1] for r in dims[1:5]] == ["A", "B", "C", "D"]
    departments = list(book["部门责任"].iter_rows(values_only=True))
    assert departments[0] == ("部门", "应承担失分") and len(departments) > 1


# --- Trace ----------------------------------------------------------------------------------------------


def test_the_trace_counts_equal_the_stored_numerator_and_denominator(client, world, year_end):
    line = IndicatorResult.objects.get(unit__cycle=year_end, region_code="620102", indicator="C05")
    assert (line.numerator, line.denominator) == (1, 3)
    client.force_login(world.user_a)
    response = client.get(reverse("assessment:trace", args=[year_end.pk, "620102", "C05"]))
    assert response.status_code == 200
    check = response.context["check"]
    assert check["matches"] and (check["numerator"], check["denominator"]) == (1, 3)
    (block,) = response.context["blocks"]
    marked = [row["in_numerator"] for row in block.rows]
    assert sorted(marked) == [False, False, True]
    assert "一致" in text_of(response)
    assert reverse("events:detail", args=[block.rows[0]["raw"]["id"]]) in response.content.decode()


def test_the_trace_pages_its_rows_but_counts_them_all(client, world, year_end, monkeypatch):
    monkeypatch.setattr("assessment.selectors.results.TRACE_PAGE_SIZE", 2)
    client.force_login(world.user_a)
    url = reverse("assessment:trace", args=[year_end.pk, "620102", "C05"])
    first = client.get(url)
    (block,) = first.context["blocks"]
    assert len(block.rows) == 2 and (block.numerator, block.total) == (1, 3)
    assert block.next_url == "?p0=2"
    second = client.get(url, {"p0": 2})
    assert len(second.context["blocks"][0].rows) == 1
    assert second.context["check"]["matches"]


def test_the_trace_of_a_grid_indicator_lists_the_grids(client, world, year_end):
    client.force_login(world.user_a)
    response = client.get(reverse("assessment:trace", args=[year_end.pk, "620102", "A02"]))
    (block,) = response.context["blocks"]
    assert block.total == 2 and block.numerator == 1
    assert response.context["check"]["matches"]


def test_an_assessed_line_traces_to_its_scores_without_a_count_check(client, world, year_end):
    client.force_login(world.user_a)
    response = client.get(reverse("assessment:trace", args=[year_end.pk, "620102", "A01"]))
    assert response.status_code == 200 and response.context["check"] is None


# --- Query counts ---------------------------------------------------------------------------------------


def grow(world, cycle: Cycle, townships: int = 8) -> Cycle:
    """More townships (with a village and a grid each) under county A, and the cycle re-run."""
    for number in range(2, 2 + townships):
        township = RegionFactory.child(world.county_a, number)
        village = RegionFactory.child(township, 1)
        RegionFactory.child(village, 1, households=100, population=300)
    return computed(cycle)


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_page_query_counts_do_not_grow_with_the_units(client, world, year_end, django_assert_max_num_queries):
    client.force_login(world.province_user)
    pk = year_end.pk
    urls = [
        reverse("assessment:cycles"),
        reverse("assessment:cycle-detail", args=[pk]),
        reverse("assessment:ranking", args=[pk]) + "?level=4&parent=620102",
        reverse("assessment:ranking", args=[pk]) + "?level=4&parent=62",
        reverse("assessment:unit", args=[pk, "620102"]),
        reverse("assessment:trace", args=[pk, "620102", "C05"]),
    ]
    before = {url: count_queries(client, url) for url in urls}
    grow(world, year_end)
    for year_back in (1, 2, 3):
        services.create_cycle(kind=CycleKind.YEAR_END, year=year() - year_back, root=world.province)
    assert len(client.get(urls[2]).context["rows"]) == 9
    for url in urls:
        with django_assert_max_num_queries(before[url]):
            client.get(url)


def test_api_list_query_counts_do_not_grow_with_the_units(api, world, year_end, django_assert_max_num_queries):
    api.force_authenticate(world.province_user)
    urls = [
        "/api/v1/assessment/cycles/",
        f"/api/v1/assessment/results/?cycle={year_end.pk}",
        f"/api/v1/assessment/annual-results/?cycle={year_end.pk}",
        "/api/v1/assessment/catalogue/",
    ]
    before = {}
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(url).status_code == 200
        before[url] = len(ctx.captured_queries)
    grow(world, year_end)
    assert api.get(urls[1]).json()["count"] == 5 + 8
    for url in urls:
        with django_assert_max_num_queries(before[url]):
            api.get(url)


# --- API ------------------------------------------------------------------------------------------------


def test_the_catalogue_api_lists_indicators_with_their_weights_and_the_validation(api, world):
    api.force_authenticate(world.user_a)
    data = api.get("/api/v1/assessment/catalogue/").json()
    assert data["count"] == 40
    a02 = api.get("/api/v1/assessment/catalogue/A02/").json()
    assert a02["weights"] == {"plain": "15.00", "mountain": "8.00"} and a02["collaborators"] == ["民政"]
    assert api.get("/api/v1/assessment/catalogue/A03/").json()["weights"] == {"mountain": "10.00"}
    validation = api.get("/api/v1/assessment/catalogue/validation/").json()
    assert validation["ok"] and validation["errors"] == [] and validation["warnings"] == []
    assert validation["profile_totals"]["mountain"]["total"] == "100.00"
    profiles = api.get("/api/v1/assessment/catalogue/profiles/").json()
    assert {p["code"] for p in profiles} == {"plain", "mountain"}
    assert api.post("/api/v1/assessment/catalogue/", {}).status_code in (403, 405)  # read-only


def test_the_cycle_api_is_scoped(api, world, year_end, cycle_b):
    api.force_authenticate(world.user_a)
    listed = [c["id"] for c in api.get("/api/v1/assessment/cycles/").json()["results"]]
    assert listed == [year_end.pk]
    assert api.get(f"/api/v1/assessment/cycles/{cycle_b.pk}/").status_code == 404
    for action in ("progress", "blocking"):
        assert api.get(f"/api/v1/assessment/cycles/{cycle_b.pk}/{action}/").status_code == 404
    for action in ("run", "finalise"):
        assert api.post(f"/api/v1/assessment/cycles/{cycle_b.pk}/{action}/").status_code in (403, 404)
    blocking = api.get(f"/api/v1/assessment/cycles/{year_end.pk}/blocking/").json()
    assert {item["unit"] for item in blocking if "unit" in item} == {"620102", "620102001"}
    progress = api.get(f"/api/v1/assessment/cycles/{year_end.pk}/progress/").json()
    assert progress["status"] == "computed" and progress["running"] is False


@pytest.mark.django_db(transaction=True)
def test_cycles_are_created_and_run_through_the_api(api, world, celery_worker):
    api.force_authenticate(world.user_a)
    body = {"kind": "half_year", "year": year(), "root": "620102"}
    created = api.post("/api/v1/assessment/cycles/", body, format="json")
    assert created.status_code == 201 and created.json()["root"] == "620102"
    assert api.post("/api/v1/assessment/cycles/", body, format="json").status_code == 200
    foreign = api.post("/api/v1/assessment/cycles/", {**body, "root": "620103"}, format="json")
    assert foreign.status_code == 400 and set(foreign.json()) == {"detail", "fields"}
    assert "root" in foreign.json()["fields"]
    no_quarter = api.post("/api/v1/assessment/cycles/", {**body, "kind": "spot_check"}, format="json")
    assert no_quarter.status_code == 400 and "quarter" in no_quarter.json()["fields"]
    pk = created.json()["id"]
    run = api.post(f"/api/v1/assessment/cycles/{pk}/run/")
    assert run.status_code == 202 and run.json()["status"] in ("queued", "computed")  # eager runs at once
    wait_for(lambda: api.get(f"/api/v1/assessment/cycles/{pk}/progress/").json()["status"] == "computed")
    # Centre staff may not finalise (committee staff do).
    assert api.post(f"/api/v1/assessment/cycles/{pk}/finalise/").status_code == 403


def test_a_grid_worker_reads_but_cannot_create_or_run(api, world, year_end):
    api.force_authenticate(world.worker_a)
    assert api.get("/api/v1/assessment/cycles/").status_code == 200
    body = {"kind": "half_year", "year": year(), "root": "620102001001001"}
    assert api.post("/api/v1/assessment/cycles/", body, format="json").status_code == 403
    assert api.post(f"/api/v1/assessment/cycles/{year_end.pk}/run/").status_code == 403


def test_finalising_through_the_api_answers_the_blocking_items(api, world, year_end):
    api.force_authenticate(world.province_user)
    response = api.post(f"/api/v1/assessment/cycles/{year_end.pk}/finalise/")
    assert response.status_code == 400 and "尚未评分" in response.json()["detail"]


def test_the_results_api_filters_and_restricts_unit_results(api, world, year_end):
    api.force_authenticate(world.user_a)
    listed = api.get("/api/v1/assessment/results/", {"cycle": year_end.pk}).json()
    assert {r["region_code"] for r in listed["results"]} == {"620102", "620102001"}
    by_level = api.get("/api/v1/assessment/results/", {"cycle": year_end.pk, "level": 4, "parent_code": "620102"})
    assert [r["region_code"] for r in by_level.json()["results"]] == ["620102001"]
    own = UnitResult.objects.get(cycle=year_end, region_code="620102")
    detail = api.get(f"/api/v1/assessment/results/{own.pk}/").json()
    lines = {line["indicator"]: line for line in detail["lines"]}
    assert lines["C05"]["name"] == "事件响应及时率" and lines["C05"]["numerator"] == "1.00000000"
    foreign = UnitResult.objects.get(cycle=year_end, region_code="620103")
    assert api.get(f"/api/v1/assessment/results/{foreign.pk}/").status_code == 404


def test_the_annual_results_api_filters_by_grade(api, world, year_end):
    api.force_authenticate(world.province_user)
    data = api.get("/api/v1/assessment/annual-results/", {"cycle": year_end.pk, "grade": "fail"}).json()
    assert data["count"] == AnnualResult.objects.filter(cycle=year_end, grade="fail").count() > 0
    api.force_authenticate(world.user_b)
    codes = {r["region_code"] for r in api.get("/api/v1/assessment/annual-results/").json()["results"]}
    assert codes == {"620103", "620103001"}


def test_the_trace_api_counts_equal_the_stored_line(api, world, year_end):
    api.force_authenticate(world.user_a)
    url = f"/api/v1/assessment/cycles/{year_end.pk}/trace/"
    data = api.get(url, {"unit": "620102", "indicator": "C05"}).json()
    assert (data["numerator"], data["denominator"]) == ("1", "3")
    assert data["check"]["matches"]
    (records,) = data["sets"]
    assert records["model"] == "grids.GridEvent" and records["count"] == 3 and records["numerator_count"] == 1
    assert sum(row["in_numerator"] for row in records["rows"]) == 1
    assert api.get(url, {"unit": "620103", "indicator": "C05"}).status_code == 404
    missing = api.get(url, {"unit": "620102"})
    assert missing.status_code == 400 and "indicator" in missing.json()["fields"]


def test_a_platform_superuser_opens_every_cycle_from_its_root(client, world, year_end, cycle_b):
    admin = UserFactory(username="root", role=Role.ADMIN, is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert set(client.get(reverse("assessment:cycles")).context["page_obj"]) == {year_end, cycle_b}
    ranking = client.get(reverse("assessment:ranking", args=[cycle_b.pk]))
    assert (ranking.context["scope"].parent.code, ranking.context["scope"].level) == ("620103", 4)
    assert not ranking.context["is_year_end"] and "不合格单位" not in text_of(ranking)
    assert client.get(reverse("assessment:unit", args=[cycle_b.pk, "620103001"])).status_code == 200
    assert client.get(reverse("assessment:cycle-detail", args=[cycle_b.pk])).context["may_run"]


def test_a_trace_names_the_region_code_column_in_chinese():
    from django.utils import translation

    from assessment.models import AssessorScore
    from assessment.selectors.results import column_label

    with translation.override("zh-hans"):
        assert column_label(AssessorScore, "region_code") == "区划代码"
    with translation.override("en"):
        assert column_label(AssessorScore, "region_code") == "Region code"
