"""Mediation cases: registration, every transition allowed and refused, records, time limits,
repeat detection, ID validation and the conversion of a grid event."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from disputes import services as svc
from disputes.choices import CaseStatus, RiskLevel
from disputes.models import Case
from disputes.validators import uscc_check_char, validate_citizen_id, validate_credit_code
from grids.events.choices import EventStatus
from tests.parties import PERSON_1, PERSON_2, USCC, valid_id

pytestmark = pytest.mark.django_db

# Real check digits, computed from the GB 11643 and GB 32100 algorithms.
ID_A = "11010519491231002X"


def register(world, mediation, user=None, **kwargs):
    values = {
        "user": user or mediation["mediator"],
        "organisation": mediation["village_org"],
        "origin_region": world.grid_a,
        "dispute_type": "neighbour",
        "title": "楼上漏水纠纷",
        "facts": "楼上卫生间漏水，双方多次争吵。",
        "parties": [
            {"side": "applicant", "name": "张三", "id_number": PERSON_1, "phone": "13800138000"},
            {"side": "respondent", "name": "李四", "id_number": PERSON_2},
        ],
    }
    values.update(kwargs)
    return svc.case_register(**values)


def test_the_known_check_digits_validate():
    assert validate_citizen_id(ID_A) == ID_A
    assert validate_credit_code(USCC) == USCC
    assert uscc_check_char(USCC[:17]) == USCC[17]


@pytest.mark.parametrize(
    "value",
    [
        "110105194912310021",
        "11010519491231002",
        "110105194913310028",
        valid_id("11010521991231002"),
        valid_id("11010518800101001"),
    ],
)
def test_bad_citizen_ids_are_refused(value):
    with pytest.raises(ValidationError):
        validate_citizen_id(value)


def test_a_bad_credit_code_check_character_is_refused():
    with pytest.raises(ValidationError):
        validate_credit_code(USCC[:17] + ("0" if USCC[17] != "0" else "1"))


def test_the_full_path_to_closure(world, mediation):
    case = register(world, mediation)
    m = mediation["mediator"]
    case = svc.case_accept(case=case, user=m)
    assert timezone.localtime(case.conclusion_deadline).date() == timezone.localdate(case.accepted_at) + dt.timedelta(
        days=30
    )
    svc.case_assign(case=case, user=m, mediator=m)
    svc.session_log(
        case=case, user=m, held_on=timezone.localdate(), place="社区调解室", attendees="张三、李四", notes="初步调解"
    )
    case = svc.case_agree(
        case=case, user=m, terms="楼上负责维修并赔偿500元", signed_on=timezone.localdate(), amount=500
    )
    with pytest.raises(svc.CaseError):
        svc.case_close(case=case, user=m)  # a follow-up first
    svc.follow_up_record(
        case=case, user=m, visited_on=timezone.localdate(), fulfilment="full", satisfaction="satisfied"
    )
    confirmation = svc.confirmation_apply(case=case, user=m, court="城关区人民法院", applied_on=dt.date(2026, 9, 30))
    # 7 working days after 30 Sept 2026: 8, 9, 10 (Saturday, 调休), 12, 13, 14, 15 October.
    assert confirmation.deadline == dt.date(2026, 10, 15)
    svc.confirmation_decide(case=case, user=m, decided_on=dt.date(2026, 10, 12), decision="confirmed")
    case = svc.case_close(case=case, user=m)
    assert case.status == CaseStatus.CLOSED
    assert list(case.history.values_list("action", flat=True)) == [
        "register", "accept", "assign", "session", "agree", "follow_up", "confirmation_apply", "confirmation_decide", "close",
    ]  # fmt: skip


def test_failure_then_referral_or_transfer(world, mediation):
    m = mediation["mediator"]
    case = register(world, mediation)
    svc.case_accept(case=case, user=m)
    accepted_at = Case.objects.get(pk=case.pk).accepted_at
    svc.case_assign(case=case, user=m, mediator=m)
    case = svc.case_fail(case=case, user=m, reason="双方分歧较大")
    case = svc.case_transfer(case=case, user=m, to=mediation["county_org"], reason="需上级协调")
    assert case.status == CaseStatus.ACCEPTED and case.region_code == world.county_a.code
    assert case.accepted_at == accepted_at  # a transferred case keeps its acceptance date
    with pytest.raises(svc.CaseError):  # the village mediator no longer holds it
        svc.case_assign(case=case, user=m, mediator=m)
    cm = mediation["county_mediator"]
    svc.case_assign(case=case, user=cm, mediator=cm)
    svc.case_fail(case=case, user=cm, reason="仍未达成一致")
    case = svc.case_refer(case=case, user=cm, referral="litigation")
    assert svc.case_close(case=case, user=cm).status == CaseStatus.CLOSED


def test_decline_needs_a_reason(world, mediation):
    case = register(world, mediation)
    with pytest.raises(svc.CaseError):
        svc.case_decline(case=case, user=mediation["mediator"], reason="")
    assert (
        svc.case_decline(case=case, user=mediation["mediator"], reason="已进入诉讼程序").status == CaseStatus.DECLINED
    )


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("agree", {"terms": "x", "signed_on": dt.date(2026, 1, 1)}),
        ("close", {}),
        ("refer", {"referral": "litigation"}),
        ("assign", {}),
    ],
)
def test_illegal_transitions_are_refused(world, mediation, name, kwargs):
    case = register(world, mediation)
    if name == "assign":
        kwargs = {"mediator": mediation["mediator"]}  # registered, not yet accepted
    with pytest.raises(svc.CaseError) as exc:
        svc.transition(name, case=case, user=mediation["mediator"], **kwargs)
    assert "不能执行" in exc.value.messages[0]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REGISTERED


def test_a_mediator_of_another_organisation_is_refused(world, mediation):
    case = register(world, mediation)
    with pytest.raises(svc.CaseError) as exc:
        svc.case_accept(case=case, user=mediation["county_mediator"])
    assert "无权" in exc.value.messages[0]


def test_transfer_only_goes_up(world, mediation):
    m = mediation["mediator"]
    case = register(world, mediation)
    svc.case_accept(case=case, user=m)
    with pytest.raises(svc.CaseError):
        svc.case_transfer(case=case, user=m, to=mediation["org_b"], reason="x")


def test_five_on_one_side_is_a_mass_dispute_of_at_least_major_risk(world, mediation):
    case = register(world, mediation, people_involved=12, largest_side=8, risk_level=RiskLevel.GENERAL)
    assert case.is_mass and case.risk_level == RiskLevel.MAJOR
    serious = register(world, mediation, people_involved=12, largest_side=8, risk_level=RiskLevel.SERIOUS)
    assert serious.risk_level == RiskLevel.SERIOUS


def test_a_party_seen_within_365_days_anywhere_makes_a_repeat(world, mediation):
    earlier = register(
        world, mediation, user=mediation["mediator_b"], organisation=mediation["org_b"], origin_region=world.grid_b
    )
    later = register(world, mediation)
    assert not earlier.is_repeat and later.is_repeat
    # The county-A mediator sees the flag but not the county-B case behind it.
    assert not svc.earlier_cases_of_same_parties(later, mediation["mediator"]).exists()
    assert list(svc.earlier_cases_of_same_parties(later, world.province_user)) == [earlier]


def test_a_party_older_than_365_days_is_not_a_repeat(world, mediation):
    register(world, mediation, registered_at=timezone.now() - dt.timedelta(days=366))
    assert not register(world, mediation).is_repeat


def test_invalid_party_numbers_are_field_errors_and_nothing_is_saved(world, mediation):
    with pytest.raises(ValidationError) as exc:
        register(
            world,
            mediation,
            parties=[{"side": "applicant", "name": "王五", "id_number": "620102198503121230", "phone": "12345"}],
        )
    assert {"id_number", "phone"} <= set(exc.value.message_dict)
    assert not Case.objects.exists()


def test_organisation_parties_need_a_valid_credit_code(world, mediation):
    case = register(world, mediation, parties=[])
    party = svc.party_add(
        case=case,
        user=mediation["mediator"],
        side="respondent",
        kind="organisation",
        name="某物业公司",
        credit_code=USCC,
    )
    assert party.credit_code == USCC and party.id_number == ""


def test_mediators_see_only_their_organisations_cases(world, mediation):
    own = register(world, mediation)
    register(world, mediation, user=world.user_a, organisation=mediation["county_org"])
    assert list(Case.objects.restrict(mediation["mediator"])) == [own]
    assert Case.objects.restrict(world.user_a).count() == 2
    assert not Case.objects.restrict(world.user_b).exists()


def test_a_grid_event_converts_into_a_linked_case(world, people, mediation, file_event):
    from grids.events.services.events import event_accept, event_convert

    event = file_event(title="邻里漏水纠纷")
    event_accept(event=event, user=people["leader"])
    event = event_convert(
        event=event, user=world.user_a, organisation=mediation["village_org"], dispute_type="neighbour"
    )
    assert event.status == EventStatus.CONVERTED
    case = Case.objects.get(origin_event=event)
    assert case.title == "邻里漏水纠纷" and case.origin_region == world.grid_a and event.mediation_case == case
    assert event.history.filter(action="convert", data__case=case.pk).exists()


def test_a_foreign_organisation_cannot_receive_a_converted_event(world, people, mediation, file_event):
    from grids.events.services.events import event_convert

    event = file_event()
    with pytest.raises(ValidationError):
        event_convert(event=event, user=world.user_a, organisation=mediation["org_b"], dispute_type="neighbour")
    event.refresh_from_db()
    assert event.status == EventStatus.REPORTED and not Case.objects.exists()


def test_no_plaintext_id_or_phone_is_stored(world, mediation):
    from django.db import connection

    register(world, mediation)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM disputes_party")
        dump = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert PERSON_1 not in dump and PERSON_2 not in dump and "13800138000" not in dump
    assert "620102********" in dump  # the masked form is what pages show
