"""End to end in headless Chromium: a grid worker files an event with a photo from the
phone-sized form, the county centre accepts and dispatches it, the police department signs
for it from its queue and resolves it."""

from __future__ import annotations

import re

import pytest
from PIL import Image, ImageDraw

from grids.events.choices import EventStatus
from grids.events.models import EventAttachment, GridEvent

from .browser import DESKTOP, browser_page, phone_page, screenshot_path  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def login(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("form:has(#id_username) button[type=submit]").click()
    assert "/accounts/login/" not in page.url, f"login failed for {username}"


def assert_fits_phone(page) -> None:
    widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    # A mobile browser widens the layout viewport to fit wide content: it must stay at 375 px.
    assert widths["inner"] == page.viewport_size["width"], f"layout wider than the phone on {page.url}: {widths}"
    assert widths["scroll"] <= widths["inner"] + 1, f"horizontal overflow on {page.url}: {widths}"


def desktop_page(page):
    """Another user's browser: a fresh desktop context of the same Chromium."""
    context = page.context.browser.new_context(viewport=DESKTOP, locale="zh-CN")
    context.set_default_timeout(15_000)
    return context, context.new_page()


def image_width(page, image) -> int:
    """The natural width of an <img> once it has loaded (thumbnails load lazily)."""
    handle = image.element_handle()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=handle)
    return page.evaluate("(img) => img.naturalWidth", handle)


def make_photo(path) -> str:
    image = Image.new("RGB", (640, 480), (214, 228, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((80, 260, 560, 420), fill=(120, 120, 130))  # a parked car on the fire lane
    draw.rectangle((0, 420, 640, 480), fill=(200, 40, 40))
    image.save(path, format="PNG")
    return str(path)


def test_file_dispatch_and_resolve_an_event_in_the_browser(
    live_server,
    world,
    people,
    password,
    phone_page,  # noqa: F811
    tmp_path,
    settings,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    photo = make_photo(tmp_path / "fire-lane.png")

    # --- The grid worker files the event on the phone ---------------------------------------
    page = phone_page
    login(page, base, world.worker_a.username, password)
    page.locator("nav.nav").get_by_role("link", name="上报事件").click()
    page.wait_for_url(f"{base}/events/new/")
    assert page.locator("h1").inner_text() == "上报事件"
    assert "重复提交不会产生重复事件" in page.locator("main").inner_text()
    # The page generated its own client UUID (crypto.randomUUID) over the server's fallback.
    client_uuid = page.locator("input[name=client_uuid]").input_value()
    assert UUID.match(client_uuid), client_uuid
    # The worker's only grid is preselected.
    assert page.locator("#id_grid").input_value() == str(world.grid_a.pk)

    # A first try with the category and description missing: Chinese errors, nothing typed lost.
    page.fill("#id_title", "消防通道被私家车占用")
    page.fill("#id_address", "甲社区3号楼北侧")
    with page.expect_navigation():
        page.get_by_role("button", name="提交上报", exact=True).click()
    assert GridEvent.objects.count() == 0
    errors = page.locator(".field-error").all_inner_texts()
    assert "请选择事件类别。" in errors and "请描述事件情况。" in errors
    assert "照片需要重新选择" in page.get_by_role("alert").inner_text()
    assert page.locator("#id_title").input_value() == "消防通道被私家车占用"
    assert page.locator("#id_address").input_value() == "甲社区3号楼北侧"
    assert page.locator("input[name=client_uuid]").input_value() == client_uuid  # still the same filing
    page.screenshot(path=str(screenshot_path("events-phone-form-errors")), full_page=True)
    assert_fits_phone(page)

    page.select_option("#id_category", label="消防通道堵塞")
    page.fill("#id_description", "甲社区3号楼北侧消防通道停放两辆私家车，已持续两天。")
    page.locator("label", has_text="紧急").first.click()
    page.set_input_files("#id_photos", photo)
    assert page.locator(".photo-preview img").count() == 1
    assert page.locator("button[data-locate]").is_visible()  # geolocation is offered
    page.screenshot(path=str(screenshot_path("events-phone-form")), full_page=True)
    assert_fits_phone(page)

    with page.expect_navigation():
        page.get_by_role("button", name="提交上报", exact=True).click()
    event = GridEvent.objects.get()
    assert page.url == f"{base}/events/{event.pk}/"
    assert str(event.client_uuid) == client_uuid
    assert event.urgency == "urgent" and event.category.code == "fire_passage"
    assert "事件已上报" in page.locator("ul.messages").inner_text()
    thumbnail = page.locator("ul.thumbs img").first
    assert thumbnail.is_visible()
    assert image_width(page, thumbnail) == 640
    page.screenshot(path=str(screenshot_path("events-phone-detail-reported")), full_page=True)
    assert_fits_phone(page)

    page.goto(f"{base}/events/mine/")
    item = page.locator("li.event-item", has_text="消防通道被私家车占用")
    assert item.count() == 1
    assert item.locator(".clock.clock-ok").is_visible()
    assert "已上报" in item.inner_text()
    page.screenshot(path=str(screenshot_path("events-phone-mine")), full_page=True)
    assert_fits_phone(page)

    # The visit log of the day, on the same phone.
    page.locator("nav.nav").get_by_role("link", name="走访记录").click()
    page.wait_for_url(f"{base}/events/visits/new/")
    page.fill("#id_households_visited", "14")
    page.fill("#id_notes", "走访3号楼独居老人，反映消防通道被占。")
    with page.expect_navigation():
        page.get_by_role("button", name="保存走访记录", exact=True).click()
    assert "走访记录已保存" in page.locator("ul.messages").inner_text()
    assert "14 户" in page.locator("ul.visit-list").inner_text()
    page.screenshot(path=str(screenshot_path("events-phone-visits")), full_page=True)
    assert_fits_phone(page)

    # --- The county centre accepts and dispatches it ----------------------------------------
    context, centre = desktop_page(page)
    try:
        login(centre, base, world.user_a.username, password)
        centre.locator("nav.nav").get_by_role("link", name="事件受理").click()
        centre.wait_for_url(f"{base}/events/queue/")
        row = centre.locator("table.event-table tbody tr", has_text="消防通道被私家车占用")
        assert row.count() == 1
        assert "已上报" in row.inner_text()
        assert "已上报 1" in centre.locator("nav.status-chips").inner_text()
        centre.screenshot(path=str(screenshot_path("events-queue")), full_page=True)

        with centre.expect_navigation():
            row.get_by_role("link", name="消防通道被私家车占用").click()
        assert centre.url == f"{base}/events/{event.pk}/"
        assert "138" not in centre.locator(".fields").inner_text()  # no phone given, none shown
        accept = centre.locator("details#action-accept")
        assert accept.get_attribute("open") is not None
        with centre.expect_navigation():
            accept.get_by_role("button", name="受理", exact=True).click()
        assert "已完成“受理”" in centre.locator("ul.messages").inner_text()

        # Once accepted, dispatching is the next step: its form is open.
        dispatch = centre.locator("details#action-dispatch")
        assert dispatch.get_attribute("open") is not None
        centre.screenshot(path=str(screenshot_path("events-detail-accepted")), full_page=True)
        lead = dispatch.locator("select[name='dispatch-lead']")
        assert world.dept_b.name not in lead.inner_text()  # only departments in the jurisdiction
        lead.select_option(str(world.dept_a.pk))
        dispatch.locator("textarea[name='dispatch-note']").fill("请公安分局牵头清理消防通道")
        with centre.expect_navigation():
            dispatch.get_by_role("button", name="分派", exact=True).click()
        assert "已完成“分派”" in centre.locator("ul.messages").inner_text()
        assert centre.locator(".badges .status").inner_text() == "已分派"
        assert world.dept_a.name in centre.locator("main").inner_text()
        centre.screenshot(path=str(screenshot_path("events-detail-dispatched")), full_page=True)
    finally:
        context.close()

    # --- The police handler signs for it from the department queue and resolves it ------------
    context, police = desktop_page(page)
    try:
        login(police, base, people["police"].username, password)
        police.locator("nav.nav").get_by_role("link", name="部门待办").click()
        police.wait_for_url(f"{base}/events/department/")
        row = police.locator("table.event-table tbody tr", has_text="消防通道被私家车占用")
        assert "待签收" in row.inner_text()
        police.screenshot(path=str(screenshot_path("events-department-queue")), full_page=True)
        with police.expect_navigation():
            row.get_by_role("button", name="签收", exact=True).click()
        assert police.url.startswith(f"{base}/events/department/")
        assert "已完成“部门签收”" in police.locator("ul.messages").inner_text()
        row = police.locator("table.event-table tbody tr", has_text="消防通道被私家车占用")
        assert "已签收" in row.inner_text() and "办理中" in row.inner_text()

        with police.expect_navigation():
            row.get_by_role("link", name="办理").click()
        resolve = police.locator("details#action-resolve")
        assert resolve.get_attribute("open") is not None
        resolve.locator("textarea[name='resolve-resolution']").fill("已联系车主挪车，并在通道两端设置禁停标识。")
        with police.expect_navigation():
            resolve.get_by_role("button", name="办结", exact=True).click()
        assert "已完成“办结”" in police.locator("ul.messages").inner_text()
        assert police.locator(".badges .status").inner_text() == "已办结"
        assert "已联系车主挪车" in police.locator("main").inner_text()
        # The worker's photo is there for the department too.
        thumbnail = police.locator("ul.thumbs img").first
        assert thumbnail.is_visible()
        assert image_width(police, thumbnail) == 640
        timeline = police.locator("ol.timeline").inner_text()
        for step in ("上报", "受理", "分派", "部门签收", "办结"):
            assert step in timeline
        police.screenshot(path=str(screenshot_path("events-detail-resolved")), full_page=True)
    finally:
        context.close()

    event.refresh_from_db()
    assert event.status == EventStatus.RESOLVED
    assert event.lead_department == world.dept_a
    assert EventAttachment.objects.filter(event=event, stage="report").count() == 1

    # --- Back on the phone, the worker sees the outcome and may verify on site ----------------
    page.goto(f"{base}/events/{event.pk}/")
    assert page.locator(".badges .status").inner_text() == "已办结"
    assert page.locator("details#action-verify").count() == 1
    page.screenshot(path=str(screenshot_path("events-phone-detail-resolved")), full_page=True)
    assert_fits_phone(page)


def test_a_resident_reports_from_the_public_page(live_server, world, phone_page, tmp_path, settings):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    page = phone_page
    base = live_server.url
    page.goto(f"{base}/report/")
    assert page.locator("h1").inner_text().startswith("随手拍")
    # With JavaScript the selects cascade (the no-JavaScript step buttons are hidden).
    assert not page.locator("button[data-noscript-step]").first.is_visible()
    page.select_option("#id_county", world.county_a.code)
    page.locator("#id_township option").nth(1).wait_for(state="attached")  # no string eval under the CSP
    assert world.township_b.name not in page.locator("#id_township").inner_text()
    page.select_option("#id_township", world.township_a.code)
    page.locator("#id_village option").nth(1).wait_for(state="attached")
    page.select_option("#id_village", world.village_a.code)
    page.select_option("#id_category", label="环境卫生")
    page.fill("#id_description", "东门垃圾桶满溢三天无人清运，气味很大。")
    page.fill("#id_phone", "13912345678")
    page.set_input_files("#id_photo", make_photo(tmp_path / "garbage.png"))
    page.screenshot(path=str(screenshot_path("public-report-phone")), full_page=True)
    assert_fits_phone(page)
    with page.expect_navigation():
        page.get_by_role("button", name="提交", exact=True).click()
    event = GridEvent.objects.get()
    assert page.url == f"{base}/report/thanks/"
    assert f"#{event.pk}" in page.locator(".event-number").inner_text()
    assert event.source == "resident" and event.region == world.village_a and event.reporter_id is None
    assert event.attachments.count() == 1
    page.screenshot(path=str(screenshot_path("public-report-thanks")), full_page=True)


def test_the_phone_form_keeps_a_local_draft_until_the_server_confirms_the_filing(
    live_server,
    world,
    password,
    phone_page,  # noqa: F811
):
    base, page = live_server.url, phone_page
    login(page, base, world.worker_a.username, password)
    page.goto(f"{base}/events/new/")
    assert "提交成功后自动清除" in page.locator("main").inner_text()
    page.select_option("#id_category", label="消防通道堵塞")
    page.fill("#id_title", "楼道堆放杂物")
    page.fill("#id_description", "2号楼一单元楼道堆放纸箱和旧家具，影响疏散。")
    client_uuid = page.locator("input[name=client_uuid]").input_value()

    # The connection drops as the worker sends: the browser shows its error page, nothing is filed.
    page.route("**/events/new/", lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    page.get_by_role("button", name="提交上报", exact=True).click()
    page.wait_for_timeout(500)
    assert GridEvent.objects.count() == 0
    page.unroute("**/events/new/")

    # Back on the form (a reload, or later): everything typed is there, with the same filing's UUID.
    page.goto(f"{base}/events/new/")
    assert page.locator("[data-draft-notice]").is_visible()
    assert page.locator("#id_title").input_value() == "楼道堆放杂物"
    assert page.locator("#id_description").input_value() == "2号楼一单元楼道堆放纸箱和旧家具，影响疏散。"
    assert page.locator("input[name=client_uuid]").input_value() == client_uuid
    page.screenshot(path=str(screenshot_path("events-phone-form-draft")), full_page=True)
    assert_fits_phone(page)

    # The server confirms the filing: the event page clears the draft, and a new form starts empty.
    with page.expect_navigation():
        page.get_by_role("button", name="提交上报", exact=True).click()
    event = GridEvent.objects.get()
    assert str(event.client_uuid) == client_uuid and page.url == f"{base}/events/{event.pk}/"
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('event-draft:')).length") == 0
    page.goto(f"{base}/events/new/")
    assert page.locator("#id_title").input_value() == "" and not page.locator("[data-draft-notice]").is_visible()
