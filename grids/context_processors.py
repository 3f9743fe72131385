"""The holiday-calendar warning, shown to the people who maintain the calendar (SPEC §3)."""

from django.core.cache import cache
from django.utils import timezone

from governance.choices import Role

WARNED_ROLES = {Role.ADMIN, Role.CENTRE_STAFF, Role.COMMITTEE_STAFF}


def calendar_warning(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not (user.is_superuser or user.role in WARNED_ROLES):
        return {}
    today = timezone.localdate()
    if today.month < 11:
        return {}
    from .sla import coverage_warning

    # One query a day, not one a page view.
    message = cache.get_or_set(f"calendar-warning:{today.isoformat()}", lambda: coverage_warning(today) or "", 3600)
    return {"calendar_warning": message} if message else {}
