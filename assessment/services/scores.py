"""Assessor groups, their scores of the qualitative indicators and the reviews (审核) of a spread
or a not-applicable line.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import audit
from governance.choices import AuditAction, Role
from governance.models import User
from governance.scoping import in_jurisdiction
from grids.models import Region

from ..choices import Rule
from ..engine.scoring import SPREAD_LIMIT_POINTS
from ..models import (
    AssessorGroup,
    AssessorScore,
    Cycle,
    Indicator,
    ScoreReview,
)
from ..transitions import ABOVE, COVERS, InputError, may
from .base import _decimal, _open_cycle, _required_text, unit_error

SPREAD_LIMIT = Decimal(SPREAD_LIMIT_POINTS)


@transaction.atomic
def group_save(
    *,
    user: User,
    cycle: Cycle,
    name: str,
    members: list[User],
    units: list[Region],
    is_third_party: bool = False,
    group: AssessorGroup | None = None,
) -> AssessorGroup:
    """组建或调整考核组: assessors (members) and the units they score in one cycle.

    Groups are formed by staff at or above the cycle's root (the organiser). Every member must
    cover every unit of the group (scores are written and read inside the assessor's own
    jurisdiction); a unit that the group has already scored cannot be taken away from it.
    """
    errors: dict[str, list[str]] = {}
    if not may(user, "assessment.group", COVERS, cycle.region_code):
        raise InputError(
            {
                "cycle": [
                    _("只有考核周期组织单位（%(root)s）及以上的工作人员可以组建考核组。") % {"root": cycle.root.name}
                ]
            }
        )
    if group is not None and group.cycle_id != cycle.pk:
        raise InputError({"cycle": [_("考核组创建后不能更换考核周期。")]})
    cycle = _open_cycle(cycle)
    name = _required_text(name, "name", _("请填写考核组名称。"), errors, max_length=60)
    if name and AssessorGroup.objects.filter(cycle=cycle, name=name).exclude(pk=getattr(group, "pk", None)).exists():
        errors["name"] = [_("本考核周期已有同名考核组。")]
    members, units = list(dict.fromkeys(members)), list(dict.fromkeys(units))
    if not members:
        errors["members"] = [_("请至少选择一名考核员。")]
    for member in members:
        if member.role != Role.ASSESSOR or not member.is_active:
            errors.setdefault("members", []).append(
                _("“%(name)s”不是在用的考核员账号。") % {"name": member.display_name or member.username}
            )
            continue
        outside = [u.name for u in units if not in_jurisdiction(member, u.code)]
        if outside:
            errors.setdefault("members", []).append(
                _("考核员“%(name)s”的管辖范围不包括：%(units)s。")
                % {"name": member.display_name or member.username, "units": "、".join(outside)}
            )
    if not units:
        errors["units"] = [_("请至少选择一个被考核单位。")]
    for unit in units:
        message = unit_error(cycle, unit)
        if message:
            errors.setdefault("units", []).append(message)
    if group is not None:
        kept = {u.pk for u in units}
        scored = (
            Region.objects.filter(pk__in=AssessorScore.objects.filter(group=group).values("unit"))
            .exclude(pk__in=kept)
            .order_by("code")
        )
        if scored:
            errors.setdefault("units", []).append(
                _("已有评分的单位不能移出考核组：%(units)s。") % {"units": "、".join(u.name for u in scored)}
            )
    if errors:
        raise InputError(errors)
    before = (
        {
            "members": sorted(group.members.values_list("pk", flat=True)),
            "units": sorted(group.units.values_list("code", flat=True)),
        }
        if group is not None
        else {"members": [], "units": []}
    )
    if group is None:
        group = AssessorGroup.objects.create(
            cycle=cycle, region_code=cycle.region_code, name=name, is_third_party=is_third_party
        )
    else:
        group.name, group.is_third_party = name, is_third_party
        group.save(update_fields=["name", "is_third_party"])
    group.members.set(members)
    group.units.set(units)
    after = {"members": sorted(m.pk for m in members), "units": sorted(u.code for u in units)}
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changes:
        audit.record(AuditAction.UPDATE, instance=group, changes=changes)
    return group


@transaction.atomic
def score_record(
    *, user: User, group: AssessorGroup, unit: Region, indicator: str, score, note: str = ""
) -> tuple[AssessorScore, bool]:
    """A group's 0–100 score of one qualitative indicator for one unit; scoring again updates it.

    Refused once the cycle is finalised, for a non-member, a unit outside the group and an
    indicator that is not scored by assessors. Returns (score row, created).
    """
    cycle = _open_cycle(group.cycle)
    errors: dict[str, list[str]] = {}
    if not (user.is_superuser or (user.can("assessment.score") and group.members.filter(pk=user.pk).exists())):
        raise InputError({"group": [_("您不是该考核组的成员，不能评分。")]})
    if not group.units.filter(pk=unit.pk).exists() or not in_jurisdiction(user, unit.code):
        errors["unit"] = [_("该单位不在本考核组的负责范围内。")]
    if not Indicator.objects.filter(code=indicator, rule=Rule.ASSESSED).exists():
        errors["indicator"] = [_("只能对由考核组评分的定性指标评分。")]
    value = _decimal(score, "score", errors, 0, 100, _("评分应在0到100之间。"))
    note = (note or "").strip()
    if len(note) > 300:
        errors["note"] = [_("评分说明最多300个字。")]
    if errors:
        raise InputError(errors)
    key = {"cycle": cycle, "group": group, "unit": unit, "indicator": indicator}
    existing = AssessorScore.objects.select_for_update().filter(**key).first()
    if existing is None:
        try:
            with transaction.atomic():
                row = AssessorScore.objects.create(
                    **key, region_code=unit.code, score=value, note=note, scored_by=user, scored_at=timezone.now()
                )
            return row, True
        except IntegrityError:  # the same score sent twice at once
            existing = AssessorScore.objects.select_for_update().get(**key)
    if existing.score != value or existing.note != note:
        existing.score, existing.note, existing.scored_by, existing.scored_at = value, note, user, timezone.now()
        existing.save(update_fields=["score", "note", "scored_by", "scored_at"])
    return existing, False


@transaction.atomic
def review_record(*, user: User, cycle: Cycle, unit: Region, indicator: str, kind: str, reason: str) -> ScoreReview:
    """审核 an assessed line that blocks finalisation: accept a spread over 15 points (or a line
    scored by fewer than two groups) as it is, or mark the indicator not applicable for the unit.
    Recording the same decision again replaces its reason."""
    if not may(user, "assessment.review", ABOVE, unit.code):
        raise InputError({"unit": [_("只有被考核单位上级的政法委工作人员可以审核评分。")]})
    cycle = _open_cycle(cycle)
    errors: dict[str, list[str]] = {}
    message = unit_error(cycle, unit)
    if message:
        errors["unit"] = [message]
    if not Indicator.objects.filter(code=indicator, rule=Rule.ASSESSED).exists():
        errors["indicator"] = [_("只能审核由考核组评分的定性指标。")]
    if kind not in ScoreReview.Kind.values:
        errors["kind"] = [_("请选择审核决定。")]
    reason = _required_text(reason, "reason", _("请填写审核理由。"), errors, max_length=300)
    if kind == ScoreReview.Kind.ACCEPT_SPREAD and not errors:
        line = AssessorScore.objects.filter(cycle=cycle, unit=unit, indicator=indicator).aggregate(
            n=Count("pk"), low=Min("score"), high=Max("score")
        )
        if line["n"] == 0:
            errors["kind"] = [_("该指标尚无评分，不能接受评分差异；请先评分，或标记为该单位不适用。")]
        elif line["n"] >= 2 and line["high"] - line["low"] <= SPREAD_LIMIT:
            errors["kind"] = [_("各考核组评分差异未超过%(points)s分，无需审核。") % {"points": SPREAD_LIMIT_POINTS}]
    if errors:
        raise InputError(errors)
    review, created = ScoreReview.objects.select_for_update().get_or_create(
        cycle=cycle,
        unit=unit,
        indicator=indicator,
        kind=kind,
        defaults={"region_code": unit.code, "reason": reason, "reviewer": user, "reviewed_at": timezone.now()},
    )
    if not created and review.reason != reason:
        review.reason, review.reviewer, review.reviewed_at = reason, user, timezone.now()
        review.save(update_fields=["reason", "reviewer", "reviewed_at"])
    return review
