"""/api/v1/assessment/{catalogue,cycles,results,annual-results}/ (综治考核结果).

Read-mostly. Cycles, results and annual results are scoped viewsets: a list holds the caller's
jurisdiction only and anything outside it answers 404, actions included. Results are further
limited to cycles the caller may see, so a spot-check stays hidden from the sampled townships
until its check date even though their own unit result lies in their subtree. Writes (create,
run, finalise, check date) call assessment.services, which checks capability and jurisdiction
again; its refusals answer {"detail", "fields"}.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from governance.api.base import ListDetailMixin, ScopedModelViewSet, ScopedReadOnlyViewSet, file_action
from governance.api.permissions import RoleCapability
from governance.files import pdf_response
from grids.events.api.views import drf_error

from ... import catalogue, services
from ...choices import CycleKind
from ...filtersets import AnnualResultFilterSet, CycleFilterSet, UnitResultFilterSet
from ...models import AnnualResult, Cycle, Indicator, UnitResult, WeightProfile
from ...selectors.results import (
    TRACE_PAGE_SIZE,
    blocking_for,
    counts_comparable,
    fmt_count,
    get_unit,
    indicators_of,
    progress_payload,
    sample_of,
    trace_blocks,
    trace_check,
)
from ..serializers.results import (
    AnnualResultSerializer,
    BlockingItemSerializer,
    CatalogueValidationSerializer,
    CheckDateSerializer,
    CycleCreateSerializer,
    CycleSerializer,
    IndicatorSerializer,
    ProgressSerializer,
    TraceQuerySerializer,
    UnitResultDetailSerializer,
    UnitResultSerializer,
    WeightProfileSerializer,
)


def service_error(exc: DjangoValidationError):
    """A refusal of assessment.services as an API error: 403 when the caller may not act on the
    cycle, otherwise 400 with the messages as the detail."""
    if getattr(exc, "code", None) == "forbidden":
        return PermissionDenied(" ".join(exc.messages))
    return drf_error(exc, detail_from_messages=True)


class CatalogueViewSet(viewsets.ReadOnlyModelViewSet):
    """指标体系: the live indicators with their weight per profile (edited in the admin; a
    cycle freezes the version it runs with). `validation/` says whether the catalogue can run."""

    queryset = Indicator.objects.prefetch_related("weights__profile")
    serializer_class = IndicatorSerializer
    permission_classes = [RoleCapability]
    lookup_field = "code"
    filterset_fields = ["dimension", "category", "nature", "source"]
    ordering_fields = ["sort_order", "code"]

    @extend_schema(responses=WeightProfileSerializer(many=True))
    @action(detail=False, pagination_class=None, filter_backends=[])
    def profiles(self, request):
        """The weight profiles (权重方案) and the terrain classes they cover."""
        return Response(WeightProfileSerializer(WeightProfile.objects.all(), many=True).data)

    @extend_schema(responses=CatalogueValidationSerializer)
    @action(detail=False, pagination_class=None, filter_backends=[])
    def validation(self, request):
        """Errors (a profile or dimension that does not sum up: cycles refuse to run) and
        warnings (category and nature splits away from 24/12/4 and 21/14)."""
        result = catalogue.validate()
        data = {
            "ok": result.ok,
            "errors": [str(e) for e in result.errors],
            "warnings": [str(w) for w in result.warnings],
            "profile_totals": {
                profile: {key: str(value) for key, value in totals.items()}
                for profile, totals in result.profile_totals.items()
            },
            "category_split": result.category_split,
            "nature_split": result.nature_split,
        }
        return Response(CatalogueValidationSerializer(data).data)


class CycleViewSet(ScopedModelViewSet):
    """考核周期 run at, under or above the caller's region (a spot-check is hidden from the
    sampled townships until its check date). Create, run, finalise and set the check date
    through the services; results are under /results/ and /annual-results/."""

    queryset = Cycle.objects.select_related("root", "catalogue_version")
    serializer_class = CycleSerializer
    filterset_class = CycleFilterSet
    ordering_fields = ["year", "created_at", "status"]
    http_method_names = ["get", "post", "head", "options"]

    @property
    def change_capability(self) -> str | None:
        if self.action in ("finalise", "publish"):
            return "assessment.finalise"
        if self.action in ("create", "run", "check_date", "report_bundle"):
            return "assessment.run"
        return None

    def get_queryset(self):
        return super().get_queryset().order_by("-year", "-created_at", "-pk")

    def retrieve(self, request, *args, **kwargs):
        cycle = self.get_object()
        data = CycleSerializer(cycle, context=self.get_serializer_context()).data
        if cycle.kind == CycleKind.SPOT_CHECK:
            visible = services.sample_visible_to(cycle, request.user)
            data["sample"] = [r.code for r in sample_of(cycle, request.user)] if visible else None
        return Response(data)

    @extend_schema(
        request=CycleCreateSerializer,
        responses={
            201: CycleSerializer,
            200: OpenApiResponse(CycleSerializer, description=gettext_lazy("该考核周期已存在，返回原周期。")),
        },
    )
    def create(self, request, *args, **kwargs):
        """新建考核周期 (once per kind, year, quarter and region; sending it again returns it, 200)."""
        body = CycleCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        quarter = data.get("quarter") if data["kind"] == CycleKind.SPOT_CHECK else None
        existed = Cycle.objects.filter(
            kind=data["kind"], year=data["year"], quarter=quarter, root=data["root"]
        ).exists()
        try:
            cycle = services.create_cycle(user=request.user, **data)
        except DjangoValidationError as exc:
            raise service_error(exc) from exc
        self._check_still_visible(cycle)
        cycle = self.get_queryset().get(pk=cycle.pk)
        return Response(
            CycleSerializer(cycle, context=self.get_serializer_context()).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses={202: ProgressSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """开始计算 / 重新计算 on the Celery worker; poll progress/ until it is no longer running."""
        cycle = self.get_object()
        try:
            cycle = services.start_run(cycle, user=request.user)
        except DjangoValidationError as exc:
            raise service_error(exc) from exc
        cycle.refresh_from_db()
        return Response(progress_payload(cycle), status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: CycleSerializer})
    @action(detail=True, methods=["post"])
    def finalise(self, request, pk=None):
        """定稿: refused (400) while blocking/ lists anything."""
        return self._lifecycle_step(services.finalise)

    def _lifecycle_step(self, service):
        """A POST that moves the cycle through a service; its refusals become the API's errors."""
        cycle = self.get_object()
        try:
            cycle = service(cycle, user=self.request.user)
        except DjangoValidationError as exc:
            raise service_error(exc) from exc
        return Response(CycleSerializer(self.get_queryset().get(pk=cycle.pk)).data)

    @extend_schema(request=None, responses={200: CycleSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """公布 a finalised cycle: units below see it, rectification items and notices open, the
        15-working-day appeal window starts."""
        return self._lifecycle_step(services.publish)

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get", "post"], url_path="report-bundle", url_name="report-bundle")
    def report_bundle(self, request, pk=None):
        """The ZIP of every unit's diagnostic report under the caller's region: POST starts (or
        restarts) the Celery job, GET shows its progress (`download` once done)."""
        from ...models import ReportBundle
        from ...services.reports import bundle_payload, bundle_region, request_bundle

        cycle = self.get_object()
        if request.method == "POST":
            bundle = request_bundle(user=request.user, cycle=cycle)
            bundle.refresh_from_db()
            return Response(bundle_payload(bundle), status=status.HTTP_202_ACCEPTED)
        bundle = (
            ReportBundle.objects.restrict(request.user)
            .filter(cycle=cycle, region_code=bundle_region(request.user, cycle))
            .first()
        )
        if bundle is None:
            raise Http404
        data = bundle_payload(bundle)
        if bundle.file:
            data["download"] = request.build_absolute_uri(f"/assessment/{cycle.pk}/reports.zip")
        return Response(data)

    @extend_schema(request=CheckDateSerializer, responses={200: CycleSerializer})
    @action(detail=True, methods=["post"], url_path="check-date", url_name="check-date")
    def check_date(self, request, pk=None):
        """A spot-check's check date: until then the sampled townships do not see the cycle."""
        cycle = self.get_object()
        body = CheckDateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            cycle = services.set_check_date(cycle, user=request.user, check_date=body.validated_data["check_date"])
        except DjangoValidationError as exc:
            raise service_error(exc) from exc
        return Response(CycleSerializer(self.get_queryset().get(pk=cycle.pk)).data)

    @extend_schema(responses=ProgressSerializer)
    @action(detail=True)
    def progress(self, request, pk=None):
        return Response(progress_payload(self.get_object()))

    @extend_schema(responses=BlockingItemSerializer(many=True))
    @action(detail=True, pagination_class=None)
    def blocking(self, request, pk=None):
        """What stops finalisation, limited to the units in the caller's jurisdiction."""
        cycle = self.get_object()
        items = [] if cycle.is_frozen else blocking_for(cycle, request.user)
        return Response(BlockingItemSerializer(items, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("unit", OpenApiTypes.STR, required=True, description="区划代码"),
            OpenApiParameter("indicator", OpenApiTypes.STR, required=True, description="指标编号"),
            OpenApiParameter("page", OpenApiTypes.INT, description=f"每个记录集的页码（每页{TRACE_PAGE_SIZE}条）"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, pagination_class=None, filter_backends=[])
    def trace(self, request, pk=None):
        """数据来源: the records behind one line, each set with its numerator and total counts;
        for computed rates and surveys `check` compares them with the stored numerator and denominator."""
        cycle = self.get_object()
        query = TraceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        unit_code, indicator, page = (query.validated_data[k] for k in ("unit", "indicator", "page"))
        unit = get_unit(request.user, cycle, unit_code)
        line = unit.lines.filter(indicator=indicator).first()
        if line is None:
            raise Http404
        blocks = trace_blocks(cycle, unit, line, {f"p{i}": page for i in range(4)})
        comparable = counts_comparable(indicator, indicators_of(cycle), blocks)
        return Response(
            {
                "unit": unit.region_code,
                "indicator": indicator,
                "status": line.status,
                "numerator": fmt_count(line.numerator) or None,
                "denominator": fmt_count(line.denominator) or None,
                "check": trace_check(line, blocks) if comparable else None,
                "sets": [
                    {
                        "model": b.model_label,
                        "numerator_label": b.numerator_label,
                        "denominator_label": b.denominator_label,
                        "columns": [path for path, _label in b.columns],
                        "numerator_count": b.numerator,
                        "count": b.total,
                        "page": b.page.number,
                        "pages": b.page.paginator.num_pages,
                        "rows": [row["raw"] for row in b.rows],
                    }
                    for b in blocks
                ],
            }
        )


class VisibleCycleMixin:
    """Results only of cycles the caller may see (spot-check hiding), on top of the region scope."""

    def get_queryset(self):
        visible = Cycle.objects.restrict(self.request.user).values("pk")
        return super().get_queryset().filter(cycle__in=visible)


class UnitResultViewSet(ListDetailMixin, VisibleCycleMixin, ScopedReadOnlyViewSet):
    """单位得分 of the caller's jurisdiction; the detail carries every indicator line."""

    queryset = UnitResult.objects.select_related("region")
    serializer_class = UnitResultSerializer
    detail_serializer_class = UnitResultDetailSerializer
    filterset_class = UnitResultFilterSet
    ordering_fields = ["total", "rank", "region_code", "level"]

    def with_detail(self, queryset):
        return queryset.select_related("cycle__catalogue_version").prefetch_related("lines")

    @file_action("application/pdf")
    def report(self, request, pk=None):
        """绩效诊断报告 (PDF) of this unit in its cycle."""
        from ...services.reports import report_for

        unit = self.get_object()
        cycle = Cycle.objects.select_related("root", "catalogue_version").get(pk=unit.cycle_id)
        return pdf_response(report_for(cycle, unit), f"report-{cycle.pk}-{unit.region_code}.pdf")

    @file_action("application/pdf")
    def notice(self, request, pk=None):
        """整改通知书 (PDF) of this unit, once the cycle is published and the unit has problem items."""
        from ...services.reports import notice_for

        unit = self.get_object()
        cycle = Cycle.objects.select_related("root", "catalogue_version").get(pk=unit.cycle_id)
        return pdf_response(notice_for(cycle, unit.region), f"notice-{cycle.pk}-{unit.region_code}.pdf")


class AnnualResultViewSet(VisibleCycleMixin, ScopedReadOnlyViewSet):
    """年度考核结果 (with a year-end cycle): spot-check mean, half-year, year-end, bonus, result,
    grade, rank and the suggested fiscal tilt."""

    queryset = AnnualResult.objects.select_related("region")
    serializer_class = AnnualResultSerializer
    filterset_class = AnnualResultFilterSet
    ordering_fields = ["result", "rank", "region_code", "level"]


ROUTES = [
    ("catalogue", CatalogueViewSet, "assessment-catalogue"),
    ("cycles", CycleViewSet, "assessment-cycle"),
    ("results", UnitResultViewSet, "assessment-result"),
    ("annual-results", AnnualResultViewSet, "assessment-annual-result"),
]
