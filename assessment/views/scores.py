"""Pages of the assessor groups, their scoring and the reviews (评分审核) of the lines that block
finalisation.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from governance.forms import apply_errors
from grids.models import Region

from .. import selectors, services
from ..forms import GroupForm, ReviewForm, ScoreUnitForm
from ..models import (
    AssessorGroup,
    AssessorScore,
    Cycle,
    Indicator,
    ScoreReview,
)
from .inputs import PAGE_SIZE, _indicator_names, _int, _require, can_view, submit


def _group_kwargs(form) -> dict:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "is_third_party": data["is_third_party"],
        "members": list(data["members"]),
        "units": list(data["units"]),
    }


@login_required
@require_http_methods(["GET", "POST"])
def group_list(request):
    """考核组 of the cycles the user organises (at or above their root), and a form to add one."""
    user = request.user
    _require(can_view(user))
    can_create = user.can("assessment.group")
    form = None
    if can_create:
        form = GroupForm(request.POST or None, user=user)
    if request.method == "POST":
        _require(can_create)
        if form.is_valid():
            try:
                group = services.group_save(user=user, cycle=form.cleaned_data["cycle"], **_group_kwargs(form))
            except services.InputError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("考核组“%(name)s”已建立。") % {"name": group.name})
                return redirect("assessment:group-list")
    groups = (
        AssessorGroup.objects.restrict(user)
        .select_related("cycle", "cycle__root")
        .prefetch_related(
            Prefetch("members", queryset=_members_queryset(user)),
            Prefetch("units", queryset=Region.objects.restrict(user).order_by("code")),
        )
        .order_by("-cycle__year", "-cycle__created_at", "name")
    )
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessment/inputs/group_list.html",
        {"page_obj": page, "form": form, "can_create": can_create},
    )


def _members_queryset(user):
    from governance.models import User

    return User.objects.restrict(user).select_related("region").order_by("username")


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request, pk: int):
    user = request.user
    _require(can_view(user))
    group = get_object_or_404(AssessorGroup.objects.restrict(user).select_related("cycle", "cycle__root"), pk=pk)
    _require(user.can("assessment.group"))
    form = GroupForm(request.POST or None, user=user, group=group)
    done = submit(
        request,
        form,
        lambda _data: services.group_save(user=user, cycle=group.cycle, group=group, **_group_kwargs(form)),
        _("考核组已保存。"),
        lambda _group: redirect("assessment:group-list"),
    )
    if done is not None:
        return done
    return render(request, "assessment/inputs/group_form.html", {"group": group, "form": form})


@login_required
def scoring(request):
    """考核组评分: the assessor's groups, their units and how many indicators are scored."""
    user = request.user
    _require(user.can("assessment.score"))
    groups = list(
        selectors.groups_of_assessor(user)
        .select_related("cycle", "cycle__root")
        .prefetch_related(Prefetch("units", queryset=Region.objects.restrict(user).order_by("code")))
        .order_by("-cycle__year", "-cycle__created_at", "name")
    )
    scored = {
        (row["group_id"], row["unit_id"]): row["n"]
        for row in AssessorScore.objects.restrict(user)
        .filter(group__in=groups)
        .values("group_id", "unit_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    total = Indicator.objects.filter(rule="assessed").count()
    for group in groups:
        group.unit_rows = [(unit, scored.get((group.pk, unit.pk), 0)) for unit in group.units.all()]
    return render(request, "assessment/inputs/scoring.html", {"groups": groups, "total": total})


@login_required
@require_http_methods(["GET", "POST"])
def score_unit(request, group_pk: int, code: str):
    """One unit's scores by one group: every qualitative indicator, 0–100 with a note."""
    user = request.user
    _require(user.can("assessment.score"))
    group = get_object_or_404(selectors.groups_of_assessor(user).select_related("cycle", "cycle__root"), pk=group_pk)
    unit = get_object_or_404(group.units.restrict(user), code=code)
    indicators = selectors.assessed_indicators()
    existing = {
        s.indicator: s
        for s in AssessorScore.objects.restrict(user).filter(group=group, unit=unit).select_related("scored_by")
    }
    frozen = group.cycle.is_frozen
    form = ScoreUnitForm(request.POST or None, indicators=indicators, existing=existing)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                for code_, score, note in form.entries():
                    try:
                        services.score_record(
                            user=user, group=group, unit=unit, indicator=code_, score=score, note=note
                        )
                    except services.InputError as exc:
                        if hasattr(exc, "error_dict"):
                            mapped = {"score": f"score_{code_}", "note": f"note_{code_}"}
                            raise services.InputError(
                                {mapped.get(k, k): v for k, v in exc.message_dict.items()}
                            ) from exc
                        raise
        except services.InputError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("评分已保存。"))
            return redirect("assessment:score-unit", group_pk=group.pk, code=unit.code)
    return render(
        request,
        "assessment/inputs/score_unit.html",
        {"group": group, "unit": unit, "form": form, "frozen": frozen},
    )


@login_required
@require_http_methods(["GET", "POST"])
def review_list(request):
    """评分审核: lines scored by fewer than two groups or spread over 15 points, the decisions
    taken, and the form to accept a line or mark it not applicable."""
    user = request.user
    _require(can_view(user))
    cycles = list(Cycle.objects.restrict(user).select_related("root").order_by("-year", "-created_at")[:50])
    selected = _int(request.GET.get("cycle") or request.POST.get("cycle"), 0)
    cycle = next((c for c in cycles if c.pk == selected), cycles[0] if cycles else None)
    can_review = user.can("assessment.review")
    form = None
    if can_review and cycle is not None:
        initial = {key: request.GET.get(key) for key in ("unit", "indicator", "kind") if request.GET.get(key)}
        form = ReviewForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST":
        _require(can_review and cycle is not None)
        done = submit(
            request,
            form,
            lambda d: services.review_record(
                user=user, cycle=cycle, unit=d["unit"], indicator=d["indicator"], kind=d["kind"], reason=d["reason"]
            ),
            _("审核决定已记录。"),
            lambda _review: redirect(f"{reverse('assessment:review-list')}?cycle={cycle.pk}"),
        )
        if done is not None:
            return done
    page = lines = reviews = None
    show_all = request.GET.get("all") == "1"
    if cycle is not None:
        lines = selectors.score_lines(user=user, cycle=cycle).annotate(spread=F("high") - F("low"))
        if not show_all:
            lines = lines.filter(Q(groups__lt=2) | Q(spread__gt=services.SPREAD_LIMIT))
        page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
        reviews = list(
            ScoreReview.objects.restrict(user)
            .filter(cycle=cycle)
            .select_related("unit", "reviewer")
            .order_by("-reviewed_at")
        )
        decided = {(r.unit.code, r.indicator) for r in reviews}
        names = _indicator_names()
        for line in page.object_list:
            line["name"] = names.get(line["indicator"], "")
            line["flagged"] = line["groups"] < 2 or line["spread"] > services.SPREAD_LIMIT
            line["reviewed"] = (line["unit__code"], line["indicator"]) in decided
    return render(
        request,
        "assessment/inputs/review_list.html",
        {
            "cycles": cycles,
            "cycle": cycle,
            "page_obj": page,
            "reviews": reviews,
            "form": form,
            "show_all": show_all,
            "frozen": cycle is not None and cycle.is_frozen,
        },
    )
