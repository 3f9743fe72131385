"""The holiday-calendar notice, shown only to the people who maintain the calendar (SPEC §3)."""

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone


def may_maintain_calendar(user) -> bool:
    """Whoever can enter the dated exceptions in the admin (节假日调整)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("grids.add_calendarexception")
    )


def _coverage_key(today) -> str:
    return f"calendar-uncovered:{today.isoformat()}"


def forget_calendar_coverage() -> None:
    cache.delete(_coverage_key(timezone.localdate()))


def calendar_warning(request):
    user = getattr(request, "user", None)
    if not may_maintain_calendar(user):
        return {}
    today = timezone.localdate()
    if today.month < 11:
        return {}
    from grids.events.sla import coverage_message, uncovered_year

    # One query a day, not one a page view; the text is translated per request (the cache holds the year).
    year = cache.get_or_set(_coverage_key(today), lambda: uncovered_year(today) or 0, 3600)
    if not year:
        return {}
    return {
        "calendar_notice": coverage_message(year),
        "calendar_url": reverse("admin:grids_calendarexception_changelist"),
    }
