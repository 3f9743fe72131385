"""Pages of the platform package: login, departments, audit trail, health (the home page is the dashboard app's)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found as django_page_not_found
from django.views.defaults import server_error as django_server_error
from django.views.generic import ListView

from . import ratelimit
from .forms import LoginForm
from .models import AuditLog, Department
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
