"""/api/v1/dashboard/…: the JSON behind the dashboard page (one document per region) and the
outlines of a region's children (one GeoJSON document).

Read-only, for committee staff, centre staff and administrators; a region outside the caller's
jurisdiction — and the whole endpoint for other roles — answers 404.
"""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.decorators.gzip import gzip_page
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ..selectors import VOLUME_MONTHS, children_outlines, dashboard, dashboard_region

CYCLE = OpenApiParameter(
    "cycle", OpenApiTypes.INT, description="考核周期 id（默认：最近的年终考核，否则最近的周期）", required=False
)
DASHBOARD_DOC = f"""综治看板数据：区划、面包屑、本年度和上年度已计算的考核周期、所选周期下级单位的得分与名次
（与排名页同一批已存结果）、年度结果与等次、各下级单位的运行指标（每千人事件数、事件超期率、调解成功率）、
趋势（本单位与同级中位数）、维度雷达（A/B/C/D 占满分百分比）、近{VOLUME_MONTHS}个月事件与案件量及超期数、数据可信度预警
（`flags.available` 为 false 表示核查尚未建成）。

Dashboard data of a region: breadcrumb, the computed cycles of this and the previous year, the children's
stored scores and ranks for the selected cycle (the same rows as the ranking pages), annual results and
grades, operational measures per child, trend (unit vs peer median), dimension radar, monthly event and
case volumes with overdue counts, and data-credibility flags (`flags.available` false: not built yet)."""


class DashboardAccess:
    """Committee staff, centre staff and administrators; for anyone else the endpoint does not exist."""

    permission_classes = [IsAuthenticated]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not request.user.can("dashboard.view"):
            raise NotFound


@method_decorator(gzip_page, name="dispatch")
class DashboardView(DashboardAccess, APIView):
    @extend_schema(
        operation_id="dashboard_retrieve",
        parameters=[CYCLE],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description=DASHBOARD_DOC), 404: None},
        description=DASHBOARD_DOC,
        tags=["dashboard"],
    )
    def get(self, request, code: str | None = None):
        return Response(dashboard(request.user, code, request.query_params.get("cycle")).data)


class OwnDashboardView(DashboardView):
    @extend_schema(
        operation_id="dashboard_own_retrieve",
        parameters=[CYCLE],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description=DASHBOARD_DOC)},
        description="本人所在区划的看板数据（同 /api/v1/dashboard/{code}/）。",
        tags=["dashboard"],
    )
    def get(self, request, code: str | None = None):
        return super().get(request, None)


@method_decorator(gzip_page, name="dispatch")
class OutlinesView(DashboardAccess, APIView):
    @extend_schema(
        operation_id="dashboard_outlines",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="GeoJSON FeatureCollection"), 404: None},
        description="下级区划边界（GeoJSON FeatureCollection，导入时已简化；properties: code, name）。"
        " The outlines of a region's children as one GeoJSON document, simplified on import.",
        tags=["dashboard"],
    )
    def get(self, request, code: str):
        response = Response(children_outlines(request.user, dashboard_region(request.user, code)))
        response["Cache-Control"] = "private, max-age=3600"
        return response
