"""The dashboard page (综治看板) of a region and its Excel export, and the per-role home page (工作台).

The page is a shell: its charts read /api/v1/dashboard/<code>/ (the same selector as the
export), so the numbers on screen, in the JSON and in the workbook are one computation.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from assessment.choices import Grade
from governance.choices import Role
from governance.codes import Level
from governance.models import Department, User
from grids.choices import SizingFlag
from grids.events.views.inbox import event_card
from grids.models import Region
from grids.selectors import child_summaries, subtree_level_counts, summed_flags

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


# --- The home page (工作台): every app's work for the role, on one page -------------------------------


@login_required
def home(request):
    """The working page of each role: their region, what lies under it and what needs attention."""
    user: User = request.user
    if user.role == Role.COMMITTEE_STAFF:
        return redirect("dashboard:index")  # committee staff decide from the dashboard (SPEC §5.5)
    if user.role == Role.MEDIATOR:
        return redirect("disputes:board")  # a mediator's day is their own cases, overdue first
    region = user.region
    context = {"region": region, "role": user.get_role_display() if user.role else ""}
    if region is not None:
        context.update(_region_overview(user, region))
    if user.role == Role.GRID_WORKER:
        context["my_grids"] = _worker_grids(user)
    if user.department_id:
        context["department"] = user.department
        context["sibling_departments"] = Department.objects.restrict(user).filter(region=user.department.region_id)
    if user.can("user.view"):
        context["users_by_role"] = _users_by_role(user)
    context["event_card"] = event_card(user)  # open / overdue events for the role's queue (one query)
    return render(request, f"dashboard/home_{_home_template(user)}.html", context)


def _home_template(user: User) -> str:
    if user.role == Role.GRID_WORKER:
        return "grid_worker"
    if user.role == Role.DEPARTMENT_HANDLER:
        return "department"
    return "overview"


def _region_overview(user: User, region: Region) -> dict:
    """Levels below the region, its children with their grid summaries, and the sizing flags in total.

    One grouped scan of the subtree's grids (child_summaries) serves the children, the grid count
    and the flag totals; only the regions above the grids are counted separately."""
    children = list(Region.objects.restrict(user).filter(parent=region).order_by("code"))
    summaries = child_summaries(region, user)
    for child in children:
        child.summary = summaries.get(child.code, {})
    grids = sum(row["grids"] for row in summaries.values()) if region.level < Level.GRID else None
    level_counts = subtree_level_counts(region, user, grids=grids)
    flag_totals = summed_flags(summaries)
    return {
        "level_counts": [(Level(level).label, n) for level, n in sorted(level_counts.items())],
        "children": children,
        "flag_totals": [(SizingFlag(flag).label, flag, n) for flag, n in flag_totals.items()],
    }


def _worker_grids(user: User) -> list[Region]:
    grids = list(Region.objects.restrict(user).grids().order_by("code"))
    for grid in grids:
        grid.flags = [SizingFlag(flag).label for flag in grid.sizing_flags()]
    return grids


def _users_by_role(user: User) -> list[tuple[str, int, int]]:
    rows = (
        User.objects.restrict(user)
        .order_by()
        .values("role")
        .annotate(n=Count("pk"), locked=Count("pk", filter=Q(locked_until__isnull=False)))
    )
    labels = dict(Role.choices)
    return [(labels.get(row["role"], row["role"]), row["n"], row["locked"]) for row in rows]
