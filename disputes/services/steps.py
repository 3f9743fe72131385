"""The case transitions (disputes.transitions.CASES): each locks the row, checks the move, applies
its effects (disputes.lifecycle), saves with its audit entry and writes the history row."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import audit
from governance.models import User

from .. import lifecycle
from ..lifecycle import CaseError
from ..models import Agreement, Case, CaseTransfer, JudicialConfirmation, MediationOrganisation
from .history import begin, record


def _step(case: Case, name: str, user: User, **inputs) -> Case:
    """Lock, check, apply the step's effects (disputes.lifecycle) now, save with its audit entry
    (governance.audit.save_and_record, naming the transition) and record the history row."""
    case, before = begin(case, name, user)
    step = lifecycle.apply(case, name, at=timezone.now(), **inputs)
    audit.save_and_record(case, transition=name, update_fields=[*step.fields, "status", "updated_at"])
    if step.transfer:
        CaseTransfer.objects.create(case=case, **step.transfer)
    record(case, name, before, user, step.note, **step.data)
    return case


@transaction.atomic
def case_accept(*, case: Case, user: User, note: str = "") -> Case:
    return _step(case, "accept", user, note=note)


@transaction.atomic
def case_decline(*, case: Case, user: User, reason: str) -> Case:
    return _step(case, "decline", user, reason=reason)


@transaction.atomic
def case_assign(*, case: Case, user: User, mediator: User) -> Case:
    if not mediator.is_active:
        raise CaseError({"mediator": [_("请选择本调解组织的调解员。")]})
    return _step(case, "assign", user, mediator=mediator)


@transaction.atomic
def case_agree(
    *, case: Case, user: User, terms: str, signed_on: dt.date, amount: Decimal | None = None,
    performance_deadline: dt.date | None = None,
) -> Case:  # fmt: skip
    terms = lifecycle.check_agreement(terms, signed_on, performance_deadline)
    case = _step(case, "agree", user)
    Agreement.objects.create(
        case=case, terms=terms, amount=amount, signed_on=signed_on, performance_deadline=performance_deadline
    )
    return case


@transaction.atomic
def case_fail(*, case: Case, user: User, reason: str) -> Case:
    return _step(case, "fail", user, reason=reason)


@transaction.atomic
def case_refer(*, case: Case, user: User, referral: str, note: str = "") -> Case:
    return _step(case, "refer", user, referral=referral, note=note)


@transaction.atomic
def case_transfer(*, case: Case, user: User, to: MediationOrganisation, reason: str) -> Case:
    """移交上级 to an active organisation of a region above (see disputes.lifecycle.transfer)."""
    if not to.is_active:
        raise CaseError({"to": [_("只能移交给上级区划的调解组织。")]})
    return _step(case, "transfer", user, to=to, reason=reason)


@transaction.atomic
def case_close(*, case: Case, user: User, note: str = "") -> Case:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    return _step(
        case, "close", user, note=note, has_follow_up=locked.follow_ups.exists(),
        confirmation_pending=JudicialConfirmation.objects.filter(case=locked, decided_on__isnull=True).exists(),
    )  # fmt: skip


TRANSITION_SERVICES = {
    "accept": case_accept,
    "decline": case_decline,
    "assign": case_assign,
    "agree": case_agree,
    "fail": case_fail,
    "transfer": case_transfer,
    "refer": case_refer,
    "close": case_close,
}


def transition(name: str, **kwargs) -> Case:
    if name not in TRANSITION_SERVICES:
        raise CaseError(_("未知操作。"), code="unknown_transition")
    return TRANSITION_SERVICES[name](**kwargs)
