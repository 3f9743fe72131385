"""Writes of the assessment's inputs (SPEC §5.2–§5.4) that are not platform records: the monthly
core table (核心指标表), survey answers (online and household visits), assessor groups and their
scores, score reviews, veto rulings with their appeal, innovation awards, tolerance claims and
the rectification loop.

Pages, the API and tests all call these functions; each one checks who may act (capability,
jurisdiction and, for a unit's own steps, that the user belongs to the unit), validates with
field-level Chinese messages and writes inside one transaction. Models derive from
`AuditedModel`, so each save lands in the audit trail; what a save cannot show (group
membership, the reason a rectification report was returned, survey answers, which are not an
audited model) is written with `audit.record` in the same transaction.

Who acts on which step is declared once, in the step tables below (RULING_STEPS, CLAIM_STEPS,
RECTIFICATION_STEPS).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance import audit
from governance.audit import AuditContext
from governance.choices import AuditAction, Role
from governance.codes import ancestors
from governance.models import User
from governance.scoping import in_jurisdiction, scope_prefix
from governance.uploads import check_upload
from grids.choices import Level
from grids.models import Region
from grids.sla import END_OF_DAY, nth_working_day_after

from .choices import (
    AwarenessAnswer,
    ClaimStatus,
    CycleKind,
    CycleStatus,
    Dimension,
    RectificationStatus,
    Rule,
    RulingStatus,
    SafetyAnswer,
    SatisfactionAnswer,
    SurveyChannel,
)
from .models import (
    REPORT_VALUE_FIELDS,
    AssessorGroup,
    AssessorScore,
    Cycle,
    Indicator,
    InnovationAward,
    MonthlyReport,
    RectificationItem,
    ScoreReview,
    SurveyResponse,
    ToleranceClaim,
    VetoRuling,
    month_deadline,
)


class InputError(ValidationError):
    """A refused input: wrong state, wrong actor or invalid values (field-level where possible)."""


# --- Who acts ------------------------------------------------------------------------------------------

UNIT_STAFF_ROLES = frozenset({Role.CENTRE_STAFF, Role.COMMITTEE_STAFF})

# Actor rules of the step tables.
UNIT = "unit"  # staff of the unit itself (their region is the unit)
ABOVE = "above"  # a region strictly above the unit: the unit never decides about itself
COVERS = "covers"  # a region at or above the unit (assessors, who are independent of it)
ASSESSOR_OR_ABOVE = "assessor_or_above"  # an assessor covering the unit, or someone above it


def is_above(user: User, code: str) -> bool:
    prefix = scope_prefix(user)
    return prefix is None or (bool(prefix) and code.startswith(prefix) and code != prefix)


def is_unit_staff(user: User, unit: Region | str) -> bool:
    code = unit if isinstance(unit, str) else unit.code
    if user.is_superuser:
        return True
    region = getattr(user, "region", None)
    return user.role in UNIT_STAFF_ROLES and region is not None and region.code == code


def _actor_ok(user: User, actor: str, code: str) -> bool:
    if user.is_superuser:
        return True
    if actor == UNIT:
        return is_unit_staff(user, code)
    if actor == ABOVE:
        return is_above(user, code)
    if actor == COVERS:
        return in_jurisdiction(user, code)
    if actor == ASSESSOR_OR_ABOVE:
        return in_jurisdiction(user, code) if user.role == Role.ASSESSOR else is_above(user, code)
    raise ValueError(actor)


def may(user: User | None, capability: str, actor: str, code: str) -> bool:
    """Whether the user's role has the capability and the user stands where the actor rule says."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or (user.can(capability) and _actor_ok(user, actor, code))


@dataclass(frozen=True)
class Step:
    """One transition of an input's state machine, and who takes it."""

    sources: frozenset
    target: str
    label: str
    capability: str
    actor: str


# 一票否决裁定: the unit appeals; the committee above it upholds or revokes.
RULING_STEPS = {
    "appeal": Step(
        frozenset({RulingStatus.IN_FORCE}), RulingStatus.APPEALED, gettext_lazy("提出申诉"), "assessment.respond", UNIT
    ),
    "uphold": Step(
        frozenset({RulingStatus.APPEALED}),
        RulingStatus.UPHELD,
        gettext_lazy("驳回申诉，维持裁定"),
        "assessment.rule",
        ABOVE,
    ),
    "revoke": Step(
        frozenset({RulingStatus.APPEALED}), RulingStatus.REVOKED, gettext_lazy("撤销裁定"), "assessment.rule", ABOVE
    ),
}
# 容错申请: an assessor covering the unit or committee staff above it decides.
CLAIM_STEPS = {
    "approve": Step(
        frozenset({ClaimStatus.PENDING}),
        ClaimStatus.APPROVED,
        gettext_lazy("批准容错"),
        "assessment.decide_claim",
        ASSESSOR_OR_ABOVE,
    ),
    "reject": Step(
        frozenset({ClaimStatus.PENDING}),
        ClaimStatus.REJECTED,
        gettext_lazy("不予批准"),
        "assessment.decide_claim",
        ASSESSOR_OR_ABOVE,
    ),
}
# 整改台账: the unit reports; an assessor rechecks and closes (销号) or returns it.
RECTIFICATION_STEPS = {
    "report": Step(
        frozenset({RectificationStatus.OPEN}),
        RectificationStatus.REPORTED,
        gettext_lazy("报送整改报告"),
        "assessment.respond",
        UNIT,
    ),
    "close": Step(
        frozenset({RectificationStatus.REPORTED}),
        RectificationStatus.CLOSED,
        gettext_lazy("复查销号"),
        "assessment.recheck",
        COVERS,
    ),
    "return": Step(
        frozenset({RectificationStatus.REPORTED}),
        RectificationStatus.OPEN,
        gettext_lazy("退回重新整改"),
        "assessment.recheck",
        COVERS,
    ),
}


def available_steps(user: User, obj, steps: dict[str, Step]) -> list[str]:
    """The steps of `steps` open from the object's state that this user may take (no query)."""
    return [
        name
        for name, step in steps.items()
        if obj.status in step.sources and may(user, step.capability, step.actor, obj.region_code)
    ]


def _begin(model, obj, steps: dict[str, Step], name: str, user: User):
    """Lock the row and check the state and the actor of step `name`."""
    step = steps[name]
    locked = model.objects.select_for_update().get(pk=obj.pk)
    if locked.status not in step.sources:
        raise InputError(
            _("当前状态为“%(status)s”，不能%(action)s。")
            % {"status": locked.get_status_display(), "action": step.label},
            code="illegal_transition",
        )
    if not may(user, step.capability, step.actor, locked.region_code):
        raise InputError(_("您无权%(action)s。") % {"action": step.label}, code="not_allowed")
    return locked, step


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


def assessed_indicators() -> list[Indicator]:
    """The qualitative indicators scored by assessor groups (rule 评分)."""
    return list(Indicator.objects.filter(rule=Rule.ASSESSED).order_by("sort_order", "code"))


# --- Monthly core table (综治考核核心指标表) --------------------------------------------------------------

# (part, whole, message): the model's check constraints, as field errors on the part.
REPORT_LIMITS = (
    ("petitions_resolved_first", "petitions_received", gettext_lazy("一次性化解的信访事项不能多于受理的信访事项。")),
    ("key_persons_managed", "key_persons_registered", gettext_lazy("在管的重点人员不能多于登记的重点人员。")),
    ("cadres_on_track", "cadres", gettext_lazy("培训学时达进度的干部不能多于基层干部总数。")),
)


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def report_value_errors(values: dict) -> dict[str, list[str]]:
    """Field errors of a table's values: missing, negative, or a part larger than its whole."""
    errors: dict[str, list[str]] = {}
    for name in REPORT_VALUE_FIELDS:
        value = values.get(name)
        if value is None:
            errors[name] = [_("请填写此项（没有请填0）。")]
        elif value < 0:
            errors[name] = [_("不能为负数。")]
    for part, whole, message in REPORT_LIMITS:
        if part not in errors and whole not in errors and values[part] > values[whole]:
            errors[part] = [str(message)]
    return errors


def report_state(report: MonthlyReport | None, month: dt.date, now: dt.datetime, deadline=None) -> str:
    """on_time | late | missing (deadline passed, nothing submitted) | open (due, not yet late) | future."""
    if report is not None:
        return "late" if report.is_late else "on_time"
    if now > (deadline or month_deadline(month)):
        return "missing"
    return "open" if month <= timezone.localdate(now) else "future"


def report_is_correctable(report: MonthlyReport, now: dt.datetime | None = None) -> bool:
    """A submitted table may be corrected until its deadline, never after (docs/decisions.md)."""
    return (now or timezone.now()) <= report.deadline


def _existing_report(township: Region, month: dt.date) -> MonthlyReport | None:
    return MonthlyReport.objects.select_for_update().filter(township=township, month=month).first()


@transaction.atomic
def report_submit(
    *, user: User | None, township: Region, month: dt.date, values: dict, now: dt.datetime | None = None
) -> tuple[MonthlyReport, bool]:
    """报送 a township's table for a month, or correct it before its deadline.

    Returns (report, created). The first submission fixes `submitted_at` (and so `is_late`);
    a correction before the deadline changes only the values. After the deadline a submitted
    table is closed: sending the same values again is harmless, changing them is refused.
    Two concurrent first submissions end as one table (the unique constraint decides, the
    loser becomes a correction).
    """
    now = now or timezone.now()
    month = month_of(month)
    values = {name: values.get(name) for name in REPORT_VALUE_FIELDS}
    errors: dict[str, list[str]] = {}
    if township.level != Level.TOWNSHIP:
        errors["township"] = [_("核心指标表由乡镇（街道）报送，请选择乡镇（街道）。")]
    elif user is not None and not may(user, "assessment.report", COVERS, township.code):
        errors["township"] = [_("您无权报送该乡镇（街道）的核心指标表。")]
    if month > month_of(timezone.localdate(now)):
        errors["month"] = [_("不能报送尚未开始的月份。")]
    elif month.year < 2000:
        errors["month"] = [_("月份有误。")]
    errors.update(report_value_errors(values))
    if errors:
        raise InputError(errors)
    existing = _existing_report(township, month)
    if existing is None:
        try:
            with transaction.atomic():
                report = MonthlyReport.objects.create(
                    township=township,
                    region_code=township.code,
                    month=month,
                    deadline=month_deadline(month),
                    submitted_at=now,
                    submitted_by=user,
                    **values,
                )
            return report, True
        except IntegrityError:  # a concurrent first submission committed first
            existing = _existing_report(township, month)
            if existing is None:
                raise
    return _report_correct(existing, values=values, now=now), False


def _report_correct(report: MonthlyReport, *, values: dict, now: dt.datetime) -> MonthlyReport:
    changed = [name for name in REPORT_VALUE_FIELDS if getattr(report, name) != values[name]]
    if not changed:
        return report
    if not report_is_correctable(report, now):
        raise InputError(
            {
                "month": [
                    _("%(month)s的核心指标表已于%(at)s报送，报送期限（%(deadline)s）已过，不能再修改。")
                    % {
                        "month": f"{report.month:%Y-%m}",
                        "at": f"{timezone.localtime(report.submitted_at):%Y-%m-%d %H:%M}",
                        "deadline": f"{timezone.localtime(report.deadline):%Y-%m-%d %H:%M}",
                    }
                ]
            }
        )
    for name in changed:
        setattr(report, name, values[name])
    report.save(update_fields=[*changed, "updated_at"])
    return report


def report_months(year: int) -> list[dt.date]:
    return [dt.date(year, m, 1) for m in range(1, 13)]


def report_grid(*, user: User, townships: list[Region], year: int, now: dt.datetime | None = None) -> list[dict]:
    """For each township, its twelve months of `year` with their state — one query for all."""
    now = now or timezone.now()
    months = report_months(year)
    deadlines = {m: month_deadline(m) for m in months}
    reports = {
        (r.township_id, r.month): r
        for r in MonthlyReport.objects.restrict(user).filter(
            township__in=townships, month__gte=months[0], month__lte=months[-1]
        )
    }
    rows = []
    for township in townships:
        cells = []
        for month in months:
            report = reports.get((township.pk, month))
            cells.append(
                {"month": month, "report": report, "state": report_state(report, month, now, deadlines[month])}
            )
        rows.append({"township": township, "cells": cells})
    return rows


def report_totals(*, user: User, townships, year: int, now: dt.datetime | None = None) -> dict:
    """Submitted on time, late and missing tables of `year` over all `townships` (two queries)."""
    now = now or timezone.now()
    months = report_months(year)
    due = [m for m in months if month_deadline(m) < now]
    count = townships.count()
    totals = (
        MonthlyReport.objects.restrict(user)
        .filter(township__in=townships, month__gte=months[0], month__lte=months[-1])
        .aggregate(
            on_time=Count("pk", filter=Q(is_late=False)),
            late=Count("pk", filter=Q(is_late=True)),
            due_submitted=Count("pk", filter=Q(month__in=due)),
        )
    )
    totals["missing"] = count * len(due) - totals.pop("due_submitted")
    totals["townships"] = count
    return totals


# --- Surveys -------------------------------------------------------------------------------------------

SURVEY_SAMPLE_SIZE = 30  # households visited per village and round …
SURVEY_RESERVE_SIZE = 10  # … plus reserves, in draw order, for households nobody answers at
SURVEY_ROUNDS = {1: gettext_lazy("上半年"), 2: gettext_lazy("下半年")}
SURVEY_ANSWER_FIELDS = ("safety", "satisfaction", "awareness")
SURVEY_CHOICES = {
    "safety": SafetyAnswer.values,
    "satisfaction": SatisfactionAnswer.values,
    "awareness": AwarenessAnswer.values,
}
ANONYMOUS = AuditContext(actor_id=None, actor_name="anonymous", ip=None)


def round_of(day: dt.date) -> int:
    return 1 if day.month <= 6 else 2


def sample_seed(code: str, year: int, round_no: int) -> str:
    """The seed of a village's sample: keyed with SURVEY_SAMPLE_KEY (default: the secret key),
    so the platform can always reproduce a sample but nobody outside it can predict one and
    brief the households in advance."""
    key = getattr(settings, "SURVEY_SAMPLE_KEY", "") or settings.SECRET_KEY
    return hmac.new(key.encode(), f"survey-sample:{code}:{year}:{round_no}".encode(), hashlib.sha256).hexdigest()


def sample_households(code: str, households: int, year: int, round_no: int, size: int) -> list[int]:
    """`size` distinct household numbers of 1..households, in draw order, reproducible from
    (village code, year, round): a partial Fisher–Yates shuffle driven by `Random.random()`,
    whose sequence for a string seed is the same on every Python 3 release."""
    rng = random.Random(sample_seed(code, year, round_no))
    moved: dict[int, int] = {}
    drawn = []
    for i in range(min(size, households)):
        j = i + int(rng.random() * (households - i))
        drawn.append(moved.get(j, j) + 1)
        moved[j] = moved.get(i, i)
    return drawn


@dataclass
class SampleHousehold:
    number: int
    order: int
    reserve: bool
    response: SurveyResponse | None = None


def survey_sample(village: Region, year: int, round_no: int) -> list[SampleHousehold]:
    """The village's household sample of a round: SURVEY_SAMPLE_SIZE households, then reserves."""
    drawn = sample_households(
        village.code, village.households, year, round_no, SURVEY_SAMPLE_SIZE + SURVEY_RESERVE_SIZE
    )
    return [SampleHousehold(number=n, order=i + 1, reserve=i >= SURVEY_SAMPLE_SIZE) for i, n in enumerate(drawn)]


def offline_key(village_code: str, year: int, round_no: int, household: int) -> str:
    """One answer sheet per sampled household and round: re-entering it corrects the sheet."""
    return f"off:{village_code}:{year}:{round_no}:{household}"


def online_key(client_key: str) -> str:
    return f"on:{client_key}"


def _answers(values: dict) -> dict[str, str]:
    return {name: values.get(name) or "" for name in SURVEY_ANSWER_FIELDS}


def _answer_errors(answers: dict, *, all_required: bool) -> dict[str, list[str]]:
    errors = {}
    for name, value in answers.items():
        if value and value not in SURVEY_CHOICES[name]:
            errors[name] = [_("请选择有效的选项。")]
        elif not value and all_required:
            errors[name] = [_("请选择一项。")]
    if not all_required and not any(answers.values()) and not errors:
        errors["safety"] = [_("请至少记录一个问题的回答。")]
    return errors


def survey_answer_online(*, village: Region, client_key: str, **values) -> tuple[SurveyResponse, bool]:
    """An answer sheet from the public page (扫码). Re-sending the same `client_key` returns the
    stored sheet. The trail records the sheet as anonymous and without the address, so it
    cannot tie a resident's answers to a network."""
    answers = _answers(values)
    errors = _answer_errors(answers, all_required=True)
    if village.level != Level.VILLAGE:
        errors["village"] = [_("问卷只能按村（社区）填写。")]
    if not client_key:
        errors["client_key"] = [_("页面已过期，请刷新后重新填写。")]
    if errors:
        raise InputError(errors)
    key = online_key(client_key)
    existing = SurveyResponse.objects.filter(client_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                village=village,
                region_code=village.code,
                channel=SurveyChannel.ONLINE,
                answered_at=timezone.now(),
                client_key=key,
                **answers,
            )
            audit.record(
                AuditAction.CREATE,
                instance=response,
                region_code=village.code,
                changes={"channel": [None, SurveyChannel.ONLINE]},
                context=ANONYMOUS,
            )
    except IntegrityError:  # the same sheet sent twice at once
        return SurveyResponse.objects.get(client_key=key), False
    return response, True


@transaction.atomic
def survey_record_offline(
    *,
    user: User,
    village: Region,
    year: int,
    round_no: int,
    household: int,
    visited_on: dt.date,
    now: dt.datetime | None = None,
    **values,
) -> tuple[SurveyResponse, bool]:
    """入户调查: an evaluator's answer sheet for one sampled household (channel offline).

    Only households of the round's sample (or its reserves) can be entered, so the evaluator
    cannot choose whom to ask; entering the same household again corrects its sheet.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    answers = _answers(values)
    errors = _answer_errors(answers, all_required=False)
    if village.level != Level.VILLAGE:
        errors["village"] = [_("入户调查按村（社区）抽样，请选择村（社区）。")]
    elif not may(user, "assessment.survey", COVERS, village.code):
        errors["village"] = [_("您无权在该村（社区）录入入户调查。")]
    if round_no not in SURVEY_ROUNDS:
        errors["round_no"] = [_("轮次只能是1（上半年）或2（下半年）。")]
    elif not errors.get("village"):
        sample = {h.number for h in survey_sample(village, year, round_no)}
        if not sample:
            errors["household"] = [_("该村（社区）未登记户数，无法抽样。")]
        elif household not in sample:
            errors["household"] = [_("第%(n)s户不在本轮抽样名单内。") % {"n": household}]
    if visited_on > today:
        errors["visited_on"] = [_("走访日期不能晚于今天。")]
    elif visited_on.year != year or round_of(visited_on) != round_no:
        errors["visited_on"] = [
            _("走访日期须在%(year)s年%(half)s。") % {"year": year, "half": SURVEY_ROUNDS.get(round_no, "")}
        ]
    if errors:
        raise InputError(errors)
    answered_at = min(now, timezone.make_aware(dt.datetime.combine(visited_on, dt.time(12))))
    key = offline_key(village.code, year, round_no, household)
    fields = {"answered_at": answered_at, "evaluator": user, **answers}
    existing = SurveyResponse.objects.select_for_update().filter(client_key=key).first()
    if existing is None:
        response = SurveyResponse.objects.create(
            village=village,
            region_code=village.code,
            channel=SurveyChannel.OFFLINE,
            household=str(household),
            client_key=key,
            **fields,
        )
        changes = {name: [None, audit.to_jsonable(getattr(response, name))] for name in ("household", *answers)}
        audit.record(AuditAction.CREATE, instance=response, region_code=village.code, changes=changes)
        return response, True
    changes = {}
    for name, value in fields.items():
        before = getattr(existing, name)
        if before != value:
            changes[name] = [audit.to_jsonable(before), audit.to_jsonable(value)]
            setattr(existing, name, value)
    if changes:
        existing.save(update_fields=list(fields))
        audit.record(AuditAction.UPDATE, instance=existing, region_code=village.code, changes=changes)
    return existing, False


# --- Assessor groups and scores --------------------------------------------------------------------------

SPREAD_LIMIT = Decimal(15)


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


def groups_of_assessor(user: User):
    """The groups a user belongs to, in cycles the user may see.

    AssessorGroup is scoped by its cycle's root, which lies above most assessors; membership
    is what gives an assessor a group (the units are still restricted to their jurisdiction).
    """
    return AssessorGroup.objects.filter(members=user, cycle__in=Cycle.objects.restrict(user))


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


def score_lines(*, user: User, cycle: Cycle):
    """Per unit and indicator of a cycle: groups that scored, lowest and highest score (one query)."""
    return (
        AssessorScore.objects.restrict(user)
        .filter(cycle=cycle)
        .values("unit_id", "unit__code", "unit__name", "indicator")
        .annotate(groups=Count("group", distinct=True), low=Min("score"), high=Max("score"))
        .order_by("unit__code", "indicator")
    )


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
            errors["kind"] = [_("各考核组评分差异未超过15分，无需审核。")]
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


# --- Veto rulings (一票否决) ------------------------------------------------------------------------------

RULED_VETOES = ("V01", "V02", "V03", "V05")  # V04 is computed from the survey
APPEAL_WORKING_DAYS = 15


def veto_indicators() -> list[Indicator]:
    return list(Indicator.objects.filter(code__in=RULED_VETOES).order_by("sort_order", "code"))


def appeal_deadline(ruling: VetoRuling) -> dt.datetime:
    """The end of the 15th working day after the day the ruling was recorded."""
    day = nth_working_day_after(timezone.localdate(ruling.recorded_at), APPEAL_WORKING_DAYS)
    return timezone.make_aware(dt.datetime.combine(day, END_OF_DAY))


def _unit_level_error(unit: Region) -> str | None:
    if unit.level not in assessment_levels():
        return _("“%(unit)s”不是被考核单位（只能是市、县、乡镇一级）。") % {"unit": unit.name}
    return None


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
    ruling, step = _begin(VetoRuling, ruling, RULING_STEPS, "appeal", user)
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
    ruling, step = _begin(VetoRuling, ruling, RULING_STEPS, decision, user)
    errors: dict[str, list[str]] = {}
    note = _required_text(note, "decision_note", _("请填写申诉处理意见。"), errors, max_length=4000)
    if errors:
        raise InputError(errors)
    ruling.status, ruling.decision_note = step.target, note
    ruling.save(update_fields=["status", "decision_note"])
    return ruling


# --- Innovation awards (创新加分) --------------------------------------------------------------------------


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
    value = _decimal(points, "points", errors, 0, 3, _("创新加分应在0到3分之间。"))
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


# --- Tolerance claims (容错) -----------------------------------------------------------------------------


def claimable_indicators() -> list[Indicator]:
    """Every scored indicator (not the veto ones)."""
    return list(Indicator.objects.exclude(dimension=Dimension.V).order_by("sort_order", "code"))


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
    claim, step = _begin(ToleranceClaim, claim, CLAIM_STEPS, "approve" if approve else "reject", user)
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


# --- Rectification (问题清单—整改台账—复查销号) ------------------------------------------------------------


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
    item.status = RECTIFICATION_STEPS[name].target
    return ["status", *fields]


@transaction.atomic
def rectification_report(*, user: User, item: RectificationItem, report: str, evidence=None) -> RectificationItem:
    """整改报告 by the unit's own staff (again after a return), with an optional evidence file
    (the upload rules of every other input); a new report after a return replaces the file
    only when a new one comes."""
    item, _step = _begin(RectificationItem, item, RECTIFICATION_STEPS, "report", user)
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
    item, _step = _begin(RectificationItem, item, RECTIFICATION_STEPS, "close", user)
    item.save(update_fields=rectification_step(item, "close", at=timezone.now(), user=user))
    return item


@transaction.atomic
def rectification_return(*, user: User, item: RectificationItem, note: str) -> RectificationItem:
    """退回 a report that does not fix the problem; the reason goes into the audit trail."""
    item, _step = _begin(RectificationItem, item, RECTIFICATION_STEPS, "return", user)
    item.save(update_fields=rectification_step(item, "return", at=timezone.now(), user=user, text=note))
    audit.record(AuditAction.UPDATE, instance=item, changes={"return_note": [None, note.strip()]})
    return item


def rectification_overdue(item: RectificationItem, today: dt.date | None = None) -> bool:
    """Still waiting for the unit's report after its due date."""
    return item.status == RectificationStatus.OPEN and (today or timezone.localdate()) > item.due_on
