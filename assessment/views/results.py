"""Result pages, mounted at /assessment/ (namespace "assessment"): the cycles, a cycle with its
run, progress, blocking items, finalisation and spot-check sample; the ranking of a level
under a parent; a unit's breakdown; the records behind one line (trace).

Every lookup goes through `restrict(user)` (see assessment.selectors.results), so a cycle, a unit or a
line outside the user's jurisdiction answers 404 on every page, action and export. Writes
call assessment.services, which checks the role capability and the jurisdiction again.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from governance.codes import Level
from governance.forms import apply_errors
from governance.i18n import lazy_message
from governance.scoping import in_jurisdiction
from grids.models import Region

from .. import exports, services, transitions
from ..choices import DIMENSION_POINTS, CycleKind, CycleStatus
from ..models import RectificationItem, ReportBundle, ScoreAppeal, WeightProfile
from ..pdf import flag_summary
from ..selectors import cycle_flags
from ..selectors.results import (
    ACTIVE_STATUSES,
    accountability,
    annual_queryset,
    blocking_for,
    counts_comparable,
    dimension_totals,
    failing_units,
    get_cycle,
    get_line,
    get_unit,
    group_blocking,
    indicators_of,
    line_rows,
    progress_payload,
    ranking_queryset,
    ranking_rows,
    ranking_scope,
    sample_of,
    trace_blocks,
    trace_check,
    visible_annual,
    visible_cycles,
    visible_results,
)
from ..services import AssessmentError, appeals
from ..services.reports import bundle_region

PAGE_SIZE = 50
RANKING_PAGE_SIZE = 100
BLOCKING_UNITS_SHOWN = 100
QUARTERS = [
    ("", "—"),
    (1, gettext_lazy("第一季度")),
    (2, gettext_lazy("第二季度")),
    (3, gettext_lazy("第三季度")),
    (4, gettext_lazy("第四季度")),
]


# --- Forms -----------------------------------------------------------------------------------------------


class CycleCreateForm(forms.Form):
    """新建考核周期: kind, year, quarter (spot-checks), the organising region in the user's jurisdiction."""

    kind = forms.ChoiceField(label=gettext_lazy("考核类型"), choices=CycleKind.choices)
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=gettext_lazy("季度"),
        choices=QUARTERS,
        coerce=int,
        required=False,
        empty_value=None,
        help_text=gettext_lazy("仅季度抽查需要。"),
    )
    root = forms.ModelChoiceField(
        label=gettext_lazy("组织单位"), queryset=Region.objects.none(), to_field_name="code", empty_label=None
    )
    check_date = forms.DateField(
        label=gettext_lazy("检查日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=lazy_message(
            gettext_noop("季度抽查：乡镇（街道）在此日期前看不到抽查安排；不填则为季度结束后第%(days)s天。"),
            days=lambda: settings.ASSESSMENT_START_DAYS_AFTER_PERIOD,
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        regions = Region.objects.restrict(user).filter(Q(level__lte=Level.COUNTY) | Q(pk=user.region_id))
        self.fields["root"].queryset = regions.order_by("code")
        self.fields["root"].label_from_instance = lambda r: f"{r.name}（{r.code}）"
        if not self.is_bound:
            self.initial.setdefault("year", timezone.localdate().year)
            if user.region_id:
                self.initial.setdefault("root", user.region.code)


class CheckDateForm(forms.Form):
    check_date = forms.DateField(label=gettext_lazy("检查日期"), widget=forms.DateInput(attrs={"type": "date"}))


def _may_run(user, cycle) -> bool:
    return user.can("assessment.run") and in_jurisdiction(user, cycle.region_code) and not cycle.is_frozen


def _may_finalise(user, cycle) -> bool:
    return (
        user.can("assessment.finalise")
        and in_jurisdiction(user, cycle.region_code)
        and cycle.status == CycleStatus.COMPUTED
    )


def _may_publish(user, cycle) -> bool:
    return (
        user.can("assessment.finalise")
        and in_jurisdiction(user, cycle.region_code)
        and cycle.is_frozen
        and not cycle.is_published
    )


def _error_messages(request, exc: AssessmentError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- Cycles ----------------------------------------------------------------------------------------------


@login_required
def cycle_list(request):
    """考核周期: the cycles visible to the user; a form to create one for those who run assessments."""
    user = request.user
    can_create = user.can("assessment.run")
    form = CycleCreateForm(request.POST or None, user=user) if can_create else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            existed = (
                visible_cycles(user)
                .filter(kind=data["kind"], year=data["year"], root=data["root"])
                .filter(quarter=data["quarter"] if data["kind"] == CycleKind.SPOT_CHECK else None)
                .exists()
            )
            try:
                cycle = services.create_cycle(
                    kind=data["kind"],
                    year=data["year"],
                    quarter=data["quarter"],
                    root=data["root"],
                    user=user,
                    check_date=data["check_date"],
                )
            except AssessmentError as exc:
                apply_errors(form, exc)
            else:
                if existed:
                    messages.info(request, _("该考核周期已存在，已为您打开。"))
                else:
                    messages.success(request, _("考核周期已创建。"))
                return redirect("assessment:cycle-detail", pk=cycle.pk)
    selected = {key: request.GET.get(key, "") for key in ("kind", "year", "status")}
    cycles = visible_cycles(user)
    if selected["kind"] in CycleKind.values:
        cycles = cycles.filter(kind=selected["kind"])
    if selected["status"] in CycleStatus.values:
        cycles = cycles.filter(status=selected["status"])
    if selected["year"].isdigit():
        cycles = cycles.filter(year=int(selected["year"]))
    page = Paginator(cycles.order_by("-year", "-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessment/results/cycle_list.html",
        {
            "page_obj": page,
            "form": form,
            "selected": selected,
            "kind_options": CycleKind.choices,
            "status_options": CycleStatus.choices,
            "active_statuses": ACTIVE_STATUSES,
        },
    )


@login_required
def cycle_detail(request, pk: int):
    user = request.user
    cycle = get_cycle(user, pk)
    show_sample = cycle.kind == CycleKind.SPOT_CHECK and services.sample_visible_to(cycle, user)
    blocking = [] if cycle.is_frozen else blocking_for(cycle, user)
    general, units = group_blocking(blocking, BLOCKING_UNITS_SHOWN)
    results = visible_results(user, cycle)
    own_unit = results.filter(region_id=user.region_id).first() if user.region_id else None
    may_run = _may_run(user, cycle)
    error = ""
    if cycle.status == CycleStatus.FAILED and may_run:
        error = next((line for line in reversed(cycle.error.strip().splitlines()) if line.strip()), "")
    return render(
        request,
        "assessment/results/cycle_detail.html",
        {
            "cycle": cycle,
            "running": cycle.status in ACTIVE_STATUSES,
            "may_run": may_run,
            "may_finalise": _may_finalise(user, cycle),
            "may_publish": _may_publish(user, cycle),
            "may_bundle": bool(cycle.runs) and user.can("assessment.run"),
            "bundle": ReportBundle.objects.restrict(user)
            .filter(cycle=cycle, region_code=bundle_region(user, cycle))
            .first(),
            "may_set_check_date": may_run and cycle.kind == CycleKind.SPOT_CHECK,
            "check_date_form": CheckDateForm(initial={"check_date": cycle.check_date}),
            "blocking": blocking,
            "blocking_general": general,
            "blocking_units": units,
            "blocking_unit_total": len({item["unit"] for item in blocking if item.get("unit")}),
            "show_sample": show_sample,
            "sample": sample_of(cycle, user) if show_sample else [],
            "units": results.count(),
            "own_unit": own_unit,
            "error": error,
            # The organiser (staff at or above the cycle's root) forms the assessor groups.
            "may_manage_groups": transitions.may(user, "assessment.group", transitions.COVERS, cycle.region_code),
        },
    )


@login_required
@never_cache
def cycle_progress(request, pk: int):
    """The poller's JSON: status, percentage and note of the running computation."""
    return JsonResponse(progress_payload(get_cycle(request.user, pk)))


def _cycle_action(request, pk: int, service, done: str):
    """A POST on a cycle through a service: its refusals as messages, back to the cycle page."""
    cycle = get_cycle(request.user, pk)
    try:
        service(cycle, user=request.user)
    except AssessmentError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, done)
    return redirect("assessment:cycle-detail", pk=cycle.pk)


@login_required
@require_POST
def cycle_run(request, pk: int):
    """开始计算 / 重新计算: queue the computation (services.start_run)."""
    return _cycle_action(request, pk, services.start_run, _("已提交计算，完成后页面自动刷新。"))


@login_required
@require_POST
def cycle_finalise(request, pk: int):
    """定稿: freeze the results (services.finalise refuses while items block it); publishing follows."""
    return _cycle_action(request, pk, services.finalise, _("考核结果已定稿，请核对后公布。"))


@login_required
@require_POST
def cycle_check_date(request, pk: int):
    """A spot-check's check date: until then the sampled townships do not see it (四不两直)."""
    cycle = get_cycle(request.user, pk)
    form = CheckDateForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("assessment:cycle-detail", pk=cycle.pk)
    try:
        services.set_check_date(cycle, user=request.user, check_date=form.cleaned_data["check_date"])
    except AssessmentError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _("检查日期已更新。"))
    return redirect("assessment:cycle-detail", pk=cycle.pk)


# --- Ranking ---------------------------------------------------------------------------------------------


@login_required
def ranking(request, pk: int):
    """排名: the units at a level under a parent, with the annual result of a year-end cycle;
    `?format=xlsx` exports every row."""
    user = request.user
    cycle = get_cycle(user, pk)
    scope = ranking_scope(user, cycle, request.GET.get("level"), request.GET.get("parent"))
    units = ranking_queryset(user, cycle, scope)
    is_year_end = cycle.kind == CycleKind.YEAR_END
    failing = failing_units(user, cycle, scope) if is_year_end else []
    if request.GET.get("format") == "xlsx":
        annual = {a.region_code: a for a in annual_queryset(user, cycle, scope)} if is_year_end else {}
        return exports.export_ranking(user, cycle, scope, ranking_rows(list(units), annual), failing)
    page = Paginator(units, RANKING_PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    annual = {}
    if is_year_end and shown:
        codes = [u.region_code for u in shown]
        annual = {a.region_code: a for a in annual_queryset(user, cycle, scope).filter(region_code__in=codes)}
    return render(
        request,
        "assessment/results/ranking.html",
        {
            "cycle": cycle,
            "scope": scope,
            "page_obj": page,
            "rows": ranking_rows(shown, annual, start=page.start_index()),
            "is_year_end": is_year_end,
            "failing": failing,
            "dimensions": list(DIMENSION_POINTS),
        },
    )


# --- A unit ----------------------------------------------------------------------------------------------


@login_required
def unit_detail(request, pk: int, code: str):
    """得分明细: every indicator line of one unit, dimension subtotals, department accountability;
    `?format=xlsx` exports them."""
    user = request.user
    cycle = get_cycle(user, pk)
    unit = get_unit(user, cycle, code)
    indicators = indicators_of(cycle)
    rows = line_rows(unit, indicators)
    dimensions = dimension_totals(unit, rows)
    departments = accountability(rows, indicators)
    if request.GET.get("format") == "xlsx":
        return exports.export_unit(user, cycle, unit, rows, dimensions, departments)
    annual = None
    if cycle.kind == CycleKind.YEAR_END:
        annual = visible_annual(user, cycle).filter(region_code=unit.region_code).first()
    peers_visible = bool(unit.parent_code) and in_jurisdiction(user, unit.parent_code)
    after = after_scores_context(user, cycle, unit, rows)
    return render(
        request,
        "assessment/results/unit_detail.html",
        {
            **after,
            "cycle": cycle,
            "unit": unit,
            "rows": rows,
            "any_tolerance": any(r.tolerance for r in rows),
            "dimensions": dimensions,
            "departments": departments,
            "annual": annual,
            "peers_visible": peers_visible,
            "profile_name": WeightProfile.objects.filter(code=unit.profile).values_list("name", flat=True).first(),
            "flags": [{**f, "name": indicators.get(f["indicator"], {}).get("name_zh", "")} for f in unit.flags or []],
        },
    )


def after_scores_context(user, cycle, unit, rows) -> dict:
    """What the breakdown shows after the scores: each line's appeal (and whether the unit may
    still appeal), the unit's data-credibility flags, its rectification items with the 回头看
    mark and the notice. A fixed number of queries whatever the number of lines."""
    unit_appeals = {
        a.indicator: a for a in ScoreAppeal.objects.restrict(user).filter(cycle=cycle, region_code=unit.region_code)
    }
    for row in rows:
        row.appeal = unit_appeals.get(row.code)
    items = list(
        RectificationItem.objects.restrict(user).filter(cycle=cycle, region_code=unit.region_code).order_by("indicator")
    )
    return {
        "may_appeal": appeals.may_appeal(user, cycle, unit.region_code),
        "appealable": set(appeals.APPEALABLE_LINES),
        "credibility": [(f, flag_summary(f)) for f in cycle_flags(cycle=cycle, unit_codes=[unit.region_code])],
        "items": items,
        "has_notice": bool(cycle.published_at and items),
    }


def _page_urls(request, block) -> None:
    """Links to the previous and next page of one record set (each set pages on its own)."""

    def url(number: int) -> str:
        query = request.GET.copy()
        query[block.page_param] = str(number)
        return "?" + query.urlencode()

    block.prev_url = url(block.page.previous_page_number()) if block.page.has_previous() else ""
    block.next_url = url(block.page.next_page_number()) if block.page.has_next() else ""


@login_required
def unit_trace(request, pk: int, code: str, indicator: str):
    """数据来源: the records counted in one line's numerator and denominator, paged."""
    user = request.user
    cycle = get_cycle(user, pk)
    unit, line = get_line(user, cycle, code, indicator)
    indicators = indicators_of(cycle)
    blocks = trace_blocks(cycle, unit, line, request.GET)
    for block in blocks:
        _page_urls(request, block)
    comparable = counts_comparable(indicator, indicators, blocks)
    appeal = ScoreAppeal.objects.restrict(user).filter(cycle=cycle, region_code=unit.region_code, indicator=indicator)
    return render(
        request,
        "assessment/results/trace.html",
        {
            "appeal": appeal.first(),
            "cycle": cycle,
            "unit": unit,
            "line": line,
            "meta": indicators.get(indicator, {}),
            "blocks": blocks,
            "comparable": comparable,
            "check": trace_check(line, blocks) if comparable else None,
        },
    )
