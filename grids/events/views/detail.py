"""One event's page: its transitions (forms and the action endpoint), the phone reveal and attachments.

Every lookup goes through `GridEvent.objects.restrict(user)`, so an event outside the
user's jurisdiction answers 404 on every page, download and action.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from governance import personal_data
from governance.files import stored_file_response
from governance.forms import apply_errors
from grids.events.choices import AttachmentStage, EventStatus
from grids.events.conversion import conversion
from grids.events.forms import TRANSITION_FORMS, transition_form
from grids.events.models import EventAttachment, GridEvent
from grids.events.services.events import event_attach, transition
from grids.events.transitions import EVENTS, TRANSITIONS
from grids.events.views.common import can_use_queue, event_clock, is_department_handler, require, safe_next

HISTORY_LABELS = {"report": gettext_lazy("上报"), "absorb": gettext_lazy("并入重复事件")}


# The usual next step first (its form opens by default), refusals and merging last.
PRIMARY_ACTIONS = {"accept", "dispatch", "department_accept", "resolve", "verify", "feedback", "close"}
ACTION_ORDER = [
    "accept", "dispatch", "department_accept", "resolve", "verify", "feedback", "close",
    "self_handle", "escalate", "reopen", "department_return", "return", "merge",
]  # fmt: skip


def available_transitions(user, event: GridEvent):
    """The transitions this user may perform on this event now (grids.events.transitions.EVENTS), in page order."""
    allowed = EVENTS.allowed_transitions(user, event)
    return sorted(allowed, key=lambda t: ACTION_ORDER.index(t.name) if t.name in ACTION_ORDER else 99)


def _detail_queryset(user):
    return GridEvent.objects.restrict(user).select_related("category", "category__parent", "region", "lead_department")


def _detail_context(request, event: GridEvent, *, bound=None, revealed_phone: str = "") -> dict:
    user = request.user
    visible = GridEvent.objects.restrict(user)
    actions = []
    for index, t in enumerate(available_transitions(user, event)):
        form = (
            bound if bound is not None and bound.prefix == t.name else transition_form(t.name, event=event, user=user)
        )
        primary = t.name in PRIMARY_ACTIONS
        actions.append(
            {
                "transition": t,
                "form": form,
                "primary": primary,
                # The usual next step opens by default; after a refusal, the form that was sent.
                "open": form.is_bound if bound is not None else (index == 0 and primary),
                "danger": t.name in ("return", "department_return", "merge"),
                "confirm": _("合并后本事件将以“已合并”结束，确定合并吗？") if t.name == "merge" else "",
            }
        )
    history = list(event.history.all())
    for entry in history:
        entry.label = (
            TRANSITIONS[entry.action].label
            if entry.action in TRANSITIONS
            else HISTORY_LABELS.get(entry.action, entry.action)
        )
        entry.to_label = EventStatus(entry.to_status).label if entry.to_status in EventStatus.values else ""
    attachments = list(event.attachments.all())
    try:
        masked_phone = personal_data.mask_phone(personal_data.decrypt(event.contact_phone))
    except ValueError:
        masked_phone = _("（无法解密）")
    return {
        "event": event,
        "clock": event_clock(event, timezone.now()),
        "actions": actions,
        "bound": bound,
        "history": history,
        "dispatches": list(event.dispatches.select_related("department", "department__region")),
        "supervisions": list(event.supervisions.select_related("supervising_region")),
        "attachments": attachments,
        "report_photos": [a for a in attachments if a.stage == AttachmentStage.REPORT],
        "other_attachments": [a for a in attachments if a.stage != AttachmentStage.REPORT],
        "duplicate_of": visible.filter(pk=event.duplicate_of_id).first() if event.duplicate_of_id else None,
        "likely_duplicates": list(visible.filter(duplicate_of=event).exclude(status=EventStatus.MERGED)[:10]),
        "merged_into": visible.filter(pk=event.merged_into_id).first() if event.merged_into_id else None,
        "mediation_case": _mediation_case(event),
        "merged_events": list(visible.filter(merged_into=event)[:20]),
        "masked_phone": masked_phone,
        "revealed_phone": revealed_phone,
        "can_reveal": bool(event.contact_phone) and user.can("event.reveal_contact") and not revealed_phone,
        "back_url": _back_url(user),
    }


def _mediation_case(event: GridEvent):
    """The case registered from a converted event (grids.events.conversion: number, organisation, status, url)."""
    if event.status != "converted":
        return None
    return conversion().linked(event)


def _back_url(user) -> str:
    if can_use_queue(user):
        return reverse("events:queue")
    if is_department_handler(user):
        return reverse("events:department")
    return reverse("events:mine")


@login_required
def event_detail(request, pk: int):
    event = get_object_or_404(_detail_queryset(request.user), pk=pk)
    return render(request, "events/event_detail.html", _detail_context(request, event))


@login_required
@require_POST
def event_act(request, pk: int, name: str):
    """Run one transition; a refusal re-renders the event page with the message and the typed input."""
    user = request.user
    event = get_object_or_404(_detail_queryset(user), pk=pk)
    if name not in TRANSITION_FORMS:
        raise Http404
    form = transition_form(name, request.POST, request.FILES, event=event, user=user)
    label = TRANSITIONS[name].label
    if form.is_valid():
        try:
            with transaction.atomic():
                transition(name, event=event, user=user, **form.kwargs())
                for photo in form.photos():
                    event_attach(event=event, upload=photo, stage=form.photo_stage, user=user)
        except ValidationError as exc:
            apply_errors(form, exc, {"file": "photos"})
        else:
            messages.success(request, _("已完成“%(action)s”。") % {"action": label})
            return redirect(safe_next(request, reverse("events:detail", args=[event.pk])))
    event = get_object_or_404(_detail_queryset(user), pk=pk)
    context = _detail_context(request, event, bound=form)
    context["action_error"] = {"label": label, "errors": form.non_field_errors(), "fields": bool(form.errors)}
    return render(request, "events/event_detail.html", context)


@login_required
@require_POST
@never_cache
def reveal_phone(request, pk: int):
    """Show the contact phone in full to roles that need it; the read is audited."""
    user = request.user
    event = get_object_or_404(_detail_queryset(user), pk=pk)
    require(user.can("event.reveal_contact"))
    phone = personal_data.reveal(
        instance=event, field="contact_phone", value=event.contact_phone, user=user, reason="event page"
    )
    response = render(request, "events/event_detail.html", _detail_context(request, event, revealed_phone=phone))
    response["Cache-Control"] = "no-store"
    return response


@login_required
def attachment_download(request, pk: int, attachment_pk: int):
    """A photo or file of an event inside the user's jurisdiction (images inline, others as download)."""
    user = request.user
    event = get_object_or_404(GridEvent.objects.restrict(user), pk=pk)
    attachment = get_object_or_404(EventAttachment.objects.restrict(user), pk=attachment_pk, event=event)
    return stored_file_response(
        attachment.file,
        filename=attachment.original_name,
        content_type=attachment.content_type,
        attachment=not attachment.is_image or "download" in request.GET,
    )
