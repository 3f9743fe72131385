"""After the scores in headless Chromium: a township files an appeal on one line of its
breakdown with an evidence file, the city committee upholds it, the township's breakdown shows
the adjusted score (after the re-computation: inside the request with eager Celery, on the
worker otherwise) and its diagnostic report downloads as a PDF with the embedded CJK font."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from assessment import services
from assessment.models import IndicatorResult, ScoreAppeal

from .browser import browser_page, screenshot_path  # noqa: F401
from .pdf_checks import cjk_font_is_embedded_subset, pdf_text
from .test_assessment_after_scores import APPEALED, actors, computed_cycle  # noqa: F401
from .test_browser_events import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESCORE_TIMEOUT_S = 120  # a real worker picks the re-computation up


def line_row(page, indicator: str):
    return page.locator("table.line-table tbody tr", has=page.locator("td.unit b", has_text=indicator))


def test_a_township_appeals_the_city_upholds_and_the_breakdown_and_report_follow(
    live_server,
    world,
    actors,  # noqa: F811
    password,
    celery_worker,
    settings,
    tmp_path,
    browser_page,  # noqa: F811
):
    settings.MEDIA_ROOT = tmp_path
    base, page = live_server.url, browser_page
    cycle = computed_cycle(world)
    services.finalise(cycle, user=actors["committee_city"])
    services.publish(cycle, user=actors["committee_city"])
    unit_url = f"{base}/assessment/{cycle.pk}/units/{world.township_a.code}/"

    # --- The township appeals one line -----------------------------------------------------------------
    login(page, base, actors["township"].username, password)
    page.goto(unit_url)
    row = line_row(page, APPEALED)
    expect(row).to_contain_text("未报送")
    with page.expect_navigation():
        row.get_by_role("link", name="申诉").click()
    page.fill("#id_reasons", "3月核心指标表已按时报送，系统迁移时丢失。")
    page.set_input_files(
        "#id_evidence", {"name": "报送回执.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% receipt\n"}
    )
    with page.expect_navigation():
        page.get_by_role("button", name="提交申诉").click()
    expect(page.locator("body")).to_contain_text("申诉已提交")
    appeal = ScoreAppeal.objects.get()
    page.screenshot(path=str(screenshot_path("assessment-appeal-filed")), full_page=True)

    # --- The city committee upholds it -----------------------------------------------------------------
    page.context.clear_cookies()
    login(page, base, actors["committee_city"].username, password)
    page.goto(f"{base}/assessment/appeals/")
    with page.expect_navigation():
        page.get_by_role("link", name=world.township_a.name).click()
    page.get_by_label("认定申诉成立并调整得分").check()
    page.fill("#id_adjusted_percent", "100")
    page.fill("#id_decision_note", "经核实报表已按时报送，予以调整。")
    with page.expect_navigation():
        page.get_by_role("button", name="提交处理结果").click()
    expect(page.locator("p.badges")).to_contain_text("申诉成立，已调整")

    # --- The township sees the adjusted score and downloads its report --------------------------------
    page.context.clear_cookies()
    login(page, base, actors["township"].username, password)
    deadline = time.monotonic() + RESCORE_TIMEOUT_S
    while IndicatorResult.objects.get(cycle=cycle, region_code=world.township_a.code, indicator=APPEALED).ratio != 1:
        assert time.monotonic() < deadline, "the re-computation did not finish"
        time.sleep(1)
    page.goto(unit_url)
    row = line_row(page, APPEALED)
    expect(row).to_contain_text("100.00%")
    expect(row).to_contain_text("申诉调整")
    expect(row.get_by_role("link", name="申诉成立，已调整")).to_have_attribute(
        "href", f"/assessment/appeals/{appeal.pk}/"
    )
    page.screenshot(path=str(screenshot_path("assessment-appeal-upheld-breakdown")), full_page=True)
    href = page.get_by_role("link", name="绩效诊断报告（PDF）").get_attribute("href")
    response = page.request.get(f"{base}{href}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert "绩效诊断报告" in pdf_text(response.body()) and cjk_font_is_embedded_subset(response.body())
