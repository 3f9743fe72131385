"""The innovation awards page (创新加分)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import services
from ..forms import AwardForm
from ..models import InnovationAward
from .inputs import PAGE_SIZE, _require, _year, can_view, submit


@login_required
@require_http_methods(["GET", "POST"])
def award_list(request):
    """创新加分 of a year, and the form to award (or change) one."""
    user = request.user
    _require(can_view(user))
    year = _year(request)
    can_award = user.can("assessment.award")
    form = AwardForm(request.POST or None, user=user, initial={"year": year}) if can_award else None
    if request.method == "POST":
        _require(can_award)
        done = submit(
            request,
            form,
            lambda d: services.award_record(
                user=user, unit=d["unit"], year=d["year"], points=d["points"], reason=d["reason"]
            )[0],
            _("创新加分已记录。"),
            lambda award: redirect(f"{reverse('assessment:award-list')}?year={award.year}"),
        )
        if done is not None:
            return done
    awards = (
        InnovationAward.objects.restrict(user)
        .filter(year=year)
        .select_related("unit", "awarded_by")
        .order_by("region_code")
    )
    page = Paginator(awards, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessment/inputs/award_list.html",
        {"page_obj": page, "form": form, "year": year, "years": range(timezone.localdate().year, 2019, -1)},
    )
