"""Innovation awards (创新加分): 0–3 points per unit and year, until the year-end cycle is finalised."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.codes import ancestors
from governance.models import User
from grids.models import Region

from ..choices import CycleKind, CycleStatus
from ..engine.scoring import BONUS_CAP_POINTS
from ..models import Cycle, InnovationAward
from ..transitions import ABOVE, InputError, may
from .base import _decimal, _required_text, _unit_level_error


def year_end_finalised(unit_code: str, year: int) -> bool:
    """Whether a finalised year-end cycle of `year` covers the unit (its result is frozen)."""
    return Cycle.objects.filter(
        kind=CycleKind.YEAR_END,
        year=year,
        status=CycleStatus.FINALISED,
        region_code__in=ancestors(unit_code, include_self=True),
    ).exists()


@transaction.atomic
def award_record(*, user: User, unit: Region, year: int, points, reason: str) -> tuple[InnovationAward, bool]:
    """创新加分: 0–3 points for a unit and year by committee staff above it; recording the same
    unit and year again changes the award, until that year's year-end cycle is finalised."""
    errors: dict[str, list[str]] = {}
    message = _unit_level_error(unit)
    if message:
        errors["unit"] = [message]
    elif not may(user, "assessment.award", ABOVE, unit.code):
        errors["unit"] = [_("只有被考核单位上级的政法委工作人员可以评定创新加分。")]
    this_year = timezone.localdate().year
    if not 2000 <= year <= this_year:
        errors["year"] = [_("年度应在2000年至%(year)s年之间。") % {"year": this_year}]
    elif year_end_finalised(unit.code, year):
        errors["year"] = [_("%(year)s年度年终考核已定稿，不能再调整创新加分。") % {"year": year}]
    value = _decimal(
        points, "points", errors, 0, BONUS_CAP_POINTS, _("创新加分应在0到%(cap)s分之间。") % {"cap": BONUS_CAP_POINTS}
    )
    reason = _required_text(reason, "reason", _("请填写加分理由。"), errors, max_length=500)
    if errors:
        raise InputError(errors)
    award = InnovationAward.objects.select_for_update().filter(unit=unit, year=year).first()
    if award is None:
        try:
            with transaction.atomic():
                award = InnovationAward.objects.create(
                    unit=unit, region_code=unit.code, year=year, points=value, reason=reason, awarded_by=user
                )
            return award, True
        except IntegrityError:
            award = InnovationAward.objects.select_for_update().get(unit=unit, year=year)
    if award.points != value or award.reason != reason:
        award.points, award.reason, award.awarded_by = value, reason, user
        award.save(update_fields=["points", "reason", "awarded_by"])
    return award, False
