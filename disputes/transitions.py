"""The mediation-case state machine (SPEC §4), declared in one table.

    action      from                          to          who
    accept      registered                    accepted    the organisation's mediators, centre staff
    decline     registered                    declined    the organisation's mediators, centre staff (reason)
    assign      accepted                      mediating   the organisation's mediators, centre staff (a named mediator)
    agree       mediating                     agreed      the assigned mediator, centre staff (terms)
    fail        mediating                     failed      the assigned mediator, centre staff (reason)
    transfer    accepted, mediating, failed   accepted    the organisation's mediators, centre staff (to an organisation above)
    refer       failed                        referred    the organisation's mediators, centre staff (arbitration, litigation …)
    close       agreed, referred              closed      the organisation's mediators, centre staff

"The organisation's mediators, centre staff" is the case handler: a mediator of the case's
organisation, or centre / committee staff whose jurisdiction holds the case. The table is declared
on the platform's one state-change mechanism (governance.transitions): `CASES.allowed_transitions`
is the only answer to "what may this user do now" for services, API and pages alike.

Records that do not change the state: sessions (while mediating), fulfilment follow-ups and
judicial confirmation (while agreed). Closing an agreement needs at least one follow-up and
no undecided confirmation.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from governance.choices import Role
from governance.scoping import in_jurisdiction
from governance.transitions import StateMachine, Transition, actor, transition

from .choices import CaseStatus as S

__all__ = ["CASES", "TRANSITIONS", "CaseError", "Transition", "case_handler"]


class CaseError(ValidationError):
    """A refused step: wrong state, wrong actor or missing input."""


@actor("case handler")
def case_handler(user, case) -> bool:
    """Mediators of the case's organisation and centre/committee staff whose jurisdiction holds it."""
    if user.role == Role.MEDIATOR:
        return user.mediation_org_id == case.organisation_id
    return user.role in (Role.CENTRE_STAFF, Role.COMMITTEE_STAFF) and in_jurisdiction(user, case.region_code)


@actor("assigned mediator, or staff")
def assigned_or_staff(user, case) -> bool:
    """A mediator concludes only the cases assigned to them; staff conclude any they handle."""
    if user.role == Role.MEDIATOR and case.mediator_id != user.pk:
        return False
    return case_handler(user, case)


def _t(name, label, sources, target, who=case_handler) -> Transition:
    return transition(name, label, sources, target, capability="case.handle", actor=who)


CASES = StateMachine(
    [
        _t("accept", _("受理"), [S.REGISTERED], S.ACCEPTED),
        _t("decline", _("不予受理"), [S.REGISTERED], S.DECLINED),
        _t("assign", _("指派调解员"), [S.ACCEPTED], S.MEDIATING),
        _t("agree", _("调解成功"), [S.MEDIATING], S.AGREED, assigned_or_staff),
        _t("fail", _("调解不成"), [S.MEDIATING], S.FAILED, assigned_or_staff),
        _t("transfer", _("移交上级"), [S.ACCEPTED, S.MEDIATING, S.FAILED], S.ACCEPTED),
        _t("refer", _("引导至其他途径"), [S.FAILED], S.REFERRED),
        _t("close", _("结案"), [S.AGREED, S.REFERRED], S.CLOSED),
    ],
    error=CaseError,
    wrong_state=_("案件当前状态为“%(status)s”，不能执行“%(action)s”。"),
    not_allowed=_("您无权对该案件执行“%(action)s”。"),
)

# The table by name (labels, targets and sources for lifecycle, history and the interchange).
TRANSITIONS: dict[str, Transition] = CASES.transitions
