"""Cycle lifecycle (SPEC §5.3–§5.4): create (with the spot-check sample), run (a Celery task),
finalise (freeze), publish (公布: results shown to the units, rectification items and their
notices opened, the appeal window started).

Every function checks who may do it; pages, the API, the command and the beat all come here.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
import traceback
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.audit import record
from governance.choices import Role
from governance.codes import Level, ancestor_code
from governance.models import User
from governance.roles import has_capability
from governance.scoping import in_jurisdiction
from grids.events.sla import nth_working_day_after
from grids.models import Region

from .. import catalogue
from ..choices import CycleKind, CycleStatus, LineStatus
from ..engine.scoring import SPREAD_LIMIT_POINTS
from ..models import (
    AssessorScore,
    Cycle,
    IndicatorResult,
    RectificationItem,
    SampledUnit,
    ScoreReview,
    ToleranceClaim,
)
from ..periods import period_for
from ..rules import APPEAL_WORKING_DAYS

SAMPLE_SHARE = Decimal("0.2")
RECTIFY_BELOW = Decimal("0.6")
NOTICE_WORKING_DAYS = 10
RECTIFY_DAYS = 30
STALE_RUN = dt.timedelta(hours=1)


class AssessmentError(ValidationError):
    """A refused step: wrong state, wrong actor or missing input."""


def _may(user: User | None, capability: str, region_code: str) -> None:
    if user is None:  # the beat, the command run by an operator
        return
    if not has_capability(user, capability) or not in_jurisdiction(user, region_code):
        raise AssessmentError(_("您无权对该考核周期执行此操作。"), code="forbidden")


# --- Creating ------------------------------------------------------------------------------------------


def default_levels(root: Region) -> list[int]:
    return [level for level in settings.ASSESSMENT_LEVELS if level >= root.level]


def create_cycle(
    *,
    kind: str,
    year: int,
    root: Region,
    quarter: int | None = None,
    user: User | None = None,
    check_date: dt.date | None = None,
    levels: list[int] | None = None,
) -> Cycle:
    """The cycle of (kind, year, quarter, root), created once; a second call returns it."""
    _may(user, "assessment.run", root.code)
    if kind not in CycleKind.values:
        raise AssessmentError({"kind": [_("请选择考核类型。")]})
    if kind == CycleKind.SPOT_CHECK and quarter not in (1, 2, 3, 4):
        raise AssessmentError({"quarter": [_("季度抽查须选择季度（1–4）。")]})
    if kind != CycleKind.SPOT_CHECK:
        quarter = None
    levels = sorted(levels or default_levels(root))
    if not levels or any(level not in (Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE) for level in levels):
        raise AssessmentError({"levels": [_("考核层级须为市、县、乡镇或村中的一个或多个。")]})
    period = period_for(kind, year, quarter)
    existing = Cycle.objects.filter(kind=kind, year=year, quarter=quarter, root=root).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            cycle = Cycle.objects.create(
                kind=kind,
                year=year,
                quarter=quarter,
                root=root,
                region_code=root.code,
                levels=levels,
                seed=secrets.randbits(62) if kind == CycleKind.SPOT_CHECK else None,
                check_date=check_date
                or (
                    period.last + dt.timedelta(days=settings.ASSESSMENT_START_DAYS_AFTER_PERIOD)
                    if kind == CycleKind.SPOT_CHECK
                    else None
                ),
            )
            if kind == CycleKind.SPOT_CHECK:
                SampledUnit.objects.bulk_create(
                    [SampledUnit(cycle=cycle, region_id=pk) for pk in draw_sample(root, cycle.seed)]
                )
    except IntegrityError:  # a concurrent request created it first
        return Cycle.objects.get(kind=kind, year=year, quarter=quarter, root=root)
    return cycle


def draw_sample(root: Region, seed: int) -> list[int]:
    """For each county in the root's subtree (or the root itself when it is a county), a random
    20 % (rounded up) of its townships, reproducible from the stored seed."""
    townships: dict[str, list[tuple[str, int]]] = {}
    for pk, code in (
        Region.objects.filter(code__under=root.code, level=Level.TOWNSHIP).order_by("code").values_list("pk", "code")
    ):
        townships.setdefault(ancestor_code(code, Level.COUNTY), []).append((code, pk))
    chosen = []
    for county, members in sorted(townships.items()):
        k = math.ceil(SAMPLE_SHARE * len(members))
        rng = random.Random(f"{seed}:{county}")
        chosen += [pk for _code, pk in rng.sample(members, k)]
    return chosen


def sample_visible_to(cycle: Cycle, user: User | None) -> bool:
    """The spot-check sample is hidden from the sampled units (township level and below)
    until the check date."""
    if cycle.kind != CycleKind.SPOT_CHECK or user is None:
        return True
    return Cycle.objects.restrict(user).filter(pk=cycle.pk).exists()


def set_check_date(cycle: Cycle, *, user: User, check_date: dt.date) -> Cycle:
    _may(user, "assessment.run", cycle.region_code)
    if cycle.kind != CycleKind.SPOT_CHECK:
        raise AssessmentError({"check_date": [_("只有季度抽查有检查日期。")]})
    if cycle.is_frozen:
        raise AssessmentError(_("考核周期已定稿，不能修改。"), code="frozen")
    cycle.check_date = check_date
    cycle.save(update_fields=["check_date"])
    return cycle


# --- Running -------------------------------------------------------------------------------------------


def start_run(cycle: Cycle, *, user: User | None = None) -> Cycle:
    """Queue a (re-)computation on the Celery worker; returns at once."""
    from ..tasks import run_cycle_task

    _may(user, "assessment.run", cycle.region_code)
    with transaction.atomic():
        cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
        if cycle.is_frozen:
            raise AssessmentError(_("考核周期已定稿，结果已冻结，不能重新计算。"), code="frozen")
        busy = cycle.status in (CycleStatus.QUEUED, CycleStatus.RUNNING)
        if busy and cycle.started_at and timezone.now() - cycle.started_at < STALE_RUN:
            raise AssessmentError(_("考核周期正在计算，请等待完成。"), code="busy")
        validation = catalogue.validate()
        if not validation.ok:
            raise AssessmentError(validation.errors, code="catalogue")
        cycle.status, cycle.progress, cycle.progress_note = CycleStatus.QUEUED, 0, _("排队中")
        cycle.started_at, cycle.error = timezone.now(), ""
        cycle.save(update_fields=["status", "progress", "progress_note", "started_at", "error"])
        transaction.on_commit(lambda: run_cycle_task.delay(cycle.pk))
    return cycle


def progress_recorder(cycle_id: int):
    def report(pct: int, note: str) -> None:
        Cycle.objects.filter(pk=cycle_id).update(progress=pct, progress_note=str(note)[:100])

    return report


def run_cycle(cycle_id: int, progress=None):
    """The worker's side: freeze the catalogue version, compute, store (see engine.run), then
    run the data-credibility checks over the cycle's period (they never change a score)."""
    from ..engine.run import compute_cycle
    from .credibility import run_checks

    cycle = Cycle.objects.select_related("root").get(pk=cycle_id)
    if cycle.is_frozen:
        return None
    cycle.catalogue_version = catalogue.snapshot()
    cycle.status, cycle.started_at = CycleStatus.RUNNING, cycle.started_at or timezone.now()
    cycle.save(update_fields=["catalogue_version", "status", "started_at"])
    try:
        summary = compute_cycle(cycle, progress=progress or progress_recorder(cycle.pk))
        # The checks reuse the run's event counts when its units are theirs (not a spot-check's sample).
        shared = summary.event_counts if cycle.kind != CycleKind.SPOT_CHECK else None
        run_checks(root_code=cycle.region_code, period=cycle.period, levels=cycle.levels, events=shared)
    except Exception:
        Cycle.objects.filter(pk=cycle.pk).audited_update(
            reason="assessment run failed",
            status=CycleStatus.FAILED,
            error=traceback.format_exc()[-4000:],
            progress_note=_("计算失败"),
        )
        raise
    Cycle.objects.filter(pk=cycle.pk).audited_update(reason="assessment run computed", status=CycleStatus.COMPUTED)
    return summary


# --- Finalising ----------------------------------------------------------------------------------------


def blocking_items(cycle: Cycle) -> list[dict]:
    """What stops finalisation: unscored assessed indicators, spreads > 15 not accepted,
    pending tolerance claims, results older than the latest input, a cycle not computed."""
    items = []
    if timezone.localdate() <= cycle.period.last:
        items.append({"reason": "period_open", "message": _("考核期间尚未结束，当前结果为临时结果，不能定稿。")})
    if cycle.status != CycleStatus.COMPUTED:
        items.append({"reason": "not_computed", "message": _("考核周期尚未计算完成。")})
        return items
    for unit_code, blocking in cycle.results.exclude(blocking=[]).values_list("region_code", "blocking"):
        for b in blocking:
            message = {
                "unscored": _("%(unit)s 的 %(indicator)s 尚未评分（或由审核人标记为不适用）。"),
                "spread": _("%(unit)s 的 %(indicator)s 评分差异超过%(points)s分，须重新评分或由审核人接受。"),
                "groups": _("%(unit)s 的 %(indicator)s 评分考核组不足两个，须补充评分或由审核人接受。"),
            }[b["reason"]] % {"unit": unit_code, "indicator": b["indicator"], "points": SPREAD_LIMIT_POINTS}
            items.append({"reason": b["reason"], "unit": unit_code, "indicator": b["indicator"], "message": message})
    for unit_code, indicator in ToleranceClaim.objects.filter(cycle=cycle, status="pending").values_list(
        "region_code", "indicator"
    ):
        items.append(
            {
                "reason": "tolerance_pending",
                "unit": unit_code,
                "indicator": indicator,
                "message": _("%(unit)s 的容错申请（%(indicator)s）尚未审核。")
                % {"unit": unit_code, "indicator": indicator},
            }
        )
    latest = [
        AssessorScore.objects.filter(cycle=cycle).aggregate(m=Max("scored_at"))["m"],
        ScoreReview.objects.filter(cycle=cycle).aggregate(m=Max("reviewed_at"))["m"],
        ToleranceClaim.objects.filter(cycle=cycle).aggregate(m=Max("decided_at"))["m"],
    ]
    changed = max((t for t in latest if t), default=None)
    if changed and cycle.computed_at and changed > cycle.computed_at:
        items.append({"reason": "stale", "message": _("计算后评分、审核或容错有变动，请重新计算后再定稿。")})
    return items


def finalise(cycle: Cycle, *, user: User | None) -> Cycle:
    """Freeze the results (定稿); publishing them is the next step (`publish`)."""
    _may(user, "assessment.finalise", cycle.region_code)
    with transaction.atomic():
        cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
        if cycle.is_frozen:
            raise AssessmentError(_("考核周期已定稿。"), code="frozen")
        blocking = blocking_items(cycle)
        if blocking:
            raise AssessmentError([b["message"] for b in blocking], code="blocked")
        cycle.status, cycle.finalised_at, cycle.finalised_by = CycleStatus.FINALISED, timezone.now(), user
        cycle.progress_note = _("已定稿")
        cycle.save(update_fields=["status", "finalised_at", "finalised_by", "progress_note"])
    return cycle


def publish(cycle: Cycle, *, user: User | None) -> Cycle:
    """公布 a finalised cycle: the units below see their results, every line with r < 0.6 becomes
    a rectification item whose notice (整改通知书) is issued with the publication, and the
    publication date starts the appeal window and the notice and rectification deadlines."""
    _may(user, "assessment.finalise", cycle.region_code)
    with transaction.atomic():
        cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
        if cycle.is_published:
            raise AssessmentError(_("考核结果已公布。"), code="published")
        if not cycle.is_frozen:
            raise AssessmentError(_("考核周期须先定稿才能公布。"), code="not_finalised")
        cycle.published_at, cycle.published_by = timezone.now(), user
        cycle.progress_note = _("已公布")
        cycle.save(update_fields=["published_at", "published_by", "progress_note"])
        _open_rectifications(cycle, timezone.localdate(cycle.published_at))
        transaction.on_commit(lambda: _notify_published(cycle.pk))
    return cycle


def _notify_published(cycle_id: int) -> None:
    from grids.events.services.effects import notify

    cycle = Cycle.objects.get(pk=cycle_id)
    units = cycle.results.values_list("region_code", flat=True)
    staff = User.objects.filter(
        is_active=True, role__in=[Role.CENTRE_STAFF, Role.COMMITTEE_STAFF], region__code__in=units
    )
    notify(
        staff,
        key=f"published:{cycle.pk}",
        message=_("%(cycle)s结果已公布，如有异议可在%(days)s个工作日内申诉。")
        % {"cycle": cycle.title, "days": APPEAL_WORKING_DAYS},
    )


def rectification_dates(opened_on: dt.date) -> tuple[dt.date, dt.date]:
    """The notice is due 10 working days after the item opens; the rectification 30 days after that."""
    notice_due = nth_working_day_after(opened_on, NOTICE_WORKING_DAYS)
    return notice_due, notice_due + dt.timedelta(days=RECTIFY_DAYS)


def _open_rectifications(cycle: Cycle, published_on: dt.date) -> None:
    notice_due, due_on = rectification_dates(published_on)
    failing = IndicatorResult.objects.filter(
        cycle=cycle,
        status__in=[LineStatus.SCORED, LineStatus.MISSING_REPORT],
        ratio__lt=RECTIFY_BELOW,
    ).values_list("unit__region_id", "region_code", "indicator", "ratio")
    earlier = set(
        RectificationItem.objects.filter(region_code__under=cycle.region_code)
        .exclude(cycle=cycle)
        .values_list("region_code", "indicator")
    )
    items = [
        RectificationItem(
            cycle=cycle,
            unit_id=region_id,
            region_code=code,
            indicator=indicator,
            ratio=r,
            notice_due_on=notice_due,
            due_on=due_on,
            recurring=(code, indicator) in earlier,
        )
        for region_id, code, indicator, r in failing
    ]
    RectificationItem.objects.bulk_create(items, batch_size=1000, ignore_conflicts=True)
    record("bulk", instance=cycle, changes={"published": str(published_on), "rectification_items": len(items)})


# --- The beat ------------------------------------------------------------------------------------------


def start_due_cycles(today: dt.date | None = None) -> list[int]:
    """Create and start every cycle whose scheduled start (the 10th day after its period) has
    come, for each top-level region; cycles that already exist are left alone."""
    from ..periods import due_periods

    today = today or timezone.localdate()
    started = []
    for root in Region.objects.filter(parent__isnull=True):
        for kind, year, quarter in due_periods(today, settings.ASSESSMENT_START_DAYS_AFTER_PERIOD):
            if Cycle.objects.filter(kind=kind, year=year, quarter=quarter, root=root).exists():
                continue
            cycle = create_cycle(kind=kind, year=year, quarter=quarter, root=root)
            start_run(cycle)
            started.append(cycle.pk)
    return started
