"""/api/v1/assessment/{appeals,flags}/ — after the scores (SPEC §5.4).

Appeals (申诉): the unit's own staff file one (multipart, with the evidence file) on one
indicator line of a published cycle; committee staff above the unit decide. The rules live in
assessment.appeals; refusals answer {"detail", "fields"}. Flags (智能预警): read-only, scoped
like every record; `?cycle=` lists a cycle's flags through the public selector, and a flag's
detail lists the records behind it that the caller may see.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from governance.api.base import ScopedReadOnlyViewSet
from governance.api.filters import SubtreeFilter
from grids.api.event_views import PassthroughNegotiation

from .. import appeals
from ..choices import AppealStatus, FlagRule
from ..flags import flag_records
from ..models import CredibilityFlag, Cycle, ScoreAppeal
from ..selectors import cycle_flags
from .inputs import InputViewSet, _cycle_field, _download, _unit_field


class ScoreAppealSerializer(serializers.ModelSerializer):
    cycle = _cycle_field()
    unit = _unit_field()
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    evidence = serializers.FileField(write_only=True, required=False)
    filed_by = serializers.StringRelatedField(read_only=True)
    decided_by = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = ScoreAppeal
        fields = [
            "id", "cycle", "unit", "unit_name", "indicator", "reasons", "evidence", "status",
            "points_at_filing", "ratio_at_filing", "filed_by", "filed_at", "decide_by", "decided_by",
            "decided_at", "decision_note", "adjusted_percent", "supervised_at",
        ]  # fmt: skip
        read_only_fields = [
            "status", "points_at_filing", "ratio_at_filing", "filed_at", "decide_by", "decided_at",
            "decision_note", "adjusted_percent", "supervised_at",
        ]  # fmt: skip
        validators: list = []  # one appeal per line is the service's business
        extra_kwargs = {
            "indicator": {"error_messages": {"required": _("请选择申诉的指标。"), "blank": _("请选择申诉的指标。")}},
            "reasons": {"error_messages": {"required": _("请填写申诉理由。"), "blank": _("请填写申诉理由。")}},
        }


class AppealDecisionSerializer(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=[("uphold", _("申诉成立")), ("dismiss", _("申诉不成立"))],
        error_messages={
            "required": _("请选择申诉成立或不成立。"),
            "invalid_choice": _("请选择成立（uphold）或不成立（dismiss）。"),
        },
    )
    decision_note = serializers.CharField(
        max_length=4000, error_messages={"required": _("请填写处理意见。"), "blank": _("请填写处理意见。")}
    )
    adjusted_percent = serializers.CharField(required=False, allow_blank=True, help_text=_("调整后得分率（0–100%）"))


class AppealFilterSet(django_filters.FilterSet):
    under = SubtreeFilter(field_name="region_code")
    status = django_filters.ChoiceFilter(choices=AppealStatus.choices)

    class Meta:
        model = ScoreAppeal
        fields = ["under", "cycle", "status", "indicator"]


class ScoreAppealViewSet(InputViewSet):
    """考核申诉: filed by the unit's own staff within 15 working days of the cycle's publication
    (multipart with `evidence`); decided by committee staff above the unit within 10 working
    days. An upheld appeal re-computes the cycle with the adjusted 得分率."""

    queryset = ScoreAppeal.objects.select_related("unit", "filed_by", "decided_by").order_by("-filed_at", "pk")
    serializer_class = ScoreAppealSerializer
    filterset_class = AppealFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    action_capabilities = {"create": "assessment.respond", "decide": "assessment.rule"}

    create_service = staticmethod(appeals.appeal_file)

    @extend_schema(request=AppealDecisionSerializer, responses={200: ScoreAppealSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """申诉处理: uphold with `adjusted_percent`, or dismiss; both with `decision_note`."""
        return self._step(
            request, AppealDecisionSerializer,
            lambda appeal, data: appeals.appeal_decide(
                user=request.user, appeal=appeal, uphold=data["result"] == "uphold",
                note=data["decision_note"], adjusted_percent=data.get("adjusted_percent"),
            ),
        )  # fmt: skip

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], content_negotiation_class=PassthroughNegotiation)
    def evidence(self, request, pk=None):
        return _download(self.get_object().evidence)


class FlagSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="region.name", read_only=True)
    rule_display = serializers.CharField(source="get_rule_display", read_only=True)
    records = serializers.SerializerMethodField(help_text=_("触发预警的记录数"))

    class Meta:
        model = CredibilityFlag
        fields = [
            "id", "rule", "rule_display", "region_code", "unit_name", "first", "last", "figures", "records", "found_at",
        ]  # fmt: skip

    def get_records(self, obj) -> int:
        return len(obj.record_ids)


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


class CredibilityFlagViewSet(ScopedReadOnlyViewSet):
    """智能预警: data-credibility flags of the caller's jurisdiction (they never change a score).
    The detail lists the records behind the flag that the caller may open."""

    queryset = CredibilityFlag.objects.select_related("region")
    serializer_class = FlagSerializer
    filterset_class = FlagFilterSet
    ordering_fields = ["first", "region_code", "rule"]

    def retrieve(self, request, *args, **kwargs):
        flag = self.get_object()
        data = FlagSerializer(flag).data
        data["record_rows"] = [row["raw"] for row in flag_records(flag, request.user)]
        return Response(data)


ROUTES = [
    ("appeals", ScoreAppealViewSet, "assessment-appeal"),
    ("flags", CredibilityFlagViewSet, "assessment-flag"),
]
