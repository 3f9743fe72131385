"""Pages of the monthly core table (核心指标月报): the year's grid of townships and months, and the
form of one township's month.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from governance.codes import Level
from governance.forms import apply_errors
from grids.models import Region

from .. import selectors, services
from ..forms import MonthlyReportForm
from ..models import REPORT_VALUE_FIELDS, MonthlyReport, month_deadline
from .inputs import PAGE_SIZE, _require, _under, _year, can_view


def _townships(user, under: str = ""):
    townships = Region.objects.restrict(user).filter(level=Level.TOWNSHIP)
    return townships.filter(code__under=under) if under else townships


@login_required
def report_list(request):
    """核心指标月报: townships × the twelve months of a year — on time, late, missing, not yet due."""
    user = request.user
    _require(can_view(user) or user.can("assessment.report"))
    now = timezone.now()
    year = _year(request)
    under = _under(request)
    townships = _townships(user, under)
    page = Paginator(townships.select_related("parent").order_by("code"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.report_grid(user=user, townships=list(page.object_list), year=year, now=now)
    return render(
        request,
        "assessment/inputs/report_list.html",
        {
            "page_obj": page,
            "rows": rows,
            "year": year,
            "years": range(timezone.localdate(now).year, 2019, -1),
            "months": selectors.report_months(year),
            "under": under,
            "counties": Region.objects.restrict(user).filter(level=Level.COUNTY).order_by("code"),
            "totals": selectors.report_totals(user=user, townships=townships, year=year, now=now),
            "can_report": user.can("assessment.report"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_form(request, code: str, year: int, month: int):
    """One township's table for one month: the form until its deadline, read-only after."""
    user = request.user
    _require(can_view(user) or user.can("assessment.report"))
    township = get_object_or_404(
        Region.objects.restrict(user).select_related("parent"), code=code, level=Level.TOWNSHIP
    )
    try:
        first = dt.date(year, month, 1)
    except ValueError as exc:
        raise Http404 from exc
    now = timezone.now()
    report = MonthlyReport.objects.restrict(user).filter(township=township, month=first).first()
    deadline = report.deadline if report else month_deadline(first)
    started = first <= timezone.localdate(now)
    editable = (
        user.can("assessment.report") and started and (report is None or services.report_is_correctable(report, now))
    )
    if request.method == "POST":
        _require(user.can("assessment.report"))
        form = MonthlyReportForm(request.POST)
        if form.is_valid():
            try:
                report, created = services.report_submit(
                    user=user, township=township, month=first, values=form.cleaned_data, now=now
                )
            except services.InputError as exc:
                apply_errors(form, exc)
            else:
                if created and report.is_late:
                    messages.warning(request, _("核心指标表已报送（逾期报送）。"))
                elif created:
                    messages.success(request, _("核心指标表已报送。"))
                else:
                    messages.success(request, _("核心指标表已更正。"))
                return redirect("assessment:report-form", code=code, year=year, month=month)
    else:
        initial = {name: getattr(report, name) for name in REPORT_VALUE_FIELDS} if report else None
        form = MonthlyReportForm(initial=initial)
    return render(
        request,
        "assessment/inputs/report_form.html",
        {
            "township": township,
            "month": first,
            "report": report,
            "deadline": deadline,
            "state": selectors.report_state(report, first, now, deadline),
            "corrected": report is not None and report.updated_at - report.submitted_at > dt.timedelta(seconds=5),
            "form": form,
            "editable": editable,
            "started": started,
        },
    )
