"""Veto rulings (一票否决, SPEC §5.3): recorded by committee staff above the unit, appealed by the
unit within 15 working days, upheld or revoked above it (assessment.transitions.RULINGS).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import User
from grids.events.sla import END_OF_DAY, nth_working_day_after
from grids.models import Region

from ..models import VetoRuling
from ..transitions import ABOVE, RULINGS, InputError, may
from .base import _begin, _required_text, _unit_level_error, check_evidence

RULED_VETOES = ("V01", "V02", "V03", "V05")  # V04 is computed from the survey


APPEAL_WORKING_DAYS = 15


def appeal_deadline(ruling: VetoRuling) -> dt.datetime:
    """The end of the 15th working day after the day the ruling was recorded."""
    day = nth_working_day_after(timezone.localdate(ruling.recorded_at), APPEAL_WORKING_DAYS)
    return timezone.make_aware(dt.datetime.combine(day, END_OF_DAY))


@transaction.atomic
def veto_record(
    *, user: User, unit: Region, indicator: str, occurred_on: dt.date, description: str, evidence=None
) -> VetoRuling:
    """一票否决裁定 by committee staff above the unit, with the facts and the evidence."""
    errors: dict[str, list[str]] = {}
    message = _unit_level_error(unit)
    if message:
        errors["unit"] = [message]
    elif not may(user, "assessment.rule", ABOVE, unit.code):
        errors["unit"] = [_("只有被考核单位上级的政法委工作人员可以作出一票否决裁定。")]
    if indicator not in RULED_VETOES:
        errors["indicator"] = [_("请选择V01、V02、V03或V05（V04由问卷结果自动判定）。")]
    if occurred_on > timezone.localdate():
        errors["occurred_on"] = [_("发生日期不能晚于今天。")]
    description = _required_text(description, "description", _("请填写事实与依据。"), errors, max_length=4000)
    check_evidence(evidence, errors)
    if errors:
        raise InputError(errors)
    return VetoRuling.objects.create(
        unit=unit,
        region_code=unit.code,
        indicator=indicator,
        occurred_on=occurred_on,
        description=description,
        evidence=evidence or "",
        recorded_by=user,
        recorded_at=timezone.now(),
    )


@transaction.atomic
def veto_appeal(*, user: User, ruling: VetoRuling, reason: str, now: dt.datetime | None = None) -> VetoRuling:
    """申诉: the unit's own staff, within 15 working days of the ruling."""
    ruling, step = _begin(VetoRuling, ruling, RULINGS, "appeal", user)
    errors: dict[str, list[str]] = {}
    reason = _required_text(reason, "appeal_reason", _("请填写申诉理由。"), errors, max_length=4000)
    deadline = appeal_deadline(ruling)
    if (now or timezone.now()) > deadline:
        errors["appeal_reason"] = [
            _("申诉期限（%(deadline)s）已过。") % {"deadline": f"{timezone.localtime(deadline):%Y-%m-%d}"}
        ]
    if errors:
        raise InputError(errors)
    ruling.status, ruling.appeal_reason = step.target, reason
    ruling.save(update_fields=["status", "appeal_reason"])
    return ruling


@transaction.atomic
def veto_decide(*, user: User, ruling: VetoRuling, decision: str, note: str) -> VetoRuling:
    """申诉处理: committee staff above the unit uphold (维持) or revoke (撤销) the ruling."""
    if decision not in ("uphold", "revoke"):
        raise InputError({"decision": [_("请选择维持或撤销。")]})
    ruling, step = _begin(VetoRuling, ruling, RULINGS, decision, user)
    errors: dict[str, list[str]] = {}
    note = _required_text(note, "decision_note", _("请填写申诉处理意见。"), errors, max_length=4000)
    if errors:
        raise InputError(errors)
    ruling.status, ruling.decision_note = step.target, note
    ruling.save(update_fields=["status", "decision_note"])
    return ruling
