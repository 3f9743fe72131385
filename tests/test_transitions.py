"""The shared state-change mechanism (governance.transitions), on plain objects."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from governance.choices import Role
from governance.transitions import Condition, StateMachine, actor, transition


class Refused(ValidationError):
    pass


@actor("owner")
def owner(user, obj):
    return obj.owner == user.username


@actor("reviewer")
def reviewer(user, obj):
    return user.role == Role.COMMITTEE_STAFF


MACHINE = StateMachine(
    [
        transition("submit", "提交", ["draft"], "submitted", capability="assessment.respond", actor=owner),
        transition(
            "approve",
            "批准",
            ["submitted"],
            "approved",
            capability="assessment.rule",
            actor=reviewer | owner,
            conditions=[Condition(lambda obj: not obj.frozen, "已冻结。", "frozen")],
        ),
    ],
    error=Refused,
    wrong_state="当前状态为“%(status)s”，不能%(action)s。",
    not_allowed="您无权%(action)s。",
    state_label=lambda obj: obj.status,
)


def user(username, role, superuser=False):
    return SimpleNamespace(username=username, role=role, is_authenticated=True, is_active=True, is_superuser=superuser)


def record(status, owner="ann", frozen=False):
    return SimpleNamespace(status=status, owner=owner, frozen=frozen)


ANN = user("ann", Role.CENTRE_STAFF)
BOB = user("bob", Role.CENTRE_STAFF)
CAT = user("cat", Role.COMMITTEE_STAFF)
ROOT = user("root", Role.ADMIN, superuser=True)


def test_allowed_transitions_combine_state_capability_actor_and_conditions():
    assert MACHINE.allowed_names(ANN, record("draft")) == ["submit"]
    assert MACHINE.allowed_names(BOB, record("draft")) == []  # not the owner
    assert MACHINE.allowed_names(CAT, record("submitted")) == ["approve"]
    assert MACHINE.allowed_names(ANN, record("submitted")) == []  # the owner's role lacks assessment.rule
    assert MACHINE.allowed_names(CAT, record("submitted", frozen=True)) == []
    assert MACHINE.allowed_names(ROOT, record("draft", owner="x")) == ["submit"]
    assert MACHINE.allowed_names(None, record("draft")) == []
    inactive = user("ann", Role.CENTRE_STAFF)
    inactive.is_active = False
    assert MACHINE.allowed_names(inactive, record("draft")) == []


def test_check_raises_the_apps_refusals_in_order():
    with pytest.raises(Refused) as wrong_state:
        MACHINE.check(BOB, record("approved"), "submit")
    assert wrong_state.value.code == "illegal_transition"
    assert wrong_state.value.messages == ["当前状态为“approved”，不能提交。"]
    with pytest.raises(Refused) as wrong_actor:
        MACHINE.check(BOB, record("draft"), "submit")
    assert (wrong_actor.value.code, wrong_actor.value.messages) == ("not_allowed", ["您无权提交。"])
    with pytest.raises(Refused) as unmet:
        MACHINE.check(CAT, record("submitted", frozen=True), "approve")
    assert (unmet.value.code, unmet.value.messages) == ("frozen", ["已冻结。"])
    assert MACHINE.check(CAT, record("submitted"), "approve").target == "approved"


def test_a_name_is_declared_once():
    t = transition("a", "A", ["x"], "y", capability="event.handle", actor=owner)
    with pytest.raises(ValueError):
        StateMachine([t, t], error=Refused, wrong_state="", not_allowed="")
