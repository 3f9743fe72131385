"""Case pages: the board and the staff list, workload, registration, the case page with its
steps, masking and the audited reveal, the PDFs, and jurisdiction (404 outside it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from disputes import services as svc
from disputes.choices import CaseStatus
from disputes.models import Case, Party
from governance.choices import AuditAction
from governance.models import AuditLog
from tests.parties import PERSON_1, PERSON_2, PHONE_1, PHONE_2

from .factories import UserFactory, arrange
from .pdf_checks import cjk_font_is_embedded_subset, pdf_text

pytestmark = pytest.mark.django_db


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
BAD_ID = PERSON_1[:17] + ("0" if PERSON_1[17] != "0" else "1")


def register(world, mediation, title="楼上漏水纠纷", **kwargs):
    values = {
        "user": mediation["mediator"],
        "organisation": mediation["village_org"],
        "origin_region": world.grid_a,
        "dispute_type": "neighbour",
        "title": title,
        "facts": "楼上卫生间漏水，双方多次争吵。",
        "parties": [
            {"side": "applicant", "name": "张三", "id_number": PERSON_1, "phone": PHONE_1},
            {"side": "respondent", "name": "李四", "id_number": PERSON_2, "phone": PHONE_2},
        ],
    }
    values.update(kwargs)
    return svc.case_register(**values)


def agreed_case(world, mediation, **kwargs):
    m = mediation["mediator"]
    case = register(world, mediation, **kwargs)
    svc.case_accept(case=case, user=m)
    svc.case_assign(case=case, user=m, mediator=m)
    svc.session_log(
        case=case, user=m, held_on=timezone.localdate(), place="村委会", attendees="张三、李四", notes="双方陈述"
    )
    svc.case_agree(
        case=case,
        user=m,
        terms="李四于十日内修复漏水并赔偿张三损失。",
        amount=1200,
        signed_on=timezone.localdate(),
        performance_deadline=timezone.localdate() + dt.timedelta(days=10),
    )
    svc.follow_up_record(
        case=case, user=m, visited_on=timezone.localdate(), fulfilment="full", satisfaction="satisfied"
    )
    return Case.objects.get(pk=case.pk)


def html(response) -> str:
    return response.content.decode()


# --- Pages per role -------------------------------------------------------------------------------


def test_pages_render_for_each_case_role(client, world, mediation):
    case = register(world, mediation)
    committee_county = UserFactory(username="committee_a", role="committee_staff", region=world.county_a)
    for user, heading, nav in [
        (mediation["mediator"], "调解工作台", "调解工作台"),
        (world.user_a, "矛盾纠纷", "矛盾纠纷"),
        (committee_county, "矛盾纠纷", "矛盾纠纷"),
        (world.province_user, "矛盾纠纷", "矛盾纠纷"),
    ]:
        client.force_login(user)
        board = client.get("/cases/")
        assert board.status_code == 200, user
        assert f"<h1>{heading}" in html(board) and f'href="/cases/">{nav}</a>' in html(board)
        assert case.title in html(board)
        assert client.get("/cases/workload/").status_code == 200
        detail = client.get(f"/cases/{case.pk}/")
        assert detail.status_code == 200
        assert case.number in html(detail) and "张三" in html(detail)
    # Registration is for mediators and centre staff; committee staff supervise.
    client.force_login(mediation["mediator"])
    assert client.get("/cases/new/").status_code == 200
    client.force_login(world.user_a)
    assert client.get("/cases/new/").status_code == 200
    client.force_login(committee_county)
    assert client.get("/cases/new/").status_code == 403
    # Roles without case pages.
    client.force_login(world.worker_a)
    assert client.get("/cases/").status_code == 403
    assert client.get(f"/cases/{case.pk}/").status_code == 404


def test_the_case_page_offers_the_steps_the_user_may_take_now(client, world, mediation):
    case = register(world, mediation)
    client.force_login(mediation["mediator"])
    page = html(client.get(f"/cases/{case.pk}/"))
    assert f'action="/cases/{case.pk}/act/accept/"' in page and f'action="/cases/{case.pk}/act/decline/"' in page
    assert "/act/agree/" not in page and "/act/session/" not in page
    assert f'action="/cases/{case.pk}/act/party/"' in page
    # Committee staff of the province may act too (may_act), a mediator of another org sees nothing.
    client.force_login(mediation["county_mediator"])
    assert client.get(f"/cases/{case.pk}/").status_code == 404


def test_a_mediator_runs_a_case_through_the_pages(client, world, mediation):
    m = mediation["mediator"]
    case = register(world, mediation)
    client.force_login(m)
    assert client.post(f"/cases/{case.pk}/act/accept/", {"accept-note": ""}).status_code == 302
    assert client.post(f"/cases/{case.pk}/act/assign/", {"assign-mediator": m.pk}).status_code == 302
    response = client.post(
        f"/cases/{case.pk}/act/session/",
        {
            "session-held_on": timezone.localdate().isoformat(),
            "session-place": "村委会调解室",
            "session-attendees": "张三、李四",
            "session-notes": "双方陈述意见",
        },
    )
    assert response.status_code == 302
    # A refused agreement (no terms) keeps what was typed.
    response = client.post(
        f"/cases/{case.pk}/act/agree/",
        {"agree-terms": "", "agree-amount": "800", "agree-signed_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200
    page = html(response)
    assert "请填写调解协议内容。" in page and 'value="800"' in page and "“调解成功”未完成" in page
    response = client.post(
        f"/cases/{case.pk}/act/agree/",
        {"agree-terms": "赔偿800元", "agree-amount": "800", "agree-signed_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    # Closing before a follow-up: the service's refusal is shown on the page.
    response = client.post(f"/cases/{case.pk}/act/close/", {"close-note": "结案"})
    assert response.status_code == 200 and "须至少回访一次" in html(response)
    response = client.post(
        f"/cases/{case.pk}/act/follow_up/",
        {
            "follow_up-visited_on": timezone.localdate().isoformat(),
            "follow_up-fulfilment": "full",
            "follow_up-satisfaction": "satisfied",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.AGREED and case.follow_ups.count() == 1
    page = html(client.get(f"/cases/{case.pk}/"))
    assert "调解成功" in page and "已全部履行" in page and "/agreement.pdf" in page
    # An unknown action name is not a page.
    assert client.post(f"/cases/{case.pk}/act/explode/", {}).status_code == 404


def test_an_illegal_step_is_refused_with_a_message(client, world, mediation):
    case = register(world, mediation)
    client.force_login(mediation["mediator"])
    response = client.post(f"/cases/{case.pk}/act/close/", {"close-note": ""})
    assert response.status_code == 200
    assert "不能执行“结案”" in html(response)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REGISTERED


# --- Jurisdiction ---------------------------------------------------------------------------------


def test_a_foreign_case_answers_404_everywhere(client, world, mediation):
    case = agreed_case(world, mediation)
    party = case.parties.first()
    for outsider in (world.user_b, mediation["mediator_b"], mediation["county_mediator"]):
        client.force_login(outsider)
        assert client.get(f"/cases/{case.pk}/").status_code == 404
        assert client.post(f"/cases/{case.pk}/act/close/", {}).status_code == 404
        assert client.post(f"/cases/{case.pk}/act/party/", {"party-name": "王五"}).status_code == 404
        assert client.post(f"/cases/{case.pk}/parties/{party.pk}/reveal/").status_code == 404
        assert client.get(f"/cases/{case.pk}/agreement.pdf").status_code == 404
        assert client.get(f"/cases/{case.pk}/file.pdf").status_code == 404
        assert case.title not in html(client.get("/cases/"))
    assert not AuditLog.objects.filter(action__in=[AuditAction.EXPORT, AuditAction.READ_UNMASKED]).exists()


# --- Masking and the audited reveal ------------------------------------------------------------------


def test_no_page_or_pdf_shows_a_plain_id_number_or_phone(client, world, mediation):
    case = agreed_case(world, mediation)
    for user in (mediation["mediator"], world.user_a, world.province_user):
        client.force_login(user)
        for url in ("/cases/", f"/cases/{case.pk}/", "/cases/workload/"):
            page = html(client.get(url))
            for secret in (PERSON_1, PERSON_2, PHONE_1, PHONE_2):
                assert secret not in page, (user, url)
        detail = html(client.get(f"/cases/{case.pk}/"))
        assert "620102********" in detail and "138****8000" in detail
        for url in (f"/cases/{case.pk}/agreement.pdf", f"/cases/{case.pk}/file.pdf"):
            response = client.get(url)
            assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
            content = response.content
            text = pdf_text(content)
            assert "张三" in text and "620102********" in text  # text extraction works on the embedded font
            for secret in (PERSON_1, PERSON_2, PHONE_1, PHONE_2):
                assert secret not in text and secret.encode() not in content, (user, url)


def test_the_pdfs_render_chinese_and_are_audited(client, world, mediation):
    case = agreed_case(world, mediation)
    client.force_login(mediation["mediator"])
    agreement = client.get(f"/cases/{case.pk}/agreement.pdf")
    text = pdf_text(agreement.content)
    assert "人民调解协议书" in text and "李四于十日内修复漏水" in text and case.number in text
    assert "1,200.00" in text
    assert cjk_font_is_embedded_subset(agreement.content)  # renders on a viewer without Chinese fonts
    case_file = client.get(f"/cases/{case.pk}/file.pdf")
    text = pdf_text(case_file.content)
    assert cjk_font_is_embedded_subset(case_file.content)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # kept for a look (pdftoppm -png)
    (ARTIFACTS / "case-agreement.pdf").write_bytes(agreement.content)
    (ARTIFACTS / "case-file.pdf").write_bytes(case_file.content)
    for expected in ("矛盾纠纷调解案卷", "调解记录", "村委会", "履行回访", "已全部履行", "流转记录", "指派调解员"):
        assert expected in text, expected
    exports = AuditLog.objects.filter(action=AuditAction.EXPORT, model="disputes.case", object_id=str(case.pk))
    assert sorted(e.changes["document"] for e in exports) == ["agreement", "case_file"]
    # No agreement yet: no agreement PDF.
    other = register(world, mediation, title="另一纠纷")
    assert client.get(f"/cases/{other.pk}/agreement.pdf").status_code == 404


def test_the_full_numbers_are_shown_on_request_and_audited(client, world, mediation):
    case = register(world, mediation)
    party = case.parties.get(name="张三")
    client.force_login(mediation["mediator"])
    page = html(client.get(f"/cases/{case.pk}/"))
    assert "查看完整信息" in page and PERSON_1 not in page
    response = client.post(f"/cases/{case.pk}/parties/{party.pk}/reveal/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = html(response)
    assert PERSON_1 in page and PHONE_1 in page and PERSON_2 not in page  # only the party asked for
    reads = AuditLog.objects.filter(action=AuditAction.READ_UNMASKED, model="disputes.party", object_id=str(party.pk))
    assert sorted(r.changes["field"] for r in reads) == ["id_number", "phone"]
    assert all(r.actor_id == mediation["mediator"].pk for r in reads)
    # A reveal is a POST; committee staff (no case.reveal_party) are refused and nothing is logged.
    assert client.get(f"/cases/{case.pk}/parties/{party.pk}/reveal/").status_code == 405
    client.force_login(world.province_user)
    assert "查看完整信息" not in html(client.get(f"/cases/{case.pk}/"))
    assert client.post(f"/cases/{case.pk}/parties/{party.pk}/reveal/").status_code == 403
    assert reads.count() == 2


# --- Registration and parties --------------------------------------------------------------------------


def registration(world, mediation, **overrides):
    data = {
        "organisation": mediation["village_org"].pk,
        "origin_region": world.grid_a.pk,
        "dispute_type": "neighbour",
        "risk_level": "1",
        "people_involved": "2",
        "largest_side": "1",
        "title": "宅基地边界纠纷",
        "facts": "两户因院墙位置发生争执。",
        "applicant_name": "王五",
        "applicant_id_number": PERSON_1,
        "applicant_phone": PHONE_1,
        "respondent_name": "赵六",
        "respondent_id_number": "",
        "respondent_phone": "",
    }
    data.update(overrides)
    return data


def test_a_bad_party_id_keeps_the_typed_input_and_says_why_in_chinese(client, world, mediation):
    client.force_login(mediation["mediator"])
    response = client.post("/cases/new/", registration(world, mediation, applicant_id_number=BAD_ID))
    assert response.status_code == 200 and not Case.objects.exists()
    page = html(response)
    assert "公民身份号码校验位错误，请核对。" in page
    assert f'value="{BAD_ID}"' in page and 'value="宅基地边界纠纷"' in page and "两户因院墙位置发生争执。" in page
    assert 'value="王五"' in page and 'value="赵六"' in page
    response = client.post("/cases/new/", registration(world, mediation, respondent_phone="1234"))
    assert "请输入11位中国大陆手机号码。" in html(response)

    response = client.post("/cases/new/", registration(world, mediation, largest_side="6", people_involved="8"))
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.pk}/"
    assert case.is_mass and case.risk_level >= 2 and case.registered_by == mediation["mediator"]
    assert case.parties.count() == 2
    assert Party.objects.get(name="王五").id_number_masked == PERSON_1[:6] + "********" + PERSON_1[-4:]

    # On the case page: adding a party with a bad ID keeps the input too.
    response = client.post(
        f"/cases/{case.pk}/act/party/",
        {"party-side": "respondent", "party-kind": "person", "party-name": "孙七", "party-id_number": BAD_ID},
    )
    assert response.status_code == 200
    page = html(response)
    assert "公民身份号码校验位错误，请核对。" in page and 'value="孙七"' in page and f'value="{BAD_ID}"' in page
    assert case.parties.count() == 2
    response = client.post(
        f"/cases/{case.pk}/act/party/",
        {"party-side": "respondent", "party-kind": "person", "party-name": "孙七", "party-id_number": PERSON_2},
    )
    assert response.status_code == 302 and case.parties.count() == 3


def test_a_mediator_registers_only_at_their_own_organisation(client, world, mediation):
    client.force_login(mediation["mediator"])
    response = client.post("/cases/new/", registration(world, mediation, organisation=mediation["county_org"].pk))
    assert response.status_code == 200 and not Case.objects.exists()
    assert "请选择辖区内的调解组织。" in html(response)


# --- Board and workload -------------------------------------------------------------------------------


def test_the_board_lists_overdue_cases_first_then_by_deadline(client, world, mediation):
    m = mediation["mediator"]
    now = timezone.now()
    cases = {}
    for name, offset in [("later", 20), ("overdue", -3), ("soon", 4), ("new", None)]:
        case = register(world, mediation, title=f"案件{name}")
        if offset is not None:
            svc.case_accept(case=case, user=m)
            svc.case_assign(case=case, user=m, mediator=m)
            arrange(
                Case.objects.filter(pk=case.pk),
                accepted_at=now + dt.timedelta(days=offset - 30),
                conclusion_deadline=now + dt.timedelta(days=offset),
                conclusion_warn_at=now + dt.timedelta(days=offset - 10),
            )
        cases[name] = case
    # A concluded case and another mediator's case stay off this mediator's board.
    other = UserFactory(username="mediator_a2", role="mediator", region=world.village_a, mediation_org=m.mediation_org)
    theirs = register(world, mediation, title="案件theirs")
    svc.case_accept(case=theirs, user=other)
    svc.case_assign(case=theirs, user=other, mediator=other)
    client.force_login(m)
    response = client.get("/cases/")
    titles = [c.title for c in response.context["cases"]]
    assert titles == ["案件overdue", "案件soon", "案件later", "案件new"]
    states = {c.title: c.clock.state for c in response.context["cases"]}
    assert states == {"案件overdue": "red", "案件soon": "amber", "案件later": "ok", "案件new": "none"}
    page = html(response)
    assert page.index("案件overdue") < page.index("案件soon") < page.index("案件later")
    assert "超期3天" in page and "clock-amber" in page

    # Staff see every case, overdue first too, and can filter.
    client.force_login(world.user_a)
    response = client.get("/cases/")
    listed = [c.title for c in response.context["page_obj"]]
    assert listed[0] == "案件overdue" and "案件theirs" in listed
    assert [c.title for c in client.get("/cases/?overdue=1").context["page_obj"]] == ["案件overdue"]
    assert client.get("/cases/?status=registered").context["page_obj"].paginator.count == 1
    assert client.get("/cases/?type=labour").context["page_obj"].paginator.count == 0


def test_repeat_and_mass_cases_are_tagged_and_filterable(client, world, mediation):
    register(world, mediation, title="第一次")
    repeat = register(world, mediation, title="第二次", largest_side=5, people_involved=9)
    assert repeat.is_repeat and repeat.is_mass
    client.force_login(mediation["mediator"])
    page = html(client.get("/cases/"))
    assert "tag repeat" in page and "tag mass" in page
    detail = html(client.get(f"/cases/{repeat.pk}/"))
    assert "本案当事人在登记前365日内" in detail and "第一次" not in detail  # the mediator is not shown which
    client.force_login(world.user_a)
    assert [c.title for c in client.get("/cases/?repeat=1").context["page_obj"]] == ["第二次"]
    assert "第一次" in html(client.get(f"/cases/{repeat.pk}/"))  # staff see the earlier case


def test_the_workload_counts_each_mediators_cases_in_one_query(client, world, mediation):
    m = mediation["mediator"]
    other = UserFactory(username="mediator_a2", role="mediator", region=world.village_a, mediation_org=m.mediation_org)
    now = timezone.now()
    for index in range(3):
        case = register(world, mediation, title=f"在办{index}")
        svc.case_accept(case=case, user=m)
        svc.case_assign(case=case, user=m, mediator=m)
        if index == 0:
            arrange(Case.objects.filter(pk=case.pk), conclusion_deadline=now - dt.timedelta(days=1))
    agreed_case(world, mediation, title="已调成")  # concluded this month, still open (fulfilment)
    case = register(world, mediation, title="不成")
    svc.case_accept(case=case, user=other)
    svc.case_assign(case=case, user=other, mediator=other)
    svc.case_fail(case=case, user=other, reason="双方分歧较大")
    client.force_login(m)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/cases/workload/")
    rows = {row.username: row for row in response.context["rows"]}
    assert (rows[m.username].open_cases, rows[m.username].overdue_cases, rows[m.username].concluded_month) == (4, 1, 1)
    assert (rows[other.username].open_cases, rows[other.username].overdue_cases) == (0, 0)
    assert rows[other.username].concluded_month == 1
    assert response.context["totals"] == {"open_cases": 4, "overdue_cases": 1, "concluded_month": 2}
    grouped = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"] and "COUNT" in q["sql"].upper()]
    assert len(grouped) == 1
    # Staff pick an organisation; a county mediator's empty org shows no row of the village org.
    client.force_login(world.user_a)
    response = client.get(f"/cases/workload/?org={mediation['county_org'].pk}")
    assert [row.username for row in response.context["rows"]] == [mediation["county_mediator"].username]


# --- Organisations as parties ------------------------------------------------------------------------


def valid_credit_code(prefix17: str) -> str:
    from disputes.validators import uscc_check_char

    return prefix17 + uscc_check_char(prefix17)


COMPANY_CODE = valid_credit_code("91620102MA7L2K3P4")


def test_a_company_is_registered_as_an_organisation_with_its_credit_code(client, world, mediation):
    client.force_login(mediation["mediator"])
    page = html(client.get("/cases/new/"))
    assert 'name="respondent_kind" value="organisation"' in page and 'name="respondent_credit_code"' in page
    company = {
        "respondent_kind": "organisation",
        "respondent_name": "兰州某物业服务有限公司",
        "respondent_credit_code": COMPANY_CODE[:17] + ("0" if COMPANY_CODE[17] != "0" else "1"),
        "respondent_legal_representative": "钱八",
        "respondent_phone": PHONE_2,
    }
    refused = client.post("/cases/new/", registration(world, mediation, **company))
    assert refused.status_code == 200 and not Case.objects.exists() and not Party.objects.exists()
    assert "统一社会信用代码校验位错误，请核对。" in html(refused) and 'value="钱八"' in html(refused)
    missing = client.post("/cases/new/", registration(world, mediation, **{**company, "respondent_credit_code": ""}))
    assert missing.status_code == 200 and not Case.objects.exists()

    response = client.post(
        "/cases/new/", registration(world, mediation, **{**company, "respondent_credit_code": COMPANY_CODE.lower()})
    )
    assert response.status_code == 302
    party = Party.objects.get(name="兰州某物业服务有限公司")
    assert (party.kind, party.credit_code, party.legal_representative) == ("organisation", COMPANY_CODE, "钱八")
    assert party.id_number == "" and party.phone_masked == PHONE_2[:3] + "****" + PHONE_2[-4:]
    case_page = html(client.get(response["Location"]))
    assert "法人或其他组织" in case_page and COMPANY_CODE in case_page and "钱八" in case_page
    assert PHONE_2 not in case_page


def test_an_organisation_in_another_case_within_a_year_makes_a_repeat(world, mediation):
    company = {"side": "respondent", "kind": "organisation", "name": "兰州某物业服务有限公司"}
    first = register(world, mediation, parties=[{**company, "credit_code": COMPANY_CODE}])
    other = register(world, mediation, parties=[{**company, "credit_code": valid_credit_code("91620102MA7L2K3P5")}])
    second = register(
        world, mediation, parties=[{**company, "credit_code": COMPANY_CODE, "legal_representative": "钱八"}]
    )
    assert (first.is_repeat, other.is_repeat, second.is_repeat) == (False, False, True)
    assert list(svc.earlier_cases_of_same_parties(second, world.province_user)) == [first]


def test_the_pdfs_name_an_organisation_by_its_credit_code_and_legal_representative(client, world, mediation):
    case = agreed_case(
        world,
        mediation,
        parties=[
            {"side": "applicant", "name": "张三", "id_number": PERSON_1, "phone": PHONE_1},
            {
                "side": "respondent",
                "kind": "organisation",
                "name": "兰州某物业服务有限公司",
                "credit_code": COMPANY_CODE,
                "legal_representative": "钱八",
            },
        ],
    )
    client.force_login(mediation["mediator"])
    for url in (f"/cases/{case.pk}/agreement.pdf", f"/cases/{case.pk}/file.pdf"):
        text = pdf_text(client.get(url).content).replace("\n", "")
        assert "兰州某物业服务有限公司" in text and COMPANY_CODE in text and "钱八" in text


def test_a_mediators_home_is_their_case_board(client, mediation):
    client.force_login(mediation["mediator"])
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/cases/"


def test_the_case_list_opens_on_open_cases_by_deadline_then_shows_all_on_request(client, world, mediation):
    m = mediation["mediator"]
    concluded = register(world, mediation, title="早已结案")
    svc.case_accept(case=concluded, user=m)
    svc.case_assign(case=concluded, user=m, mediator=m)
    svc.case_fail(case=concluded, user=m, reason="双方分歧大")
    svc.case_refer(case=concluded, user=m, referral="litigation")
    svc.case_close(case=concluded, user=m)
    later, sooner = register(world, mediation, title="期限较晚"), register(world, mediation, title="期限较早")
    svc.case_accept(case=later, user=m)
    arrange(Case.objects.filter(pk=later.pk), conclusion_deadline=timezone.now() + dt.timedelta(days=20))
    svc.case_accept(case=sooner, user=m)
    arrange(Case.objects.filter(pk=sooner.pk), conclusion_deadline=timezone.now() + dt.timedelta(days=3))
    client.force_login(world.user_a)
    page = html(client.get("/cases/"))
    assert "早已结案" not in page and page.index("期限较早") < page.index("期限较晚")
    everything = html(client.get("/cases/?status=all"))
    assert everything.index("期限较早") < everything.index("期限较晚") < everything.index("早已结案")
