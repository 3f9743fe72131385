"""Time limits (时限): the PRC working calendar and deadline arithmetic.

Working days: a dated exception maintained by staff (CalendarException) wins; otherwise
the `chinesecalendar` package answers for the years the State Council has published
(holidays and 调休 working weekends); otherwise Monday–Friday. A deadline is therefore
always computable, even for a year nobody has published yet.

Limits (SPEC §3): N hours end N hours after the start; N working days end at 23:59:59
local time of the Nth working day after the start date (the start date not counted);
N (natural) days end at 23:59:59 of the Nth calendar day after the start date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar
from django.db.models import Q
from django.utils import timezone

from grids.events.choices import UNRESOLVED_STATUSES, DeadlineKind, EventStatus, LimitUnit, Urgency

END_OF_DAY = dt.time(23, 59, 59)
AMBER_AT = 0.8  # share of a limit after which an item turns amber (预警)


@dataclass(frozen=True)
class Limit:
    value: int
    unit: str

    def __str__(self) -> str:
        return f"{self.value} {LimitUnit(self.unit).label}"


@dataclass(frozen=True)
class Limits:
    respond: Limit
    resolve: Limit
    feedback: Limit


# Defaults after Beijing's 接诉即办 (SPEC §3), used when no SlaPolicy row applies.
DEFAULT_LIMITS = {
    Urgency.NORMAL: Limits(Limit(1, LimitUnit.HOURS), Limit(5, LimitUnit.WORKING_DAYS), Limit(7, LimitUnit.DAYS)),
    Urgency.URGENT: Limits(Limit(1, LimitUnit.HOURS), Limit(24, LimitUnit.HOURS), Limit(7, LimitUnit.DAYS)),
    Urgency.CRITICAL: Limits(Limit(1, LimitUnit.HOURS), Limit(24, LimitUnit.HOURS), Limit(7, LimitUnit.DAYS)),
}


def package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=64)
def _package_is_workday(day: dt.date) -> bool | None:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def _exceptions(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    from grids.events.models import CalendarException

    return dict(CalendarException.objects.filter(date__range=(start, end)).values_list("date", "is_workday"))


def is_workday(day: dt.date, exceptions: dict[dt.date, bool] | None = None) -> bool:
    exceptions = _exceptions(day, day) if exceptions is None else exceptions
    if day in exceptions:
        return exceptions[day]
    known = _package_is_workday(day)
    return known if known is not None else day.weekday() < 5


def nth_working_day_after(start: dt.date, n: int) -> dt.date:
    """The Nth working day after `start` (not counting `start` itself)."""
    # Long holidays (Spring Festival) are under two weeks: a window of 3n + 30 days is ample.
    exceptions = _exceptions(start, start + dt.timedelta(days=3 * n + 30))
    day, counted = start, 0
    while counted < n:
        day += dt.timedelta(days=1)
        if is_workday(day, exceptions):
            counted += 1
    return day


def add_limit(start: dt.datetime, limit: Limit) -> dt.datetime:
    """The moment a limit that starts at `start` runs out (aware, Asia/Shanghai)."""
    local = timezone.localtime(start)
    if limit.unit == LimitUnit.HOURS:
        return local + dt.timedelta(hours=limit.value)
    if limit.unit == LimitUnit.WORKING_DAYS:
        last_day = nth_working_day_after(local.date(), limit.value)
    else:
        last_day = local.date() + dt.timedelta(days=limit.value)
    return timezone.make_aware(dt.datetime.combine(last_day, END_OF_DAY))


def limits_for(category, urgency: str) -> Limits:
    """The policy for category × urgency: the category's own, its parent's, the default row, the built-in default."""
    from django.db.models import Q

    from grids.events.models import SlaPolicy

    candidates = [category.pk] + ([category.parent_id] if category.parent_id else [])
    rows = SlaPolicy.objects.filter(Q(category_id__in=candidates) | Q(category__isnull=True), urgency=urgency)
    policies = {policy.category_id: policy for policy in rows}
    for key in (*candidates, None):
        policy = policies.get(key)
        if policy is not None:
            return Limits(
                Limit(policy.respond_value, policy.respond_unit),
                Limit(policy.resolve_value, policy.resolve_unit),
                Limit(policy.feedback_value, policy.feedback_unit),
            )
    return DEFAULT_LIMITS[Urgency(urgency)]


def clock_state(
    start: dt.datetime | None,
    deadline: dt.datetime | None,
    done_at: dt.datetime | None,
    now=None,
    *,
    warn_at: dt.datetime | None = None,
) -> str:
    """The one deadline state of the platform: 'ok', 'amber' (past 80 % of the limit, or from
    `warn_at` when a rule names its own warning moment — a case's day 20) or 'red' (past the
    limit) for a running clock; a stopped clock is judged at the moment it stopped ('done' if in
    time); 'none' without a start or a deadline. Events (event_clocks, current_clock) and cases
    (disputes.lifecycle.case_clock_state) call it; pages, API and exports read their answers."""
    if start is None or deadline is None:
        return "none"
    moment = done_at or now or timezone.now()
    if moment > deadline:
        return "red"
    if done_at is not None:
        return "done"
    if warn_at is not None and moment >= warn_at:
        return "amber"
    span = (deadline - start).total_seconds()
    return "amber" if span > 0 and (moment - start).total_seconds() >= AMBER_AT * span else "ok"


# --- The clocks of an event ------------------------------------------------------------------------

# Ended without being dealt with: their clocks no longer run.
STOPPED_STATUSES = frozenset({EventStatus.RETURNED, EventStatus.MERGED, EventStatus.CONVERTED})


def event_clocks(event, now=None) -> dict[str, str]:
    """ok | amber | red | done | none for the three limits. A limit that was never met on an
    event that no longer runs (returned, merged, converted) is 'none': nobody owes it any more."""
    now = now or timezone.now()
    stopped = event.status in STOPPED_STATUSES

    def state(start, deadline, done_at):
        if stopped and done_at is None:
            return "none"
        return clock_state(start, deadline, done_at, now)

    return {
        "respond": state(event.reported_at, event.respond_deadline, event.responded_at),
        "resolve": state(event.reported_at, event.resolve_deadline, event.resolved_at),
        "feedback": state(event.resolved_at, event.feedback_deadline, event.feedback_at),
    }


def current_clock(event) -> str:
    """The limit that matters now for an event (a DeadlineKind value), or '' when none does:
    the response while a report waits, the resolution while unresolved, the feedback once
    resolved, and afterwards how the resolution went."""
    if event.status == EventStatus.REPORTED and event.responded_at is None:
        return DeadlineKind.RESPOND
    if event.status in UNRESOLVED_STATUSES:
        return DeadlineKind.RESOLVE
    if event.status in (EventStatus.RESOLVED, EventStatus.VERIFIED):
        return DeadlineKind.FEEDBACK
    if event.status in (EventStatus.FEEDBACK, EventStatus.CLOSED) and event.resolved_at:
        return DeadlineKind.RESOLVE
    return ""


def overdue_q(now: dt.datetime) -> Q:
    """Unresolved past the resolution limit: the database side of a red resolve clock."""
    return Q(status__in=UNRESOLVED_STATUSES, resolve_deadline__lt=now)


def amber_at(start: dt.datetime, deadline: dt.datetime) -> dt.datetime:
    return start + (deadline - start) * AMBER_AT


def uncovered_year(today: dt.date | None = None) -> int | None:
    """From 1 November, next year while its holidays are neither in the package nor entered by staff."""
    from grids.events.models import CalendarException

    today = today or timezone.localdate()
    if today.month < 11:
        return None
    year = today.year + 1
    if package_covers(year) or CalendarException.objects.filter(date__year=year).exists():
        return None
    return year


def coverage_warning(today: dt.date | None = None) -> str | None:
    """The warning for the people who maintain the calendar, in the active language."""
    year = uncovered_year(today)
    return None if year is None else coverage_message(year)


def coverage_message(year: int) -> str:
    from django.utils.translation import gettext as _

    return _(
        "%(year)s年的法定节假日安排尚未录入：在录入前，工作日按周一至周五计算。请在“节假日调整”中录入国务院公布的安排。"
    ) % {"year": year}
