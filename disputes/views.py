"""Case pages, mounted at /cases/ (namespace "disputes"): the mediator board and the staff
list, the workload per mediator, registration, the case page with its steps and records,
the audited reveal of a party's numbers, session files and the two PDFs.

Every lookup goes through `Case.objects.restrict(user)` (a mediator: their organisation's
cases only), so a case outside the user's jurisdiction answers 404 on every page, action,
download and PDF.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from governance import audit, personal_data
from governance.choices import AuditAction, Role
from governance.files import pdf_response, stored_file_response
from governance.forms import apply_errors
from grids.events.models import GridEvent

from . import pdf
from . import services as svc
from .choices import CaseStatus, DisputeType, RiskLevel
from .forms import RECORD_FORMS, TRANSITION_FORMS, CaseRegisterForm, action_form
from .lifecycle import case_clock_state, case_overdue_q
from .models import Agreement, Case, JudicialConfirmation, MediationOrganisation, MediationSession
from .selectors import (
    BOARD_STATUSES,
    board_order,
    board_totals,
    mediator_workload,
    with_list_rows,
    with_page_detail,
    with_supervised,
)
from .transitions import CASES, TRANSITIONS

PAGE_SIZE = 50
CASE_ROLES = frozenset({Role.MEDIATOR, Role.CENTRE_STAFF, Role.COMMITTEE_STAFF})
# A party may be added until mediation has concluded.
PARTY_STATES = {CaseStatus.REGISTERED, CaseStatus.ACCEPTED, CaseStatus.MEDIATING}

RECORD_LABELS = {
    "party": gettext_lazy("添加当事人"),
    "session": gettext_lazy("记录调解"),
    "follow_up": gettext_lazy("履行回访"),
    "confirmation_apply": gettext_lazy("申请司法确认"),
    "confirmation_decide": gettext_lazy("登记司法确认结果"),
}
HISTORY_LABELS = {"register": gettext_lazy("登记"), **RECORD_LABELS}
# The usual next step first (its form opens by default); refusals last.
PRIMARY = {"accept", "assign", "agree", "close", "party", "session", "follow_up"}
ORDER = ["accept", "assign", "agree", "close", "refer", "fail", "transfer", "decline"]


def can_use_cases(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in CASE_ROLES)


def is_mediator(user) -> bool:
    return not user.is_superuser and user.role == Role.MEDIATOR


def cases_of(user):
    """The cases a user may open: scoped, and none at all for roles without case pages."""
    return Case.objects.restrict(user) if can_use_cases(user) else Case.objects.none()


def _require(condition: bool) -> None:
    if not condition:
        raise PermissionDenied


def action_label(name: str) -> str:
    return str(TRANSITIONS[name].label) if name in TRANSITIONS else str(RECORD_LABELS.get(name, name))


# --- The 30-day clock ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseClock:
    """30 days from acceptance: ok, amber from day 20, red past the deadline; done when concluded in time."""

    state: str
    deadline: dt.datetime | None = None
    days: int | None = None  # days left (running) or days late (red)

    @property
    def label(self) -> str:
        if self.state == "ok":
            return _("剩余%(n)s天") % {"n": self.days}
        if self.state == "amber":
            return _("预警 · 剩余%(n)s天") % {"n": self.days}
        if self.state == "red":
            return _("超期%(n)s天") % {"n": self.days} if self.days else _("超期")
        if self.state == "done":
            return _("按期办结")
        return ""


def case_clock(case: Case, now: dt.datetime) -> CaseClock:
    if case.accepted_at is None or case.conclusion_deadline is None:
        return CaseClock("none")
    state = case_clock_state(case, now)
    deadline_day = timezone.localtime(case.conclusion_deadline).date()
    moment = timezone.localtime(case.concluded_at or now).date()
    days = (moment - deadline_day).days if state == "red" else (deadline_day - moment).days
    return CaseClock(state, case.conclusion_deadline, max(days, 0))


def with_clocks(cases, now: dt.datetime | None = None) -> list[Case]:
    now = now or timezone.now()
    cases = list(cases)
    for case in cases:
        case.clock = case_clock(case, now)
    return cases


def _list_queryset(user):
    return with_supervised(with_list_rows(cases_of(user)))


# --- Board ------------------------------------------------------------------------------------------


@login_required
def board(request):
    """调解工作台 (mediators): own and unassigned open cases of the organisation, overdue first.
    矛盾纠纷 (centre / committee staff): every case in the jurisdiction, with filters."""
    user = request.user
    _require(can_use_cases(user))
    now = timezone.now()
    base = _list_queryset(user)
    if is_mediator(user):
        cases = base.filter(status__in=BOARD_STATUSES).filter(Q(mediator=user) | Q(mediator__isnull=True))
        cases = with_clocks(board_order(cases, now)[:200], now)
        return render(
            request,
            "disputes/board.html",
            {
                "cases": cases,
                "mine": [c for c in cases if c.mediator_id == user.pk],
                "unassigned": [c for c in cases if c.mediator_id is None],
                "overdue_total": sum(1 for c in cases if c.clock.state == "red" and c.concluded_at is None),
                "can_register": user.can("case.register"),
            },
        )

    selected = {key: request.GET.get(key, "") for key in ("status", "type", "risk", "repeat", "overdue", "q")}
    if not request.GET:
        selected["status"] = "open"  # the list opens on the work in hand; 全部 is status=all
    cases = base
    if selected["status"] == "open":
        cases = cases.filter(status__in=BOARD_STATUSES)
    elif selected["status"] in CaseStatus.values:
        cases = cases.filter(status=selected["status"])
    if selected["type"] in DisputeType.values:
        cases = cases.filter(dispute_type=selected["type"])
    if selected["risk"].isdigit() and int(selected["risk"]) in RiskLevel.values:
        cases = cases.filter(risk_level=int(selected["risk"]))
    if selected["repeat"] == "1":
        cases = cases.filter(is_repeat=True)
    elif selected["repeat"] == "mass":
        cases = cases.filter(is_mass=True)
    if selected["overdue"] == "1":
        cases = cases.filter(case_overdue_q(now))
    if selected["q"].strip():
        term = selected["q"].strip()
        cases = cases.filter(Q(number__icontains=term) | Q(title__icontains=term))
    totals = board_totals(cases_of(user), now)
    page = Paginator(board_order(cases, now), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = with_clocks(page.object_list, now)
    return render(
        request,
        "disputes/case_list.html",
        {
            "page_obj": page,
            "selected": selected,
            "totals": totals,
            "status_options": CaseStatus.choices,
            "type_options": DisputeType.choices,
            "risk_options": RiskLevel.choices,
            "can_register": user.can("case.register"),
        },
    )


# --- Workload ---------------------------------------------------------------------------------------


@login_required
def workload(request):
    """The workload per mediator (open, overdue, concluded this month), in one grouped query."""
    user = request.user
    _require(can_use_cases(user))
    now = timezone.now()
    orgs = MediationOrganisation.objects.restrict(user)
    if is_mediator(user):
        orgs = orgs.filter(pk=user.mediation_org_id)
    org_options = [] if is_mediator(user) else list(orgs.select_related("region").order_by("region__code", "name"))
    selected_org = request.GET.get("org", "")
    if selected_org.isdigit():
        orgs = orgs.filter(pk=int(selected_org))
    rows = mediator_workload(orgs, now)
    totals = {key: sum(getattr(row, key) for row in rows) for key in ("open_cases", "overdue_cases", "concluded_month")}
    return render(
        request,
        "disputes/workload.html",
        {
            "rows": rows,
            "totals": totals,
            "org_options": org_options,
            "selected_org": selected_org,
            "month": timezone.localtime(now),
            "organisation": user.mediation_org if is_mediator(user) else None,
        },
    )


# --- Registration -----------------------------------------------------------------------------------


@login_required
def case_new(request):
    """登记案件: organisation, where the dispute arose, type and risk, and the first two parties."""
    user = request.user
    _require(can_use_cases(user) and user.can("case.register"))
    form = CaseRegisterForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            case = svc.case_register(user=user, **form.kwargs())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("案件已登记，案号 %(number)s。") % {"number": case.number})
            return redirect("disputes:detail", pk=case.pk)
    return render(request, "disputes/case_form.html", {"form": form})


# --- The case page ----------------------------------------------------------------------------------


def _detail_queryset(user):
    return with_page_detail(cases_of(user))


def available_actions(user, case: Case) -> tuple[list[str], list[str]]:
    """The transitions and the records this user may perform on this case now."""
    if not svc.may_act(user, case):
        return [], []
    transitions = sorted(CASES.allowed_names(user, case), key=ORDER.index)
    records = []
    if case.status in PARTY_STATES:
        records.append("party")
    if case.status == CaseStatus.MEDIATING:
        records.append("session")
    if case.status == CaseStatus.AGREED:
        records.append("follow_up")
        confirmation = JudicialConfirmation.objects.filter(case=case).first()
        if confirmation is None:
            records.append("confirmation_apply")
        elif confirmation.decided_on is None:
            records.append("confirmation_decide")
    return transitions, records


def _action_entries(names, case, user, bound) -> list[dict]:
    entries = []
    first_primary = next((n for n in names if n in PRIMARY), None)
    for name in names:
        form = bound if bound is not None and bound.prefix == name else action_form(name, case=case, user=user)
        if name == "transfer" and not form.fields["to"].queryset.exists():
            continue  # no organisation above to hand the case to
        entries.append(
            {
                "name": name,
                "label": action_label(name),
                "form": form,
                "primary": name in PRIMARY,
                # The usual next step opens by default; after a refusal, the form that was sent.
                "open": form.is_bound if bound is not None else name == first_primary,
                "danger": name in ("decline", "fail"),
            }
        )
    return entries


def _detail_context(request, case: Case, *, bound=None, revealed: dict | None = None) -> dict:
    user = request.user
    transitions, records = available_actions(user, case)
    history = list(case.history.all())
    for entry in history:
        entry.label = (
            action_label(entry.action)
            if entry.action in TRANSITIONS
            else HISTORY_LABELS.get(entry.action, entry.action)
        )
        entry.to_label = CaseStatus(entry.to_status).label if entry.to_status in CaseStatus.values else ""
        entry.changed = entry.from_status != entry.to_status
    parties = list(case.parties.all())
    can_reveal = user.can("case.reveal_party") and svc.may_act(user, case)
    revealed = revealed or {}
    for party in parties:
        shown = revealed.get(party.pk, {})
        party.revealed_id, party.revealed_phone = shown.get("id_number", ""), shown.get("phone", "")
        party.revealable = can_reveal and bool(party.id_number or party.phone) and not shown
    origin_event = None
    if case.origin_event_id:
        origin_event = GridEvent.objects.restrict(user).filter(pk=case.origin_event_id).only("pk", "title").first()
    earlier = []
    if case.is_repeat and not is_mediator(user):
        earlier = list(svc.earlier_cases_of_same_parties(case, user).select_related("organisation")[:20])
    confirmation = JudicialConfirmation.objects.filter(case=case).first()
    agreement = Agreement.objects.filter(case=case).first()
    return {
        "case": case,
        "clock": case_clock(case, timezone.now()),
        "transitions": _action_entries(transitions, case, user, bound),
        "records": _action_entries(records, case, user, bound),
        "bound": bound,
        "parties": parties,
        "sessions": list(case.sessions.select_related("recorded_by")),
        "agreement": agreement,
        "follow_ups": list(case.follow_ups.all()),
        "confirmation": confirmation,
        "supervisions": list(case.supervisions.select_related("supervising_region")),
        "history": history,
        "origin_event": origin_event,
        "earlier_cases": earlier,
        "may_act": svc.may_act(user, case),
    }


@login_required
def case_detail(request, pk: int):
    case = get_object_or_404(_detail_queryset(request.user), pk=pk)
    return render(request, "disputes/case_detail.html", _detail_context(request, case))


def _perform(name: str, case: Case, user, form) -> None:
    data = form.kwargs()
    if name in TRANSITION_FORMS:
        svc.transition(name, case=case, user=user, **data)
    elif name == "party":
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if not svc.may_act(user, locked):
            raise svc.CaseError(_("您无权为该案件添加当事人。"), code="not_allowed")
        if locked.status not in PARTY_STATES:
            raise svc.CaseError(
                _("案件当前状态为“%(status)s”，不能再添加当事人。") % {"status": locked.get_status_display()},
                code="illegal_transition",
            )
        svc.party_add(case=locked, user=user, **data)
    elif name == "session":
        svc.session_log(case=case, user=user, **data)
    elif name == "follow_up":
        svc.follow_up_record(case=case, user=user, **data)
    elif name == "confirmation_apply":
        svc.confirmation_apply(case=case, user=user, **data)
    elif name == "confirmation_decide":
        svc.confirmation_decide(case=case, user=user, **data)


@login_required
@require_POST
def case_act(request, pk: int, name: str):
    """Run one step or record; a refusal re-renders the case page with the message and the typed input."""
    user = request.user
    case = get_object_or_404(_detail_queryset(user), pk=pk)
    if name not in TRANSITION_FORMS and name not in RECORD_FORMS:
        raise Http404
    form = action_form(name, request.POST, request.FILES, case=case, user=user)
    label = action_label(name)
    if form.is_valid():
        try:
            with transaction.atomic():
                _perform(name, case, user, form)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已完成“%(action)s”。") % {"action": label})
            return redirect("disputes:detail", pk=case.pk)
    case = get_object_or_404(_detail_queryset(user), pk=pk)
    context = _detail_context(request, case, bound=form)
    context["action_error"] = {"label": label, "errors": form.non_field_errors(), "fields": bool(form.errors)}
    return render(request, "disputes/case_detail.html", context)


@login_required
@require_POST
@never_cache
def reveal_party(request, pk: int, party_pk: int):
    """查看完整信息: a party's ID number and phone in full, for roles that need them; each read is audited."""
    user = request.user
    case = get_object_or_404(_detail_queryset(user), pk=pk)
    party = get_object_or_404(case.parties.all(), pk=party_pk)
    _require(user.can("case.reveal_party") and svc.may_act(user, case))
    shown = {}
    for field in ("id_number", "phone"):
        token = getattr(party, field)
        if token:
            shown[field] = personal_data.reveal(instance=party, field=field, value=token, user=user, reason="case page")
    response = render(request, "disputes/case_detail.html", _detail_context(request, case, revealed={party.pk: shown}))
    response["Cache-Control"] = "no-store"
    return response


@login_required
def session_file(request, pk: int, session_pk: int):
    """The file attached to a session of a case inside the user's jurisdiction."""
    user = request.user
    case = get_object_or_404(cases_of(user), pk=pk)
    session = get_object_or_404(MediationSession.objects.restrict(user), pk=session_pk, case=case)
    return stored_file_response(session.file)


# --- PDFs -------------------------------------------------------------------------------------------


@login_required
def agreement_pdf(request, pk: int):
    """人民调解协议书 (printable; parties' numbers masked)."""
    case = get_object_or_404(_detail_queryset(request.user), pk=pk)
    agreement = get_object_or_404(Agreement.objects.restrict(request.user), case=case)
    content = pdf.agreement_pdf(case, agreement)
    audit.record(AuditAction.EXPORT, instance=case, changes={"document": "agreement", "format": "pdf"})
    return pdf_response(content, f"{_('人民调解协议书')}-{case.number}.pdf")


@login_required
def case_file_pdf(request, pk: int):
    """案卷: the case, its parties (masked), sessions, agreement, follow-ups and history."""
    case = get_object_or_404(_detail_queryset(request.user), pk=pk)
    content = pdf.case_file_pdf(case)
    audit.record(AuditAction.EXPORT, instance=case, changes={"document": "case_file", "format": "pdf"})
    return pdf_response(content, f"{_('案卷')}-{case.number}.pdf")
