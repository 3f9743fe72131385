"""End-to-end pages in headless Chromium: login, home, region drill-down, lockout, language, phone layout."""

from __future__ import annotations

import re

import pytest

from .browser import browser_page, phone_page, screenshot_path  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COUNTY_B_NAME = "七里河区"


def login(page, base_url: str, username: str, password: str):
    """Fill in and submit the real login form; returns the response of the resulting navigation."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation() as navigation:
        page.locator("form:has(#id_username) button[type=submit]").click()
    return navigation.value


def click_through(page, name: str):
    """Click the link called `name` inside the page body and wait for the next page."""
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name=name, exact=True).first.click()


def assert_no_county_b(page):
    html = page.content()
    assert COUNTY_B_NAME not in html, f"{COUNTY_B_NAME} leaked into {page.url}"


def test_centre_staff_logs_in_and_drills_down_to_a_grid(live_server, world, password, browser_page):  # noqa: F811
    page = browser_page
    base = live_server.url

    login(page, base, world.user_a.username, password)
    assert page.url == f"{base}/"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1").first.inner_text().startswith("工作台")
    assert page.get_by_text(world.county_a.name).first.is_visible()
    assert_no_county_b(page)
    page.screenshot(path=str(screenshot_path("home-centre-staff")), full_page=True)

    # Home → region browser at the user's own county.
    with page.expect_navigation():
        page.get_by_role("link", name="进入区划浏览").click()
    assert page.url == f"{base}/regions/{world.county_a.code}/"
    assert world.county_a.name in page.locator("h1").inner_text()
    assert_no_county_b(page)
    page.screenshot(path=str(screenshot_path("region-county")), full_page=True)

    # County → township → village → grid, by clicking the child links.
    for region in (world.township_a, world.village_a):
        click_through(page, region.name)
        assert page.url == f"{base}/regions/{region.code}/"
        assert region.name in page.locator("h1").inner_text()
        assert_no_county_b(page)

    # The village lists both grids; the one without a full-time worker is flagged.
    rows = page.locator("main table tbody tr")
    assert rows.count() == 2
    flagged_row = rows.filter(has_text=world.grid_a2.name)
    assert "无专职网格员" in flagged_row.inner_text()
    page.screenshot(path=str(screenshot_path("region-village")), full_page=True)

    click_through(page, world.grid_a.name)
    assert page.url == f"{base}/regions/{world.grid_a.code}/"
    assert world.grid_a.name in page.locator("h1").inner_text()
    # Breadcrumbs lead back up through the user's own jurisdiction.
    crumbs = page.locator("nav.breadcrumbs").inner_text()
    for region in (world.county_a, world.township_a, world.village_a):
        assert region.name in crumbs
    # The grid's sizing information.
    stats = page.locator("dl.stats").inner_text()
    for label in ("户数", "常住人口", "网格类型", "专职网格员", "兼职网格员", "楼栋长"):
        assert label in stats
    assert re.search(r"户数\s*100\b", stats)
    assert re.search(r"常住人口\s*300\b", stats)
    assert re.search(r"专职网格员\s*1\b", stats)
    sizing = page.locator("section.card", has=page.get_by_role("heading", name="规模标准"))
    assert sizing.is_visible()
    assert "网格规模符合标准" in sizing.inner_text()
    assert_no_county_b(page)
    page.screenshot(path=str(screenshot_path("region-grid")), full_page=True)

    # The sibling county is out of scope: a plain 404, and nothing of it shown.
    response = page.goto(f"{base}/regions/{world.county_b.code}/")
    assert response.status == 404
    assert_no_county_b(page)
    response = page.goto(f"{base}/regions/{world.grid_b.code}/")
    assert response.status == 404
    assert_no_county_b(page)


def test_grid_worker_home_on_a_phone(live_server, world, password, phone_page):  # noqa: F811
    page = phone_page
    base = live_server.url

    login(page, base, world.worker_a.username, password)
    assert page.url == f"{base}/"
    assert page.locator("h1").first.inner_text().startswith("工作台")
    grid_card = page.locator("main section.card", has_text=world.grid_a.name)
    assert grid_card.count() == 1
    assert grid_card.is_visible()
    assert world.grid_a.code in grid_card.inner_text()
    assert "网格规模符合标准" in grid_card.inner_text()
    # Only the worker's own grid: not the sibling grid of the same village, nothing of county B.
    assert world.grid_a2.name not in page.content()
    assert_no_county_b(page)
    page.screenshot(path=str(screenshot_path("phone-home-grid-worker")), full_page=True)
    assert_fits_phone(page)

    # The grid page itself is usable on the phone as well.
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name=world.grid_a.name).click()
    assert page.url == f"{base}/regions/{world.grid_a.code}/"
    page.screenshot(path=str(screenshot_path("phone-region-grid")), full_page=True)
    assert_fits_phone(page)


def assert_fits_phone(page):
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
        " body: document.body.scrollWidth})"
    )
    viewport = page.viewport_size["width"]
    assert widths["inner"] == viewport, widths
    assert widths["scroll"] <= widths["inner"] + 1, f"horizontal overflow on {page.url}: {widths}"
    assert widths["body"] <= widths["inner"] + 1, f"horizontal overflow on {page.url}: {widths}"


def test_five_wrong_passwords_lock_the_account(live_server, world, password, browser_page):  # noqa: F811
    page = browser_page
    base = live_server.url
    username = world.user_a.username

    for attempt in range(1, 5):
        login(page, base, username, f"wrong-{attempt}")
        assert page.url.startswith(f"{base}/accounts/login/")
        alert = page.get_by_role("alert").inner_text()
        assert "用户名或密码不正确" in alert, (attempt, alert)
        assert "锁定" not in alert.replace("连续失败5次后账户将锁定30分钟", ""), (attempt, alert)

    login(page, base, username, "wrong-5")
    assert page.url.startswith(f"{base}/accounts/login/")
    alert = page.get_by_role("alert").inner_text()
    assert "锁定" in alert
    assert "已锁定" in alert, alert
    page.screenshot(path=str(screenshot_path("login-locked")), full_page=True)

    # The right password no longer opens the account while it is locked.
    login(page, base, username, password)
    assert page.url.startswith(f"{base}/accounts/login/")
    assert "已锁定" in page.get_by_role("alert").inner_text()
    response = page.goto(f"{base}/")
    assert "/accounts/login/" in page.url, response.url

    world.user_a.refresh_from_db()
    assert world.user_a.locked_until is not None


def test_language_selector_switches_to_english(live_server, world, password, browser_page):  # noqa: F811
    page = browser_page
    base = live_server.url

    page.goto(f"{base}/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.url.startswith(f"{base}/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Log in"

    # The choice sticks across pages, including after logging in.
    login(page, base, world.user_a.username, password)
    assert page.url == f"{base}/"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("select[name=language]").input_value() == "en"
    assert page.locator("h1").first.inner_text().startswith("Dashboard")
    page.screenshot(path=str(screenshot_path("home-english")), full_page=True)

    # …and back again.
    with page.expect_navigation():
        page.select_option("select[name=language]", "zh-hans")
    assert page.url == f"{base}/"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1").first.inner_text().startswith("工作台")
