"""The assessment's record types of the interchange (docs/import-format.md): monthly core tables,
survey answers, veto rulings and innovation awards, assessor scores of existing cycles and the
rectification items of finalised ones. Registered by AssessmentConfig.ready()."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.choices import (
    AwarenessAnswer,
    CycleKind,
    Rule,
    RulingStatus,
    SafetyAnswer,
    SatisfactionAnswer,
    SurveyChannel,
)
from assessment.engine.scoring import BONUS_CAP_POINTS
from assessment.models import (
    REPORT_VALUE_FIELDS,
    AssessorGroup,
    AssessorScore,
    Cycle,
    Indicator,
    InnovationAward,
    MonthlyReport,
    RectificationItem,
    SurveyResponse,
    VetoRuling,
    month_deadline,
)
from assessment.services import rectification_dates, rectification_step
from assessment.transitions import RECTIFICATIONS
from disputes.services import deadline_end
from governance import audit
from governance.choices import AuditAction
from governance.interchange.base import (
    Context,
    Prepared,
    RecordType,
    Rejected,
    day,
    decimal,
    integer,
    moment,
    register,
    text,
    word,
)
from governance.interchange.exporter import iso
from governance.interchange.records import rejected_step, timeline_steps

UNIT_LEVELS = ["province", "city", "county", "township"]


def _code(region) -> str:
    return region if isinstance(region, str) else region.code


def _user(ctx: Context, row: dict, key: str):
    username = text(row, key)
    if not username:
        if ctx.user is None:
            raise Rejected({key: [_("请填写记录人账号（或以--as指定导入人）。")]})
        return ctx.user
    return ctx.account(username, key)


@register
class MonthlyReportRecord(RecordType):
    """综治考核核心指标表 of a township; deadline and lateness as the platform derives them."""

    kind = "monthly_report"
    model = MonthlyReport
    position = 80
    region_keys = ("township",)

    def validate(self, row, ctx):
        township = ctx.region(row, "township", levels=["township"])
        month_text = text(row, "month", required=True)
        month = day({"month": f"{month_text}-01"}, "month") if len(month_text) == 7 else None
        if month is None:
            raise Rejected({"month": [_("月份应写作YYYY-MM。")]})
        submitted_at = moment(row, "submitted_at")
        values = row.get("values")
        if not isinstance(values, dict):
            raise Rejected({"values": [_("缺少报表数值（values）。")]})
        numbers = {"funding_yuan": decimal(values, "funding_yuan")}
        numbers.update({name: integer(values, name) for name in REPORT_VALUE_FIELDS if name != "funding_yuan"})
        if numbers["funding_yuan"] < 0:
            raise Rejected({"funding_yuan": [_("不能为负数。")]})
        for part, whole in (("petitions_resolved_first", "petitions_received"),
                            ("key_persons_managed", "key_persons_registered"), ("cadres_on_track", "cadres")):  # fmt: skip
            if numbers[part] > numbers[whole]:
                raise Rejected({part: [_("不能大于%(w)s。") % {"w": whole}]})
        if not isinstance(township, str) and MonthlyReport.objects.filter(township=township, month=month).exists():
            raise Rejected({"month": [_("该乡镇该月的报表已在平台上。")]})
        deadline = month_deadline(month)
        values = {"township": township, "region_code": _code(township), "month": month, "deadline": deadline,
                  "submitted_at": submitted_at, "is_late": submitted_at > deadline, **numbers}  # fmt: skip
        return Prepared("", "", "", _code(township), 0, values)

    def export(self, scope):
        # a table counts where it is due: December's table is due (and assessed) in January
        reports = scope.restricted(MonthlyReport).filter(
            Q(month__range=(scope.start.replace(day=1), scope.end)) | Q(deadline__gte=scope.lo, deadline__lt=scope.hi),
            region_code__under=scope.code,
        )
        for chunk in scope.chunks(reports):
            for r in chunk:
                values = {name: getattr(r, name) for name in REPORT_VALUE_FIELDS}
                values["funding_yuan"] = str(values["funding_yuan"])
                yield {"id": f"{r.region_code}-{r.month:%Y-%m}", "township": r.region_code, "month": f"{r.month:%Y-%m}",
                       "submitted_at": iso(r.submitted_at), "values": values}  # fmt: skip


@register
class SurveyAnswerRecord(RecordType):
    """One answer sheet of the public survey (online or offline)."""

    kind = "survey_answer"
    model = SurveyResponse
    position = 90
    region_keys = ("village",)

    def validate(self, row, ctx):
        village = ctx.region(row, "village", levels=["village"])
        values = {
            "village": village, "region_code": _code(village), "channel": word(row, "channel", SurveyChannel.values),
            "answered_at": moment(row, "answered_at"),
            "safety": word(row, "safety", SafetyAnswer.values, required=False),
            "satisfaction": word(row, "satisfaction", SatisfactionAnswer.values, required=False),
            "awareness": word(row, "awareness", AwarenessAnswer.values, required=False),
            "household": text(row, "household", max_length=40),
        }  # fmt: skip
        if not (values["safety"] or values["satisfaction"] or values["awareness"]):
            raise Rejected({"row": [_("答卷没有任何回答。")]})
        key = f"{ctx.source}|{text(row, 'id')}"
        values["client_key"] = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return Prepared("", "", "", _code(village), 0, values)

    def export(self, scope):
        answers = scope.restricted(SurveyResponse).filter(
            region_code__under=scope.code, answered_at__gte=scope.lo, answered_at__lt=scope.hi
        )
        for chunk in scope.chunks(answers):
            for a in chunk:
                yield {"id": a.client_key, "village": a.region_code, "channel": a.channel,
                       "answered_at": iso(a.answered_at), "safety": a.safety, "satisfaction": a.satisfaction,
                       "awareness": a.awareness, "household": a.household}  # fmt: skip


@register
class VetoRulingRecord(RecordType):
    """一票否决 ruling on one unit."""

    kind = "veto_ruling"
    model = VetoRuling
    position = 100
    region_keys = ("unit",)

    def validate(self, row, ctx):
        unit = ctx.region(row, "unit", levels=UNIT_LEVELS)
        indicator = text(row, "indicator", required=True)
        vetoes = ctx.cached(
            "vetoes", lambda: set(Indicator.objects.filter(dimension="V").values_list("code", flat=True))
        )
        if indicator not in vetoes:
            raise Rejected({"indicator": [_("“%(c)s”不是一票否决指标。") % {"c": indicator}]})
        values = {
            "unit": unit, "region_code": _code(unit), "indicator": indicator, "occurred_on": day(row, "occurred_on"),
            "description": text(row, "description", required=True, max_length=4000),
            "status": word(row, "status", RulingStatus.values, default=RulingStatus.IN_FORCE),
            "appeal_reason": text(row, "appeal_reason"), "decision_note": text(row, "decision_note"),
            "recorded_by": _user(ctx, row, "recorded_by"), "recorded_at": moment(row, "recorded_at"),
        }  # fmt: skip
        return Prepared("", "", "", _code(unit), 0, values)

    def export(self, scope):
        vetoes = scope.restricted(VetoRuling).filter(
            region_code__under=scope.code, occurred_on__range=(scope.start, scope.end)
        )
        for chunk in scope.chunks(vetoes.select_related("recorded_by")):
            for v in chunk:
                yield {"id": f"veto-{v.pk}", "unit": v.region_code, "indicator": v.indicator,
                       "occurred_on": iso(v.occurred_on), "description": v.description, "status": v.status,
                       "appeal_reason": v.appeal_reason, "decision_note": v.decision_note,
                       "recorded_by": v.recorded_by.username, "recorded_at": iso(v.recorded_at)}  # fmt: skip


@register
class InnovationAwardRecord(RecordType):
    """创新加分: 0–3 points per unit and year."""

    kind = "innovation_award"
    model = InnovationAward
    position = 110
    region_keys = ("unit",)

    def validate(self, row, ctx):
        unit = ctx.region(row, "unit", levels=UNIT_LEVELS)
        year = integer(row, "year", minimum=2000)
        points = decimal(row, "points")
        if not 0 <= points <= BONUS_CAP_POINTS:
            raise Rejected({"points": [_("创新加分应在0到%(cap)s分之间。") % {"cap": BONUS_CAP_POINTS}]})
        if not isinstance(unit, str) and InnovationAward.objects.filter(unit=unit, year=year).exists():
            raise Rejected({"year": [_("该单位该年度已有创新加分。")]})
        values = {"unit": unit, "region_code": _code(unit), "year": year, "points": points,
                  "reason": text(row, "reason", required=True, max_length=500),
                  "awarded_by": _user(ctx, row, "awarded_by")}  # fmt: skip
        return Prepared("", "", "", _code(unit), 0, values)

    def export(self, scope):
        awards = scope.restricted(InnovationAward).filter(
            region_code__under=scope.code, year__range=(scope.start.year, scope.end.year)
        )
        for chunk in scope.chunks(awards.select_related("awarded_by")):
            for a in chunk:
                yield {"id": f"{a.region_code}-{a.year}", "unit": a.region_code, "year": a.year,
                       "points": str(a.points), "reason": a.reason, "awarded_by": a.awarded_by.username}  # fmt: skip


def _cycle(ctx: Context, row: dict, *, finalised: bool = False):
    """The cycle a row names as {kind, year, quarter, root}; cycles are not imported, they must exist."""
    spec = row.get("cycle")
    if not isinstance(spec, dict):
        raise Rejected({"cycle": [_("考核周期应写作{kind, year, quarter, root}。")]})
    kind = word(spec, "kind", CycleKind.values)
    year = integer(spec, "year", minimum=2000)
    quarter = integer(spec, "quarter", minimum=1) if spec.get("quarter") is not None else None
    root = text(spec, "root", required=True)  # may lie above the caller: the unit's jurisdiction applies
    key = ("cycle", kind, year, quarter, root)
    cycle = ctx.cached(
        key,
        lambda: Cycle.objects.filter(kind=kind, year=year, quarter=quarter, root__code=root).first(),
    )
    if cycle is None:
        raise Rejected({"cycle": [_("考核周期不存在（须先在平台上创建）。")]})
    if finalised and not cycle.is_frozen:
        raise Rejected({"cycle": [_("整改事项只属于已定稿的考核周期。")]})
    if not finalised and cycle.is_frozen:
        raise Rejected({"cycle": [_("考核周期已定稿，不能再导入评分。")]})
    return cycle


@register
class AssessorScoreRecord(RecordType):
    """考核组评分: a group's 0–100 score of one qualitative indicator for one unit of an existing,
    not yet finalised cycle; the same checks as assessment.services.score_record (group of the cycle,
    unit among the group's units, an indicator scored by assessors)."""

    kind = "assessor_score"
    model = AssessorScore
    position = 120
    region_keys = ("unit",)

    def validate(self, row, ctx):
        cycle = _cycle(ctx, row)
        unit = ctx.region(row, "unit")
        name = text(row, "group", required=True)
        group = ctx.cached(
            ("group", cycle.pk, name), lambda: AssessorGroup.objects.filter(cycle=cycle, name=name).first()
        )
        if group is None:
            raise Rejected({"group": [_("该考核周期没有名为“%(n)s”的考核组。") % {"n": name}]})
        if isinstance(unit, str) or not group.units.filter(pk=unit.pk).exists():
            raise Rejected({"unit": [_("该单位不在本考核组的负责范围内。")]})
        indicator = text(row, "indicator", required=True)
        assessed = ctx.cached(
            "assessed", lambda: set(Indicator.objects.filter(rule=Rule.ASSESSED).values_list("code", flat=True))
        )
        if indicator not in assessed:
            raise Rejected({"indicator": [_("只能对由考核组评分的定性指标评分。")]})
        score = decimal(row, "score")
        if not 0 <= score <= 100 or score != score.quantize(Decimal("0.01")):
            raise Rejected({"score": [_("评分应在0到100之间，最多保留两位小数。")]})
        key = (cycle.pk, group.pk, unit.pk, indicator)
        seen = ctx.cached(("score_keys", ctx.phase), set)
        if (
            key in seen
            or AssessorScore.objects.filter(cycle=cycle, group=group, unit=unit, indicator=indicator).exists()
        ):
            raise Rejected({"indicator": [_("该考核组对该单位该指标的评分已存在。")]})
        seen.add(key)
        values = {"cycle": cycle, "group": group, "unit": unit, "region_code": unit.code, "indicator": indicator,
                  "score": score, "note": text(row, "note", max_length=300),
                  "scored_by": _user(ctx, row, "scored_by"), "scored_at": moment(row, "scored_at")}  # fmt: skip
        return Prepared("", "", "", unit.code, 0, values)

    def export(self, scope):
        scores = scope.restricted(AssessorScore).filter(
            region_code__under=scope.code, cycle__year__range=(scope.start.year, scope.end.year)
        )
        for chunk in scope.chunks(scores.select_related("cycle__root", "group", "scored_by")):
            for s in chunk:
                yield {"id": f"score-{s.pk}", "cycle": _cycle_key(s.cycle), "group": s.group.name,
                       "unit": s.region_code, "indicator": s.indicator, "score": str(s.score), "note": s.note,
                       "scored_by": s.scored_by.username if s.scored_by_id else "",
                       "scored_at": iso(s.scored_at)}  # fmt: skip


@register
class RectificationItemRecord(RecordType):
    """整改事项 of a finalised cycle with its ledger (report, return, close), for the lines the old
    system opened. Dates and the recurring flag as finalisation derives them; each ledger step
    checked against assessment.transitions.RECTIFICATIONS and applied by rectification_step."""

    kind = "rectification_item"
    model = RectificationItem
    position = 130
    region_keys = ("unit",)

    def validate(self, row, ctx):
        cycle = _cycle(ctx, row, finalised=True)
        unit = ctx.region(row, "unit", levels=UNIT_LEVELS)
        indicator = text(row, "indicator", required=True)
        codes = ctx.cached("indicators", lambda: set(Indicator.objects.values_list("code", flat=True)))
        if indicator not in codes:
            raise Rejected({"indicator": [_("指标“%(c)s”不存在。") % {"c": indicator}]})
        ratio = decimal(row, "ratio")
        if not Decimal(0) <= ratio < Decimal("0.6"):
            raise Rejected({"ratio": [_("整改事项的得分率应不小于0且小于0.6。")]})
        if isinstance(unit, str) or not unit.code.startswith(cycle.region_code):
            raise Rejected({"unit": [_("该单位不在该考核周期的范围内。")]})
        line = (cycle.pk, unit.pk, indicator)
        seen = ctx.cached(("rectification_lines", ctx.phase), set)
        if line in seen or RectificationItem.objects.filter(cycle=cycle, unit=unit, indicator=indicator).exists():
            raise Rejected({"indicator": [_("该考核周期已有该单位该指标的整改事项（定稿时生成或已导入）。")]})
        seen.add(line)
        opened_on = day(row, "opened_on")
        notice_due_on, due_on = rectification_dates(opened_on)
        item = RectificationItem(cycle=cycle, unit=unit, region_code=unit.code, indicator=indicator, ratio=ratio,
                                 notice_due_on=notice_due_on, due_on=due_on)  # fmt: skip
        returns = []
        for _i, key, step, action, at in timeline_steps(row.get("ledger"), None, field="ledger"):
            move = RECTIFICATIONS.transitions.get(action)
            if move is None or item.status not in move.sources:
                raise Rejected({key: [_("状态“%(s)s”下不能执行“%(a)s”。") % {"s": item.status, "a": action}]})
            if timezone.localtime(at).date() < opened_on:
                raise Rejected({f"{key}.at": [_("早于整改事项的开具日期。")]})
            by = _user(ctx, step, "by") if action == "close" else None
            text_ = text(step, "report") if action == "report" else text(step, "note")
            try:
                rectification_step(item, action, at=at, user=by, text=text_)
            except ValidationError as exc:
                raise rejected_step(exc, key) from exc
            if action == "return":
                returns.append(text_)
        return Prepared("", "", "", unit.code, 0, {"item": item, "returns": returns})

    def write(self, batch, ctx):
        items = [p.values["item"] for p in batch]
        lines = {(i.region_code, i.indicator) for i in items}
        opened = set(
            RectificationItem.objects.filter(
                region_code__in={c for c, _i in lines}, indicator__in={i for _c, i in lines}
            ).values_list("region_code", "indicator", "cycle__finalised_at")
        ) | {(i.region_code, i.indicator, i.cycle.finalised_at) for i in items}
        for item in items:  # 回头看: the same unit and indicator failed in a cycle finalised before
            item.recurring = any(
                (item.region_code, item.indicator) == (c, i) and when < item.cycle.finalised_at for c, i, when in opened
            )
        RectificationItem.objects.bulk_create(items)
        for p in batch:  # as rectification_return does, each reason goes to the audit trail
            for note in p.values["returns"]:
                audit.record(AuditAction.UPDATE, instance=p.values["item"], changes={"return_note": [None, note]})
        return [i.pk for i in items]

    def export(self, scope):
        items = scope.restricted(RectificationItem).filter(
            region_code__under=scope.code, cycle__year__range=(scope.start.year, scope.end.year)
        )
        for chunk in scope.chunks(items.select_related("cycle__root", "closed_by")):
            for item in chunk:
                yield _rectification(item)


def _cycle_key(cycle) -> dict:
    """How a row names a cycle: {kind, year, quarter, root}."""
    return {"kind": cycle.kind, "year": cycle.year, "quarter": cycle.quarter, "root": cycle.root.code}


def _rectification(item) -> dict:
    """An item with its ledger as the fields keep it (a return leaves only its audit entry)."""
    cycle = item.cycle
    ledger = []
    if item.reported_at:
        ledger.append({"action": "report", "at": iso(item.reported_at), "report": item.report})
    if item.closed_on:
        closed = min(deadline_end(item.closed_on), timezone.now())
        ledger.append(
            {"action": "close", "at": iso(closed), "by": item.closed_by.username if item.closed_by_id else ""}
        )
    return {"id": f"rectification-{item.pk}", "cycle": _cycle_key(cycle), "unit": item.region_code,
            "indicator": item.indicator, "ratio": str(item.ratio),
            "opened_on": iso(timezone.localtime(cycle.finalised_at).date()) if cycle.finalised_at else None,
            "ledger": ledger}  # fmt: skip
