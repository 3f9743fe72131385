"""The committee's dashboard (SPEC §5.5): its page, JSON endpoints and Excel export read the same
stored results as the ranking pages, are scoped like every other page (a sibling county is a
404), cost a fixed number of queries, are cached per cycle version, and serve the children's
outlines as one GeoJSON document simplified on import."""

from __future__ import annotations

import io
import json
import math

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from assessment import services
from assessment.models import UnitResult
from dashboard.models import MonthlyActivity
from dashboard.selectors import cycles_signature
from dashboard.services import refresh_activity
from governance.choices import AuditAction, Role
from governance.models import AuditLog
from grids.models import Region
from grids.outlines import simplify_geometry
from grids.services import regions as region_services

from .factories import UserFactory, arrange
from .test_assessment_pages import computed, events, grow, year_end  # noqa: F401

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[103.0, 36.0], [103.5, 36.0], [103.5, 36.5], [103.0, 36.5], [103.0, 36.0]]],
}


def api_url(code: str = "", **query) -> str:
    url = reverse("api-dashboard", args=[code]) if code else reverse("api-dashboard-own")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def township_user(world):
    return UserFactory(username="township_a", role=Role.CENTRE_STAFF, region=world.township_a)


@pytest.fixture
def committee_a(world):
    return UserFactory(username="committee_a", role=Role.COMMITTEE_STAFF, region=world.county_a)


# --- One source of numbers -------------------------------------------------------------------------------


def test_the_dashboard_and_the_ranking_page_give_the_same_score_and_rank_for_every_unit(
    client,
    world,
    year_end,  # noqa: F811
):
    client.force_login(world.province_user)
    compared = 0
    for parent in Region.objects.filter(level__lte=3).order_by("code"):
        children = client.get(api_url(parent.code, cycle=year_end.pk)).json()["children"]
        page = client.get(
            reverse("assessment:ranking", args=[year_end.pk]), {"parent": parent.code, "level": parent.level + 1}
        )
        ranked = {row.unit.region_code: (row.total, row.unit.rank, row.unit.peers) for row in page.context["rows"]}
        for child in children:
            assert (f"{child['score']:.2f}", child["rank"], child["peers"]) == ranked[child["code"]]
            compared += 1
    assert compared == UnitResult.objects.filter(cycle=year_end).count() == 5


def test_the_year_end_dashboard_shows_annual_results_grades_and_links_to_the_breakdown(
    client,
    world,
    year_end,  # noqa: F811
):
    client.force_login(world.province_user)
    data = client.get(api_url("6201")).json()
    assert data["cycle"]["id"] == year_end.pk  # the year-end cycle by default
    by_code = {c["code"]: c for c in data["children"]}
    assert set(by_code) == {world.county_a.code, world.county_b.code}
    county_a = by_code[world.county_a.code]
    assert county_a["grade"] in {"excellent", "good", "pass", "fail"} and county_a["annual"] is not None
    assert county_a["breakdown_url"] == reverse("assessment:unit", args=[year_end.pk, world.county_a.code])
    assert client.get(county_a["breakdown_url"]).status_code == 200


def test_the_trend_compares_the_unit_with_its_peers_median_and_the_radar_its_dimensions(
    client,
    world,
    year_end,  # noqa: F811
    committee_a,
):
    client.force_login(committee_a)
    data = client.get(api_url()).json()
    assert data["region"]["code"] == world.county_a.code
    trend = {s["key"]: s["data"] for s in data["trend"]["series"]}
    own = UnitResult.objects.get(cycle=year_end, region=world.county_a)
    sibling = UnitResult.objects.get(cycle=year_end, region=world.county_b)
    assert trend["unit"] == [float(own.total)]
    assert trend["peer_median"] == [float(round((own.total + sibling.total) / 2, 2))]
    radar = {s["key"]: s["data"] for s in data["radar"]["series"]}
    a_share = float(own.dimensions["A"]) * 100 / 20
    assert radar["unit"][0] == pytest.approx(a_share, abs=0.01)
    assert "peer_median" in radar
    assert str(sibling.total) not in json.dumps(data)  # the sibling's own score never leaves


def test_units_without_a_result_say_why(client, world, year_end):  # noqa: F811
    client.force_login(world.province_user)
    villages = client.get(api_url(world.township_a.code)).json()["children"]
    assert [v["code"] for v in villages] == [world.village_a.code]
    assert villages[0]["score"] is None and villages[0]["no_result"] == "该层级不参加本周期考核"


def test_operational_measures_count_the_events_of_the_period_per_child(client, world, year_end):  # noqa: F811
    refresh_activity()
    client.force_login(world.province_user)
    data = client.get(api_url("6201")).json()
    county_a = next(c for c in data["children"] if c["code"] == world.county_a.code)
    measures = county_a["measures"]
    assert measures["events"] == 3
    assert measures["events_per_1000"] == round(3 * 1000 / 600, 2)  # two grids of 300 residents
    assert sum(data["volumes"]["events"]) == 3 and len(data["volumes"]["months"]) == 12
    assert data["volumes"]["as_of"]


def test_the_monthly_counts_hold_every_level_and_a_refresh_replaces_them(world, file_event):
    import datetime as dt

    from django.utils import timezone

    file_event()
    file_event(region=world.grid_a2, reporter=world.user_a, reported_at=timezone.now() - dt.timedelta(days=20))
    file_event(region=world.grid_b, reporter=world.user_b)
    assert refresh_activity() == refresh_activity()  # the same rows again, never duplicated
    counted = MonthlyActivity.objects.filter(kind="events")
    by_code: dict[str, int] = {}
    for row in counted:
        by_code[row.region_code] = by_code.get(row.region_code, 0) + row.count
    assert by_code["62"] == by_code["6201"] == 3
    assert by_code[world.county_a.code] == by_code[world.village_a.code] == 2
    assert by_code[world.grid_a.code] == by_code[world.grid_a2.code] == by_code[world.grid_b.code] == 1
    assert sum(row.flagged for row in counted.filter(region_code="62")) == 1
    assert set(counted.filter(region_code=world.grid_a.code).values_list("parent_code", flat=True)) == {
        world.village_a.code
    }


def _flag(unit, cycle, rule="instant_closure"):
    from assessment.models import CredibilityFlag

    period = cycle.period
    return CredibilityFlag.objects.create(
        rule=rule, region=unit, region_code=unit.code, first=period.first, last=period.last,
        figures={"share": "45"}, record_model="grids.gridevent", record_ids=[],
    )  # fmt: skip


def test_the_flags_of_the_cycle_are_listed_and_counted_per_child(client, world, year_end):  # noqa: F811
    flag = _flag(world.township_a, year_end)
    client.force_login(world.province_user)
    data = client.get(api_url("6201", cycle=year_end.pk)).json()
    assert data["flags"]["total"] == 1 and data["flags"]["available"] is True
    item = data["flags"]["items"][0]
    assert item["url"] == reverse("assessment:flag-detail", args=[flag.pk]) and "秒办结" in item["message"]
    counts = {child["code"]: child["measures"]["open_flags"] for child in data["children"]}
    assert counts == {world.county_a.code: 1, world.county_b.code: 0}


def test_a_sibling_county_never_sees_anothers_flags(client, world, year_end):  # noqa: F811
    _flag(world.township_a, year_end)
    client.force_login(world.user_b)
    data = client.get(api_url(world.county_b.code, cycle=year_end.pk)).json()
    assert data["flags"]["items"] == [] and data["flags"]["total"] == 0


# --- Scoping ---------------------------------------------------------------------------------------------


def test_a_sibling_county_gets_404_on_the_page_the_endpoints_and_the_export(client, world, year_end):  # noqa: F811
    client.force_login(world.user_b)
    code = world.county_a.code
    urls = [
        reverse("dashboard:region", args=[code]),
        api_url(code),
        reverse("api-dashboard-outlines", args=[code]),
        reverse("dashboard:export", args=[code]),
        api_url(world.township_a.code),
        api_url("6201"),
    ]
    exports_before = AuditLog.objects.filter(action=AuditAction.EXPORT).count()
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert AuditLog.objects.filter(action=AuditAction.EXPORT).count() == exports_before
    assert client.get(api_url(world.county_b.code)).status_code == 200


def test_a_township_user_sees_its_own_dashboard_and_nothing_above(client, world, year_end, township_user):  # noqa: F811
    client.force_login(township_user)
    data = client.get(api_url()).json()
    assert data["region"]["code"] == world.township_a.code
    assert [c["code"] for c in data["breadcrumb"]] == [world.township_a.code]  # no ancestor it may not open
    assert client.get(reverse("dashboard:index")).status_code == 200
    assert client.get(api_url(world.county_a.code)).status_code == 404
    assert client.get(api_url(world.village_a.code)).status_code == 200


def test_other_roles_have_no_dashboard(client, world, year_end):  # noqa: F811
    client.force_login(world.worker_a)
    assert client.get(reverse("dashboard:index")).status_code == 404
    assert client.get(api_url(world.grid_a.code)).status_code == 404


def test_committee_staff_land_on_the_dashboard_and_centre_staff_find_it_in_the_menu(client, world):
    client.force_login(world.province_user)
    assert client.get("/").url == reverse("dashboard:index")
    client.force_login(world.user_a)
    home = client.get("/")
    assert home.status_code == 200
    assert ("综治看板", reverse("dashboard:index")) in home.context["nav_items"]


def test_an_unknown_cycle_is_a_404(client, world, year_end):  # noqa: F811
    client.force_login(world.province_user)
    assert client.get(api_url("62", cycle=year_end.pk + 1000)).status_code == 404


# --- Speed and caching -----------------------------------------------------------------------------------


def count_queries(client, url: str) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_the_children(client, world, year_end, django_assert_max_num_queries):  # noqa: F811
    refresh_activity()
    client.force_login(world.province_user)
    urls = [api_url(world.county_a.code), api_url("62"), reverse("api-dashboard-outlines", args=[world.county_a.code])]
    before = {url: count_queries(client, url) for url in urls}
    grow(world, year_end)
    refresh_activity()
    assert len(client.get(urls[0]).json()["children"]) == 9
    for url in urls:
        cache.clear()
        with django_assert_max_num_queries(before[url]):
            client.get(url)


def test_scores_are_cached_per_cycle_version_and_a_rerun_replaces_them(client, world, year_end):  # noqa: F811
    client.force_login(world.province_user)
    url = api_url("6201")
    first = client.get(url).json()
    score = next(c["score"] for c in first["children"] if c["code"] == world.county_a.code)
    UnitResult.objects.filter(cycle=year_end, region=world.county_a).update(total="12.34")
    cached = client.get(url).json()
    assert next(c["score"] for c in cached["children"] if c["code"] == world.county_a.code) == score
    computed(year_end)  # a re-run: new run count and computation time, so a new key
    UnitResult.objects.filter(cycle=year_end, region=world.county_a).update(total="12.34")
    fresh = client.get(url).json()
    assert next(c["score"] for c in fresh["children"] if c["code"] == world.county_a.code) == 12.34


def test_finalising_changes_the_cache_key(world, year_end):  # noqa: F811
    before = cycles_signature([year_end])
    year_end.status = "finalised"
    assert cycles_signature([year_end]) != before


# --- Outlines --------------------------------------------------------------------------------------------


def test_the_outlines_of_the_children_are_one_geojson_document(client, world):
    arrange(Region.objects.filter(pk__in=[world.county_a.pk, world.county_b.pk]), boundary=SQUARE)
    client.force_login(world.province_user)
    document = client.get(reverse("api-dashboard-outlines", args=["6201"])).json()
    assert document["type"] == "FeatureCollection"
    assert sorted(f["properties"]["code"] for f in document["features"]) == [world.county_a.code, world.county_b.code]
    client.force_login(world.user_a)
    assert client.get(reverse("api-dashboard-outlines", args=["6201"])).status_code == 404


def dense_circle(points: int = 2000) -> dict:
    ring = [
        [103.5 + 0.3 * math.cos(2 * math.pi * i / points), 36.0 + 0.3 * math.sin(2 * math.pi * i / points)]
        for i in range(points)
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def test_an_imported_outline_is_simplified_once_and_importing_it_again_changes_nothing(world):
    feature = {
        "type": "Feature",
        "properties": {"code": "620102002", "name": "新城街道", "level": "乡镇"},
        "geometry": dense_circle(),
    }
    document = json.dumps({"type": "FeatureCollection", "features": [feature]})
    region_services.import_regions(rows=region_services.read_geojson(io.StringIO(document)))
    stored = Region.objects.get(code="620102002").boundary
    assert 20 < len(stored["coordinates"][0]) < 400
    assert simplify_geometry(stored, 4) == stored
    again = region_services.import_regions(rows=region_services.read_geojson(io.StringIO(document)))
    assert again.summary["unchanged"] == 1


def test_a_point_is_not_an_outline_and_is_kept_as_given(world):
    assert simplify_geometry({"type": "Point", "coordinates": [103.0, 36.0]}, 3) is None


# --- Exports and schema ----------------------------------------------------------------------------------


def test_the_excel_export_holds_the_map_and_the_trend_and_is_audited(client, world, year_end):  # noqa: F811
    client.force_login(world.province_user)
    response = client.get(reverse("dashboard:export", args=["6201"]), {"cycle": year_end.pk})
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[:2] == ["地图数据", "趋势"]
    rows = list(workbook["地图数据"].iter_rows(min_row=2, values_only=True))
    assert sorted(r[0] for r in rows) == [world.county_a.code, world.county_b.code]
    own = UnitResult.objects.get(cycle=year_end, region=world.county_a)
    assert next(r[3] for r in rows if r[0] == world.county_a.code) == float(own.total)
    trend = list(workbook["趋势"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in trend] == [year_end.title]
    assert AuditLog.objects.filter(action=AuditAction.EXPORT, region_code="6201").exists()


def test_the_dashboard_endpoints_are_in_the_openapi_schema(client, world):
    client.force_login(world.province_user)
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    assert {"/api/v1/dashboard/", "/api/v1/dashboard/{code}/", "/api/v1/dashboard/{code}/outlines/"} <= set(
        schema["paths"]
    )


def test_the_page_loads_only_vendored_scripts(client, world):
    client.force_login(world.province_user)
    html = client.get(reverse("dashboard:index")).content.decode()
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html


def test_services_stay_untouched_by_a_dashboard_read(client, world, year_end):  # noqa: F811
    client.force_login(world.province_user)
    runs = year_end.runs
    client.get(api_url("62"))
    year_end.refresh_from_db()
    assert year_end.runs == runs and services.blocking_items(year_end) is not None


def test_the_dashboard_speaks_english_under_english(client, world, year_end):  # noqa: F811
    client.force_login(world.province_user)
    client.cookies["django_language"] = "en"
    data = client.get(api_url(world.township_a.code)).json()
    assert data["children"][0]["no_result"] == "This level is not assessed in this cycle"
    page = client.get(reverse("dashboard:index")).content.decode()
    assert "Score trend" in page and "得分趋势" not in page
