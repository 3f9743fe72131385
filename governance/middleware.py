"""Request-scoped audit context: who is acting and from which address."""

from django.conf import settings

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
