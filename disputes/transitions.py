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

Records that do not change the state: sessions (while mediating), fulfilment follow-ups and
judicial confirmation (while agreed). Closing an agreement needs at least one follow-up and
no undecided confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .choices import CaseStatus as S


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str


def _t(name, label, sources, target) -> Transition:
    return Transition(name, label, frozenset(sources), target)


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        _t("accept", _("受理"), [S.REGISTERED], S.ACCEPTED),
        _t("decline", _("不予受理"), [S.REGISTERED], S.DECLINED),
        _t("assign", _("指派调解员"), [S.ACCEPTED], S.MEDIATING),
        _t("agree", _("调解成功"), [S.MEDIATING], S.AGREED),
        _t("fail", _("调解不成"), [S.MEDIATING], S.FAILED),
        _t("transfer", _("移交上级"), [S.ACCEPTED, S.MEDIATING, S.FAILED], S.ACCEPTED),
        _t("refer", _("引导至其他途径"), [S.FAILED], S.REFERRED),
        _t("close", _("结案"), [S.AGREED, S.REFERRED], S.CLOSED),
    ]
}


def allowed_from(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources]
