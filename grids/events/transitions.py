"""The grid-event state machine (SPEC §3), declared in one table.

    action               from                                    to           who
    accept               reported                                accepted     centre at the handling level or above
    return               reported                                returned     centre
    self_handle          accepted                                handling     centre (the grid worker handles it)
    dispatch             accepted                                dispatched   centre (one lead + any collaborators)
    department_accept    dispatched                              handling     lead department
    department_return    dispatched                              accepted     lead department (with a reason)
    escalate             accepted, dispatched, handling          reported     centre (handled one level up)
    resolve              handling                                resolved     lead department, or the grid worker if self-handled, or centre
    verify               resolved                                verified     grid worker of the grid, or centre
    reopen               resolved                                handling     grid worker of the grid, or centre
    feedback             verified                                feedback     centre or grid worker
    close                feedback                                closed       centre
    merge                reported, accepted                      merged       centre (into another open event)
    convert              any open state                          converted    centre (registers a mediation case linked to the event)

The table is declared on the platform's one state-change mechanism (governance.transitions):
`EVENTS.allowed_transitions(user, event)` is the only answer to "what may this user do now" —
services check with it, the API lists it, pages and templates show its buttons. "escalate" is not
open at province level (nothing is above it). Every other move is refused with a message naming
the current state.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from governance.choices import Role
from governance.codes import Level
from governance.transitions import Condition, StateMachine, Transition, actor, transition
from grids.events.choices import EventStatus as S

__all__ = ["EVENTS", "TRANSITIONS", "Transition", "TransitionError", "plays_a_part"]


class TransitionError(ValidationError):
    """A refused transition: the message says why (wrong state, wrong actor, missing input)."""


def _region_code(user) -> str:
    return user.region.code if user.region_id else ""


@actor("centre")
def centre(user, event) -> bool:
    """Centre staff (or the grid leader) at the level that holds the event, or above it (a higher
    centre may take over)."""
    code = _region_code(user)
    return (
        user.role in (Role.CENTRE_STAFF, Role.GRID_LEADER)
        and bool(code)
        and event.handling_region_code().startswith(code)
    )


@actor("lead department")
def lead_department(user, event) -> bool:
    return user.role == Role.DEPARTMENT_HANDLER and event.lead_department_id == user.department_id


@actor("grid worker")
def grid_worker(user, event) -> bool:
    """A grid worker whose grid (or village) holds the event."""
    code = _region_code(user)
    return user.role == Role.GRID_WORKER and bool(code) and event.region_code.startswith(code)


@actor("grid worker, self-handled")
def grid_worker_self_handled(user, event) -> bool:
    """A grid worker resolves only what was left to them (自办)."""
    return event.self_handled and grid_worker(user, event)


def plays_a_part(user, event) -> bool:
    """Whether the user is one of the event's actors at all (centre, lead department or grid worker
    of the grid), whatever its state: who may add attachments besides the reporter."""
    return user.is_superuser or any(rule(user, event) for rule in (centre, lead_department, grid_worker))


BELOW_PROVINCE = Condition(
    lambda event: event.handling_level > Level.PROVINCE, _("事件已在省级受理，无法继续上报。"), "top_level"
)
OPEN = [S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.HANDLING, S.RESOLVED, S.VERIFIED, S.FEEDBACK]


def _t(name, label, sources, target, who, conditions=()) -> Transition:
    return transition(name, label, sources, target, capability="event.handle", actor=who, conditions=conditions)


EVENTS = StateMachine(
    [
        _t("accept", _("受理"), [S.REPORTED], S.ACCEPTED, centre),
        _t("return", _("退回"), [S.REPORTED], S.RETURNED, centre),
        _t("self_handle", _("网格员自办"), [S.ACCEPTED], S.HANDLING, centre),
        _t("dispatch", _("分派"), [S.ACCEPTED], S.DISPATCHED, centre),
        _t("department_accept", _("部门签收"), [S.DISPATCHED], S.HANDLING, lead_department),
        _t("department_return", _("部门退回"), [S.DISPATCHED], S.ACCEPTED, lead_department),
        _t("escalate", _("上报上级"), [S.ACCEPTED, S.DISPATCHED, S.HANDLING], S.REPORTED, centre, [BELOW_PROVINCE]),
        _t("resolve", _("办结"), [S.HANDLING], S.RESOLVED, lead_department | grid_worker_self_handled | centre),
        _t("verify", _("核查"), [S.RESOLVED], S.VERIFIED, grid_worker | centre),
        _t("reopen", _("重新办理"), [S.RESOLVED], S.HANDLING, grid_worker | centre),
        _t("feedback", _("回访"), [S.VERIFIED], S.FEEDBACK, grid_worker | centre),
        _t("close", _("归档"), [S.FEEDBACK], S.CLOSED, centre),
        _t("merge", _("合并重复事件"), [S.REPORTED, S.ACCEPTED], S.MERGED, centre),
        _t("convert", _("转矛盾纠纷"), OPEN, S.CONVERTED, centre),
    ],
    error=TransitionError,
    wrong_state=_("事件当前状态为“%(status)s”，不能执行“%(action)s”。"),
    not_allowed=_("您无权对该事件执行“%(action)s”。"),
)

# The table by name (labels, targets and sources for lifecycle, history and the interchange).
TRANSITIONS: dict[str, Transition] = EVENTS.transitions
