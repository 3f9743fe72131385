"""Request-scoped audit context (who is acting, from which address) and the response headers
every page carries: the Content-Security-Policy, and a retryable 503 when the database is busy."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from . import audit


def client_ip(request) -> str | None:
    """The caller's address; X-Forwarded-For is trusted only behind a configured proxy."""
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def context_for(request, user=None) -> audit.AuditContext:
    user = user if user is not None else getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return audit.AuditContext(actor_id=user.pk, actor_name=user.get_username(), ip=client_ip(request))
    return audit.AuditContext(actor_id=None, actor_name="anonymous", ip=client_ip(request))


class AuditContextMiddleware:
    """Binds the audit context for the request. API token users are bound again by
    `governance.api.base.ScopedViewSetMixin.initial`, because DRF authenticates inside the view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = audit.set_context(context_for(request))
        try:
            return self.get_response(request)
        finally:
            audit.reset_context(token)


logger = logging.getLogger(__name__)


def content_security_policy(**overrides: str) -> str:
    """settings.CONTENT_SECURITY_POLICY as a header value, with some directives replaced."""
    directives = {**settings.CONTENT_SECURITY_POLICY, **overrides}
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    """Every response carries the site's policy (scripts, styles, fonts, images and connections
    from this origin only, no inline script) unless a view set its own (`relax_styles`)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = content_security_policy()

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.header)
        return response


def relax_styles(view):
    """For third-party pages that inject <style> elements at run time (ReDoc, Swagger UI):
    inline styles and blob: workers allowed; scripts stay from this origin only."""

    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = content_security_policy(
            **{"style-src": "'self' 'unsafe-inline'", "worker-src": "'self' blob:"}
        )
        return response

    return wrapped


# Messages of database errors that a retry a moment later will get past.
BUSY_SIGNS = ("database is locked", "could not serialize", "deadlock detected", "lock timeout",
              "server closed the connection", "connection refused", "terminating connection",
              "the database system is", "could not connect")  # fmt: skip


class DatabaseBusyMiddleware:
    """A database that is locked (SQLite while a long write runs), restarting or unreachable is
    answered with 503 and Retry-After — a clear "try again", never a 500. The request's own
    transaction has been rolled back, so nothing half-written remains; re-sending with the same
    client id is safe."""

    RETRY_AFTER_SECONDS = 5

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        text = str(exception).lower()
        if not isinstance(exception, InterfaceError) and not any(sign in text for sign in BUSY_SIGNS):
            return None
        logger.warning("Database busy or unavailable, answered 503: %s", exception)
        message = _("系统繁忙，请稍后重试（已保存的数据不受影响）。")
        if request.path.startswith(("/api/", "/open311/")):
            response = JsonResponse({"detail": message, "fields": {}}, status=503)
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response
