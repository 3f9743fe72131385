"""Rectification (问题清单—整改台账—复查销号): the unit reports, an assessor closes or returns
(assessment.transitions.RECTIFICATIONS).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import audit
from governance.choices import AuditAction
from governance.models import User

from ..choices import RectificationStatus
from ..models import RectificationItem
from ..transitions import RECTIFICATIONS, InputError
from .base import _begin, _required_text, check_evidence


def rectification_step(
    item: RectificationItem, name: str, *, at: dt.datetime, user: User | None, text: str = ""
) -> list[str]:
    """The effect of one step of the rectification ledger on the item, at `at` (also replayed by
    the historical import); returns the fields it changed. The caller checked the move."""
    errors: dict[str, list[str]] = {}
    if name == "report":
        item.report = _required_text(text, "report", _("请填写整改报告。"), errors, max_length=8000)
        item.reported_at = at
        fields = ["report", "reported_at"]
    elif name == "close":
        item.closed_on, item.closed_by = timezone.localtime(at).date(), user
        fields = ["closed_on", "closed_by"]
    else:  # return: the reason stays on the item (shown to the unit) and goes to the audit trail
        item.return_reason = _required_text(text, "note", _("请填写退回理由。"), errors, max_length=500)
        fields = ["return_reason"]
    if errors:
        raise InputError(errors)
    item.status = RECTIFICATIONS[name].target
    return ["status", *fields]


@transaction.atomic
def rectification_report(*, user: User, item: RectificationItem, report: str, evidence=None) -> RectificationItem:
    """整改报告 by the unit's own staff (again after a return), with an optional evidence file
    (the upload rules of every other input); a new report after a return replaces the file
    only when a new one comes."""
    item, _step = _begin(RectificationItem, item, RECTIFICATIONS, "report", user)
    errors: dict[str, list[str]] = {}
    check_evidence(evidence, errors, required=False)
    if errors:
        raise InputError(errors)
    fields = rectification_step(item, "report", at=timezone.now(), user=user, text=report)
    if evidence:
        item.evidence = evidence
        fields.append("evidence")
    item.save(update_fields=fields)
    return item


@transaction.atomic
def rectification_close(*, user: User, item: RectificationItem) -> RectificationItem:
    """复查销号 by an assessor covering the unit."""
    item, _step = _begin(RectificationItem, item, RECTIFICATIONS, "close", user)
    item.save(update_fields=rectification_step(item, "close", at=timezone.now(), user=user))
    return item


@transaction.atomic
def rectification_return(*, user: User, item: RectificationItem, note: str) -> RectificationItem:
    """退回 a report that does not fix the problem; the reason goes into the audit trail."""
    item, _step = _begin(RectificationItem, item, RECTIFICATIONS, "return", user)
    item.save(update_fields=rectification_step(item, "return", at=timezone.now(), user=user, text=note))
    audit.record(AuditAction.UPDATE, instance=item, changes={"return_note": [None, note.strip()]})
    return item


def rectification_overdue(item: RectificationItem, today: dt.date | None = None) -> bool:
    """Still waiting for the unit's report after its due date."""
    return item.status == RectificationStatus.OPEN and (today or timezone.localdate()) > item.due_on
