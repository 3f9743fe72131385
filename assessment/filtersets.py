"""The filters of the assessment's lists (?under=, ?year=, ?status= …), used by its API: cycles,
unit and annual results, the inputs, the appeals and the data-credibility flags."""

from __future__ import annotations

import datetime as dt
import re

import django_filters
from django.utils.translation import gettext_lazy as _

from governance.api.filters import MomentFilter, SubtreeFilter, id_filter, year_filter
from governance.codes import Level

from .choices import (
    AppealStatus,
    ClaimStatus,
    CycleKind,
    CycleStatus,
    FlagRule,
    Grade,
    RectificationStatus,
    RulingStatus,
    SurveyChannel,
)
from .models import (
    AnnualResult,
    AssessorScore,
    CredibilityFlag,
    Cycle,
    InnovationAward,
    MonthlyReport,
    RectificationItem,
    ScoreAppeal,
    SurveyResponse,
    ToleranceClaim,
    UnitResult,
    VetoRuling,
)
from .selectors import cycle_flags

MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})(?:-\d{1,2})?$")


class MonthlyReportFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    year = year_filter(field_name="month__year", label=_("年度"))
    month = django_filters.CharFilter(method="filter_month", label=_("月份（YYYY-MM）"))
    is_late = django_filters.BooleanFilter(label=_("逾期报送"))

    class Meta:
        model = MonthlyReport
        fields = ["under", "year", "month", "is_late"]

    def filter_month(self, queryset, name, value):
        match = MONTH_RE.match(value.strip())
        if not match:
            return queryset.none()
        try:
            return queryset.filter(month=dt.date(int(match.group(1)), int(match.group(2)), 1))
        except ValueError:
            return queryset.none()


class SurveyFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    channel = django_filters.ChoiceFilter(choices=SurveyChannel.choices)
    since = MomentFilter(field_name="answered_at", lookup_expr="gte")
    until = MomentFilter(field_name="answered_at", lookup_expr="lt")

    class Meta:
        model = SurveyResponse
        fields = ["under", "channel", "since", "until"]


class ScoreFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")

    class Meta:
        model = AssessorScore
        fields = ["under", "cycle", "group", "indicator"]


class VetoFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    status = django_filters.ChoiceFilter(choices=RulingStatus.choices)

    class Meta:
        model = VetoRuling
        fields = ["under", "status", "indicator"]


class AwardFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")

    class Meta:
        model = InnovationAward
        fields = ["under", "year"]


class ClaimFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    status = django_filters.ChoiceFilter(choices=ClaimStatus.choices)

    class Meta:
        model = ToleranceClaim
        fields = ["under", "cycle", "status"]


class RectificationFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    status = django_filters.ChoiceFilter(choices=RectificationStatus.choices)

    class Meta:
        model = RectificationItem
        fields = ["under", "cycle", "status", "indicator", "recurring"]


class CycleFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    kind = django_filters.ChoiceFilter(choices=CycleKind.choices)
    status = django_filters.ChoiceFilter(choices=CycleStatus.choices)
    year = year_filter()

    class Meta:
        model = Cycle
        fields = ["under", "kind", "status", "year", "quarter"]


class UnitResultFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    cycle = id_filter(field_name="cycle_id")
    level = django_filters.TypedChoiceFilter(choices=Level.choices, coerce=int)
    parent_code = django_filters.CharFilter()

    class Meta:
        model = UnitResult
        fields = ["cycle", "level", "parent_code", "under", "profile"]


class AnnualResultFilterSet(UnitResultFilterSet):
    grade = django_filters.ChoiceFilter(choices=Grade.choices)

    class Meta:
        model = AnnualResult
        fields = ["cycle", "level", "parent_code", "under", "grade"]


class AppealFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    status = django_filters.ChoiceFilter(choices=AppealStatus.choices)

    class Meta:
        model = ScoreAppeal
        fields = ["under", "cycle", "status", "indicator"]


class FlagFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    rule = django_filters.ChoiceFilter(choices=FlagRule.choices)
    cycle = django_filters.NumberFilter(method="filter_cycle", label=_("考核周期"))
    first = django_filters.DateFilter(field_name="first", lookup_expr="gte")
    last = django_filters.DateFilter(field_name="last", lookup_expr="lte")

    class Meta:
        model = CredibilityFlag
        fields = ["under", "rule", "cycle", "first", "last"]

    def filter_cycle(self, queryset, name, value):
        cycle = Cycle.objects.restrict(self.request.user).filter(pk=value).first()
        if cycle is None:
            return queryset.none()
        codes = queryset.values_list("region_code", flat=True).distinct()
        return queryset.filter(pk__in=cycle_flags(cycle=cycle, unit_codes=codes).values("pk"))
