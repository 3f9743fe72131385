"""The declared state machines against SPEC, and refusals that write nothing.

The expected tables below are written from the SPEC's text (§3 and §4), not from the code:
every state's outgoing transitions and their targets. Where SPEC leaves a reading open the
comment says which one is taken; the one addition beyond SPEC is listed separately with its
reason (docs/decisions.md)."""

import datetime as dt

import pytest
from django.forms.models import model_to_dict

from disputes import services as cases
from disputes.choices import CaseStatus as C
from disputes.models import Case, CaseHistory
from disputes.transitions import CASES
from governance.codes import Level
from governance.models import AuditLog
from grids.events.choices import EventStatus as E
from grids.events.models import EventDispatch, EventHistory, GridEvent
from grids.events.services import events as svc
from grids.events.transitions import EVENTS

from .factories import UserFactory, arrange
from .test_case_lifecycle import register

# SPEC §3 — "上报 reported → 受理 accepted | 退回 returned"; "受理 → 自办 … or 分派 dispatched …; a department
# may 退回 a dispatch" (and §1: departments "accept, handle and resolve dispatched events; return with
# reason"); "受理/办理中 → 上报上级" (办理中 read as dispatched or handling; the next level receives it as
# reported); "办理中 → 办结 resolved → 核查 verified (or reopened) → 回访 feedback → 归档 closed"; "any open
# state → 转矛盾纠纷 converted"; likely duplicates "can be merged" (read: before the event is dispatched).
OPEN_EVENT = {"convert": E.CONVERTED}
SPEC_EVENTS = {
    E.REPORTED: {"accept": E.ACCEPTED, "return": E.RETURNED, "merge": E.MERGED, **OPEN_EVENT},
    E.ACCEPTED: {
        "self_handle": E.HANDLING,
        "dispatch": E.DISPATCHED,
        "escalate": E.REPORTED,
        "merge": E.MERGED,
        **OPEN_EVENT,
    },
    E.DISPATCHED: {
        "department_accept": E.HANDLING,
        "department_return": E.ACCEPTED,
        "escalate": E.REPORTED,
        **OPEN_EVENT,
    },
    E.HANDLING: {"resolve": E.RESOLVED, "escalate": E.REPORTED, **OPEN_EVENT},
    E.RESOLVED: {"verify": E.VERIFIED, "reopen": E.HANDLING, **OPEN_EVENT},
    E.VERIFIED: {"feedback": E.FEEDBACK, **OPEN_EVENT},
    E.FEEDBACK: {"close": E.CLOSED, **OPEN_EVENT},
    E.CLOSED: {},
    E.RETURNED: {},
    E.MERGED: {},
    E.CONVERTED: {},
}

# SPEC §4 — "登记 registered → 受理 accepted | 不予受理 declined"; "受理 → 调解中 mediating (a named mediator)";
# "调解中 → 调解成功 agreement | 调解不成 failed → 引导 referred | 移交上级 transferred to the level above" (a
# transfer from mediating or after failing; the receiving organisation accepts it again); "→ 结案 closed"
# after the agreement's follow-up or a referral. Declined and closed are final.
SPEC_CASES = {
    C.REGISTERED: {"accept": C.ACCEPTED, "decline": C.DECLINED},
    C.ACCEPTED: {"assign": C.MEDIATING},
    C.MEDIATING: {"agree": C.AGREED, "fail": C.FAILED, "transfer": C.ACCEPTED},
    C.FAILED: {"refer": C.REFERRED, "transfer": C.ACCEPTED},
    C.AGREED: {"close": C.CLOSED},
    C.REFERRED: {"close": C.CLOSED},
    C.DECLINED: {},
    C.CLOSED: {},
}
# Beyond SPEC's list (docs/decisions.md, "Mediation cases"): an accepted case the organisation cannot
# mediate may go up before a mediator is named.
CASES_BEYOND_SPEC = {C.ACCEPTED: {"transfer": C.ACCEPTED}}


def declared(machine, state) -> dict[str, str]:
    return {t.name: t.target for t in machine.from_state(state)}


@pytest.mark.parametrize("state", list(E))
def test_every_event_state_has_exactly_the_spec_transitions(state):
    assert set(SPEC_EVENTS) == set(E.values)
    assert declared(EVENTS, state) == SPEC_EVENTS[state]


@pytest.mark.parametrize("state", list(C))
def test_every_case_state_has_exactly_the_spec_transitions(state):
    assert set(SPEC_CASES) == set(C.values)
    assert declared(CASES, state) == {**SPEC_CASES[state], **CASES_BEYOND_SPEC.get(state, {})}


# --- Refusals write nothing ------------------------------------------------------------------------


def snapshot_event(event):
    return (
        model_to_dict(GridEvent.objects.get(pk=event.pk)),
        list(EventHistory.objects.filter(event=event).values_list("pk", flat=True)),
        list(EventDispatch.objects.filter(event=event).values_list("pk", "state")),
        AuditLog.objects.count(),
    )


INPUTS = {"department_return": {"reason": "理由"}, "escalate": {"reason": "理由"}}


def dispatched(world, people, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    return svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)


@pytest.mark.parametrize(
    ("who", "name", "code"),
    [
        ("worker", "department_accept", "not_allowed"),  # wrong actor: a grid worker
        ("police", "close", "illegal_transition"),  # wrong state
        ("police_b", "department_accept", "not_allowed"),  # outsider: another county's department
        ("centre_b", "escalate", "not_allowed"),  # outsider: another county's centre
        ("other_dept", "department_return", "not_allowed"),  # same county, not the lead department
    ],
)
def test_a_refused_event_transition_writes_nothing(world, people, file_event, who, name, code):
    event = dispatched(world, people, file_event)
    other = UserFactory(
        username="other_dept", role="department_handler", region=world.county_a, department=world.dept_b
    )
    user = {
        "worker": world.worker_a,
        "police": people["police"],
        "police_b": people["police_b"],
        "centre_b": world.user_b,
        "other_dept": other,
    }[who]
    assert name not in EVENTS.allowed_names(user, event)
    before = snapshot_event(event)
    with pytest.raises(svc.TransitionError) as exc:
        svc.transition(name, event=event, user=user, **INPUTS.get(name, {}))
    assert exc.value.code == code
    assert snapshot_event(event) == before


def snapshot_case(case):
    return (
        model_to_dict(Case.objects.get(pk=case.pk)),
        list(CaseHistory.objects.filter(case=case).values_list("pk", flat=True)),
        AuditLog.objects.count(),
    )


CASE_INPUTS = {"agree": {"terms": "条款", "signed_on": dt.date(2026, 1, 5)}, "fail": {"reason": "理由"}}


@pytest.mark.parametrize(
    ("who", "name", "code"),
    [
        ("county_mediator", "agree", "not_allowed"),  # wrong actor: another organisation's mediator
        ("second_mediator", "agree", "not_allowed"),  # same organisation, not the assigned mediator
        ("mediator", "close", "illegal_transition"),  # wrong state
        ("mediator_b", "fail", "not_allowed"),  # outsider
        ("centre_b", "transfer", "not_allowed"),  # outsider staff
    ],
)
def test_a_refused_case_transition_writes_nothing(world, mediation, who, name, code):
    case = register(world, mediation)
    cases.case_accept(case=case, user=mediation["mediator"])
    case = cases.case_assign(case=case, user=mediation["mediator"], mediator=mediation["mediator"])
    second = UserFactory(
        username="mediator_a2", role="mediator", region=world.village_a, mediation_org=mediation["village_org"]
    )
    user = {**mediation, "second_mediator": second, "centre_b": world.user_b}[who]
    assert name not in CASES.allowed_names(user, case)
    before = snapshot_case(case)
    with pytest.raises(cases.CaseError) as exc:
        inputs = {"to": mediation["county_org"], "reason": "理由"} if name == "transfer" else CASE_INPUTS.get(name, {})
        cases.transition(name, case=case, user=user, **inputs)
    assert exc.value.code == code
    assert snapshot_case(case) == before


def test_escalate_is_not_offered_at_province_level_on_any_surface(client, world, people, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    arrange(GridEvent.objects.filter(pk=event.pk), handling_level=Level.PROVINCE)
    event.refresh_from_db()
    top = UserFactory(username="province_centre", role="centre_staff", region=world.province)
    assert "escalate" not in EVENTS.allowed_names(top, event)
    client.force_login(top)
    page = client.get(f"/events/{event.pk}/").content.decode()
    assert 'id="action-accept"' not in page and 'id="action-dispatch"' in page  # the page lists the machine's
    assert 'id="action-escalate"' not in page
    before = snapshot_event(event)
    with pytest.raises(svc.TransitionError) as exc:
        svc.event_escalate(event=event, user=top, reason="上级处理")
    assert exc.value.code == "top_level" and exc.value.messages == ["事件已在省级受理，无法继续上报。"]
    assert snapshot_event(event) == before
