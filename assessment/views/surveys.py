"""Survey pages: the public questionnaire at /survey/ (namespace "survey", no login, rate-limited
per address), the villages with their QR codes, and the evaluators' household sample and entry.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from governance import ratelimit
from governance.codes import Level
from governance.files import SVG, content_response
from governance.forms import apply_errors
from grids.models import Region

from .. import services
from ..choices import SurveyChannel
from ..forms import OfflineSurveyForm, SurveyForm
from ..models import SurveyResponse
from .inputs import PAGE_SIZE, _int, _require, _under, _year, can_view

QR_PAGE_SIZE = 24


SURVEY_LIMIT = 20  # answer sheets per address …


SURVEY_WINDOW = 600  # … per 10 minutes


def _survey_rate_exceeded(request) -> bool:
    return ratelimit.count(request, "survey", SURVEY_WINDOW) >= SURVEY_LIMIT


def _village(code: str) -> Region:
    return get_object_or_404(Region.objects.select_related("parent"), code=code, level=Level.VILLAGE)


@never_cache
@require_http_methods(["GET", "POST"])
def survey_public(request, code: str):
    """扫码问卷: three questions about the village, no login. The hidden key makes a re-sent
    sheet harmless; each address may send SURVEY_LIMIT sheets per window (then 429)."""
    village = _village(code)
    status = 200
    rate_limited = False
    if request.method == "POST":
        form = SurveyForm(request.POST)
        if form.is_valid():
            key = form.cleaned_data["client_key"].hex
            if SurveyResponse.objects.filter(client_key=services.online_key(key)).exists():
                return redirect("survey:thanks", code=code)
            if _survey_rate_exceeded(request):
                rate_limited, status = True, 429
            else:
                try:
                    _response, created = services.survey_answer_online(
                        village=village, client_key=key, **form.answers()
                    )
                except services.InputError as exc:
                    apply_errors(form, exc)
                else:
                    if created:
                        ratelimit.hit(request, "survey", SURVEY_WINDOW)
                    return redirect("survey:thanks", code=code)
    else:
        form = SurveyForm(initial={"client_key": _survey_key(request, code)})
    context = {
        "village": village,
        "form": form,
        "rate_limited": rate_limited,
        "limit": SURVEY_LIMIT,
        "minutes": SURVEY_WINDOW // 60,
    }
    response = render(request, "assessment/inputs/survey_public.html", context, status=status)
    if request.method == "GET":
        # One sheet key per browser and village for a day: going back after sending and sending
        # again re-sends the same key, which is answered with the thanks page, not a second count.
        response.set_cookie(
            _survey_cookie(code), form.initial["client_key"].hex, max_age=SURVEY_KEY_SECONDS,
            path=f"/survey/{code}/", httponly=True, samesite="Lax", secure=request.is_secure(),
        )  # fmt: skip
    return response


SURVEY_KEY_SECONDS = 24 * 3600


def _survey_cookie(code: str) -> str:
    return f"survey_{code}"


def _survey_key(request, code: str) -> uuid.UUID:
    try:
        return uuid.UUID(request.COOKIES.get(_survey_cookie(code), ""))
    except ValueError:
        return uuid.uuid4()


@require_GET
def survey_thanks(request, code: str):
    return render(request, "assessment/inputs/survey_thanks.html", {"village": _village(code)})


def survey_url(request, code: str) -> str:
    """The address the village's QR code opens. SURVEY_PUBLIC_BASE_URL (when set) names the
    public host residents reach, which may differ from the intranet host of this page."""
    path = reverse("survey:form", args=[code])
    base = getattr(settings, "SURVEY_PUBLIC_BASE_URL", "")
    return base.rstrip("/") + path if base else request.build_absolute_uri(path)


def _villages(user, under: str = ""):
    villages = Region.objects.restrict(user).filter(level=Level.VILLAGE)
    return villages.filter(code__under=under) if under else villages


@login_required
def survey_villages(request):
    """问卷调查: the villages of the jurisdiction with this year's answers by channel."""
    user = request.user
    _require(can_view(user))
    today = timezone.localdate()
    year = _year(request)
    under = _under(request)
    page = Paginator(_villages(user, under).select_related("parent").order_by("code"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    villages = list(page.object_list)
    start = timezone.make_aware(dt.datetime(year, 1, 1))
    end = timezone.make_aware(dt.datetime(year + 1, 1, 1))
    counts = {
        row["village_id"]: row
        for row in SurveyResponse.objects.restrict(user)
        .filter(village__in=villages, answered_at__gte=start, answered_at__lt=end)
        .values("village_id")
        .annotate(
            online=Count("pk", filter=Q(channel=SurveyChannel.ONLINE)),
            offline=Count("pk", filter=Q(channel=SurveyChannel.OFFLINE)),
        )
        .order_by()
    }
    for village in villages:
        village.counts = counts.get(village.pk, {"online": 0, "offline": 0})
    return render(
        request,
        "assessment/inputs/survey_villages.html",
        {
            "page_obj": page,
            "villages": villages,
            "year": year,
            "under": under,
            "can_visit": user.can("assessment.survey"),
            "round_no": services.round_of(today),
        },
    )


def qr_svg(url: str, scale: int = 4) -> str:
    return segno.make(url, error="m").svg_inline(scale=scale, border=2, title=url)


@login_required
def survey_qr(request):
    """Printable QR codes (SVG, made here, no network) of the villages' questionnaires."""
    user = request.user
    _require(can_view(user))
    under = _under(request)
    page = Paginator(_villages(user, under).select_related("parent").order_by("code"), QR_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    villages = list(page.object_list)
    for village in villages:
        village.survey_url = survey_url(request, village.code)
        village.qr = mark_safe(qr_svg(village.survey_url))  # segno's own markup, the URL escaped by it
    return render(request, "assessment/inputs/survey_qr.html", {"page_obj": page, "villages": villages, "under": under})


@login_required
def survey_qr_svg(request, code: str):
    """One village's QR code as an SVG file, for the print shop."""
    user = request.user
    _require(can_view(user))
    village = get_object_or_404(Region.objects.restrict(user), code=code, level=Level.VILLAGE)
    buffer = io.BytesIO()
    segno.make(survey_url(request, village.code), error="m").save(buffer, kind="svg", scale=10, border=4)
    return content_response(buffer.getvalue(), f"survey-{village.code}.svg", SVG)


def _evaluator_village(user, code: str) -> Region:
    _require(user.can("assessment.survey"))
    return get_object_or_404(Region.objects.restrict(user).select_related("parent"), code=code, level=Level.VILLAGE)


def _round(request, today: dt.date) -> tuple[int, int]:
    year = _year(request)
    round_no = _int(request.GET.get("round"), services.round_of(today))
    return year, round_no if round_no in services.SURVEY_ROUNDS else 1


@login_required
def survey_sample_page(request, code: str):
    """入户调查抽样: the round's random household sample of a village (and reserves), with what
    has been entered so far."""
    user = request.user
    village = _evaluator_village(user, code)
    year, round_no = _round(request, timezone.localdate())
    sample = services.survey_sample(village, year, round_no)
    keys = {services.offline_key(village.code, year, round_no, h.number): h for h in sample}
    for response in SurveyResponse.objects.restrict(user).filter(client_key__in=keys):
        keys[response.client_key].response = response
    return render(
        request,
        "assessment/inputs/survey_sample.html",
        {
            "village": village,
            "year": year,
            "round_no": round_no,
            "rounds": services.SURVEY_ROUNDS.items(),
            "sample": sample,
            "entered": sum(1 for h in sample if h.response is not None),
            "sample_size": services.SURVEY_SAMPLE_SIZE,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_entry(request, code: str, year: int, round_no: int, household: int):
    """One sampled household's answers (entering it again corrects them)."""
    user = request.user
    village = _evaluator_village(user, code)
    if round_no not in services.SURVEY_ROUNDS:
        raise Http404
    sample = {h.number: h for h in services.survey_sample(village, year, round_no)}
    if household not in sample:
        raise Http404
    key = services.offline_key(village.code, year, round_no, household)
    existing = SurveyResponse.objects.restrict(user).filter(client_key=key).first()
    if request.method == "POST":
        form = OfflineSurveyForm(request.POST)
        if form.is_valid():
            try:
                services.survey_record_offline(
                    user=user,
                    village=village,
                    year=year,
                    round_no=round_no,
                    household=household,
                    visited_on=form.cleaned_data["visited_on"],
                    **form.answers(),
                )
            except services.InputError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("第%(n)s户的回答已保存。") % {"n": household})
                return redirect(f"{reverse('assessment:survey-sample', args=[code])}?year={year}&round={round_no}")
    else:
        initial = None
        if existing:
            initial = {
                "visited_on": timezone.localdate(existing.answered_at),
                **{name: getattr(existing, name) for name in services.SURVEY_ANSWER_FIELDS},
            }
        form = OfflineSurveyForm(initial=initial)
    return render(
        request,
        "assessment/inputs/survey_entry.html",
        {
            "village": village,
            "year": year,
            "round_no": round_no,
            "round_label": services.SURVEY_ROUNDS[round_no],
            "household": sample[household],
            "existing": existing,
            "form": form,
        },
    )
