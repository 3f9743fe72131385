"""What each step of an event's life does to the event and to its dispatches.

This is the one statement of those effects. The live transition services
(grids.events.services.events) apply a step at the present moment to the locked row and to the dispatch
rows in the database. The historical import (governance.interchange) applies the same steps, at
the moments the old system recorded, to an unsaved row and to dispatches held in memory. Which
moves are legal is grids.events.transitions; who may make them stays with the services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.utils.translation import gettext as _

from grids.events.choices import DispatchRole, DispatchState, Feedback
from grids.events.sla import add_limit, limits_for
from grids.events.transitions import TRANSITIONS, TransitionError


class Dispatches(Protocol):
    """An event's dispatches (分派), in the database or in memory."""

    def close_open(self) -> None:
        """Pending and accepted dispatches are closed."""

    def close_pending(self) -> None:
        """Pending dispatches are closed."""

    def add(self, department, role: str, at: dt.datetime) -> None: ...

    def set_lead(self, **values: Any) -> None:
        """Change the latest lead dispatch."""


@dataclass
class Step:
    """What a step changed: the event's fields (besides status), what its history row keeps
    (note and data), which departments hear of it and, for a reopening, the resolution it
    withdrew (the fields of a WithdrawnResolution, which the caller writes)."""

    fields: list[str] = field(default_factory=list)
    note: str = ""
    data: dict = field(default_factory=dict)
    departments: list = field(default_factory=list)
    withdrawn: dict | None = None


FEEDBACKS = frozenset(Feedback.values)  # built once: each .values builds the choices


def require(value: str, field_name: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise TransitionError({field_name: [message]})
    return value


def _respond(event, at) -> list[str]:
    if event.responded_at is None:
        event.responded_at = at
        return ["responded_at"]
    return []


def _lead_departments(event) -> list:
    return [event.lead_department] if event.lead_department_id else []


def accept(event, at, dispatches, *, note="", **_inputs) -> Step:
    return Step(_respond(event, at), note)


def return_(event, at, dispatches, *, reason="", **_inputs) -> Step:
    event.return_reason = require(reason, "reason", _("退回必须说明理由。"))[:200]
    event.closed_at = at
    return Step(["return_reason", "closed_at", *_respond(event, at)], reason)


def self_handle(event, at, dispatches, *, note="", **_inputs) -> Step:
    event.self_handled = True
    return Step(["self_handled"], note)


def dispatch(event, at, dispatches, *, lead, collaborators: Iterable = (), note="", **_inputs) -> Step:
    """中心吹哨、部门报到: one lead department and any collaborating ones."""
    if lead is None:
        raise TransitionError({"lead": [_("请选择牵头部门。")]})
    collaborators = [d for d in collaborators if d.pk != lead.pk]
    dispatches.close_open()
    dispatches.add(lead, DispatchRole.LEAD, at)
    for department in collaborators:
        dispatches.add(department, DispatchRole.COLLABORATOR, at)
    event.lead_department, event.self_handled = lead, False
    data = {"lead": lead.pk, "collaborators": [d.pk for d in collaborators]}
    return Step(["lead_department", "self_handled"], note, data, [lead, *collaborators])


def department_accept(event, at, dispatches, *, note="", **_inputs) -> Step:
    dispatches.set_lead(state=DispatchState.ACCEPTED, answered_at=at)
    return Step([], note, departments=_lead_departments(event))


def department_return(event, at, dispatches, *, reason="", **_inputs) -> Step:
    reason = require(reason, "reason", _("退回必须说明理由。"))
    dispatches.set_lead(state=DispatchState.RETURNED, answered_at=at, return_reason=reason[:200])
    dispatches.close_pending()
    departments = _lead_departments(event)
    event.lead_department = None
    return Step(["lead_department"], reason, departments=departments)


def escalate(event, at, dispatches, *, reason="", **_inputs) -> Step:
    """上报上级: the next level's centre takes the event; the clocks keep running from the report."""
    reason = require(reason, "reason", _("上报上级必须说明理由。"))
    dispatches.close_open()
    event.handling_level -= 1
    event.lead_department, event.self_handled = None, False
    return Step(["handling_level", "lead_department", "self_handled"], reason, {"to_level": event.handling_level})


def resolve(event, at, dispatches, *, resolution="", deadline=add_limit, limits=limits_for, **_inputs) -> Step:
    """办结 at the level holding the event: the resolution that stands until a reopening."""
    event.resolution = require(resolution, "resolution", _("请填写办理结果。"))
    event.resolved_at, event.resolved_level = at, event.handling_level
    fields = ["resolution", "resolved_at", "resolved_level", "feedback_deadline"]
    if event.first_resolved_at is None:
        event.first_resolved_at, event.first_resolved_level = at, event.handling_level
        fields += ["first_resolved_at", "first_resolved_level"]
    event.feedback_deadline = deadline(at, limits(event.category, event.urgency).feedback)
    departments = _lead_departments(event)
    dispatches.close_open()
    return Step(fields, departments=departments)


def verify(event, at, dispatches, *, note="", **_inputs) -> Step:
    event.verified_at = at
    return Step(["verified_at"], note)


def reopen(event, at, dispatches, *, reason="", **_inputs) -> Step:
    """核查不通过: back to handling. The resolution no longer stands from now on; it is kept as
    withdrawn, with the moments it stood between, so every period end reads its own state."""
    reason = require(reason, "reason", _("重新办理必须说明核查发现的问题。"))
    withdrawn = {"resolved_at": event.resolved_at, "level": event.resolved_level, "reopened_at": at}
    event.resolved_at = event.resolved_level = event.feedback_deadline = None
    event.reopened_at = at
    if event.lead_department_id:
        dispatches.set_lead(state=DispatchState.ACCEPTED)
    fields = ["resolved_at", "resolved_level", "feedback_deadline", "reopened_at"]
    return Step(fields, reason, departments=_lead_departments(event), withdrawn=withdrawn)


def feedback(event, at, dispatches, *, feedback="", note="", **_inputs) -> Step:
    if feedback not in FEEDBACKS:
        raise TransitionError({"feedback": [_("请选择回访评价：满意、基本满意或不满意。")]})
    event.feedback, event.feedback_note, event.feedback_at = feedback, note[:500], at
    return Step(["feedback", "feedback_note", "feedback_at"], note)


def close(event, at, dispatches, *, note="", **_inputs) -> Step:
    event.closed_at = at
    return Step(["closed_at"], note)


def merge(event, at, dispatches, *, into, **_inputs) -> Step:
    """Folded into the event it repeats (the caller checks the target and records its side)."""
    event.merged_into_id = getattr(into, "pk", into)  # the event or its id (None while an import validates)
    event.closed_at = at
    return Step(["merged_into", "closed_at"], data={"into": event.merged_into_id})


def convert(event, at, dispatches, *, note="", **_inputs) -> Step:
    """转矛盾纠纷: the event ends here; the case it became carries on (registered by the caller)."""
    dispatches.close_open()
    event.closed_at = at
    return Step(["closed_at"], note)


EFFECTS = {
    "accept": accept,
    "return": return_,
    "self_handle": self_handle,
    "dispatch": dispatch,
    "department_accept": department_accept,
    "department_return": department_return,
    "escalate": escalate,
    "resolve": resolve,
    "verify": verify,
    "reopen": reopen,
    "feedback": feedback,
    "close": close,
    "merge": merge,
    "convert": convert,
}
assert EFFECTS.keys() == TRANSITIONS.keys()


def apply(event, name: str, *, at: dt.datetime, dispatches: Dispatches, **inputs) -> Step:
    """Make step `name` at `at` (the caller has checked the move is legal and who makes it; the
    transition's conditions on the event, e.g. "not at province level", hold here for every caller)."""
    unmet = TRANSITIONS[name].holds_for(event)
    if unmet is not None:
        raise TransitionError(unmet.message, code=unmet.code)
    step = EFFECTS[name](event, at, dispatches, **inputs)
    event.status = TRANSITIONS[name].target
    return step
