"""Tolerance claims (容错): filed by the unit for one indicator per cycle, decided by an assessor
covering it or committee staff above it (assessment.transitions.CLAIMS).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import User
from grids.models import Region

from ..choices import Dimension
from ..models import Cycle, Indicator, ToleranceClaim
from ..transitions import CLAIMS, UNIT, InputError, may
from .base import _begin, _open_cycle, _required_text, check_evidence, unit_error


@transaction.atomic
def claim_file(
    *, user: User, cycle: Cycle, unit: Region, indicator: str, reasons: str, evidence=None
) -> ToleranceClaim:
    """容错申请 by the unit's own staff, before the cycle is finalised; one per unit and cycle."""
    if not may(user, "assessment.respond", UNIT, unit.code):
        raise InputError({"unit": [_("只有被考核单位本级的工作人员可以申请容错。")]})
    cycle = _open_cycle(cycle)
    errors: dict[str, list[str]] = {}
    message = unit_error(cycle, unit)
    if message:
        errors["unit"] = [message]
    if not Indicator.objects.filter(code=indicator).exclude(dimension=Dimension.V).exists():
        errors["indicator"] = [_("请选择一项计分指标（一票否决指标不适用容错）。")]
    reasons = _required_text(reasons, "reasons", _("请填写申请容错的理由。"), errors, max_length=4000)
    check_evidence(evidence, errors)
    if not errors and ToleranceClaim.objects.filter(cycle=cycle, unit=unit).exists():
        errors["indicator"] = [_("本单位在本考核周期已申请过容错（每个周期限一项指标）。")]
    if errors:
        raise InputError(errors)
    try:
        with transaction.atomic():
            return ToleranceClaim.objects.create(
                cycle=cycle,
                unit=unit,
                region_code=unit.code,
                indicator=indicator,
                reasons=reasons,
                evidence=evidence or "",
                claimed_by=user,
                claimed_at=timezone.now(),
            )
    except IntegrityError as exc:
        raise InputError({"indicator": [_("本单位在本考核周期已申请过容错（每个周期限一项指标）。")]}) from exc


@transaction.atomic
def claim_decide(*, user: User, claim: ToleranceClaim, approve: bool, note: str = "") -> ToleranceClaim:
    """批准或不予批准 a pending claim: an assessor covering the unit or committee staff above it;
    refused once the cycle is finalised. A rejection needs a note."""
    _open_cycle(claim.cycle)
    claim, step = _begin(ToleranceClaim, claim, CLAIMS, "approve" if approve else "reject", user)
    errors: dict[str, list[str]] = {}
    note = (note or "").strip()
    if not approve and not note:
        errors["decision_note"] = [_("不予批准时请填写审核意见。")]
    elif len(note) > 300:
        errors["decision_note"] = [_("审核意见最多300个字。")]
    if errors:
        raise InputError(errors)
    claim.status, claim.decision_note = step.target, note
    claim.decided_by, claim.decided_at = user, timezone.now()
    claim.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    return claim
