"""The dashboard page (综治看板) of a region and its Excel export.

The page is a shell: its charts read /api/v1/dashboard/<code>/ (the same selector as the
export), so the numbers on screen, in the JSON and in the workbook are one computation.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from assessment.choices import Grade

from .exports import export_dashboard
from .selectors import MEASURES, breadcrumb, dashboard, dashboard_region


def _may_view(user) -> None:
    if not user.can("dashboard.view"):
        raise Http404


@login_required
def page(request, code: str | None = None):
    """综治看板: map, ranking, trend, radar, volumes and flags of the region's children."""
    user = request.user
    _may_view(user)
    region = dashboard_region(user, code)
    return render(
        request,
        "dashboard/dashboard.html",
        {
            "region": region,
            "crumbs": breadcrumb(user, region),
            "measures": [(key, label) for key, label in MEASURES.items()],
            "cycle_id": request.GET.get("cycle", ""),
            "measure": request.GET.get("measure", "") if request.GET.get("measure") in MEASURES else "",
            "labels": _labels(),
        },
    )


def _labels() -> dict[str, str]:
    """The words the page's script draws into its charts (translated here, like the page)."""
    return {
        "measures": {key: str(label) for key, label in MEASURES.items()},
        "code": _("区划代码"),
        "rank": _("名次"),
        "grade": _("等次"),
        "no_result": _("无结果"),
        "no_data": _("暂无数据"),
        "no_outline": _("以下单位没有边界数据，未在地图上绘出："),
        "no_cycle": _("尚无已计算的考核周期。"),
        "failed": _("看板数据加载失败，请刷新重试。"),
        "loaded": _("已加载"),
        "events": _("事件数"),
        "events_overdue": _("超期事件"),
        "cases": _("案件数"),
        "cases_overdue": _("超期案件"),
        "breakdown": _("得分明细"),
        "drill": _("下级"),
        "grid_end": _("网格是最末一级。"),
        "flags_none": _("暂无预警。"),
        "as_of": _("统计时间："),
        "not_counted": _("尚未统计（每小时统计一次）"),
        "grades": {key: str(label) for key, label in Grade.choices},
    }


@login_required
def export(request, code: str):
    """The data behind the map and the trend as an Excel workbook (audited)."""
    _may_view(request.user)
    board = dashboard(request.user, code, request.GET.get("cycle") or None)
    return export_dashboard(request.user, board)
