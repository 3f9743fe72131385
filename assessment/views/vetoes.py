"""Pages of the veto rulings (一票否决): the list, a new ruling, a ruling with its appeal and decision."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from governance.files import stored_file_response
from governance.forms import apply_errors

from .. import services, transitions
from ..choices import RulingStatus
from ..forms import AppealForm, VetoDecisionForm, VetoForm
from ..models import VetoRuling
from .inputs import _indicator_names, _require, _status_list, can_view


def _rulings(user):
    return VetoRuling.objects.restrict(user).select_related("unit", "recorded_by")


@login_required
def veto_list(request):
    rulings = _rulings(request.user).order_by("-occurred_on", "-pk")
    return _status_list(request, rulings, RulingStatus, "veto_list.html", can_rule=request.user.can("assessment.rule"))


@login_required
@require_http_methods(["GET", "POST"])
def veto_new(request):
    user = request.user
    _require(user.can("assessment.rule"))
    form = VetoForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ruling = services.veto_record(
                user=user,
                unit=data["unit"],
                indicator=data["indicator"],
                occurred_on=data["occurred_on"],
                description=data["description"],
                evidence=data["evidence"],
            )
        except services.InputError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("一票否决裁定已记录。"))
            return redirect("assessment:veto-detail", pk=ruling.pk)
    return render(request, "assessment/inputs/veto_form.html", {"form": form})


def _veto_context(request, ruling, appeal_form=None, decision_form=None) -> dict:
    steps = transitions.RULINGS.allowed_names(request.user, ruling)
    return {
        "ruling": ruling,
        "indicator_name": _indicator_names().get(ruling.indicator, ""),
        "appeal_deadline": services.appeal_deadline(ruling),
        "appeal_form": appeal_form or (AppealForm() if "appeal" in steps else None),
        "decision_form": decision_form or (VetoDecisionForm() if {"uphold", "revoke"} & set(steps) else None),
    }


@login_required
def veto_detail(request, pk: int):
    user = request.user
    _require(can_view(user))
    ruling = get_object_or_404(_rulings(user), pk=pk)
    return render(request, "assessment/inputs/veto_detail.html", _veto_context(request, ruling))


@login_required
@require_POST
def veto_act(request, pk: int, step: str):
    """appeal (the unit) or decide (the committee above) — the rules are transitions.RULINGS."""
    user = request.user
    _require(can_view(user))
    ruling = get_object_or_404(_rulings(user), pk=pk)
    if step == "appeal":
        form = AppealForm(request.POST)
        if form.is_valid():
            try:
                services.veto_appeal(user=user, ruling=ruling, reason=form.cleaned_data["appeal_reason"])
            except services.InputError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("申诉已提交。"))
                return redirect("assessment:veto-detail", pk=pk)
        return render(request, "assessment/inputs/veto_detail.html", _veto_context(request, ruling, appeal_form=form))
    if step == "decide":
        form = VetoDecisionForm(request.POST)
        if form.is_valid():
            try:
                services.veto_decide(
                    user=user,
                    ruling=ruling,
                    decision=form.cleaned_data["decision"],
                    note=form.cleaned_data["decision_note"],
                )
            except services.InputError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("申诉处理结果已记录。"))
                return redirect("assessment:veto-detail", pk=pk)
        return render(request, "assessment/inputs/veto_detail.html", _veto_context(request, ruling, decision_form=form))
    raise Http404


@login_required
def veto_evidence(request, pk: int):
    user = request.user
    _require(can_view(user))
    return stored_file_response(get_object_or_404(VetoRuling.objects.restrict(user), pk=pk).evidence)
