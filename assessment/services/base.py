"""What every input service shares: the refusal when a record is not in the state or the user not
where a step needs them (through assessment.transitions), text and number checks with field-level
Chinese messages, the evidence upload check, and whether a unit is assessed in a cycle.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from governance.models import User
from governance.transitions import StateMachine
from governance.uploads import check_upload
from grids.models import Region

from ..choices import CycleKind, CycleStatus
from ..models import Cycle
from ..transitions import InputError


def _begin(model, obj, machine: StateMachine, name: str, user: User):
    """Lock the row and check, on the locked row, that `user` may take transition `name` of
    `machine` now (the state first, then the actor); returns (locked row, transition)."""
    locked = model.objects.select_for_update().get(pk=obj.pk)
    return locked, machine.check(user, locked, name)


def _required_text(value: str | None, field: str, message: str, errors: dict, max_length: int | None = None) -> str:
    text = (value or "").strip()
    if not text:
        errors[field] = [message]
    elif max_length and len(text) > max_length:
        errors[field] = [_("最多%(n)s个字。") % {"n": max_length}]
    return text


def check_evidence(upload, errors: dict, field: str = "evidence", required: bool = True) -> None:
    """A photo, PDF or Word file that passes governance.uploads.check_upload."""
    if not upload:
        if required:
            errors[field] = [_("请上传证明材料。")]
        return
    try:
        check_upload(upload)
    except ValidationError as exc:
        errors[field] = exc.messages


def assessment_levels() -> list[int]:
    return list(settings.ASSESSMENT_LEVELS)


def unit_error(cycle: Cycle, unit: Region) -> str | None:
    """Why `unit` is not assessed in `cycle` (None when it is)."""
    if not unit.code.startswith(cycle.region_code) or unit.level not in cycle.levels:
        return _("“%(unit)s”不是本考核周期的被考核单位。") % {"unit": unit.name}
    if cycle.kind == CycleKind.SPOT_CHECK and not cycle.sample.filter(region=unit).exists():
        return _("“%(unit)s”不在本次季度抽查的抽样单位中。") % {"unit": unit.name}
    return None


def _open_cycle(cycle: Cycle) -> Cycle:
    """The cycle row, locked against a concurrent finalisation; refused once finalised."""
    locked = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if locked.status == CycleStatus.FINALISED:
        raise InputError({"cycle": [_("考核周期已定稿发布，不能再修改评分、审核、考核组或容错申请。")]})
    return locked


def _decimal(value, field: str, errors: dict, low: int, high: int, message: str) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        errors[field] = [_("请填写数字。")]
        return None
    if not number.is_finite() or number < low or number > high:
        errors[field] = [message]
        return None
    if number != number.quantize(Decimal("0.01")):
        errors[field] = [_("最多保留两位小数。")]
        return None
    return number


def _unit_level_error(unit: Region) -> str | None:
    if unit.level not in assessment_levels():
        return _("“%(unit)s”不是被考核单位（只能是市、县、乡镇一级）。") % {"unit": unit.name}
    return None
