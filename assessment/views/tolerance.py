"""Pages of the tolerance claims (容错申请): the list, a new claim, a claim with its decision."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from governance.files import stored_file_response
from governance.forms import apply_errors

from .. import services, transitions
from ..choices import ClaimStatus
from ..forms import ClaimDecisionForm, ClaimForm
from ..models import ToleranceClaim
from .inputs import _indicator_names, _require, _status_list, can_view


def _claims(user):
    return ToleranceClaim.objects.restrict(user).select_related(
        "cycle", "cycle__root", "unit", "claimed_by", "decided_by"
    )


@login_required
def claim_list(request):
    claims = _claims(request.user).order_by("-claimed_at")
    return _status_list(
        request, claims, ClaimStatus, "claim_list.html", can_claim=request.user.can("assessment.respond")
    )


@login_required
@require_http_methods(["GET", "POST"])
def claim_new(request):
    user = request.user
    _require(user.can("assessment.respond"))
    form = ClaimForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            claim = services.claim_file(
                user=user,
                cycle=data["cycle"],
                unit=data["unit"],
                indicator=data["indicator"],
                reasons=data["reasons"],
                evidence=data["evidence"],
            )
        except services.InputError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("容错申请已提交。"))
            return redirect("assessment:claim-detail", pk=claim.pk)
    return render(request, "assessment/inputs/claim_form.html", {"form": form})


def _claim_context(request, claim, form=None) -> dict:
    steps = transitions.CLAIMS.allowed_names(request.user, claim)
    can_decide = bool(steps) and not claim.cycle.is_frozen
    return {
        "claim": claim,
        "indicator_name": _indicator_names().get(claim.indicator, ""),
        "form": form or (ClaimDecisionForm() if can_decide else None),
    }


@login_required
@require_http_methods(["GET", "POST"])
def claim_detail(request, pk: int):
    user = request.user
    _require(can_view(user))
    claim = get_object_or_404(_claims(user), pk=pk)
    form = None
    if request.method == "POST":
        form = ClaimDecisionForm(request.POST)
        if form.is_valid():
            try:
                services.claim_decide(
                    user=user,
                    claim=claim,
                    approve=form.cleaned_data["decision"] == "approve",
                    note=form.cleaned_data["decision_note"],
                )
            except services.InputError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("容错申请审核结果已记录。"))
                return redirect("assessment:claim-detail", pk=pk)
    return render(request, "assessment/inputs/claim_detail.html", _claim_context(request, claim, form))


@login_required
def claim_evidence(request, pk: int):
    user = request.user
    _require(can_view(user))
    return stored_file_response(get_object_or_404(ToleranceClaim.objects.restrict(user), pk=pk).evidence)
