"""The state machines of the assessment's inputs, declared on the platform's one mechanism
(governance.transitions): who takes which step of a veto ruling, a tolerance claim, a
rectification item and a score appeal.

    ruling          appeal          in force -> appealed        the unit's own staff       assessment.respond
                    uphold, revoke  appealed -> upheld/revoked  committee staff above it   assessment.rule
    claim           approve, reject pending -> approved/rejected an assessor covering the   assessment.decide_claim
                                                                unit, or staff above it
    rectification   report          open -> reported            the unit's own staff       assessment.respond
                    close, return   reported -> closed/open     an assessor covering it    assessment.recheck
    appeal          uphold, dismiss filed -> upheld/dismissed   committee staff above it   assessment.rule

`RULINGS.allowed_transitions(user, obj)` (and its siblings) is the only answer to "what may this
user do now" for the services (through `check`), the API and the pages. The actor rules are also
used, with a region code instead of a record, for the writes that start no state machine (a
table submitted, a group formed, a ruling recorded …) through `may`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from governance.choices import Role
from governance.models import User
from governance.scoping import in_jurisdiction, scope_prefix
from governance.transitions import ActorRule, StateMachine, may_act, transition

from .choices import AppealStatus, ClaimStatus, RectificationStatus, RulingStatus


class InputError(ValidationError):
    """A refused input: wrong state, wrong actor or invalid values (field-level where possible)."""


# --- Who acts ------------------------------------------------------------------------------------------

UNIT_STAFF_ROLES = frozenset({Role.CENTRE_STAFF, Role.COMMITTEE_STAFF})


def _code(obj) -> str:
    return obj if isinstance(obj, str) else obj.region_code


def is_above(user: User, code: str) -> bool:
    prefix = scope_prefix(user)
    return prefix is None or (bool(prefix) and code.startswith(prefix) and code != prefix)


def is_unit_staff(user: User, unit) -> bool:
    code = unit if isinstance(unit, str) else unit.code
    if user.is_superuser:
        return True
    region = getattr(user, "region", None)
    return user.role in UNIT_STAFF_ROLES and region is not None and region.code == code


def _assessor_or_above(user, obj) -> bool:
    code = _code(obj)
    return in_jurisdiction(user, code) if user.role == Role.ASSESSOR else is_above(user, code)


UNIT = ActorRule("staff of the unit itself", lambda user, obj: is_unit_staff(user, _code(obj)))
# a region strictly above the unit: the unit never decides about itself
ABOVE = ActorRule("above the unit", lambda user, obj: is_above(user, _code(obj)))
# a region at or above the unit (assessors, who are independent of it)
COVERS = ActorRule("covering the unit", lambda user, obj: in_jurisdiction(user, _code(obj)))
ASSESSOR_OR_ABOVE = ActorRule("an assessor covering the unit, or someone above it", _assessor_or_above)


def may(user: User | None, capability: str, rule: ActorRule, code: str) -> bool:
    """Whether the user's role has the capability and the user stands where the actor rule says
    about the unit of region `code` (a write that is not a transition of a state machine)."""
    return may_act(user, capability, rule, code)


# --- The machines --------------------------------------------------------------------------------------

WRONG_STATE = _("当前状态为“%(status)s”，不能%(action)s。")
NOT_ALLOWED = _("您无权%(action)s。")


def _machine(*transitions) -> StateMachine:
    return StateMachine(transitions, error=InputError, wrong_state=WRONG_STATE, not_allowed=NOT_ALLOWED)


# 一票否决裁定: the unit appeals; the committee above it upholds or revokes.
RULINGS = _machine(
    transition(
        "appeal",
        _("提出申诉"),
        {RulingStatus.IN_FORCE},
        RulingStatus.APPEALED,
        capability="assessment.respond",
        actor=UNIT,
    ),
    transition(
        "uphold",
        _("驳回申诉，维持裁定"),
        {RulingStatus.APPEALED},
        RulingStatus.UPHELD,
        capability="assessment.rule",
        actor=ABOVE,
    ),
    transition(
        "revoke",
        _("撤销裁定"),
        {RulingStatus.APPEALED},
        RulingStatus.REVOKED,
        capability="assessment.rule",
        actor=ABOVE,
    ),
)

# 容错申请: an assessor covering the unit or committee staff above it decides.
CLAIMS = _machine(
    transition(
        "approve",
        _("批准容错"),
        {ClaimStatus.PENDING},
        ClaimStatus.APPROVED,
        capability="assessment.decide_claim",
        actor=ASSESSOR_OR_ABOVE,
    ),
    transition(
        "reject",
        _("不予批准"),
        {ClaimStatus.PENDING},
        ClaimStatus.REJECTED,
        capability="assessment.decide_claim",
        actor=ASSESSOR_OR_ABOVE,
    ),
)

# 整改台账: the unit reports; an assessor rechecks and closes (销号) or returns it.
RECTIFICATIONS = _machine(
    transition(
        "report",
        _("报送整改报告"),
        {RectificationStatus.OPEN},
        RectificationStatus.REPORTED,
        capability="assessment.respond",
        actor=UNIT,
    ),
    transition(
        "close",
        _("复查销号"),
        {RectificationStatus.REPORTED},
        RectificationStatus.CLOSED,
        capability="assessment.recheck",
        actor=COVERS,
    ),
    transition(
        "return",
        _("退回重新整改"),
        {RectificationStatus.REPORTED},
        RectificationStatus.OPEN,
        capability="assessment.recheck",
        actor=COVERS,
    ),
)

# 得分申诉 (SPEC §5.4): the committee above the unit decides.
APPEALS = _machine(
    transition(
        "uphold",
        _("认定申诉成立并调整得分"),
        {AppealStatus.FILED},
        AppealStatus.UPHELD,
        capability="assessment.rule",
        actor=ABOVE,
    ),
    transition(
        "dismiss",
        _("认定申诉不成立"),
        {AppealStatus.FILED},
        AppealStatus.DISMISSED,
        capability="assessment.rule",
        actor=ABOVE,
    ),
)
