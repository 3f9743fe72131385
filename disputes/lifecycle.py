"""What each step of a mediation case's life does to the case.

The one statement of those effects and of the rules on a step's inputs. The live services
(disputes.services) apply a step now to the locked row; the historical import
(governance.interchange) applies the same steps at the moments the old system recorded. Which
moves are legal is disputes.transitions; who may make them stays with the services.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from grids.events.choices import LimitUnit
from grids.events.sla import Limit, add_limit, clock_state

from .choices import CaseOutcome, CaseStatus, Referral
from .transitions import TRANSITIONS, CaseError

CONCLUSION_DAYS = 30
WARNING_DAYS = 20


@dataclass
class Step:
    """The case's fields a step changed (besides status), what its history row keeps and, for a
    transfer, what the case was at the organisation it left (the fields of a CaseTransfer,
    which the caller writes)."""

    fields: list[str] = field(default_factory=list)
    note: str = ""
    data: dict = field(default_factory=dict)
    transfer: dict | None = None


def require(value: str, field_name: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise CaseError({field_name: [message]})
    return value


def conclusion_deadlines(accepted_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """30 days from acceptance (amber from day 20), compared by calendar date."""
    return (
        add_limit(accepted_at, Limit(CONCLUSION_DAYS, LimitUnit.DAYS)),
        add_limit(accepted_at, Limit(WARNING_DAYS, LimitUnit.DAYS)),
    )


def case_clock_state(case, now: dt.datetime | None = None) -> str:
    """ok | amber | red | done | none for the 30-day limit, amber from day 20 (conclusion_warn_at):
    grids.events.sla.clock_state, for the case page, the lists and the API alike."""
    return clock_state(
        case.accepted_at, case.conclusion_deadline, case.concluded_at, now, warn_at=case.conclusion_warn_at
    )


# The statuses in which the 30-day clock runs: accepted and not yet concluded. A registered case has
# no deadline yet and an agreed one is concluded, so the lists' wider "open" sets count the same cases.
CLOCK_RUNNING = frozenset({CaseStatus.ACCEPTED, CaseStatus.MEDIATING})


def case_overdue_q(now: dt.datetime, prefix: str = "") -> Q:
    """Cases past the 30-day limit and still running at `now` (case_clock_state "red" while not
    concluded): the one condition of the lists' filter and counts, the API filter, the workload and
    the supervision sweep. `prefix` reaches the case through a relation (e.g. "mediated_cases__")."""
    return Q(
        **{
            f"{prefix}status__in": CLOCK_RUNNING,
            f"{prefix}concluded_at__isnull": True,
            f"{prefix}conclusion_deadline__lt": now,
        }
    )


def check_agreement(terms: str, signed_on: dt.date, performance_deadline: dt.date | None) -> str:
    terms = require(terms, "terms", _("请填写调解协议内容。"))
    if performance_deadline and performance_deadline < signed_on:
        raise CaseError({"performance_deadline": [_("履行期限不能早于协议签订日期。")]})
    return terms


def accept(case, at, *, note="", deadlines=conclusion_deadlines, **_inputs) -> Step:
    case.accepted_at = at
    case.conclusion_deadline, case.conclusion_warn_at = deadlines(at)
    return Step(["accepted_at", "conclusion_deadline", "conclusion_warn_at"], note)


def decline(case, at, *, reason="", **_inputs) -> Step:
    case.decline_reason = require(reason, "reason", _("不予受理必须说明理由（如已进入诉讼程序）。"))[:300]
    case.concluded_at = at
    return Step(["decline_reason", "concluded_at"], reason)


def assign(case, at, *, mediator, **_inputs) -> Step:
    from governance.choices import Role

    if mediator is None or mediator.role != Role.MEDIATOR or mediator.mediation_org_id != case.organisation_id:
        raise CaseError({"mediator": [_("请选择本调解组织的调解员。")]})
    case.mediator = mediator
    return Step(["mediator"], data={"mediator": mediator.pk})


def _conclude(case, at, outcome: str) -> list[str]:
    case.concluded_at, case.outcome = at, outcome
    if case.first_concluded_at is None:
        case.first_concluded_at, case.first_outcome = at, outcome
        return ["concluded_at", "outcome", "first_concluded_at", "first_outcome"]
    return ["concluded_at", "outcome"]


def agree(case, at, **_inputs) -> Step:
    """调解成功 (the caller stores the agreement, checked by check_agreement)."""
    return Step(_conclude(case, at, CaseOutcome.AGREED))


def fail(case, at, *, reason="", **_inputs) -> Step:
    case.failure_reason = require(reason, "reason", _("请说明调解不成的原因。"))[:300]
    return Step(["failure_reason", *_conclude(case, at, CaseOutcome.FAILED)], reason)


def refer(case, at, *, referral="", note="", **_inputs) -> Step:
    if referral not in Referral.values:
        raise CaseError({"referral": [_("请选择引导途径：仲裁、诉讼、行政裁决或信访。")]})
    case.referral = referral
    return Step(["referral"], note)


def transfer(case, at, *, to, reason="", **_inputs) -> Step:
    """移交上级: an organisation of a region above takes the case; the acceptance date, and so
    the 30-day limit, stay as they were."""
    reason = require(reason, "reason", _("移交上级必须说明理由。"))
    current = case.organisation.region
    if not (to.region.level < current.level and current.code.startswith(to.region.code)):
        raise CaseError({"to": [_("只能移交给上级区划的调解组织。")]})
    origin = case.organisation_id
    left = {
        "region_code": case.region_code, "held_from": case.transferred_at, "concluded_at": case.concluded_at,
        "outcome": case.outcome, "transferred_at": at,
    }  # fmt: skip  # a failed conclusion stands until now and no longer
    case.organisation, case.region_code, case.mediator = to, to.region.code, None
    case.concluded_at, case.outcome, case.transferred_at = None, "", at
    if case.first_concluded_at is None:
        case.assessment_code = case.region_code  # not concluded yet: the receiving organisation answers for it
    fields = ["organisation", "region_code", "mediator", "concluded_at", "outcome", "assessment_code", "transferred_at"]
    return Step(fields, reason, {"from_org": origin, "to_org": to.pk}, transfer=left)


def close(case, at, *, note="", has_follow_up=False, confirmation_pending=False, **_inputs) -> Step:
    """结案: an agreement is closed only after a follow-up and once the court has decided."""
    if case.status == CaseStatus.AGREED:
        if not has_follow_up:
            raise CaseError(_("调解成功的案件须至少回访一次履行情况后才能结案。"), code="needs_follow_up")
        if confirmation_pending:
            raise CaseError(_("司法确认尚未作出决定，不能结案。"), code="confirmation_pending")
    case.closed_at = at
    return Step(["closed_at"], note)


EFFECTS = {
    "accept": accept,
    "decline": decline,
    "assign": assign,
    "agree": agree,
    "fail": fail,
    "refer": refer,
    "transfer": transfer,
    "close": close,
}


def apply(case, name: str, *, at: dt.datetime, **inputs) -> Step:
    """Make step `name` at `at` (the caller has checked the move is legal and who makes it)."""
    step = EFFECTS[name](case, at, **inputs)
    case.status = TRANSITIONS[name].target
    return step
