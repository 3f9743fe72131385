from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from governance.api.base import ListDetailMixin, ScopedModelViewSet
from governance.files import streaming_response
from grids import services
from grids.api.serializers import GridWorkerSerializer, RegionDetailSerializer, RegionSerializer
from grids.filtersets import RegionFilterSet
from grids.models import GridWorker, Region

EXPORTS = {
    "csv": (services.export_csv, "text/csv; charset=utf-8"),
    "geojson": (services.export_geojson, "application/geo+json"),
}


class RegionViewSet(ListDetailMixin, ScopedModelViewSet):
    """区划 of the caller's jurisdiction, addressed by code, with grid sizing flags."""

    queryset = Region.objects.select_related("parent").with_sizing_flags()
    serializer_class = RegionSerializer
    detail_serializer_class = RegionDetailSerializer
    filterset_class = RegionFilterSet
    lookup_field = "code"
    lookup_value_regex = r"\d{2,15}"
    change_capability = "region.change"
    ordering_fields = ["code", "name", "population", "households"]

    @extend_schema(
        parameters=[OpenApiParameter("type", str, enum=list(EXPORTS), default="csv")],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"])
    def export(self, request, code=None):
        """The region's subtree as CSV or GeoJSON (the import formats)."""
        region = self.get_object()
        kind = request.query_params.get("type", "csv")
        if kind not in EXPORTS:
            raise ValidationError({"type": [_("导出格式应为 csv 或 geojson。")]})
        return export_response(request.user, region, kind)


def export_response(user, region: Region, kind: str) -> StreamingHttpResponse:
    """Stream the subtree export; shared by the API and the region pages (one scoping path)."""
    from governance import audit
    from governance.choices import AuditAction

    writer, content_type = EXPORTS[kind]
    regions = Region.objects.restrict(user).under(region.code).order_by("code").iterator(chunk_size=2000)
    audit.record(AuditAction.EXPORT, instance=region, changes={"format": kind})
    return streaming_response(writer(regions), f"regions-{region.code}.{kind}", content_type)


class GridWorkerViewSet(ScopedModelViewSet):
    """网格员 of the grids in the caller's jurisdiction."""

    queryset = GridWorker.objects.select_related("grid")
    serializer_class = GridWorkerSerializer
    filterset_fields = ["grid__code", "is_full_time"]
    change_capability = "gridworker.change"
