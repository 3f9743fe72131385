"""Pages after the scores (SPEC §5.4), mounted at /assessment/: publishing a cycle, appeals on
one indicator line (file, decide, evidence), a data-credibility flag with its records, a unit's
diagnostic report and rectification notice (PDF), and the ZIP of a cycle's reports built by a
Celery job with a progress bar.

Lookups go through `restrict(user)` (assessment.selectors.results for cycles and units), so anything
outside the user's jurisdiction answers 404; the services check who may act again.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from governance.files import pdf_response, stored_file_response
from governance.forms import apply_errors

from .. import services, transitions
from ..choices import AppealStatus
from ..forms import AppealDecisionForm, ScoreAppealForm
from ..models import CredibilityFlag, ReportBundle, ScoreAppeal
from ..pdf import flag_summary
from ..rules import DECISION_WORKING_DAYS
from ..selectors.flags import flag_columns, flag_queryset, flag_records
from ..selectors.results import get_cycle, get_line, get_unit, indicator_name, indicators_of
from ..services import AssessmentError, appeals
from ..services.reports import bundle_payload, bundle_region, notice_for, report_for, request_bundle
from .inputs import submit
from .results import _cycle_action

PAGE_SIZE = 50


@login_required
@require_POST
def cycle_publish(request, pk: int):
    """公布: results shown to the units, rectification items and notices opened, appeals open."""
    return _cycle_action(request, pk, services.publish, _("考核结果已公布，整改通知书已生成，申诉期开始计算。"))


# --- Appeals ---------------------------------------------------------------------------------------------


def _appeals(user):
    return ScoreAppeal.objects.restrict(user).select_related("cycle", "cycle__root", "unit", "filed_by", "decided_by")


@login_required
def appeal_list(request):
    """考核申诉: the appeals of the user's jurisdiction, the undecided ones first."""
    appeals_qs = _appeals(request.user).order_by("status", "decide_by", "pk")
    status = request.GET.get("status", "")
    if status in AppealStatus.values:
        appeals_qs = appeals_qs.filter(status=status)
    page = Paginator(appeals_qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessment/after/appeal_list.html",
        {"page_obj": page, "status": status, "status_options": AppealStatus.choices},
    )


@login_required
@require_http_methods(["GET", "POST"])
def appeal_new(request, pk: int, code: str, indicator: str):
    """申诉 on one line of the unit's breakdown (the unit's own staff, within the window)."""
    user = request.user
    cycle = get_cycle(user, pk)
    unit, line = get_line(user, cycle, code, indicator)
    form = ScoreAppealForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            appeal = appeals.appeal_file(
                user=user,
                cycle=cycle,
                unit=unit.region,
                indicator=indicator,
                reasons=form.cleaned_data["reasons"],
                evidence=form.cleaned_data["evidence"],
            )
        except appeals.InputError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("申诉已提交，上级政法委将在%(days)s个工作日内答复。") % {"days": DECISION_WORKING_DAYS}
            )
            return redirect("assessment:appeal-detail", pk=appeal.pk)
    return render(
        request,
        "assessment/after/appeal_form.html",
        {
            "cycle": cycle,
            "unit": unit,
            "line": line,
            "name": indicator_name(indicators_of(cycle), indicator),
            "form": form,
            "window_end": appeals.appeal_window_end(cycle),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def appeal_detail(request, pk: int):
    user = request.user
    appeal = get_object_or_404(_appeals(user), pk=pk)
    may_decide = bool(transitions.APPEALS.allowed_transitions(user, appeal))
    form = None
    if may_decide:
        form = AppealDecisionForm(request.POST or None)
        done = submit(
            request,
            form,
            lambda d: appeals.appeal_decide(
                user=user,
                appeal=appeal,
                uphold=d["decision"] == "uphold",
                note=d["decision_note"],
                adjusted_percent=d["adjusted_percent"],
            ),
            _("申诉已处理。"),
            lambda _result: redirect("assessment:appeal-detail", pk=appeal.pk),
        )
        if done is not None:
            return done
    elif request.method == "POST":
        raise Http404
    return render(
        request,
        "assessment/after/appeal_detail.html",
        {
            "appeal": appeal,
            "name": indicator_name(indicators_of(appeal.cycle), appeal.indicator),
            "form": form,
        },
    )


@login_required
def appeal_evidence(request, pk: int):
    return stored_file_response(get_object_or_404(_appeals(request.user), pk=pk).evidence)


# --- Flags -----------------------------------------------------------------------------------------------


@login_required
def flag_detail(request, pk: int):
    """智能预警: the figures of one flag and the records behind it, paged (like a trace)."""
    flag = get_object_or_404(CredibilityFlag.objects.restrict(request.user).select_related("region"), pk=pk)
    page = Paginator(flag_queryset(flag, request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = flag_records(flag, request.user, pks=[obj.pk for obj in page.object_list])
    return render(
        request,
        "assessment/after/flag_detail.html",
        {
            "flag": flag,
            "summary": flag_summary(flag),
            "columns": [label for _path, label in flag_columns(flag)],
            "rows": rows,
            "page_obj": page,
            "record_page": "events:detail" if flag.record_model == "grids.gridevent" else "disputes:detail",
        },
    )


# --- Documents -------------------------------------------------------------------------------------------


@login_required
def unit_report(request, pk: int, code: str):
    """绩效诊断报告 (PDF) of a unit in a cycle."""
    cycle = get_cycle(request.user, pk)
    unit = get_unit(request.user, cycle, code)
    return pdf_response(report_for(cycle, unit), f"report-{cycle.pk}-{unit.region_code}.pdf")


@login_required
def unit_notice(request, pk: int, code: str):
    """整改通知书 (PDF) of a unit in a published cycle."""
    cycle = get_cycle(request.user, pk)
    unit = get_unit(request.user, cycle, code)
    return pdf_response(notice_for(cycle, unit.region), f"notice-{cycle.pk}-{unit.region_code}.pdf")


def _bundle(user, cycle) -> ReportBundle | None:
    return ReportBundle.objects.restrict(user).filter(cycle=cycle, region_code=bundle_region(user, cycle)).first()


@login_required
@require_POST
def bundle_start(request, pk: int):
    """Start (or restart) the ZIP of the cycle's reports for the user's region."""
    cycle = get_cycle(request.user, pk)
    if not request.user.can("assessment.run"):
        raise PermissionDenied
    try:
        request_bundle(user=request.user, cycle=cycle)
    except AssessmentError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已开始生成诊断报告压缩包。"))
    return redirect("assessment:cycle-detail", pk=cycle.pk)


@login_required
@never_cache
def bundle_progress(request, pk: int):
    bundle = _bundle(request.user, get_cycle(request.user, pk))
    if bundle is None:
        raise Http404
    return JsonResponse(bundle_payload(bundle))


@login_required
def bundle_download(request, pk: int):
    bundle = _bundle(request.user, get_cycle(request.user, pk))
    if bundle is None:
        raise Http404
    return stored_file_response(bundle.file)
