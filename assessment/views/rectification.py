"""Pages of the rectification ledger (整改台账): the list, an item with the unit's report and the
assessor's recheck, the evidence and the rectification notice.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.files import pdf_response, stored_file_response
from governance.forms import apply_errors

from .. import services, transitions
from ..choices import RectificationStatus
from ..forms import RectificationReportForm, RectificationReturnForm
from ..models import RectificationItem
from .inputs import _indicator_names, _require, _status_list, can_view


def _items(user):
    return RectificationItem.objects.restrict(user).select_related("cycle", "cycle__root", "unit", "closed_by")


@login_required
def rectification_list(request):
    """整改台账: problem items of finalised cycles, overdue first."""
    user = request.user
    _require(can_view(user))
    overdue = Q(status=RectificationStatus.OPEN, due_on__lt=timezone.localdate())  # services.rectification_overdue
    items = _items(user).annotate(overdue=ExpressionWrapper(overdue, output_field=BooleanField()))
    items = items.order_by("due_on", "region_code", "indicator")
    if request.GET.get("status") == "overdue":
        items = items.filter(overdue)
    totals = _items(user).aggregate(
        open=Count("pk", filter=Q(status=RectificationStatus.OPEN)),
        reported=Count("pk", filter=Q(status=RectificationStatus.REPORTED)),
        closed=Count("pk", filter=Q(status=RectificationStatus.CLOSED)),
        overdue=Count("pk", filter=overdue),
    )
    return _status_list(request, items, RectificationStatus, "rectification_list.html", totals=totals)


def _rectification_context(request, item, report_form=None, return_form=None) -> dict:
    steps = transitions.RECTIFICATIONS.allowed_names(request.user, item)
    item.overdue = services.rectification_overdue(item)
    return {
        "item": item,
        "has_notice": item.cycle.published_at is not None,
        "indicator_name": _indicator_names().get(item.indicator, ""),
        "report_form": report_form or (RectificationReportForm() if "report" in steps else None),
        "can_close": "close" in steps,
        "return_form": return_form or (RectificationReturnForm() if "return" in steps else None),
    }


@login_required
def rectification_detail(request, pk: int):
    user = request.user
    _require(can_view(user))
    item = get_object_or_404(_items(user), pk=pk)
    return render(request, "assessment/inputs/rectification_detail.html", _rectification_context(request, item))


@login_required
@require_POST
def rectification_act(request, pk: int, step: str):
    """report (the unit), close or return (an assessor) — the rules are transitions.RECTIFICATIONS."""
    user = request.user
    _require(can_view(user))
    item = get_object_or_404(_items(user), pk=pk)
    done = {
        "report": _("整改报告已报送。"),
        "close": _("已复查销号。"),
        "return": _("已退回重新整改。"),
    }
    if step not in done:
        raise Http404
    report_form = return_form = None
    try:
        if step == "report":
            report_form = RectificationReportForm(request.POST, request.FILES)
            if not report_form.is_valid():
                raise _Invalid
            data = report_form.cleaned_data
            services.rectification_report(user=user, item=item, report=data["report"], evidence=data["evidence"])
        elif step == "close":
            services.rectification_close(user=user, item=item)
        else:
            return_form = RectificationReturnForm(request.POST)
            if not return_form.is_valid():
                raise _Invalid
            services.rectification_return(user=user, item=item, note=return_form.cleaned_data["note"])
    except _Invalid:
        pass
    except services.InputError as exc:
        form = report_form or return_form
        if form is not None:
            apply_errors(form, exc)
        else:
            messages.error(request, " ".join(exc.messages))
            return redirect("assessment:rectification-detail", pk=pk)
    else:
        messages.success(request, done[step])
        return redirect("assessment:rectification-detail", pk=pk)
    return render(
        request,
        "assessment/inputs/rectification_detail.html",
        _rectification_context(request, item, report_form=report_form, return_form=return_form),
    )


@login_required
def rectification_evidence(request, pk: int):
    """The rectification report's evidence file (404 outside the jurisdiction)."""
    _require(can_view(request.user))
    return stored_file_response(get_object_or_404(_items(request.user), pk=pk).evidence)


@login_required
def rectification_notice(request, pk: int):
    """整改通知书 of the item's unit in its cycle, issued with the publication."""
    from ..services.reports import notice_for

    _require(can_view(request.user))
    item = get_object_or_404(_items(request.user).select_related("cycle__root", "unit"), pk=pk)
    return pdf_response(notice_for(item.cycle, item.unit), f"notice-{item.cycle_id}-{item.region_code}.pdf")


class _Invalid(Exception):
    """A form did not validate; the page is shown again with its errors."""
