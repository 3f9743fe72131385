"""Assessment periods (SPEC §5.2): calendar quarters, the first half-year and the year, in
Asia/Shanghai local time, both ends included.

A period is handled as local dates (`first`, `last`) and as the half-open range of aware
instants [`start`, `end`) that covers exactly those dates, so a timestamp is "in period"
when `start <= ts < end` and a date when `first <= d <= last`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import CycleKind

CATCH_UP_DAYS = 30


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date
    label: str

    @staticmethod
    def day_start(day: dt.date) -> dt.datetime:
        """Local midnight at the start of `day` (aware)."""
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

    @property
    def start(self) -> dt.datetime:
        return self.day_start(self.first)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the period (exclusive)."""
        return self.day_start(self.last + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def months(self) -> list[dt.date]:
        """The first day of every month in the period."""
        out, month = [], self.first.replace(day=1)
        while month <= self.last:
            out.append(month)
            month = (month + dt.timedelta(days=32)).replace(day=1)
        return out

    def contains(self, day: dt.date) -> bool:
        return self.first <= day <= self.last


def _quarter(year: int, quarter: int) -> Period:
    first = dt.date(year, 3 * quarter - 2, 1)
    last = (dt.date(year, 3 * quarter, 1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return Period(first, last, _("%(year)s年第%(quarter)s季度") % {"year": year, "quarter": quarter})


def period_for(kind: str, year: int, quarter: int | None = None) -> Period:
    if kind == CycleKind.SPOT_CHECK:
        if quarter not in (1, 2, 3, 4):
            raise ValueError("a spot-check needs a quarter 1–4")
        return _quarter(year, quarter)
    if kind == CycleKind.HALF_YEAR:
        return Period(dt.date(year, 1, 1), dt.date(year, 6, 30), _("%(year)s年上半年") % {"year": year})
    return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), _("%(year)s年度") % {"year": year})


def due_periods(today: dt.date, days_after: int) -> list[tuple[str, int, int | None]]:
    """The (kind, year, quarter) whose scheduled start (the `days_after`-th day after the
    period's end) is today or passed within the last 30 days (catching up after an outage) —
    the beat starts the ones without a cycle yet."""
    out = []
    for year in (today.year - 1, today.year):
        candidates = [(CycleKind.SPOT_CHECK, year, q) for q in (1, 2, 3, 4)]
        candidates += [(CycleKind.HALF_YEAR, year, None), (CycleKind.YEAR_END, year, None)]
        for kind, y, q in candidates:
            starts = period_for(kind, y, q).last + dt.timedelta(days=days_after)
            if starts <= today < starts + dt.timedelta(days=CATCH_UP_DAYS):
                out.append((kind, y, q))
    return out
