"""Traceability (数据来源透明): the exact records counted in an indicator value's numerator and
denominator, from the same definitions the engine counted with."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import BooleanField, Case, Value, When

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
            m.model.objects.filter(**{f"{m.scope}__under": unit_code})
            .annotate(**m.annotations)
            .filter(m.denominator)
            .annotate(
                in_numerator=Case(
                    When(m.numerator, then=Value(True)), default=Value(False), output_field=BooleanField()
                )
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
    if source == "reported" or indicator == "D03":
        months = months_around(period)  # the period's months and the one whose table falls due in it
        rows = (
            MonthlyReport.objects.filter(region_code__under=unit_code, month__in=months)
            .annotate(in_numerator=Value(True, output_field=BooleanField()))
            .order_by("region_code", "month")
        )
        return [
            TraceSet(
                MonthlyReport._meta.label,
                "",
                "",
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
