from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from governance.api.fields import ScopedSlugRelatedField
from grids.models import GridWorker, Region, validate_region_shape


class RegionSerializer(serializers.ModelSerializer):
    parent = ScopedSlugRelatedField(slug_field="code", queryset=Region.objects.all(), allow_null=True, required=False)
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    sizing_flags = serializers.SerializerMethodField()
    service_radius_km = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Region
        fields = [
            "code",
            "name",
            "level",
            "level_display",
            "parent",
            "terrain",
            "is_urban",
            "population",
            "households",
            "area_km2",
            "centroid_lat",
            "centroid_lng",
            "grid_type",
            "parttime_workers",
            "building_heads",
            "fulltime_workers",
            "service_radius_km",
            "sizing_flags",
            "updated_at",
        ]
        read_only_fields = ["fulltime_workers", "updated_at"]

    def get_sizing_flags(self, region: Region) -> list[str]:
        return [str(flag) for flag in region.sizing_flags()]

    def validate(self, attrs):
        code = attrs.get("code", getattr(self.instance, "code", ""))
        level = attrs.get("level", getattr(self.instance, "level", None))
        parent = attrs.get("parent", getattr(self.instance, "parent", None))
        if self.instance is not None and "code" in attrs and attrs["code"] != self.instance.code:
            raise serializers.ValidationError({"code": [_("区划代码创建后不能修改。")]})
        errors = validate_region_shape(code, level, parent)
        if errors:
            raise serializers.ValidationError({key: [str(m) for m in msgs] for key, msgs in errors.items()})
        return attrs


class RegionDetailSerializer(RegionSerializer):
    class Meta(RegionSerializer.Meta):
        fields = [*RegionSerializer.Meta.fields, "boundary"]


class GridWorkerSerializer(serializers.ModelSerializer):
    grid = ScopedSlugRelatedField(slug_field="code", queryset=Region.objects.grids())

    class Meta:
        model = GridWorker
        fields = ["id", "grid", "name", "is_full_time", "started_on", "ended_on", "user"]
        read_only_fields = ["user"]

    def validate(self, attrs):
        started = attrs.get("started_on", getattr(self.instance, "started_on", None))
        ended = attrs.get("ended_on", getattr(self.instance, "ended_on", None))
        if started and ended and ended < started:
            raise serializers.ValidationError({"ended_on": [_("离岗日期不能早于到岗日期。")]})
        return attrs
