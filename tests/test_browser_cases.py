"""End to end in headless Chromium: a grid event is converted by the county centre into a
mediation case at the village committee; the village mediator opens it from the board on a
phone, adds the parties, accepts it, takes it, logs a session with a file, records the
agreement and a fulfilment follow-up."""

from __future__ import annotations

import pytest
from django.utils import timezone

from disputes.choices import CaseStatus
from disputes.models import Case
from grids.events.choices import EventStatus

from .browser import browser_page, phone_page, screenshot_path  # noqa: F401
from .test_browser_events import assert_fits_phone, desktop_page, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APPLICANT_ID = "620102198503121235"  # GB 11643 check digit 5
RESPONDENT_ID = "620102199001014565"


def open_action(page, name: str):
    """Open the <details> of an action on the case page and return it."""
    details = page.locator(f"details#action-{name}")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details


def submit(page, details, label: str) -> None:
    with page.expect_navigation():
        details.get_by_role("button", name=label, exact=True).click()


def add_party(page, side: str, name: str, id_number: str, phone: str) -> None:
    form = open_action(page, "party")
    form.locator("label", has_text=side).first.click()
    form.locator("#id_party-name").fill(name)
    form.locator("#id_party-id_number").fill(id_number)
    form.locator("#id_party-phone").fill(phone)
    submit(page, form, "添加当事人")
    assert "已完成“添加当事人”" in page.locator("ul.messages").inner_text()


def test_convert_an_event_and_mediate_it_to_an_agreement_in_the_browser(
    live_server,
    world,
    people,
    mediation,
    file_event,
    password,
    phone_page,  # noqa: F811
    tmp_path,
    settings,
):
    from disputes.validators import id_check_digit

    assert id_check_digit(APPLICANT_ID[:17]) == APPLICANT_ID[17]
    assert id_check_digit(RESPONDENT_ID[:17]) == RESPONDENT_ID[17]
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    event = file_event(title="楼上漏水引发邻里争吵", description="甲社区3号楼两户因漏水多次争吵，需要调解。")

    # --- The county centre converts the event from the event page ---------------------------------
    context, centre = desktop_page(phone_page)
    try:
        login(centre, base, world.user_a.username, password)
        centre.goto(f"{base}/events/{event.pk}/")
        convert = centre.locator("details#action-convert")
        convert.locator("summary").click()
        convert.locator("#id_convert-organisation").select_option(label=mediation["village_org"].name)
        convert.locator("#id_convert-dispute_type").select_option(label="邻里纠纷")
        with centre.expect_navigation():
            convert.get_by_role("button", name="转矛盾纠纷", exact=True).click()
        event.refresh_from_db()
        assert event.status == EventStatus.CONVERTED
        case = Case.objects.get(origin_event=event)
        assert case.organisation == mediation["village_org"] and case.status == CaseStatus.REGISTERED
        assert case.number in centre.locator("main").inner_text()
    finally:
        context.close()

    # --- The village mediator, on a phone: board → case ---------------------------------------------
    page = phone_page
    login(page, base, mediation["mediator"].username, password)
    page.goto(f"{base}/cases/new/")  # the registration form fits the phone too
    assert page.locator("#id_organisation").input_value() == str(mediation["village_org"].pk)
    # A party is a person (citizen ID) or an organisation (credit code, legal representative).
    assert page.locator("#id_respondent_id_number").is_visible()
    assert not page.locator("#id_respondent_credit_code").is_visible()
    page.locator("input[name=respondent_kind][value=organisation]").check()
    assert page.locator("#id_respondent_credit_code").is_visible()
    assert page.locator("#id_respondent_legal_representative").is_visible()
    assert not page.locator("#id_respondent_id_number").is_visible()
    assert page.locator("#id_applicant_id_number").is_visible()  # the other side keeps its own kind
    page.screenshot(path=str(screenshot_path("cases-phone-new")), full_page=True)
    assert_fits_phone(page)
    page.locator("nav.nav").get_by_role("link", name="调解工作台").click()
    page.wait_for_url(f"{base}/cases/")
    item = page.locator("li.case-item", has_text="楼上漏水引发邻里争吵")
    assert item.count() == 1
    assert "未指派" in item.inner_text() and "已登记" in item.inner_text()
    page.screenshot(path=str(screenshot_path("cases-phone-board")), full_page=True)
    assert_fits_phone(page)
    with page.expect_navigation():
        item.locator("a.event-title").click()
    assert page.url == f"{base}/cases/{case.pk}/"
    origin = page.locator("a", has_text=f"#{event.pk} 楼上漏水引发邻里争吵")
    assert origin.get_attribute("href") == f"/events/{event.pk}/"

    # Parties: a bad check digit first (Chinese error, input kept), then both parties.
    form = open_action(page, "party")
    form.locator("#id_party-name").fill("张三")
    form.locator("#id_party-id_number").fill(APPLICANT_ID[:17] + "0")
    submit(page, form, "添加当事人")
    assert "公民身份号码校验位错误，请核对。" in page.locator("details#action-party").inner_text()
    assert page.locator("#id_party-name").input_value() == "张三"
    assert page.locator("#id_party-id_number").input_value() == APPLICANT_ID[:17] + "0"
    add_party(page, "申请人", "张三", APPLICANT_ID, "13800138000")
    add_party(page, "被申请人", "李四", RESPONDENT_ID, "13912345678")
    parties = page.locator("#parties").inner_text()
    assert "620102********1235" in parties and "138****8000" in parties
    assert APPLICANT_ID not in page.content() and "13800138000" not in page.content()

    # Accept, then take the case (the mediator is preselected).
    submit(page, open_action(page, "accept"), "受理")
    assert page.locator(".badges .clock.clock-ok").is_visible()
    assign = open_action(page, "assign")
    assert assign.locator("#id_assign-mediator").input_value() == str(mediation["mediator"].pk)
    submit(page, assign, "指派调解员")
    assert "调解中" in page.locator(".badges").inner_text()

    # A session with a file.
    notes = tmp_path / "笔录.pdf"  # files follow the one upload rule: photos, PDF or Word
    notes.write_bytes(b"%PDF-1.4\n% mediation notes\n%%EOF\n")
    session = open_action(page, "session")
    session.locator("#id_session-place").fill("甲社区调解室")
    session.locator("#id_session-attendees").fill("张三、李四、调解员")
    session.locator("#id_session-notes").fill("双方陈述意见，李四同意维修并赔偿。")
    session.locator("#id_session-file").set_input_files(str(notes))
    submit(page, session, "记录调解")
    sessions = page.locator("#sessions")
    assert "甲社区调解室" in sessions.inner_text() and sessions.get_by_role("link", name="下载附件").count() == 1

    # The agreement.
    agree = open_action(page, "agree")
    agree.locator("#id_agree-terms").fill("一、李四于十日内修复卫生间漏水；\n二、李四赔偿张三损失人民币800元。")
    agree.locator("#id_agree-amount").fill("800")
    agree.locator("#id_agree-performance_deadline").fill(
        (timezone.localdate() + timezone.timedelta(days=10)).isoformat()
    )
    submit(page, agree, "调解成功")
    assert "调解成功" in page.locator(".badges").inner_text()
    assert page.get_by_role("link", name="打印调解协议书（PDF）").is_visible()

    # The fulfilment follow-up.
    follow_up = open_action(page, "follow_up")
    follow_up.locator("label", has_text="已全部履行").click()
    follow_up.locator("label", has_text="基本满意").click()
    follow_up.locator("#id_follow_up-notes").fill("漏水已修复，赔偿已支付。")
    submit(page, follow_up, "履行回访")
    assert "已全部履行" in page.locator("#follow-ups").inner_text()
    assert "调解成功" in page.locator(".badges").inner_text()
    case.refresh_from_db()
    assert case.status == CaseStatus.AGREED and case.mediator == mediation["mediator"]
    assert case.parties.count() == 2 and case.sessions.count() == 1 and case.follow_ups.count() == 1
    page.screenshot(path=str(screenshot_path("cases-phone-detail")), full_page=True)
    assert_fits_phone(page)

    # The board on a phone still lists the case (fulfilment tracking), then desktop views.
    page.goto(f"{base}/cases/")
    assert "调解成功" in page.locator("li.case-item", has_text="楼上漏水引发邻里争吵").inner_text()
    context, desk = desktop_page(phone_page)
    try:
        login(desk, base, mediation["mediator"].username, password)
        desk.goto(f"{base}/cases/")
        desk.screenshot(path=str(screenshot_path("cases-desktop-board")), full_page=True)
        desk.get_by_role("link", name="工作量").click()
        desk.wait_for_url(f"{base}/cases/workload/")
        row = desk.locator("table.workload-table tbody tr", has_text=mediation["mediator"].username)
        assert row.locator("td.num").all_inner_texts() == ["1", "0", "1"]  # open, overdue, concluded this month
        desk.screenshot(path=str(screenshot_path("cases-desktop-workload")), full_page=True)
        desk.goto(f"{base}/cases/{case.pk}/")
        assert "已全部履行" in desk.locator("#follow-ups").inner_text()
        desk.screenshot(path=str(screenshot_path("cases-desktop-detail")), full_page=True)
        response = desk.request.get(f"{base}/cases/{case.pk}/agreement.pdf")
        assert response.ok and response.headers["content-type"] == "application/pdf"
    finally:
        context.close()
    # The county centre's list of every case in the county.
    context, desk = desktop_page(phone_page)
    try:
        login(desk, base, world.user_a.username, password)
        desk.locator("nav.nav").get_by_role("link", name="矛盾纠纷").click()
        desk.wait_for_url(f"{base}/cases/")
        assert desk.locator("table.case-table", has_text=case.number).is_visible()
        desk.screenshot(path=str(screenshot_path("cases-desktop-staff-list")), full_page=True)
    finally:
        context.close()
