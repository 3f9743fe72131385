"""司法确认: applying to the court and recording its decision (within 7 working days), and the end of
a deadline day."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import User
from grids.events.sla import END_OF_DAY, nth_working_day_after

from .. import lifecycle
from ..choices import CaseStatus, ConfirmationDecision
from ..lifecycle import CaseError
from ..models import Case, JudicialConfirmation
from .history import record
from .records import require_state

CONFIRMATION_WORKING_DAYS = 7


def confirmation_deadline(applied_on: dt.date) -> dt.date:
    """The court decides within 7 working days of the application (PRC calendar)."""
    return nth_working_day_after(applied_on, CONFIRMATION_WORKING_DAYS)


@transaction.atomic
def confirmation_apply(*, case: Case, user: User, court: str, applied_on: dt.date) -> JudicialConfirmation:
    case = require_state(case, user, {CaseStatus.AGREED}, _("申请司法确认"))
    if JudicialConfirmation.objects.filter(case=case).exists():
        raise CaseError(_("该案件已申请司法确认。"), code="duplicate")
    confirmation = JudicialConfirmation.objects.create(
        case=case, court=lifecycle.require(court, "court", _("请填写受理法院。")), applied_on=applied_on,
        deadline=confirmation_deadline(applied_on),
    )  # fmt: skip
    record(case, "confirmation_apply", case.status, user, court=court)
    return confirmation


@transaction.atomic
def confirmation_decide(*, case: Case, user: User, decided_on: dt.date, decision: str) -> JudicialConfirmation:
    case = require_state(case, user, {CaseStatus.AGREED}, _("登记司法确认结果"))
    confirmation = JudicialConfirmation.objects.select_for_update().filter(case=case).first()
    if confirmation is None or confirmation.decided_on is not None:
        raise CaseError(_("没有待决定的司法确认申请。"), code="no_pending")
    if decision not in ConfirmationDecision.values:
        raise CaseError({"decision": [_("请选择确认结果。")]})
    if decided_on < confirmation.applied_on:
        raise CaseError({"decided_on": [_("决定日期不能早于申请日期。")]})
    confirmation.decided_on, confirmation.decision = decided_on, decision
    confirmation.save(update_fields=["decided_on", "decision"])
    record(case, "confirmation_decide", case.status, user, decision=decision)
    return confirmation


def deadline_end(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, END_OF_DAY))
