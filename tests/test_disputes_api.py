"""/api/v1/disputes/: a case's whole path through the API, refused transitions with their message,
ID / credit-code / mobile errors as field errors with nothing saved, masking for every role, the
audited reveal, jurisdiction on every endpoint, repeat cases for committee staff only, bounded
list queries, organisations."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from disputes import services as svc
from disputes.choices import CaseStatus
from disputes.models import Case, MediationOrganisation, Party
from governance.choices import AuditAction, Role
from governance.models import AuditLog, User
from tests.factories import UserFactory
from tests.parties import PERSON_1, PERSON_2, PHONE_1, PHONE_2, USCC

from .factories import arrange

pytestmark = pytest.mark.django_db

CASES = "/api/v1/disputes/cases/"
ORGS = "/api/v1/disputes/organisations/"


def as_user(api: APIClient, user: User) -> APIClient:
    api.force_authenticate(User.objects.get(pk=user.pk))
    return api


def case_body(world, mediation, **overrides) -> dict:
    body = {
        "organisation": mediation["village_org"].pk,
        "origin_region": world.grid_a.code,
        "dispute_type": "neighbour",
        "title": "楼上漏水纠纷",
        "facts": "楼上卫生间漏水，双方多次争吵。",
        "parties": [
            {"side": "applicant", "name": "张三", "id_number": PERSON_1, "phone": PHONE_1, "address": "甲社区1号楼"},
            {"side": "respondent", "name": "李四", "id_number": PERSON_2, "phone": PHONE_2},
            {"side": "respondent", "kind": "organisation", "name": "某物业公司", "credit_code": USCC},
        ],
    }
    body.update(overrides)
    return body


def register(api, world, mediation, user=None, **overrides) -> dict:
    response = as_user(api, user or mediation["mediator"]).post(
        CASES, case_body(world, mediation, **overrides), format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def act(api, user, case_id: int, action: str, **body):
    return as_user(api, user).post(f"{CASES}{case_id}/{action}/", body, format="json")


def service_case(world, mediation, **kwargs) -> Case:
    values = {
        "user": mediation["mediator"],
        "organisation": mediation["village_org"],
        "origin_region": world.grid_a,
        "dispute_type": "neighbour",
        "title": "邻里纠纷",
        "facts": "争吵",
        "parties": [{"side": "applicant", "name": "张三", "id_number": PERSON_1, "phone": PHONE_1}],
    }
    values.update(kwargs)
    return svc.case_register(**values)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- the whole path ------------------------------------------------------------------------------


def test_the_whole_path_through_the_api(api, world, mediation, media):
    m = mediation["mediator"]
    data = register(api, world, mediation)
    case_id = data["id"]
    assert data["status"] == "registered" and data["status_display"] == "已登记"
    assert data["number"].startswith(f"T{world.village_a.code[:6]}")
    assert data["organisation"] == mediation["village_org"].pk and data["region_code"] == world.village_a.code
    assert data["origin_region"] == world.grid_a.code and data["dispute_type_display"] == "邻里纠纷"
    assert data["risk_level_display"] == "一般" and data["clock"] == "none"
    assert data["allowed_actions"] == ["accept", "decline"]
    parties = {p["name"]: p for p in data["parties"]}
    assert parties["张三"]["id_number_masked"] == PERSON_1[:6] + "********" + PERSON_1[-4:]
    assert parties["张三"]["phone_masked"] == "138****8000"
    assert parties["某物业公司"]["credit_code"] == USCC and parties["某物业公司"]["id_number_masked"] == ""
    assert "id_number" not in parties["张三"] and "phone" not in parties["张三"]

    accepted = act(api, m, case_id, "accept", note="符合受理条件")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == "accepted" and accepted.json()["clock"] == "ok"
    assert accepted.json()["conclusion_deadline"] is not None
    assigned = act(api, m, case_id, "assign", mediator=m.pk)
    assert assigned.status_code == 200 and assigned.json()["mediator"] == m.username
    assert assigned.json()["allowed_actions"] == ["agree", "fail", "transfer"]

    upload = SimpleUploadedFile("记录.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    session = as_user(api, m).post(
        f"{CASES}{case_id}/sessions/",
        {"held_on": timezone.localdate().isoformat(), "place": "社区调解室", "attendees": "张三、李四",
         "notes": "初步调解", "file": upload},
        format="multipart",
    )  # fmt: skip
    assert session.status_code == 201, session.json()
    disguised = as_user(api, m).post(
        f"{CASES}{case_id}/sessions/",
        {"held_on": timezone.localdate().isoformat(), "place": "社区", "attendees": "双方", "notes": "附件有误",
         "file": SimpleUploadedFile("记录.pdf", b"MZ\x90\x00" * 8, content_type="application/pdf")},
        format="multipart",
    )  # fmt: skip
    assert disguised.status_code == 400 and disguised.json()["fields"]["file"] == ["文件不是有效的PDF。"]
    assert session.json()["file_url"].endswith(f"/sessions/{session.json()['id']}/file/")
    download = as_user(api, m).get(session.json()["file_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 test"
    plain = as_user(api, m).post(
        f"{CASES}{case_id}/sessions/",
        {"held_on": timezone.localdate().isoformat(), "place": "社区", "attendees": "双方", "notes": "再次调解"},
        format="json",
    )
    assert plain.status_code == 201 and plain.json()["file_url"] is None
    assert len(as_user(api, m).get(f"{CASES}{case_id}/sessions/").json()) == 2

    agreed = act(
        api, m, case_id, "agree", terms="楼上负责维修并赔偿500元", signed_on=timezone.localdate().isoformat(),
        amount="500.00", performance_deadline=(timezone.localdate() + dt.timedelta(days=10)).isoformat(),
    )  # fmt: skip
    assert agreed.status_code == 200, agreed.json()
    assert agreed.json()["status"] == "agreed" and agreed.json()["agreement"]["amount"] == "500.00"
    assert agreed.json()["clock"] == "done"

    refused = act(api, m, case_id, "close")
    assert refused.status_code == 400 and "回访" in refused.json()["detail"]

    follow_up = as_user(api, m).post(
        f"{CASES}{case_id}/follow-ups/",
        {"visited_on": timezone.localdate().isoformat(), "fulfilment": "full", "satisfaction": "satisfied"},
        format="json",
    )
    assert follow_up.status_code == 201 and follow_up.json()["fulfilment_display"] == "已全部履行"
    assert len(as_user(api, m).get(f"{CASES}{case_id}/follow-ups/").json()) == 1

    applied = as_user(api, m).post(
        f"{CASES}{case_id}/confirmation/", {"court": "城关区人民法院", "applied_on": "2026-09-30"}, format="json"
    )
    assert applied.status_code == 201, applied.json()
    assert applied.json()["deadline"] == "2026-10-15"  # 7 working days across the National Day holiday
    pending = act(api, m, case_id, "close")
    assert pending.status_code == 400 and "司法确认" in pending.json()["detail"]
    decided = as_user(api, m).post(
        f"{CASES}{case_id}/confirmation/decide/", {"decided_on": "2026-10-12", "decision": "confirmed"}, format="json"
    )
    assert decided.status_code == 200 and decided.json()["decision_display"] == "确认有效"

    closed = act(api, m, case_id, "close", note="履行完毕")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["allowed_actions"] == []
    detail = as_user(api, m).get(f"{CASES}{case_id}/").json()
    assert detail["confirmation"]["decided_on"] == "2026-10-12" and len(detail["follow_ups"]) == 1
    history = as_user(api, m).get(f"{CASES}{case_id}/history/").json()
    assert [h["action"] for h in history] == [
        "register", "accept", "assign", "session", "session", "agree", "follow_up", "confirmation_apply",
        "confirmation_decide", "close",
    ]  # fmt: skip
    assert history[0]["action_display"] == "登记" and history[-1]["action_display"] == "结案"
    assert history[-1]["actor"] == m.username and history[-1]["note"] == "履行完毕"


def test_failure_referral_and_transfer_through_the_api(api, world, mediation):
    m, cm = mediation["mediator"], mediation["county_mediator"]
    case_id = register(api, world, mediation)["id"]
    act(api, m, case_id, "accept")
    act(api, m, case_id, "assign", mediator=m.pk)
    failed = act(api, m, case_id, "fail", reason="双方分歧较大")
    assert failed.status_code == 200 and failed.json()["allowed_actions"] == ["transfer", "refer"]
    moved = act(api, m, case_id, "transfer", to=mediation["county_org"].pk, reason="需上级协调")
    assert moved.status_code == 200, moved.json()
    assert moved.json()["status"] == "accepted" and moved.json()["region_code"] == world.county_a.code
    # The village mediator no longer holds it: it is gone from their scope.
    assert as_user(api, m).get(f"{CASES}{case_id}/").status_code == 404
    assert act(api, cm, case_id, "assign", mediator=cm.pk).status_code == 200
    assert act(api, cm, case_id, "fail", reason="仍未达成一致").status_code == 200
    referred = act(api, cm, case_id, "refer", referral="litigation", note="引导起诉")
    assert referred.status_code == 200 and referred.json()["referral"] == "litigation"
    assert act(api, cm, case_id, "close").json()["status"] == "closed"


# --- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("agree", {"terms": "x", "signed_on": "2026-01-01"}),
        ("fail", {"reason": "x"}),
        ("close", {}),
        ("refer", {"referral": "litigation"}),
    ],
)
def test_illegal_transitions_are_refused_with_their_message(api, world, mediation, name, body):
    case_id = register(api, world, mediation)["id"]
    response = act(api, mediation["mediator"], case_id, name, **body)
    assert response.status_code == 400
    assert "案件当前状态为“已登记”，不能执行" in response.json()["detail"]
    assert Case.objects.get(pk=case_id).status == CaseStatus.REGISTERED


def test_missing_inputs_and_foreign_choices_are_field_errors(api, world, mediation):
    m = mediation["mediator"]
    case_id = register(api, world, mediation)["id"]
    declined = act(api, m, case_id, "decline", reason="")
    assert declined.status_code == 400 and "reason" in declined.json()["fields"]
    assert "不予受理必须说明理由" in declined.json()["detail"]
    act(api, m, case_id, "accept")
    for mediator in (mediation["county_mediator"], mediation["mediator_b"], world.user_a):
        wrong = act(api, m, case_id, "assign", mediator=mediator.pk)
        assert wrong.status_code == 400 and wrong.json()["fields"]["mediator"] == ["请选择本调解组织的调解员。"]
    missing = act(api, m, case_id, "assign", mediator=999999)
    assert missing.json()["fields"]["mediator"] == ["请选择本调解组织的调解员。"]  # answered alike
    sideways = act(api, m, case_id, "transfer", to=mediation["org_b"].pk, reason="x")
    assert sideways.status_code == 400 and "to" in sideways.json()["fields"]
    no_reason = act(api, m, case_id, "transfer", to=mediation["county_org"].pk).json()
    assert no_reason["fields"].keys() == {"reason"} and no_reason["detail"] == "移交上级必须说明理由。"
    assert Case.objects.get(pk=case_id).status == CaseStatus.ACCEPTED
    late = as_user(api, m).post(
        f"{CASES}{case_id}/sessions/",
        {"held_on": "2026-01-01", "place": "x", "attendees": "x", "notes": "x"},
        format="json",
    )
    assert late.status_code == 400 and "不能记录调解" in late.json()["detail"]


def test_roles_without_case_work_are_refused(api, world, mediation):
    case_id = register(api, world, mediation)["id"]
    committee_a = UserFactory(username="committee_a", role=Role.COMMITTEE_STAFF, region=world.county_a)
    worker_village = UserFactory(username="leader_v", role=Role.GRID_LEADER, region=world.village_a)
    assert as_user(api, committee_a).post(CASES, case_body(world, mediation), format="json").status_code == 403
    assert as_user(api, world.province_user).post(CASES, case_body(world, mediation), format="json").status_code == 403
    refused = act(api, worker_village, case_id, "accept")
    assert refused.status_code == 403 and refused.json()["detail"] == "您无权办理该案件。"
    assert as_user(api, worker_village).get(f"{CASES}{case_id}/").json()["allowed_actions"] == []
    assert Case.objects.get(pk=case_id).status == CaseStatus.REGISTERED


# --- validation ------------------------------------------------------------------------------------


def test_id_credit_code_and_mobile_errors_are_field_errors_and_nothing_is_saved(api, world, mediation):
    bad_check = PERSON_1[:17] + ("0" if PERSON_1[17] != "0" else "1")
    body = case_body(
        world,
        mediation,
        parties=[
            {"side": "applicant", "name": "张三", "id_number": bad_check, "phone": "12345"},
            {"side": "respondent", "kind": "organisation", "name": "某公司", "credit_code": USCC[:17] + "0"},
            {"side": "respondent", "name": "李四", "id_number": "62010219850231123X"},
            {"side": "respondent", "name": "", "id_number": PERSON_2},
        ],
    )
    response = as_user(api, mediation["mediator"]).post(CASES, body, format="json")
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert fields["parties[0].id_number"] == ["公民身份号码校验位错误，请核对。"]
    assert fields["parties[0].phone"] == ["请输入11位中国大陆手机号码。"]
    assert fields["parties[1].credit_code"] == ["统一社会信用代码校验位错误，请核对。"]
    assert fields["parties[2].id_number"] == ["公民身份号码中的出生日期无效。"]
    assert "parties[3].name" in fields
    assert response.json()["detail"] == "提交的数据有误，请按字段提示修改。"
    assert not Case.objects.exists() and not Party.objects.exists()

    not_a_list = as_user(api, mediation["mediator"]).post(
        CASES, case_body(world, mediation, parties={"name": "x"}), format="json"
    )
    assert not_a_list.status_code == 400 and "parties" in not_a_list.json()["fields"]
    other = as_user(api, mediation["mediator"]).post(
        CASES, case_body(world, mediation, title="", largest_side=5, people_involved=2), format="json"
    )
    assert other.status_code == 400 and "title" in other.json()["fields"]
    service_level = as_user(api, mediation["mediator"]).post(
        CASES, case_body(world, mediation, largest_side=5, people_involved=2), format="json"
    )
    assert service_level.status_code == 400 and "largest_side" in service_level.json()["fields"]
    foreign_org = as_user(api, mediation["mediator"]).post(
        CASES, case_body(world, mediation, organisation=mediation["county_org"].pk), format="json"
    )
    assert foreign_org.status_code == 400 and "organisation" in foreign_org.json()["fields"]
    assert not Case.objects.exists() and not Party.objects.exists()


def test_adding_a_party_validates_and_masks(api, world, mediation):
    m = mediation["mediator"]
    case_id = register(api, world, mediation, parties=[])["id"]
    bad = as_user(api, m).post(
        f"{CASES}{case_id}/parties/", {"side": "applicant", "name": "王五", "phone": "1380013800"}, format="json"
    )
    assert bad.status_code == 400 and "phone" in bad.json()["fields"] and not Party.objects.exists()
    added = as_user(api, m).post(
        f"{CASES}{case_id}/parties/",
        {"side": "applicant", "name": "王五", "id_number": PERSON_1.lower(), "phone": PHONE_1},
        format="json",
    )
    assert added.status_code == 201, added.json()
    assert PERSON_1 not in added.content.decode() and PHONE_1 not in added.content.decode()
    assert added.json()["phone_masked"] == "138****8000"


def test_a_resent_registration_returns_the_first_case(api, world, mediation):
    key = str(uuid.uuid4())
    first = as_user(api, mediation["mediator"]).post(CASES, case_body(world, mediation, client_uuid=key), format="json")
    assert first.status_code == 201
    again = as_user(api, mediation["mediator"]).post(
        CASES, case_body(world, mediation, client_uuid=key, title="重发"), format="json"
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Case.objects.count() == 1


# --- masking and reveal ------------------------------------------------------------------------------


def test_no_role_sees_a_plain_id_or_phone_in_lists_and_details(api, world, mediation):
    case_id = register(api, world, mediation)["id"]
    committee_a = UserFactory(username="committee_a", role=Role.COMMITTEE_STAFF, region=world.county_a)
    viewers = [mediation["mediator"], world.user_a, committee_a, world.province_user, world.admin_province]
    for user in viewers:
        client = as_user(api, user)
        for url in (CASES, f"{CASES}{case_id}/", f"{CASES}{case_id}/history/"):
            response = client.get(url)
            assert response.status_code == 200, (user.username, url)
            text = response.content.decode()
            for secret in (PERSON_1, PERSON_2, PHONE_1, PHONE_2):
                assert secret not in text, (user.username, url)
        detail = client.get(f"{CASES}{case_id}/").json()
        assert {p["phone_masked"] for p in detail["parties"]} >= {"138****8000", "139****5678"}
    assert not AuditLog.objects.filter(action=AuditAction.READ_UNMASKED).exists()


def test_revealing_a_party_is_audited_per_field(api, world, mediation):
    data = register(api, world, mediation)
    case_id = data["id"]
    party = Party.objects.get(case_id=case_id, name="张三")
    url = f"{CASES}{case_id}/parties/{party.pk}/reveal/"

    response = as_user(api, mediation["mediator"]).post(url, {"reason": "电话回访"}, format="json")
    assert response.status_code == 200 and response.json() == {"id_number": PERSON_1, "phone": PHONE_1}
    entries = AuditLog.objects.filter(action=AuditAction.READ_UNMASKED).order_by("seq")
    assert [e.changes for e in entries] == [
        {"field": "id_number", "reason": "电话回访"},
        {"field": "phone", "reason": "电话回访"},
    ]
    assert all(
        e.actor_id == mediation["mediator"].pk and e.model == "disputes.party" and e.object_id == str(party.pk)
        for e in entries
    )
    assert entries[0].region_code == world.village_a.code

    # Centre staff of the county may reveal too; an organisation party has nothing to reveal.
    assert as_user(api, world.user_a).post(url, {}, format="json").status_code == 200
    company = Party.objects.get(case_id=case_id, kind="organisation")
    empty = as_user(api, world.user_a).post(f"{CASES}{case_id}/parties/{company.pk}/reveal/", {}, format="json")
    assert empty.json() == {"id_number": "", "phone": ""}
    assert AuditLog.objects.filter(action=AuditAction.READ_UNMASKED).count() == 4

    # Roles without the capability: 403; users who cannot see the case: 404.
    committee_a = UserFactory(username="committee_a", role=Role.COMMITTEE_STAFF, region=world.county_a)
    for user in (world.province_user, committee_a, world.admin_a):
        assert as_user(api, user).post(url, {}, format="json").status_code == 403, user.username
    for user in (world.user_b, mediation["mediator_b"], mediation["county_mediator"]):
        assert as_user(api, user).post(url, {}, format="json").status_code == 404, user.username
    # A party of another case does not open through this case's address.
    other = register(api, world, mediation, title="另一案件")
    other_party = Party.objects.filter(case_id=other["id"]).first()
    foreign = as_user(api, mediation["mediator"]).post(
        f"{CASES}{case_id}/parties/{other_party.pk}/reveal/", {}, format="json"
    )
    assert foreign.status_code == 404
    assert AuditLog.objects.filter(action=AuditAction.READ_UNMASKED).count() == 4


# --- jurisdiction ------------------------------------------------------------------------------------


def test_other_counties_and_other_organisations_get_404(api, world, mediation):
    case_id = register(api, world, mediation)["id"]
    outsiders = [world.user_b, mediation["mediator_b"], mediation["county_mediator"]]
    for user in outsiders:
        client = as_user(api, user)
        assert client.get(CASES).json()["count"] == 0, user.username
        for url in ("", "history/", "sessions/", "follow-ups/"):
            assert client.get(f"{CASES}{case_id}/{url}").status_code == 404, (user.username, url)
        for name, body in [
            ("accept", {}),
            ("decline", {"reason": "x"}),
            ("parties", {"side": "applicant", "name": "某人"}),
            ("sessions", {"held_on": "2026-01-01", "place": "x", "attendees": "x", "notes": "x"}),
            ("follow-ups", {"visited_on": "2026-01-01", "fulfilment": "full", "satisfaction": "satisfied"}),
            ("confirmation", {"court": "x", "applied_on": "2026-01-01"}),
            ("confirmation/decide", {"decided_on": "2026-01-01", "decision": "confirmed"}),
        ]:
            assert act(api, user, case_id, name, **body).status_code == 404, (user.username, name)
    assert Case.objects.get(pk=case_id).status == CaseStatus.REGISTERED
    assert Party.objects.filter(case_id=case_id).count() == 3
    # The county's centre staff and the province see it; the mediator sees it as their own.
    assert as_user(api, world.user_a).get(CASES).json()["count"] == 1
    assert as_user(api, world.province_user).get(CASES).json()["count"] == 1
    assert as_user(api, mediation["mediator"]).get(CASES).json()["count"] == 1


def test_a_mediator_sees_only_the_own_organisations_cases(api, world, mediation):
    own = register(api, world, mediation)
    centre = register(api, world, mediation, user=world.user_a, organisation=mediation["county_org"].pk)
    ids = [c["id"] for c in as_user(api, mediation["mediator"]).get(CASES).json()["results"]]
    assert ids == [own["id"]]
    ids = [c["id"] for c in as_user(api, mediation["county_mediator"]).get(CASES).json()["results"]]
    assert ids == [centre["id"]]
    assert as_user(api, mediation["county_mediator"]).get(f"{CASES}{own['id']}/").status_code == 404


def test_earlier_cases_are_listed_for_committee_staff_only(api, world, mediation):
    earlier = service_case(
        world, mediation, user=mediation["mediator_b"], organisation=mediation["org_b"], origin_region=world.grid_b
    )
    later = register(api, world, mediation)
    assert later["is_repeat"] is True
    province = as_user(api, world.province_user).get(f"{CASES}{later['id']}/").json()
    assert province["earlier_cases"] == [earlier.number]
    committee_a = UserFactory(username="committee_a", role=Role.COMMITTEE_STAFF, region=world.county_a)
    assert as_user(api, committee_a).get(f"{CASES}{later['id']}/").json()["earlier_cases"] == []
    for user in (mediation["mediator"], world.user_a, world.admin_province):
        detail = as_user(api, user).get(f"{CASES}{later['id']}/")
        assert detail.json()["is_repeat"] is True
        assert "earlier_cases" not in detail.json() and earlier.number not in detail.content.decode()


# --- lists -------------------------------------------------------------------------------------------


def test_the_list_filters(api, world, mediation):
    first = register(api, world, mediation)
    second = register(api, world, mediation, dispute_type="labour", risk_level=3, title="欠薪")
    mass = register(api, world, mediation, people_involved=20, largest_side=8, parties=[], title="群体")
    centre = register(api, world, mediation, user=world.user_a, organisation=mediation["county_org"].pk, parties=[])
    act(api, mediation["mediator"], second["id"], "accept")
    arrange(Case.objects.filter(pk=second["id"]), conclusion_deadline=timezone.now() - dt.timedelta(days=1))
    client = as_user(api, world.user_a)

    def ids(query: str) -> set[int]:
        response = client.get(f"{CASES}?{query}")
        assert response.status_code == 200, response.json()
        return {c["id"] for c in response.json()["results"]}

    assert ids("status=accepted") == {second["id"]}
    assert ids("dispute_type=labour") == {second["id"]}
    assert ids("risk_level=3") == {second["id"]}
    assert ids("is_mass=true") == {mass["id"]} and mass["risk_level"] == 2
    assert ids("is_repeat=true") == {second["id"]}
    assert ids(f"organisation={mediation['county_org'].pk}") == {centre["id"]}
    assert ids(f"under={world.village_a.code}") == {first["id"], second["id"], mass["id"]}
    assert ids(f"under={world.county_b.code}") == set()
    assert ids("overdue=true") == {second["id"]}
    today = timezone.localdate()
    assert len(ids(f"registered_from={today}&registered_to={today}")) == 4
    assert ids(f"registered_to={today - dt.timedelta(days=1)}") == set()
    assert client.get(f"{CASES}?under=abc").status_code == 400
    assert client.get(f"{CASES}{second['id']}/").json()["clock"] == "red"
    # Amber from day 20 of the 30 (conclusion_warn_at), before the 80 % of the generic clock.
    accepted_at = timezone.now() - dt.timedelta(days=21)
    svc.case_accept(case=Case.objects.get(pk=first["id"]), user=mediation["mediator"])
    deadline, warn_at = svc.conclusion_deadlines(accepted_at)
    arrange(
        Case.objects.filter(pk=first["id"]),
        accepted_at=accepted_at,
        conclusion_deadline=deadline,
        conclusion_warn_at=warn_at,
    )
    assert client.get(f"{CASES}{first['id']}/").json()["clock"] == "amber"


def test_the_list_query_count_does_not_grow_with_the_cases(api, world, mediation):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = as_user(api, world.user_a).get(f"{CASES}?page_size=100")
        assert response.status_code == 200
        return len(ctx.captured_queries), response.json()["count"]

    first = service_case(world, mediation)
    svc.case_accept(case=first, user=mediation["mediator"])
    small, small_count = count()
    for i in range(8):
        case = service_case(world, mediation, title=f"纠纷{i}", user=world.user_a)
        if i % 2:
            svc.case_accept(case=case, user=world.user_a)
            svc.case_assign(case=case, user=world.user_a, mediator=mediation["mediator"])
    large, large_count = count()
    assert (small_count, large_count) == (1, 9)
    assert small == large
    assert large <= 6

    def detail_count(case_id):
        with CaptureQueriesContext(connection) as ctx:
            response = as_user(api, world.user_a).get(f"{CASES}{case_id}/")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    assert detail_count(first.pk) <= 12


# --- organisations -----------------------------------------------------------------------------------


def test_organisations_are_read_in_jurisdiction_and_changed_by_centre_staff(api, world, mediation):
    names = {o["name"] for o in as_user(api, world.user_a).get(ORGS).json()["results"]}
    assert names == {"甲社区人民调解委员会", "城关区矛盾纠纷多元化解中心"}
    names = {o["name"] for o in as_user(api, mediation["mediator"]).get(ORGS).json()["results"]}
    assert names == {"甲社区人民调解委员会"}
    assert as_user(api, world.user_b).get(f"{ORGS}{mediation['village_org'].pk}/").status_code == 404

    body = {
        "region": world.township_a.code,
        "kind": "trade_committee",
        "name": "城关区交通事故人民调解委员会",
        "trade": "交通",
        "host": mediation["county_org"].pk,
    }
    assert as_user(api, mediation["mediator"]).post(ORGS, body, format="json").status_code == 403
    created = as_user(api, world.user_a).post(ORGS, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["kind_display"] == "专业性、行业性人民调解委员会"
    duplicate = as_user(api, world.user_a).post(ORGS, body, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()["fields"]
    foreign = as_user(api, world.user_b).post(ORGS, {**body, "host": None}, format="json")
    assert foreign.status_code == 400 and "region" in foreign.json()["fields"]
    org_id = created.json()["id"]
    patched = as_user(api, world.user_a).patch(f"{ORGS}{org_id}/", {"is_active": False}, format="json")
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert as_user(api, world.user_a).delete(f"{ORGS}{org_id}/").status_code == 405
    assert MediationOrganisation.objects.filter(pk=org_id).exists()


def test_a_resend_with_the_same_client_id_returns_the_first_case_even_without_the_cache(api, world, mediation):
    """The id is stored on the case (unique), not kept in a cache that may be per process or expire."""
    from django.core.cache import cache

    key = str(uuid.uuid4())
    first = as_user(api, mediation["mediator"]).post(CASES, case_body(world, mediation, client_uuid=key), format="json")
    cache.clear()
    again = as_user(api, mediation["mediator"]).post(CASES, case_body(world, mediation, client_uuid=key), format="json")
    assert (first.status_code, again.status_code) == (201, 200) and again.json()["id"] == first.json()["id"]
    assert Case.objects.get().client_uuid == uuid.UUID(key)


def test_another_jurisdictions_client_id_is_refused_without_revealing_its_case(api, world, mediation):
    key = str(uuid.uuid4())
    as_user(api, mediation["mediator"]).post(CASES, case_body(world, mediation, client_uuid=key), format="json")
    body = {**case_body(world, mediation, client_uuid=key), "organisation": mediation["org_b"].pk}
    body["origin_region"] = world.grid_b.code
    response = as_user(api, mediation["mediator_b"]).post(CASES, body, format="json")
    assert response.status_code == 400 and "client_uuid" in response.json()["fields"]
    assert "number" not in response.json() and Case.objects.count() == 1


def test_case_numbers_continue_after_the_highest_stored_one(world, mediation):
    """A counter created after cases exist (imported, or registered before it) starts after them."""
    from disputes.models import CaseNumberSequence
    from disputes.services import case_number_prefix, take_case_numbers

    case = services_register(world, mediation)
    prefix = case_number_prefix(mediation["village_org"], case.registered_at)
    CaseNumberSequence.objects.all().delete()
    assert take_case_numbers(prefix=prefix, count=2) == [f"{prefix}000002", f"{prefix}000003"]


def services_register(world, mediation, **fields):
    return svc.case_register(
        user=mediation["mediator"], organisation=mediation["village_org"], origin_region=world.grid_a,
        dispute_type="neighbour", title="邻里纠纷", facts="噪音", **fields,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_parallel_registrations_get_distinct_numbers_and_resends_one_case(world, mediation):
    """20 registrations at once in one county and year: 20 cases, 20 numbers, no error;
    then 10 copies of one registration at once: one case."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("SQLite's in-memory test database refuses a second writer at once")

    def post_all(bodies):
        barrier = threading.Barrier(len(bodies))
        results: list = []

        def send(body):
            client = APIClient()
            client.force_authenticate(User.objects.get(pk=mediation["mediator"].pk))
            try:
                barrier.wait(timeout=20)
                response = client.post(CASES, body, format="json")
                results.append((response.status_code, response.json().get("id")))
            except Exception as exc:  # reported below, never swallowed
                results.append((exc, None))
            finally:
                connection.close()

        threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return results

    distinct = post_all([case_body(world, mediation, client_uuid=str(uuid.uuid4())) for _ in range(20)])
    assert sorted(code for code, _id in distinct) == [201] * 20, distinct
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 20

    same = case_body(world, mediation, client_uuid=str(uuid.uuid4()))
    resent = post_all([same] * 10)
    assert sorted(code for code, _id in resent) == [200] * 9 + [201], resent
    assert len({case_id for _code, case_id in resent}) == 1
    assert Case.objects.filter(client_uuid=same["client_uuid"]).count() == 1


def test_an_organisation_party_carries_its_legal_representative_through_the_api(api, world, mediation):
    company = {"side": "respondent", "kind": "organisation", "name": "兰州某物业服务有限公司", "credit_code": USCC}
    data = register(api, world, mediation, parties=[{**company, "legal_representative": "钱八", "id_number": PERSON_1}])
    (party,) = data["parties"]
    assert (party["kind"], party["credit_code"], party["legal_representative"]) == ("organisation", USCC, "钱八")
    assert party["id_number_masked"] == ""  # an organisation has no citizen ID; a typed one is dropped
    again = register(api, world, mediation, parties=[company])
    assert again["is_repeat"] is True  # the same credit code within 365 days
