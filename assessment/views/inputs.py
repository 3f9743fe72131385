"""The hub of the assessment's input pages (考核数据录入), mounted at /assessment/ (namespace
"assessment"), and what the input pages share.

Every lookup starts from `Model.objects.restrict(user)`, so a record, unit or village outside
the user's jurisdiction answers 404 on every page, action and download; a role without the
capability for a page answers 403. Writes go through assessment.services, whose field errors are
put back on the forms; what a user may do to a record now comes from assessment.transitions.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.forms import apply_errors

from .. import services
from ..models import Indicator

PAGE_SIZE = 50


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


def submit(request, form, action, done: str, then):
    """The posted form's write: when `form` is valid, `action(form.cleaned_data)` calls the service;
    its InputError lands on the form (None is returned, the page is drawn again), else `done` is
    flashed and `then(result)` is the response (a redirect)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = action(form.cleaned_data)
    except services.InputError as exc:
        apply_errors(form, exc)
        return None
    messages.success(request, done)
    return then(result)


def new_record_page(request, capability: str, form_class, service, done: str, detail: str, template: str):
    """A page that records one input (a claim, a ruling): the form offers the user's own choices,
    `service(user=..., **cleaned_data)` writes it, then the new record's page `detail` opens."""
    user = request.user
    _require(user.can(capability))
    form = form_class(request.POST or None, request.FILES or None, user=user)
    response = submit(
        request, form, lambda data: service(user=user, **data), done, lambda row: redirect(detail, pk=row.pk)
    )
    return response if response is not None else render(request, template, {"form": form})


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
