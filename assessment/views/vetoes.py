"""Pages of the veto rulings (一票否决): the list, a new ruling, a ruling with its appeal and decision."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from governance.files import stored_file_response

from .. import services, transitions
from ..choices import RulingStatus
from ..forms import AppealForm, VetoDecisionForm, VetoForm
from ..models import VetoRuling
from .inputs import _indicator_names, _require, _status_list, can_view, new_record_page, submit


def _rulings(user):
    return VetoRuling.objects.restrict(user).select_related("unit", "recorded_by")


@login_required
def veto_list(request):
    rulings = _rulings(request.user).order_by("-occurred_on", "-pk")
    return _status_list(request, rulings, RulingStatus, "veto_list.html", can_rule=request.user.can("assessment.rule"))


@login_required
@require_http_methods(["GET", "POST"])
def veto_new(request):
    return new_record_page(
        request,
        "assessment.rule",
        VetoForm,
        services.veto_record,
        _("一票否决裁定已记录。"),
        "assessment:veto-detail",
        "assessment/inputs/veto_form.html",
    )


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
    back = lambda _result: redirect("assessment:veto-detail", pk=pk)  # noqa: E731
    if step == "appeal":
        form = AppealForm(request.POST)
        done = submit(
            request,
            form,
            lambda data: services.veto_appeal(user=user, ruling=ruling, reason=data["appeal_reason"]),
            _("申诉已提交。"),
            back,
        )
        return (
            done
            if done is not None
            else render(request, "assessment/inputs/veto_detail.html", _veto_context(request, ruling, appeal_form=form))
        )
    if step == "decide":
        form = VetoDecisionForm(request.POST)
        done = submit(
            request,
            form,
            lambda data: services.veto_decide(
                user=user, ruling=ruling, decision=data["decision"], note=data["decision_note"]
            ),
            _("申诉处理结果已记录。"),
            back,
        )
        return (
            done
            if done is not None
            else render(
                request, "assessment/inputs/veto_detail.html", _veto_context(request, ruling, decision_form=form)
            )
        )
    raise Http404


@login_required
def veto_evidence(request, pk: int):
    user = request.user
    _require(can_view(user))
    return stored_file_response(get_object_or_404(VetoRuling.objects.restrict(user), pk=pk).evidence)
