"""Serializers of /api/v1/assessment/: the catalogue, cycles, unit results with their lines,
annual results. Stored numbers keep their 8 decimals here (clients may need them); the
rounded total and annual result are the ones that rank and grade."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.api.fields import ScopedSlugRelatedField
from grids.models import Region

from ...choices import CycleKind, Source
from ...models import AnnualResult, Cycle, Indicator, IndicatorResult, UnitResult, WeightProfile


# "kind" and "source" already name other choice sets in the API (departments, mediation
# organisations, parties, events). Documented as strings listing their values, they add no
# enum component, so the schema stays free of naming collisions (check --deploy fails on
# them); an ENUM_NAME_OVERRIDES entry in the settings would let them be enums again.
@extend_schema_field({"type": "string", "description": " | ".join(CycleKind.values)})
class CycleKindField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=CycleKind.choices, **kwargs)


@extend_schema_field({"type": "string", "description": " | ".join(Source.values)})
class IndicatorSourceField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Source.choices, **kwargs)


class IndicatorSerializer(serializers.ModelSerializer):
    """One indicator with its weight in every profile ({"plain": "15.00", "mountain": "8.00"};
    a profile that leaves it out has no key)."""

    source = IndicatorSourceField(read_only=True)
    collaborators = serializers.ListField(child=serializers.CharField(), read_only=True)
    weights = serializers.SerializerMethodField()

    class Meta:
        model = Indicator
        fields = [
            "code",
            "name_zh",
            "name_en",
            "dimension",
            "category",
            "nature",
            "source",
            "rule",
            "floor",
            "target",
            "ceiling",
            "lead_department",
            "collaborators",
            "value_definition",
            "sort_order",
            "weights",
        ]

    def get_weights(self, obj) -> dict[str, str]:
        return {w.profile.code: str(w.weight) for w in obj.weights.all() if w.weight > 0}


class WeightProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = WeightProfile
        fields = ["code", "name", "terrains", "is_default"]


class CatalogueValidationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())
    profile_totals = serializers.DictField(child=serializers.DictField(child=serializers.CharField()))
    category_split = serializers.DictField(child=serializers.IntegerField())
    nature_split = serializers.DictField(child=serializers.IntegerField())


class CycleSerializer(serializers.ModelSerializer):
    kind = CycleKindField(read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    period_label = serializers.CharField(read_only=True)
    root = serializers.CharField(source="root.code", read_only=True)
    root_name = serializers.CharField(source="root.name", read_only=True)
    catalogue_version = serializers.IntegerField(source="catalogue_version.number", read_only=True, allow_null=True)

    class Meta:
        model = Cycle
        fields = [
            "id",
            "kind",
            "kind_display",
            "year",
            "quarter",
            "period_label",
            "root",
            "root_name",
            "levels",
            "status",
            "status_display",
            "progress",
            "progress_note",
            "runs",
            "records_read",
            "catalogue_version",
            "check_date",
            "started_at",
            "computed_at",
            "finalised_at",
            "published_at",
            "created_at",
        ]
        read_only_fields = fields


class CycleCreateSerializer(serializers.Serializer):
    """POST /cycles/: the organising region must lie in the caller's jurisdiction."""

    kind = CycleKindField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    quarter = serializers.IntegerField(min_value=1, max_value=4, required=False, allow_null=True)
    root = ScopedSlugRelatedField(slug_field="code", queryset=Region.objects.all(), help_text=_("组织单位的区划代码"))
    check_date = serializers.DateField(required=False, allow_null=True)
    levels = serializers.ListField(child=serializers.IntegerField(), required=False, allow_empty=False)


class CheckDateSerializer(serializers.Serializer):
    check_date = serializers.DateField()


class ProgressSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    progress = serializers.IntegerField()
    note = serializers.CharField()
    running = serializers.BooleanField()
    runs = serializers.IntegerField()
    records_read = serializers.IntegerField()
    computed_at = serializers.DateTimeField(allow_null=True)


class BlockingItemSerializer(serializers.Serializer):
    reason = serializers.CharField()
    unit = serializers.CharField(required=False)
    indicator = serializers.CharField(required=False)
    message = serializers.CharField()


class IndicatorResultSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    lost = serializers.DecimalField(max_digits=24, decimal_places=8, read_only=True)

    class Meta:
        model = IndicatorResult
        fields = [
            "indicator",
            "name",
            "status",
            "status_display",
            "value",
            "numerator",
            "denominator",
            "ratio",
            "weight",
            "effective_weight",
            "points",
            "lost",
            "tolerance",
            "note",
        ]

    def get_name(self, obj) -> str:
        return (self.context.get("indicators", {}).get(obj.indicator) or {}).get("name_zh", "")


class UnitResultSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True)
    level_display = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = UnitResult
        fields = [
            "id",
            "cycle",
            "region_code",
            "region_name",
            "level",
            "level_display",
            "parent_code",
            "profile",
            "total",
            "total_exact",
            "dimensions",
            "rank",
            "peers",
            "vetoes",
            "flags",
            "blocking",
        ]
        read_only_fields = fields


class UnitResultDetailSerializer(UnitResultSerializer):
    lines = serializers.SerializerMethodField()

    class Meta(UnitResultSerializer.Meta):
        fields = [*UnitResultSerializer.Meta.fields, "lines"]
        read_only_fields = fields

    def get_lines(self, obj) -> list[dict]:
        version = obj.cycle.catalogue_version
        indicators = version.data["indicators"] if version else {}
        order = {code: (meta.get("order", 0), code) for code, meta in indicators.items()}
        lines = sorted(obj.lines.all(), key=lambda line: order.get(line.indicator, (10**6, line.indicator)))
        return IndicatorResultSerializer(lines, many=True, context={**self.context, "indicators": indicators}).data


class AnnualResultSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True)
    grade_display = serializers.CharField(source="get_grade_display", read_only=True)

    class Meta:
        model = AnnualResult
        fields = [
            "id",
            "cycle",
            "region_code",
            "region_name",
            "level",
            "parent_code",
            "spot_check_mean",
            "spot_checks",
            "half_year",
            "year_end",
            "bonus",
            "result",
            "result_exact",
            "grade",
            "grade_display",
            "rank",
            "peers",
            "vetoes",
            "fiscal_tilt",
            "notes",
        ]
        read_only_fields = fields


class TraceQuerySerializer(serializers.Serializer):
    unit = serializers.RegexField(r"^\d{2,15}$", help_text=_("单位区划代码"))
    indicator = serializers.RegexField(r"^[A-Za-z0-9_]{1,8}$", help_text=_("指标编号，如 C04"))
    page = serializers.IntegerField(min_value=1, required=False, default=1)
