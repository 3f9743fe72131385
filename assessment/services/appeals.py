"""Appeals on scores (申诉, SPEC §5.4): a unit disputes one indicator line of a published cycle
within 15 working days of publication; committee staff above it decide within 10 working days.

An upheld appeal records the 得分率 the committee found right, with its reason. It is an INPUT
of scoring: every run of the cycle (`engine.run`) puts it in place of the computed ratio, so a
re-run keeps it, and the unit's total, rank, annual result, grade and fiscal tilt — and every
page, export and report built from them — follow. Upholding therefore queues a re-computation
of the (frozen) cycle with its frozen catalogue, and of the same year's year-end cycle when the
appeal concerns a half-year or spot-check score.

Filing and deciding are audited by the model's save; the adjustment itself is a separate audit
entry in the same transaction. Undecided appeals past their limit are supervised (督办) by the
level above the deciding committee, like overdue events.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import audit
from governance.choices import AuditAction, Role
from governance.codes import supervising_code
from governance.models import User
from grids.events.sla import END_OF_DAY, nth_working_day_after
from grids.models import Region

from ..choices import AppealStatus, CycleKind, LineStatus
from ..models import Cycle, IndicatorResult, ScoreAppeal
from ..rules import APPEAL_WORKING_DAYS, DECISION_WORKING_DAYS
from ..transitions import APPEALS, UNIT, InputError, may
from .base import _begin, _decimal, _required_text, check_evidence

# Lines a unit can appeal: those that carry points (a not-applicable line weighs nothing).
APPEALABLE_LINES = (LineStatus.SCORED, LineStatus.MISSING_REPORT, LineStatus.UNSCORED)
COMMITTEE_ROLES = (Role.COMMITTEE_STAFF,)


def end_of_working_day(start: dt.date, n: int) -> dt.datetime:
    """The end (23:59:59 local) of the nth working day after `start` (PRC calendar)."""
    return timezone.make_aware(dt.datetime.combine(nth_working_day_after(start, n), END_OF_DAY))


def appeal_window_end(cycle: Cycle) -> dt.datetime | None:
    """The last moment to appeal a published cycle (None while it is not published)."""
    if not cycle.published_at:
        return None
    return end_of_working_day(timezone.localdate(cycle.published_at), APPEAL_WORKING_DAYS)


def may_appeal(user: User, cycle: Cycle, unit_code: str, now: dt.datetime | None = None) -> bool:
    """Whether the page offers the appeal form (the service checks everything again)."""
    end = appeal_window_end(cycle)
    return bool(end and (now or timezone.now()) <= end and may(user, "assessment.respond", UNIT, unit_code))


@transaction.atomic
def appeal_file(
    *,
    user: User,
    cycle: Cycle,
    unit: Region,
    indicator: str,
    reasons: str,
    evidence=None,
    now: dt.datetime | None = None,
) -> ScoreAppeal:
    """申诉 by the unit's own staff on one indicator line of a published cycle, once per line."""
    now = now or timezone.now()
    if not may(user, "assessment.respond", UNIT, unit.code):
        raise InputError({"unit": [_("只有被考核单位本级的工作人员可以提出申诉。")]})
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    errors: dict[str, list[str]] = {}
    end = appeal_window_end(cycle)
    if end is None:
        errors["cycle"] = [_("考核结果尚未公布，不能申诉。")]
    elif now > end:
        errors["cycle"] = [_("申诉期限（%(deadline)s）已过。") % {"deadline": f"{timezone.localtime(end):%Y-%m-%d}"}]
    line = (
        IndicatorResult.objects.filter(cycle=cycle, region_code=unit.code, indicator=indicator)
        .only("status", "points", "ratio")
        .first()
    )
    if line is None or line.status not in APPEALABLE_LINES:
        errors["indicator"] = [_("请选择本单位在该考核周期中计分的一项指标。")]
    reasons = _required_text(reasons, "reasons", _("请填写申诉理由。"), errors, max_length=4000)
    check_evidence(evidence, errors)
    if not errors and ScoreAppeal.objects.filter(cycle=cycle, unit=unit, indicator=indicator).exists():
        errors["indicator"] = [_("本单位已就该指标提出过申诉（每项指标限申诉一次）。")]
    if errors:
        raise InputError(errors)
    try:
        with transaction.atomic():
            appeal = ScoreAppeal.objects.create(
                cycle=cycle,
                unit=unit,
                region_code=unit.code,
                indicator=indicator,
                reasons=reasons,
                evidence=evidence,
                points_at_filing=line.points,
                ratio_at_filing=line.ratio,
                filed_by=user,
                filed_at=now,
                decide_by=end_of_working_day(timezone.localdate(now), DECISION_WORKING_DAYS),
            )
    except IntegrityError as exc:  # a concurrent submission of the same line won
        raise InputError({"indicator": [_("本单位已就该指标提出过申诉（每项指标限申诉一次）。")]}) from exc
    transaction.on_commit(lambda: _notify_deciders(appeal.pk))
    return appeal


@transaction.atomic
def appeal_decide(*, user: User, appeal: ScoreAppeal, uphold: bool, note: str, adjusted_percent=None) -> ScoreAppeal:
    """申诉处理 by committee staff above the unit: uphold with the 得分率 found right (0–100 %),
    or dismiss; both with a written reason. Upholding queues the re-computation."""
    appeal, step = _begin(ScoreAppeal, appeal, APPEALS, "uphold" if uphold else "dismiss", user)
    errors: dict[str, list[str]] = {}
    note = _required_text(note, "decision_note", _("请填写处理意见（调整理由）。"), errors, max_length=4000)
    percent = None
    if uphold:
        if adjusted_percent in (None, ""):
            errors["adjusted_percent"] = [_("申诉成立时请填写调整后得分率（0–100%）。")]
        else:
            percent = _decimal(adjusted_percent, "adjusted_percent", errors, 0, 100, _("调整后得分率应在0到100之间。"))
    if errors:
        raise InputError(errors)
    appeal.status, appeal.decision_note = step.target, note
    appeal.decided_by, appeal.decided_at = user, timezone.now()
    fields = ["status", "decision_note", "decided_by", "decided_at"]
    if uphold:
        appeal.adjusted_percent = percent.quantize(Decimal("0.01"))
        fields.append("adjusted_percent")
    appeal.save(update_fields=fields)
    if uphold:
        audit.record(
            AuditAction.UPDATE,
            instance=appeal.cycle,
            changes={
                "appeal_adjustment": {
                    "appeal": appeal.pk,
                    "unit": appeal.region_code,
                    "indicator": appeal.indicator,
                    "ratio": [_text(appeal.ratio_at_filing), str(appeal.adjusted_percent / 100)],
                    "reason": note,
                }
            },
        )
        cycle_id = appeal.cycle_id
        transaction.on_commit(lambda: _queue_rescore(cycle_id))
    transaction.on_commit(lambda: _notify_unit(appeal.pk))
    return appeal


def _text(value) -> str | None:
    return None if value is None else str(value)


def _queue_rescore(cycle_id: int) -> None:
    from ..tasks import rescore_cycle_task

    rescore_cycle_task.delay(cycle_id)


def rescore(cycle_id: int) -> list[int]:
    """Re-compute a cycle after an upheld appeal (frozen or not), then the year-end cycle of the
    same root and year when its annual results depend on this one. Returns the cycles computed.
    Each computation holds the cycle's row lock from reading the inputs to storing the results,
    so two appeals upheld at once are computed one after the other, the second with both."""
    cycle = Cycle.objects.get(pk=cycle_id)
    targets = [cycle.pk]
    if cycle.kind != CycleKind.YEAR_END:
        targets += list(
            Cycle.objects.filter(
                root_id=cycle.root_id, year=cycle.year, kind=CycleKind.YEAR_END, computed_at__isnull=False
            ).values_list("pk", flat=True)
        )
    return [pk for pk in targets if _recompute(pk)]


def _recompute(cycle_id: int) -> bool:
    from ..engine.run import compute_cycle

    with transaction.atomic():
        cycle = (
            Cycle.objects.select_for_update(of=("self",)).select_related("root", "catalogue_version").get(pk=cycle_id)
        )
        if not cycle.catalogue_version_id:
            return False
        compute_cycle(cycle, allow_frozen=True)
    return True


# --- Notifications and supervision ---------------------------------------------------------------------


def _staff(codes, roles=COMMITTEE_ROLES):
    return User.objects.filter(is_active=True, role__in=roles, region__code__in=codes)


def _notify_deciders(appeal_id: int) -> None:
    from grids.events.services.effects import notify

    appeal = ScoreAppeal.objects.select_related("unit").get(pk=appeal_id)
    notify(
        _staff([supervising_code(appeal.region_code)]),
        key=f"appeal:{appeal.pk}:filed",
        message=_("%(unit)s对%(indicator)s提出考核申诉，请于%(deadline)s前答复。")
        % {
            "unit": appeal.unit.name,
            "indicator": appeal.indicator,
            "deadline": f"{timezone.localtime(appeal.decide_by):%Y-%m-%d}",
        },
    )


def _notify_unit(appeal_id: int) -> None:
    from grids.events.services.effects import notify

    appeal = ScoreAppeal.objects.get(pk=appeal_id)
    notify(
        _staff([appeal.region_code], roles=(Role.CENTRE_STAFF, Role.COMMITTEE_STAFF)),
        key=f"appeal:{appeal.pk}:decided",
        message=_("您单位对%(indicator)s的考核申诉已处理：%(status)s。")
        % {"indicator": appeal.indicator, "status": appeal.get_status_display()},
    )


def sweep_appeal_deadlines(now: dt.datetime | None = None) -> int:
    """督办 every undecided appeal past its limit, once: the level above the deciding committee
    is told. Idempotent (the supervision time is stored, the notification keyed)."""
    from grids.events.services.effects import notify

    now = now or timezone.now()
    overdue = list(
        ScoreAppeal.objects.filter(status=AppealStatus.FILED, decide_by__lt=now, supervised_at__isnull=True)
        .select_related("unit")
        .order_by("pk")
    )
    supervisors: dict[str, list[User]] = {}
    codes = {supervising_code(supervising_code(a.region_code)) for a in overdue}
    for user in _staff(codes, roles=(Role.CENTRE_STAFF, Role.COMMITTEE_STAFF)).select_related("region"):
        supervisors.setdefault(user.region.code, []).append(user)
    with transaction.atomic():
        for appeal in overdue:  # each save is audited; overdue appeals are few
            appeal.supervised_at = now
            appeal.save(update_fields=["supervised_at"])
            notify(
                supervisors.get(supervising_code(supervising_code(appeal.region_code)), []),
                key=f"appeal:{appeal.pk}:supervised",
                message=_("督办：%(unit)s对%(indicator)s的考核申诉已超过答复期限（%(deadline)s）仍未处理。")
                % {
                    "unit": appeal.unit.name,
                    "indicator": appeal.indicator,
                    "deadline": f"{timezone.localtime(appeal.decide_by):%Y-%m-%d}",
                },
            )
    return len(overdue)
