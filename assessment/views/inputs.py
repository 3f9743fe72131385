"""Pages of the assessment's inputs, mounted at /assessment/ (namespace "assessment"), and the
public questionnaire at /survey/ (namespace "survey", no login).

Every lookup starts from `Model.objects.restrict(user)`, so a record, unit or village outside
the user's jurisdiction answers 404 on every page, action and download; a role without the
capability for a page answers 403. Writes go through assessment.inputs, whose field errors are
put back on the forms.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance import ratelimit
from governance.files import SVG, content_response, pdf_response, stored_file_response
from grids.choices import Level
from grids.event_views import apply_errors
from grids.models import Region

from .. import inputs
from ..choices import ClaimStatus, RectificationStatus, RulingStatus, SurveyChannel
from ..forms import (
    AppealForm,
    AwardForm,
    ClaimDecisionForm,
    ClaimForm,
    GroupForm,
    MonthlyReportForm,
    OfflineSurveyForm,
    RectificationReportForm,
    RectificationReturnForm,
    ReviewForm,
    ScoreUnitForm,
    SurveyForm,
    VetoDecisionForm,
    VetoForm,
)
from ..models import (
    AssessorGroup,
    AssessorScore,
    Cycle,
    Indicator,
    InnovationAward,
    MonthlyReport,
    RectificationItem,
    ScoreReview,
    SurveyResponse,
    ToleranceClaim,
    VetoRuling,
    month_deadline,
)

PAGE_SIZE = 50
QR_PAGE_SIZE = 24
SURVEY_LIMIT = 20  # answer sheets per address …
SURVEY_WINDOW = 600  # … per 10 minutes


def _require(condition: bool) -> None:
    if not condition:
        raise PermissionDenied


def can_view(user) -> bool:
    return user.can("assessment.inputs")


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _year(request, default: int | None = None) -> int:
    """?year=, within 2000–2100 (anything else: the current year)."""
    fallback = default or timezone.localdate().year
    year = _int(request.GET.get("year"), fallback)
    return year if 2000 <= year <= 2100 else fallback


def _under(request) -> str:
    code = (request.GET.get("under") or "").strip()
    return code if code.isdigit() and len(code) <= 15 else ""


def _indicator_names() -> dict[str, str]:
    return dict(Indicator.objects.values_list("code", "name_zh"))


def _named(page):
    """The page's rows as a list, each with `indicator_name` (one query for the catalogue)."""
    names = _indicator_names()
    page.object_list = list(page.object_list)
    for row in page.object_list:
        row.indicator_name = names.get(row.indicator, "")
    return page


def _status_list(request, rows, statuses, template: str, **context):
    """A paginated list of inputs with a status filter (?status=), for users who may see inputs."""
    _require(can_view(request.user))
    status = request.GET.get("status", "")
    if status in statuses.values:
        rows = rows.filter(status=status)
    page = _named(Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")))
    context.update(page_obj=page, status=status, status_options=statuses.choices)
    return render(request, f"assessment/inputs/{template}", context)


def input_links(user) -> list[tuple[str, str]]:
    """The input pages this user may open, for the hub page and the home card."""
    links = []
    if can_view(user) or user.can("assessment.report"):
        links.append((_("核心指标月报"), reverse("assessment:report-list")))
    if can_view(user):
        links.append((_("问卷与二维码"), reverse("assessment:survey-villages")))
        links.append((_("考核组"), reverse("assessment:group-list")))
    if user.can("assessment.score"):
        links.insert(0, (_("考核组评分"), reverse("assessment:scoring")))  # an assessor's main task first
    if can_view(user):
        links += [
            (_("评分审核"), reverse("assessment:review-list")),
            (_("一票否决"), reverse("assessment:veto-list")),
            (_("创新加分"), reverse("assessment:award-list")),
            (_("容错申请"), reverse("assessment:claim-list")),
            (_("整改台账"), reverse("assessment:rectification-list")),
            (_("考核申诉"), reverse("assessment:appeal-list")),
        ]
    return links


@login_required
def hub(request):
    """考核数据录入: the input pages of the user's role."""
    links = input_links(request.user)
    _require(bool(links))
    return render(request, "assessment/inputs/hub.html", {"links": links})


# --- Monthly core table ----------------------------------------------------------------------------------


def _townships(user, under: str = ""):
    townships = Region.objects.restrict(user).filter(level=Level.TOWNSHIP)
    return townships.filter(code__under=under) if under else townships


@login_required
def report_list(request):
    """核心指标月报: townships × the twelve months of a year — on time, late, missing, not yet due."""
    user = request.user
    _require(can_view(user) or user.can("assessment.report"))
    now = timezone.now()
    year = _year(request)
    under = _under(request)
    townships = _townships(user, under)
    page = Paginator(townships.select_related("parent").order_by("code"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = inputs.report_grid(user=user, townships=list(page.object_list), year=year, now=now)
    return render(
        request,
        "assessment/inputs/report_list.html",
        {
            "page_obj": page,
            "rows": rows,
            "year": year,
            "years": range(timezone.localdate(now).year, 2019, -1),
            "months": inputs.report_months(year),
            "under": under,
            "counties": Region.objects.restrict(user).filter(level=Level.COUNTY).order_by("code"),
            "totals": inputs.report_totals(user=user, townships=townships, year=year, now=now),
            "can_report": user.can("assessment.report"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_form(request, code: str, year: int, month: int):
    """One township's table for one month: the form until its deadline, read-only after."""
    user = request.user
    _require(can_view(user) or user.can("assessment.report"))
    township = get_object_or_404(
        Region.objects.restrict(user).select_related("parent"), code=code, level=Level.TOWNSHIP
    )
    try:
        first = dt.date(year, month, 1)
    except ValueError as exc:
        raise Http404 from exc
    now = timezone.now()
    report = MonthlyReport.objects.restrict(user).filter(township=township, month=first).first()
    deadline = report.deadline if report else month_deadline(first)
    started = first <= timezone.localdate(now)
    editable = (
        user.can("assessment.report") and started and (report is None or inputs.report_is_correctable(report, now))
    )
    if request.method == "POST":
        _require(user.can("assessment.report"))
        form = MonthlyReportForm(request.POST)
        if form.is_valid():
            try:
                report, created = inputs.report_submit(
                    user=user, township=township, month=first, values=form.cleaned_data, now=now
                )
            except inputs.InputError as exc:
                apply_errors(form, exc)
            else:
                if created and report.is_late:
                    messages.warning(request, _("核心指标表已报送（逾期报送）。"))
                elif created:
                    messages.success(request, _("核心指标表已报送。"))
                else:
                    messages.success(request, _("核心指标表已更正。"))
                return redirect("assessment:report-form", code=code, year=year, month=month)
    else:
        initial = {name: getattr(report, name) for name in inputs.REPORT_VALUE_FIELDS} if report else None
        form = MonthlyReportForm(initial=initial)
    return render(
        request,
        "assessment/inputs/report_form.html",
        {
            "township": township,
            "month": first,
            "report": report,
            "deadline": deadline,
            "state": inputs.report_state(report, first, now, deadline),
            "corrected": report is not None and report.updated_at - report.submitted_at > dt.timedelta(seconds=5),
            "form": form,
            "editable": editable,
            "started": started,
        },
    )


# --- Surveys: public page --------------------------------------------------------------------------------


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
            if SurveyResponse.objects.filter(client_key=inputs.online_key(key)).exists():
                return redirect("survey:thanks", code=code)
            if _survey_rate_exceeded(request):
                rate_limited, status = True, 429
            else:
                try:
                    _response, created = inputs.survey_answer_online(village=village, client_key=key, **form.answers())
                except inputs.InputError as exc:
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


# --- Surveys: staff and evaluators -----------------------------------------------------------------------


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
            "round_no": inputs.round_of(today),
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
    round_no = _int(request.GET.get("round"), inputs.round_of(today))
    return year, round_no if round_no in inputs.SURVEY_ROUNDS else 1


@login_required
def survey_sample_page(request, code: str):
    """入户调查抽样: the round's random household sample of a village (and reserves), with what
    has been entered so far."""
    user = request.user
    village = _evaluator_village(user, code)
    year, round_no = _round(request, timezone.localdate())
    sample = inputs.survey_sample(village, year, round_no)
    keys = {inputs.offline_key(village.code, year, round_no, h.number): h for h in sample}
    for response in SurveyResponse.objects.restrict(user).filter(client_key__in=keys):
        keys[response.client_key].response = response
    return render(
        request,
        "assessment/inputs/survey_sample.html",
        {
            "village": village,
            "year": year,
            "round_no": round_no,
            "rounds": inputs.SURVEY_ROUNDS.items(),
            "sample": sample,
            "entered": sum(1 for h in sample if h.response is not None),
            "sample_size": inputs.SURVEY_SAMPLE_SIZE,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_entry(request, code: str, year: int, round_no: int, household: int):
    """One sampled household's answers (entering it again corrects them)."""
    user = request.user
    village = _evaluator_village(user, code)
    if round_no not in inputs.SURVEY_ROUNDS:
        raise Http404
    sample = {h.number: h for h in inputs.survey_sample(village, year, round_no)}
    if household not in sample:
        raise Http404
    key = inputs.offline_key(village.code, year, round_no, household)
    existing = SurveyResponse.objects.restrict(user).filter(client_key=key).first()
    if request.method == "POST":
        form = OfflineSurveyForm(request.POST)
        if form.is_valid():
            try:
                inputs.survey_record_offline(
                    user=user,
                    village=village,
                    year=year,
                    round_no=round_no,
                    household=household,
                    visited_on=form.cleaned_data["visited_on"],
                    **form.answers(),
                )
            except inputs.InputError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("第%(n)s户的回答已保存。") % {"n": household})
                return redirect(f"{reverse('assessment:survey-sample', args=[code])}?year={year}&round={round_no}")
    else:
        initial = None
        if existing:
            initial = {
                "visited_on": timezone.localdate(existing.answered_at),
                **{name: getattr(existing, name) for name in inputs.SURVEY_ANSWER_FIELDS},
            }
        form = OfflineSurveyForm(initial=initial)
    return render(
        request,
        "assessment/inputs/survey_entry.html",
        {
            "village": village,
            "year": year,
            "round_no": round_no,
            "round_label": inputs.SURVEY_ROUNDS[round_no],
            "household": sample[household],
            "existing": existing,
            "form": form,
        },
    )


# --- Assessor groups -------------------------------------------------------------------------------------


def _group_kwargs(form) -> dict:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "is_third_party": data["is_third_party"],
        "members": list(data["members"]),
        "units": list(data["units"]),
    }


@login_required
@require_http_methods(["GET", "POST"])
def group_list(request):
    """考核组 of the cycles the user organises (at or above their root), and a form to add one."""
    user = request.user
    _require(can_view(user))
    can_create = user.can("assessment.group")
    form = None
    if can_create:
        form = GroupForm(request.POST or None, user=user)
    if request.method == "POST":
        _require(can_create)
        if form.is_valid():
            try:
                group = inputs.group_save(user=user, cycle=form.cleaned_data["cycle"], **_group_kwargs(form))
            except inputs.InputError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("考核组“%(name)s”已建立。") % {"name": group.name})
                return redirect("assessment:group-list")
    groups = (
        AssessorGroup.objects.restrict(user)
        .select_related("cycle", "cycle__root")
        .prefetch_related(
            Prefetch("members", queryset=_members_queryset(user)),
            Prefetch("units", queryset=Region.objects.restrict(user).order_by("code")),
        )
        .order_by("-cycle__year", "-cycle__created_at", "name")
    )
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessment/inputs/group_list.html",
        {"page_obj": page, "form": form, "can_create": can_create},
    )


def _members_queryset(user):
    from governance.models import User

    return User.objects.restrict(user).select_related("region").order_by("username")


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request, pk: int):
    user = request.user
    _require(can_view(user))
    group = get_object_or_404(AssessorGroup.objects.restrict(user).select_related("cycle", "cycle__root"), pk=pk)
    _require(user.can("assessment.group"))
    form = GroupForm(request.POST or None, user=user, group=group)
    if request.method == "POST" and form.is_valid():
        try:
            inputs.group_save(user=user, cycle=group.cycle, group=group, **_group_kwargs(form))
        except inputs.InputError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("考核组已保存。"))
            return redirect("assessment:group-list")
    return render(request, "assessment/inputs/group_form.html", {"group": group, "form": form})


# --- Scores ----------------------------------------------------------------------------------------------


@login_required
def scoring(request):
    """考核组评分: the assessor's groups, their units and how many indicators are scored."""
    user = request.user
    _require(user.can("assessment.score"))
    groups = list(
        inputs.groups_of_assessor(user)
        .select_related("cycle", "cycle__root")
        .prefetch_related(Prefetch("units", queryset=Region.objects.restrict(user).order_by("code")))
        .order_by("-cycle__year", "-cycle__created_at", "name")
    )
    scored = {
        (row["group_id"], row["unit_id"]): row["n"]
        for row in AssessorScore.objects.restrict(user)
        .filter(group__in=groups)
        .values("group_id", "unit_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    total = Indicator.objects.filter(rule="assessed").count()
    for group in groups:
        group.unit_rows = [(unit, scored.get((group.pk, unit.pk), 0)) for unit in group.units.all()]
    return render(request, "assessment/inputs/scoring.html", {"groups": groups, "total": total})


@login_required
@require_http_methods(["GET", "POST"])
def score_unit(request, group_pk: int, code: str):
    """One unit's scores by one group: every qualitative indicator, 0–100 with a note."""
    user = request.user
    _require(user.can("assessment.score"))
    group = get_object_or_404(inputs.groups_of_assessor(user).select_related("cycle", "cycle__root"), pk=group_pk)
    unit = get_object_or_404(group.units.restrict(user), code=code)
    indicators = inputs.assessed_indicators()
    existing = {
        s.indicator: s
        for s in AssessorScore.objects.restrict(user).filter(group=group, unit=unit).select_related("scored_by")
    }
    frozen = group.cycle.is_frozen
    form = ScoreUnitForm(request.POST or None, indicators=indicators, existing=existing)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                for code_, score, note in form.entries():
                    try:
                        inputs.score_record(user=user, group=group, unit=unit, indicator=code_, score=score, note=note)
                    except inputs.InputError as exc:
                        if hasattr(exc, "error_dict"):
                            mapped = {"score": f"score_{code_}", "note": f"note_{code_}"}
                            raise inputs.InputError({mapped.get(k, k): v for k, v in exc.message_dict.items()}) from exc
                        raise
        except inputs.InputError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("评分已保存。"))
            return redirect("assessment:score-unit", group_pk=group.pk, code=unit.code)
    return render(
        request,
        "assessment/inputs/score_unit.html",
        {"group": group, "unit": unit, "form": form, "frozen": frozen},
    )


# --- Reviews ---------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def review_list(request):
    """评分审核: lines scored by fewer than two groups or spread over 15 points, the decisions
    taken, and the form to accept a line or mark it not applicable."""
    user = request.user
    _require(can_view(user))
    cycles = list(Cycle.objects.restrict(user).select_related("root").order_by("-year", "-created_at")[:50])
    selected = _int(request.GET.get("cycle") or request.POST.get("cycle"), 0)
    cycle = next((c for c in cycles if c.pk == selected), cycles[0] if cycles else None)
    can_review = user.can("assessment.review")
    form = None
    if can_review and cycle is not None:
        initial = {key: request.GET.get(key) for key in ("unit", "indicator", "kind") if request.GET.get(key)}
        form = ReviewForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST":
        _require(can_review and cycle is not None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                inputs.review_record(
                    user=user,
                    cycle=cycle,
                    unit=data["unit"],
                    indicator=data["indicator"],
                    kind=data["kind"],
                    reason=data["reason"],
                )
            except inputs.InputError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("审核决定已记录。"))
                return redirect(f"{reverse('assessment:review-list')}?cycle={cycle.pk}")
    page = lines = reviews = None
    show_all = request.GET.get("all") == "1"
    if cycle is not None:
        lines = inputs.score_lines(user=user, cycle=cycle).annotate(spread=F("high") - F("low"))
        if not show_all:
            lines = lines.filter(Q(groups__lt=2) | Q(spread__gt=inputs.SPREAD_LIMIT))
        page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
        reviews = list(
            ScoreReview.objects.restrict(user)
            .filter(cycle=cycle)
            .select_related("unit", "reviewer")
            .order_by("-reviewed_at")
        )
        decided = {(r.unit.code, r.indicator) for r in reviews}
        names = _indicator_names()
        for line in page.object_list:
            line["name"] = names.get(line["indicator"], "")
            line["flagged"] = line["groups"] < 2 or line["spread"] > inputs.SPREAD_LIMIT
            line["reviewed"] = (line["unit__code"], line["indicator"]) in decided
    return render(
        request,
        "assessment/inputs/review_list.html",
        {
            "cycles": cycles,
            "cycle": cycle,
            "page_obj": page,
            "reviews": reviews,
            "form": form,
            "show_all": show_all,
            "frozen": cycle is not None and cycle.is_frozen,
        },
    )


# --- Veto rulings ----------------------------------------------------------------------------------------


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
            ruling = inputs.veto_record(
                user=user,
                unit=data["unit"],
                indicator=data["indicator"],
                occurred_on=data["occurred_on"],
                description=data["description"],
                evidence=data["evidence"],
            )
        except inputs.InputError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("一票否决裁定已记录。"))
            return redirect("assessment:veto-detail", pk=ruling.pk)
    return render(request, "assessment/inputs/veto_form.html", {"form": form})


def _veto_context(request, ruling, appeal_form=None, decision_form=None) -> dict:
    steps = inputs.available_steps(request.user, ruling, inputs.RULING_STEPS)
    return {
        "ruling": ruling,
        "indicator_name": _indicator_names().get(ruling.indicator, ""),
        "appeal_deadline": inputs.appeal_deadline(ruling),
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
    """appeal (the unit) or decide (the committee above) — the rules are inputs.RULING_STEPS."""
    user = request.user
    _require(can_view(user))
    ruling = get_object_or_404(_rulings(user), pk=pk)
    if step == "appeal":
        form = AppealForm(request.POST)
        if form.is_valid():
            try:
                inputs.veto_appeal(user=user, ruling=ruling, reason=form.cleaned_data["appeal_reason"])
            except inputs.InputError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("申诉已提交。"))
                return redirect("assessment:veto-detail", pk=pk)
        return render(request, "assessment/inputs/veto_detail.html", _veto_context(request, ruling, appeal_form=form))
    if step == "decide":
        form = VetoDecisionForm(request.POST)
        if form.is_valid():
            try:
                inputs.veto_decide(
                    user=user,
                    ruling=ruling,
                    decision=form.cleaned_data["decision"],
                    note=form.cleaned_data["decision_note"],
                )
            except inputs.InputError as exc:
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


# --- Innovation awards -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def award_list(request):
    """创新加分 of a year, and the form to award (or change) one."""
    user = request.user
    _require(can_view(user))
    year = _year(request)
    can_award = user.can("assessment.award")
    form = AwardForm(request.POST or None, user=user, initial={"year": year}) if can_award else None
    if request.method == "POST":
        _require(can_award)
        if form.is_valid():
            data = form.cleaned_data
            try:
                award, _created = inputs.award_record(
                    user=user, unit=data["unit"], year=data["year"], points=data["points"], reason=data["reason"]
                )
            except inputs.InputError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("创新加分已记录。"))
                return redirect(f"{reverse('assessment:award-list')}?year={award.year}")
    awards = (
        InnovationAward.objects.restrict(user)
        .filter(year=year)
        .select_related("unit", "awarded_by")
        .order_by("region_code")
    )
    page = Paginator(awards, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessment/inputs/award_list.html",
        {"page_obj": page, "form": form, "year": year, "years": range(timezone.localdate().year, 2019, -1)},
    )


# --- Tolerance claims ------------------------------------------------------------------------------------


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
            claim = inputs.claim_file(
                user=user,
                cycle=data["cycle"],
                unit=data["unit"],
                indicator=data["indicator"],
                reasons=data["reasons"],
                evidence=data["evidence"],
            )
        except inputs.InputError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("容错申请已提交。"))
            return redirect("assessment:claim-detail", pk=claim.pk)
    return render(request, "assessment/inputs/claim_form.html", {"form": form})


def _claim_context(request, claim, form=None) -> dict:
    steps = inputs.available_steps(request.user, claim, inputs.CLAIM_STEPS)
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
                inputs.claim_decide(
                    user=user,
                    claim=claim,
                    approve=form.cleaned_data["decision"] == "approve",
                    note=form.cleaned_data["decision_note"],
                )
            except inputs.InputError as exc:
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


# --- Rectification ---------------------------------------------------------------------------------------


def _items(user):
    return RectificationItem.objects.restrict(user).select_related("cycle", "cycle__root", "unit", "closed_by")


@login_required
def rectification_list(request):
    """整改台账: problem items of finalised cycles, overdue first."""
    user = request.user
    _require(can_view(user))
    overdue = Q(status=RectificationStatus.OPEN, due_on__lt=timezone.localdate())  # inputs.rectification_overdue
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
    steps = inputs.available_steps(request.user, item, inputs.RECTIFICATION_STEPS)
    item.overdue = inputs.rectification_overdue(item)
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
    """report (the unit), close or return (an assessor) — the rules are inputs.RECTIFICATION_STEPS."""
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
            inputs.rectification_report(user=user, item=item, report=data["report"], evidence=data["evidence"])
        elif step == "close":
            inputs.rectification_close(user=user, item=item)
        else:
            return_form = RectificationReturnForm(request.POST)
            if not return_form.is_valid():
                raise _Invalid
            inputs.rectification_return(user=user, item=item, note=return_form.cleaned_data["note"])
    except _Invalid:
        pass
    except inputs.InputError as exc:
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
    from ..reports import notice_for

    _require(can_view(request.user))
    item = get_object_or_404(_items(request.user).select_related("cycle__root", "unit"), pk=pk)
    return pdf_response(notice_for(item.cycle, item.unit), f"notice-{item.cycle_id}-{item.region_code}.pdf")


class _Invalid(Exception):
    """A form did not validate; the page is shown again with its errors."""
