"""Pages of the platform package: login, the per-role home page, departments, audit trail, health."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found as django_page_not_found
from django.views.defaults import server_error as django_server_error
from django.views.generic import ListView

from grids.choices import Level, SizingFlag
from grids.models import Region, sizing_conditions
from grids.selectors import child_summaries, subtree_level_counts

from . import ratelimit
from .choices import Role
from .forms import LoginForm
from .models import AuditLog, Department, User
from .scoping import ScopedQuerysetMixin


class LoginView(auth_views.LoginView):
    """The login page; besides the per-account lockout, each address may try only
    LOGIN_RATE_PER_MINUTE times a minute (password spraying across accounts)."""

    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if ratelimit.login_rate_exceeded(request):
            form = self.get_form()
            form.is_bound = False
            context = self.get_context_data(form=form, rate_limited=True)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def home(request):
    """The working page of each role: their region, what lies under it and what needs attention."""
    user: User = request.user
    if user.role == Role.COMMITTEE_STAFF:
        return redirect("dashboard:index")  # committee staff decide from the dashboard (SPEC §5.5)
    if user.role == Role.MEDIATOR:
        return redirect("disputes:board")  # a mediator's day is their own cases, overdue first
    region = user.region
    context = {"region": region, "role": user.get_role_display() if user.role else ""}
    if region is not None:
        context.update(_region_overview(user, region))
    if user.role == Role.GRID_WORKER:
        context["my_grids"] = _worker_grids(user)
    if user.department_id:
        context["department"] = user.department
        context["sibling_departments"] = Department.objects.restrict(user).filter(region=user.department.region_id)
    if user.can("user.view"):
        context["users_by_role"] = _users_by_role(user)
    from grids.events.views import event_card

    context["event_card"] = event_card(user)  # open / overdue events for the role's queue (one query)
    return render(request, f"governance/home_{_home_template(user)}.html", context)


def _home_template(user: User) -> str:
    if user.role == Role.GRID_WORKER:
        return "grid_worker"
    if user.role == Role.DEPARTMENT_HANDLER:
        return "department"
    return "overview"


def _region_overview(user: User, region: Region) -> dict:
    level_counts = subtree_level_counts(region, user)
    children = list(Region.objects.restrict(user).filter(parent=region).order_by("code"))
    summaries = child_summaries(region, user)
    for child in children:
        child.summary = summaries.get(child.code, {})
    conditions = sizing_conditions()
    flag_totals = (
        Region.objects.restrict(user)
        .under(region.code)
        .filter(level=Level.GRID)
        .aggregate(**{flag: Count("pk", filter=condition) for flag, condition in conditions.items()})
    )
    return {
        "level_counts": [(Level(level).label, n) for level, n in sorted(level_counts.items())],
        "children": children,
        "flag_totals": [(SizingFlag(flag).label, flag, n) for flag, n in flag_totals.items()],
    }


def _worker_grids(user: User) -> list[Region]:
    grids = list(Region.objects.restrict(user).grids().order_by("code"))
    for grid in grids:
        grid.flags = [SizingFlag(flag).label for flag in grid.sizing_flags()]
    return grids


def _users_by_role(user: User) -> list[tuple[str, int, int]]:
    rows = (
        User.objects.restrict(user)
        .order_by()
        .values("role")
        .annotate(n=Count("pk"), locked=Count("pk", filter=Q(locked_until__isnull=False)))
    )
    labels = dict(Role.choices)
    return [(labels.get(row["role"], row["role"]), row["n"], row["locked"]) for row in rows]


class DepartmentListView(LoginRequiredMixin, ScopedQuerysetMixin, ListView):
    model = Department
    paginate_by = 50
    template_name = "governance/department_list.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("region")
            .annotate(user_count=Count("users"))
            .order_by("region__code", "kind", "name")
        )


class AuditLogListView(LoginRequiredMixin, ScopedQuerysetMixin, ListView):
    """The audit trail of the user's jurisdiction (administrators and committee staff)."""

    model = AuditLog
    paginate_by = 50
    template_name = "governance/audit_list.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.can("audit.view"):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        action = self.request.GET.get("action")
        return queryset.filter(action=action) if action else queryset


@never_cache
def healthz(request):
    """Liveness and readiness for load balancers: database, cache and broker, 503 if any fails."""
    checks = {"database": _check_database(), "cache": _check_cache(), "broker": _check_broker()}
    healthy = all(value in ("ok", "eager") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def _check_cache() -> str:
    try:
        cache.set("healthz", "1", 10)
        return "ok" if cache.get("healthz") == "1" else "error: read back failed"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def _check_broker() -> str:
    from governance.celery import app

    if app.conf.task_always_eager:
        return "eager"
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def page_not_found(request, exception):
    """404: JSON in the API's error shape under /api/ and /open311/ (a client parses it), the
    page otherwise."""
    if request.path.startswith(("/api/", "/open311/")):
        return JsonResponse({"detail": _("不存在或不在您的管辖范围内。"), "fields": {}}, status=404)
    return django_page_not_found(request, exception)


def server_error(request):
    """500: JSON in the API's error shape under /api/ and /open311/, the plain page otherwise."""
    if request.path.startswith(("/api/", "/open311/")):
        return JsonResponse({"detail": _("系统错误，请稍后重试；已保存的数据不受影响。"), "fields": {}}, status=500)
    return django_server_error(request)
