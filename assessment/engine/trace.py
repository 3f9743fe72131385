"""Traceability (数据来源透明): the exact records counted in an indicator value's numerator and
denominator, from the same definitions the engine counted with."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import BooleanField, Case, F, Q, Value, When
from django.utils.translation import gettext as _

from ..choices import LineStatus
from ..models import AssessorScore, Cycle, MonthlyReport, SurveyResponse
from .facts import SURVEY_QUESTIONS, survey_filters
from .measures import computed_measures
from .reported import months_around


@dataclass
class TraceSet:
    """One kind of record behind a value; `rows` is a queryset annotated with `in_numerator`."""

    model_label: str
    numerator_label: str
    denominator_label: str
    columns: tuple[str, ...]
    rows: object
    extra: list = field(default_factory=list)


def trace(cycle: Cycle, unit_code: str, indicator: str) -> list[TraceSet]:
    """The record sets behind one line of one unit (several for C06: events and cases)."""
    period = cycle.period
    sets = []
    for m in computed_measures(period):
        if m.indicator != indicator:
            continue
        rows = (
            m.rows()
            .filter(m.under(unit_code))
            .filter(m.denominator)
            .annotate(
                in_numerator=Case(When(m.extra, then=Value(True)), default=Value(False), output_field=BooleanField())
            )
            .order_by("pk")
        )
        sets.append(TraceSet(m.model._meta.label, str(m.numerator_label), str(m.denominator_label), m.columns, rows))
    if sets:
        return sets
    if indicator in SURVEY_QUESTIONS:
        answered, yes = survey_filters(indicator, period)
        rows = (
            SurveyResponse.objects.filter(region_code__under=unit_code)
            .filter(answered)
            .annotate(in_numerator=Case(When(yes, then=Value(True)), default=Value(False), output_field=BooleanField()))
            .order_by("answered_at", "pk")
        )
        field_name = SURVEY_QUESTIONS[indicator][0]
        return [
            TraceSet(
                SurveyResponse._meta.label,
                "",
                "",
                ("id", "region_code", "channel", "answered_at", field_name),
                rows,
            )
        ]
    line = cycle.results.filter(region_code=unit_code).first()
    line = line.lines.filter(indicator=indicator).first() if line else None
    if line is None or line.status == LineStatus.NOT_IN_PROFILE:
        return []
    source = (cycle.catalogue_version.data["indicators"].get(indicator) or {}).get("source")
    if indicator == "D03":
        return [_d03_trace(period, unit_code)]
    if source == "reported":
        on_time = Q(submitted_at__lte=F("deadline"))
        rows = (
            MonthlyReport.objects.filter(region_code__under=unit_code, month__in=period.months)
            .annotate(
                in_numerator=Case(When(on_time, then=Value(True)), default=Value(False), output_field=BooleanField())
            )
            .order_by("region_code", "month")
        )
        return [
            TraceSet(
                MonthlyReport._meta.label,
                str(_("按期报送、计入数值的月报")),
                str(_("期内各月月报（逾期报送的不计入，且该乡镇报送类指标得0分）")),
                ("id", "region_code", "month", "deadline", "submitted_at", "is_late"),
                rows,
            )
        ]
    if source == "assessed":
        rows = (
            AssessorScore.objects.filter(cycle=cycle, region_code=unit_code, indicator=indicator)
            .annotate(in_numerator=Value(True, output_field=BooleanField()))
            .order_by("group__name")
        )
        return [TraceSet(AssessorScore._meta.label, "", "", ("id", "group__name", "score", "note", "scored_at"), rows)]
    return []


def _d03_trace(period, unit_code: str) -> TraceSet:
    """The tables due in the period (numerator: submitted by the deadline) and, as `extra`, the
    expected tables that are past their deadline and missing."""
    from django.utils import timezone

    from governance.codes import Level
    from grids.models import Region

    from ..models import month_deadline

    now = timezone.now()
    months = [m for m in months_around(period) if period.start <= month_deadline(m) < period.end]
    rows = (
        MonthlyReport.objects.filter(region_code__under=unit_code, month__in=months)
        .annotate(
            in_numerator=Case(
                When(Q(submitted_at__lte=F("deadline")), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("region_code", "month")
    )
    present = set(rows.values_list("region_code", "month"))
    missing = [
        {"region_code": code, "month": month, "deadline": month_deadline(month)}
        for code in Region.objects.filter(code__under=unit_code, level=Level.TOWNSHIP)
        .order_by("code")
        .values_list("code", flat=True)
        for month in months
        if (code, month) not in present and month_deadline(month) <= now
    ]
    return TraceSet(
        MonthlyReport._meta.label,
        str(_("期限在期内且按期报送的月报")),
        str(_("期限在期内的月报（每乡镇每月一份，含未报送的）")),
        ("id", "region_code", "month", "deadline", "submitted_at", "is_late"),
        rows,
        extra=missing,
    )
