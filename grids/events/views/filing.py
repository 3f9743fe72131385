"""The grid worker's pages: the home redirect, the filing form, own events and the visit log."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.choices import Role
from governance.forms import apply_errors
from grids.events.choices import AttachmentStage, EventStatus
from grids.events.forms import EventFileForm, VisitForm
from grids.events.models import GridEvent, VisitRecord
from grids.events.services.events import event_attach, event_file
from grids.events.views.common import can_use_queue, is_department_handler, list_queryset, require, with_clocks


@login_required
def index(request):
    user = request.user
    if can_use_queue(user):
        return redirect("events:queue")
    if is_department_handler(user):
        return redirect("events:department")
    return redirect("events:mine")


# --- Grid worker: filing, own events, visits ------------------------------------------------------


@login_required
def event_new(request):
    """上报事件: the phone-sized filing form; the same client UUID never files twice."""
    user = request.user
    require(user.can("event.file"))
    if request.method == "POST":
        form = EventFileForm(request.POST, request.FILES, user=user)
        existing = _already_filed(user, request.POST.get("client_uuid", ""))
        if existing is not None:
            messages.info(request, _("该表单此前已提交成功，已为您打开原事件，未重复创建。"))
            return redirect("events:detail", pk=existing.pk)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    event, created = event_file(
                        reporter=user,
                        category=data["category"],
                        title=data["title"],
                        description=data["description"],
                        urgency=data["urgency"],
                        source=data["source"],
                        region=data["grid"],
                        client_uuid=data["client_uuid"],
                        address=data["address"],
                        lat=data["lat"],
                        lng=data["lng"],
                    )
                    if created:
                        for photo in data["photos"]:
                            event_attach(event=event, upload=photo, stage=AttachmentStage.REPORT, user=user)
            except ValidationError as exc:
                apply_errors(form, exc, {"region": "grid", "file": "photos"})
                if "client_uuid" in getattr(exc, "error_dict", {}):
                    form.data = form.data.copy()
                    form.data["client_uuid"] = str(uuid.uuid4())
            else:
                if created:
                    messages.success(request, _("事件已上报，编号 #%(pk)s。") % {"pk": event.pk})
                else:
                    messages.info(request, _("该表单此前已提交成功，已为您打开原事件，未重复创建。"))
                return redirect("events:detail", pk=event.pk)
    else:
        form = EventFileForm(user=user)
    return render(request, "events/event_form.html", {"form": form})


def _already_filed(user, raw_uuid: str) -> GridEvent | None:
    try:
        key = uuid.UUID(str(raw_uuid))
    except ValueError:
        return None
    return GridEvent.objects.restrict(user).filter(client_uuid=key, reporter=user).first()


@login_required
def mine(request):
    """我的事件: what the user reported, and (grid workers) what waits for them on site."""
    user = request.user
    require(user.can("event.file"))
    now = timezone.now()
    base = list_queryset(user)
    page = Paginator(base.filter(reporter=user).order_by("-reported_at", "-pk"), 20).get_page(request.GET.get("page"))
    page.object_list = with_clocks(page.object_list, now)
    todo = []
    if user.role == Role.GRID_WORKER:
        todo = with_clocks(
            base.filter(
                Q(status=EventStatus.HANDLING, self_handled=True)
                | Q(status__in=[EventStatus.RESOLVED, EventStatus.VERIFIED])
            ).order_by("resolve_deadline", "pk")[:20],
            now,
        )
    return render(request, "events/mine.html", {"page_obj": page, "todo": todo})


@login_required
def visit_new(request):
    """走访记录: one entry per worker, grid and day, and the worker's recent entries."""
    user = request.user
    require(user.can("visit.record"))
    form = VisitForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        visit = form.save(commit=False)
        visit.worker = user
        try:
            with transaction.atomic():
                visit.save()
        except IntegrityError:
            form.add_error("date", _("您已记录过该网格这一天的走访，每个网格每天一条。"))
        else:
            messages.success(request, _("走访记录已保存。"))
            return redirect("events:visit-new")
    recent = VisitRecord.objects.restrict(user).filter(worker=user).select_related("grid").order_by("-date", "-pk")[:30]
    return render(request, "events/visits.html", {"form": form, "recent": recent})


# --- Queues ---------------------------------------------------------------------------------------
