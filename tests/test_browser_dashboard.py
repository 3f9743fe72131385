"""The committee's dashboard in headless Chromium (SPEC §5.5).

Committee staff log in and land on the dashboard; the province's map has one shape per city, the
city's map one shape per county, each coloured by its score; a click on a county opens the county's
dashboard with its townships; the trend and the radar are drawn from non-empty data; the Excel
download holds the map's rows, a chart downloads as PNG; and no request ever leaves the app's origin (offline intranet).
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from dashboard.services import refresh_activity
from governance.audit import bulk_entry_recorded
from grids.models import Region
from grids.outlines import assign_demo_outlines

from .browser import browser_page, screenshot_path  # noqa: F401
from .test_assessment_pages import events, year_end  # noqa: F401
from .test_browser_events import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAP_STATE = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('chart-map'));
  const data = chart.getModel().getSeriesByIndex(0).getData();
  const shapes = [];
  for (let i = 0; i < data.count(); i++) {
    shapes.push({code: data.getName(i), value: data.get('value', i), fill: data.getItemVisual(i, 'style').fill});
  }
  return shapes;
}"""
SERIES = """(name) => echarts.getInstanceByDom(document.getElementById('chart-' + name)).getOption().series"""


def draw_outlines() -> None:
    regions = list(Region.objects.select_related("parent").order_by("level", "code"))
    assign_demo_outlines(regions)
    with bulk_entry_recorded():  # test set-up, as the demo builder draws them (before the regions are created)
        Region.objects.bulk_update(regions, ["boundary"])


def wait_for_dashboard(page, code: str) -> None:
    expect(page.locator(f"#dashboard[data-code='{code}'][data-ready='1']")).to_have_count(1)


def test_committee_staff_drill_down_from_the_province_to_a_county_offline(
    live_server,
    world,
    password,
    year_end,  # noqa: F811
    browser_page,  # noqa: F811
):
    draw_outlines()
    refresh_activity()
    base = live_server.url
    page = browser_page
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    login(page, base, world.province_user.username, password)
    assert page.url == f"{base}/dashboard/"  # the committee's home page
    wait_for_dashboard(page, "62")
    expect(page.locator("h1")).to_contain_text("综治看板")
    expect(page.locator("#flags-panel")).to_contain_text("暂无预警")  # the checks ran; nothing flagged here

    # The province: one shape, the city, coloured by its annual result's grade or score.
    assert [shape["code"] for shape in page.evaluate(MAP_STATE)] == ["6201"]
    trend = page.evaluate(SERIES, "trend")
    assert trend and any(value is not None for value in trend[0]["data"])
    radar = page.evaluate(SERIES, "radar")
    assert radar[0]["data"] and all(v is not None for v in radar[0]["data"][0]["value"])

    # The city, by its link in the ranking table: one shape per county, coloured by score.
    page.locator("#ranking-table a.drill").first.click()
    wait_for_dashboard(page, "6201")
    page.select_option("#measure-select", "score")
    shapes = page.evaluate(MAP_STATE)
    assert sorted(shape["code"] for shape in shapes) == [world.county_a.code, world.county_b.code]
    assert all(shape["value"] is not None for shape in shapes)
    fills = {shape["fill"] for shape in shapes}
    assert "#e6e6e6" not in fills and len(fills) == len({shape["value"] for shape in shapes})
    page.screenshot(path=str(screenshot_path("dashboard-city")), full_page=True)

    # A click on county A's shape drills down to its dashboard with its townships.
    box = page.locator("#chart-map").bounding_box()
    point = page.evaluate(
        """(code) => {
          const chart = echarts.getInstanceByDom(document.getElementById('chart-map'));
          const region = chart.getModel().getSeriesByIndex(0).coordinateSystem.getRegion(code);
          return chart.convertToPixel({seriesIndex: 0}, region.getCenter());
        }""",
        world.county_a.code,
    )
    with page.expect_navigation():
        page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    assert f"/dashboard/{world.county_a.code}/" in page.url
    wait_for_dashboard(page, world.county_a.code)
    assert [shape["code"] for shape in page.evaluate(MAP_STATE)] == [world.township_a.code]
    expect(page.locator(".dash-crumbs")).to_contain_text("兰州市")
    unit = next(s for s in page.evaluate(SERIES, "trend") if s["name"] == world.county_a.name)
    assert any(value is not None for value in unit["data"])
    radar = page.evaluate(SERIES, "radar")
    assert len(radar[0]["data"]) == 2  # the county and its peers' median

    # Every chart downloads as a PNG drawn in the browser.
    with page.expect_download() as picture:
        page.locator("button[data-png='trend']").click()
    assert picture.value.suggested_filename == f"dashboard-{world.county_a.code}-trend.png"
    assert picture.value.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The data behind the map and the trend, as Excel.
    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    workbook = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    rows = list(workbook["地图数据"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == [world.township_a.code]

    # Offline by construction: every request went to the app itself.
    assert requests and all(url.startswith(base) for url in requests), [u for u in requests if not u.startswith(base)]
