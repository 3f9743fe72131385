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

Every other move is refused with a message naming the current state.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from grids.events.choices import EventStatus as S


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    actors: frozenset[str]  # "centre", "department", "worker"


def _t(name, label, sources, target, actors) -> Transition:
    return Transition(name, label, frozenset(sources), target, frozenset(actors))


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        _t("accept", _("受理"), [S.REPORTED], S.ACCEPTED, ["centre"]),
        _t("return", _("退回"), [S.REPORTED], S.RETURNED, ["centre"]),
        _t("self_handle", _("网格员自办"), [S.ACCEPTED], S.HANDLING, ["centre"]),
        _t("dispatch", _("分派"), [S.ACCEPTED], S.DISPATCHED, ["centre"]),
        _t("department_accept", _("部门签收"), [S.DISPATCHED], S.HANDLING, ["department"]),
        _t("department_return", _("部门退回"), [S.DISPATCHED], S.ACCEPTED, ["department"]),
        _t("escalate", _("上报上级"), [S.ACCEPTED, S.DISPATCHED, S.HANDLING], S.REPORTED, ["centre"]),
        _t("resolve", _("办结"), [S.HANDLING], S.RESOLVED, ["department", "worker", "centre"]),
        _t("verify", _("核查"), [S.RESOLVED], S.VERIFIED, ["worker", "centre"]),
        _t("reopen", _("重新办理"), [S.RESOLVED], S.HANDLING, ["worker", "centre"]),
        _t("feedback", _("回访"), [S.VERIFIED], S.FEEDBACK, ["worker", "centre"]),
        _t("close", _("归档"), [S.FEEDBACK], S.CLOSED, ["centre"]),
        _t("merge", _("合并重复事件"), [S.REPORTED, S.ACCEPTED], S.MERGED, ["centre"]),
        _t(
            "convert",
            _("转矛盾纠纷"),
            [S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.HANDLING, S.RESOLVED, S.VERIFIED, S.FEEDBACK],
            S.CONVERTED,
            ["centre"],
        ),
    ]
}


def allowed_from(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources]
