"""随手拍: residents report a problem without logging in.

The report enters the centre's queue as an event of source 群众随手拍 filed in the chosen
village (community), through the same `event_file` as everything else (so re-sending the
same form is harmless). Each address may file a few reports per window (cache counter,
like the login rate limit); beyond that the page answers 429. The audit trail records the
filer as "anonymous" (governance.middleware).
"""

from __future__ import annotations

import hmac

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from governance import personal_data, ratelimit
from governance.codes import Level, ancestor_code
from governance.forms import apply_errors
from grids.events.choices import PUBLIC_STATUS, AttachmentStage, EventSource, PublicStatus, Urgency
from grids.events.forms import PublicReportForm, PublicStatusForm
from grids.events.models import GridEvent
from grids.events.services.events import event_attach, event_file
from grids.models import Region

REPORT_LIMIT = 5  # reports per address …
REPORT_WINDOW = 600  # … per 10 minutes
STATUS_LIMIT = 10  # status look-ups per address in the same window (4 digits must not be guessable)
SESSION_KEY = "public_report_event"


def rate_exceeded(request) -> bool:
    return ratelimit.count(request, "public-report", REPORT_WINDOW) >= REPORT_LIMIT


def _selected_codes(data, step: str = "") -> tuple[str, str]:
    """The county and township the form currently shows (a chosen village implies both)."""
    county = (data.get("county") or "").strip()
    township = "" if step == "county" else (data.get("township") or "").strip()
    village = "" if step else (data.get("village") or "").strip()
    if not township and len(village) == 12:
        township = ancestor_code(village, Level.TOWNSHIP)
    if not county and len(township) == 9:
        county = ancestor_code(township, Level.COUNTY)
    if township and not township.startswith(county):
        township = ""
    return county, township


def _title(category, description: str) -> str:
    first_line = description.strip().splitlines()[0] if description.strip() else ""
    return Truncator(f"{category.name}：{first_line}").chars(60)


@require_http_methods(["GET", "POST"])
def report(request):
    step = request.POST.get("step", "") if request.method == "POST" else ""
    if request.method == "POST" and not step:
        county, township = _selected_codes(request.POST)
        if rate_exceeded(request):
            # Refuse, but give the page back with everything typed so far.
            form = PublicReportForm(initial=_initial(request.POST), county_code=county, township_code=township)
            context = {"form": form, "rate_limited": True, "minutes": REPORT_WINDOW // 60}
            return render(request, "public/report.html", context, status=429)
        form = PublicReportForm(request.POST, request.FILES, county_code=county, township_code=township)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    event, created = event_file(
                        reporter=None,
                        category=data["category"],
                        title=_title(data["category"], data["description"]),
                        description=data["description"],
                        urgency=Urgency.NORMAL,
                        source=EventSource.RESIDENT,
                        region=data["village"],
                        client_uuid=data["client_uuid"],
                        address=data["address"],
                        lat=data["lat"] if data["lng"] is not None else None,
                        lng=data["lng"] if data["lat"] is not None else None,
                        reporter_name=_("群众"),
                        contact_phone=data["phone"],
                    )
                    if created and data["photo"]:
                        event_attach(event=event, upload=data["photo"], stage=AttachmentStage.REPORT, user=None)
            except ValidationError as exc:
                apply_errors(form, exc, {"region": "village", "file": "photo"})
            else:
                if created:
                    ratelimit.hit(request, "public-report", REPORT_WINDOW)
                request.session[SESSION_KEY] = event.pk
                return redirect("public:thanks")
    else:
        # A first visit (?county=…&township=… may come from a QR code), or a step of the
        # no-JavaScript path: show the next select, keep everything typed so far.
        data = request.POST if request.method == "POST" else request.GET
        county, township = _selected_codes(data, step)
        initial = _initial(data)
        initial.update(county=county, township=township)
        if step:
            initial.pop("village", None)
        form = PublicReportForm(initial=initial, county_code=county, township_code=township)
    return render(request, "public/report.html", {"form": form, "step": step})


def _initial(data) -> dict:
    return {key: value for key, value in data.items() if key not in ("csrfmiddlewaretoken", "step", "photo")}


@require_GET
def thanks(request):
    pk = request.session.get(SESSION_KEY)
    event = GridEvent.objects.filter(pk=pk).select_related("category").first() if pk else None
    if event is None:
        return redirect("public:report")
    return render(request, "public/thanks.html", {"event": event})


@require_http_methods(["GET", "POST"])
def status(request):
    """查询办理进度: a resident's report, found by its number and the last four digits of the phone
    left with it, shows only its public status. Every attempt counts against the address's limit,
    and a wrong number and wrong digits get the same answer."""
    form = PublicStatusForm(request.POST or None)
    context = {"form": form, "minutes": REPORT_WINDOW // 60}
    if request.method == "POST":
        if ratelimit.hit(request, "public-status", REPORT_WINDOW) > STATUS_LIMIT:
            return render(request, "public/status.html", {**context, "rate_limited": True}, status=429)
        if form.is_valid():
            event = public_event(form.cleaned_data["number"], form.cleaned_data["phone_last4"])
            if event is None:
                context["not_found"] = True
            else:
                context.update(event=event, public_status=PublicStatus(PUBLIC_STATUS[event.status]).label)
                # The digits are not written back into the page (a shared phone or a public terminal).
                context["form"] = PublicStatusForm(initial={"number": event.pk})
    return render(request, "public/status.html", context)


def public_event(number: int, last4: str) -> GridEvent | None:
    """The resident report with this number whose phone ends in these digits (one row, one decryption)."""
    event = GridEvent.objects.filter(pk=number, source=EventSource.RESIDENT).select_related("category").first()
    if event is None or not event.contact_phone:
        return None
    try:
        phone = personal_data.decrypt(event.contact_phone)
    except ValueError:
        return None
    return event if hmac.compare_digest(phone[-4:], last4) else None


@require_GET
def region_children(request, code: str):
    """The active children of a county (townships) or township (villages), for the cascading selects."""
    parent = get_object_or_404(Region, code=code, level__in=[Level.COUNTY, Level.TOWNSHIP])
    children = list(Region.objects.filter(parent=parent).order_by("code").values("code", "name"))
    response = JsonResponse(
        {"code": parent.code, "name": parent.name, "children": children}, json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = "public, max-age=300"
    return response
