"""Indicators from the monthly core table (SPEC §5.2 "Monthly core table"), and D03.

A township's table for a month *counts* when it was submitted by its deadline. A township is
*missing* for a period when a table of one of the period's months is past its deadline at run
time and was not submitted by it: it scores r = 0 on every `reported` indicator (未报送不得分).
A table not yet due and not submitted is simply left out. A township that is not missing and
has at least one counting table is a *reporting township*; a county or city is valued over its
reporting townships (none = not applicable). One query reads the tables, one the townships.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.utils import timezone

from governance.codes import Level

from ..models import REPORT_VALUE_FIELDS, MonthlyReport, month_deadline
from ..periods import Period
from .facts import Rollup

REPORTED = ("A04", "A05", "C08", "C09", "C10", "C12", "D01")
FIELDS = REPORT_VALUE_FIELDS


@dataclass
class Township:
    code: str
    population: int
    households: int
    tables: dict[dt.date, dict] = field(default_factory=dict)  # counting tables by month
    missing: list[dt.date] = field(default_factory=list)

    @property
    def reporting(self) -> bool:
        return not self.missing and bool(self.tables)

    @property
    def last(self) -> dict:
        return self.tables[max(self.tables)]

    @functools.cached_property
    def sums(self) -> dict[str, Decimal]:
        """Each value summed over the counting tables (exact: whole numbers and yuan with cents)."""
        return {name: sum((Decimal(t[name]) for t in self.tables.values()), Decimal(0)) for name in FIELDS}


@dataclass
class ReportedValue:
    status: str  # "value", "missing", "na"
    numerator: Fraction | None = None
    denominator: Fraction | None = None
    value: Fraction | None = None
    note: str = ""


@dataclass
class ReportedFacts:
    townships: dict[str, Township]
    d03: dict[str, tuple[int, int]]  # unit -> (on time, expected)
    records_read: int


def load(period: Period, root_code: str, now: dt.datetime | None = None) -> ReportedFacts:
    from grids.models import Region

    now = now or timezone.now()
    townships = {
        r["code"]: Township(r["code"], r["population"], r["households"])
        for r in Region.objects.filter(code__under=root_code, level=Level.TOWNSHIP).values(
            "code", "population", "households"
        )
    }
    # Months whose table is due in the period (for D03) and months of the period (for the values).
    d03_months = [m for m in months_around(period) if period.start <= month_deadline(m) < period.end]
    months = set(period.months) | set(d03_months)
    rows = MonthlyReport.objects.filter(region_code__under=root_code, month__in=sorted(months)).values(
        "region_code", "month", "deadline", "submitted_at", *FIELDS
    )
    submitted: dict[tuple[str, dt.date], dict] = {}
    count = 0
    for row in rows:
        count += 1
        submitted[(row["region_code"], row["month"])] = row
    for code, township in townships.items():
        for month in period.months:
            row = submitted.get((code, month))
            if row is not None and row["submitted_at"] <= row["deadline"]:
                township.tables[month] = row
            elif row is not None or month_deadline(month) <= now:
                township.missing.append(month)  # submitted late, or past its deadline and not submitted
    d03: dict[str, tuple[int, int]] = {}
    for code in townships:
        on_time = expected = 0
        for month in d03_months:
            row = submitted.get((code, month))
            due = row["deadline"] if row else month_deadline(month)
            if row is None and due > now:
                continue  # not yet due and not submitted: left out
            expected += 1
            on_time += int(row is not None and row["submitted_at"] <= row["deadline"])
        d03[code] = (on_time, expected)
    return ReportedFacts(townships, d03, count)


def months_around(period: Period) -> list[dt.date]:
    first = (period.first - dt.timedelta(days=1)).replace(day=1)
    return [first, *period.months]


def values_for(unit_code: str, level: int, members: list[Township], period: Period) -> dict[str, ReportedValue]:
    """The reported indicators of one unit: a township from its own tables, a county or city
    over its reporting townships (`members`: the townships under the unit)."""
    if level == Level.TOWNSHIP:
        township = members[0] if members else None
        if township is None:
            return {code: ReportedValue("na") for code in REPORTED}
        if township.missing:
            months = "、".join(f"{m:%Y-%m}" for m in township.missing)
            return {code: ReportedValue("missing", note=months) for code in REPORTED}
        if not township.tables:
            return {code: ReportedValue("na") for code in REPORTED}
    else:
        members = [t for t in members if t.reporting]
        if not members:
            return {code: ReportedValue("na") for code in REPORTED}
    return compute_values(members, period)


def _total(values) -> Fraction:
    return Fraction(sum(values, Decimal(0)))


def _rate(numerator: Fraction, denominator: Fraction, scale: Fraction = Fraction(1), cap=None) -> ReportedValue:
    if not denominator:
        return ReportedValue("na", numerator, denominator)
    value = numerator / denominator * scale
    if cap is not None:
        value = min(cap, value)
    return ReportedValue("value", numerator, denominator, value)


def compute_values(members: list[Township], period: Period) -> dict[str, ReportedValue]:
    def summed(name):  # over every counting table of the members
        return _total(t.sums[name] for t in members)

    def last(name):  # each member's last counting month
        return _total(Decimal(t.last[name]) for t in members)

    residents = Fraction(sum(t.population for t in members))
    households = Fraction(sum(t.households for t in members))
    per_year = Fraction(365, period.days)
    mediators = last("mediators_fulltime") + last("mediators_parttime")
    return {
        "A04": _rate(summed("funding_yuan"), residents, per_year),
        "A05": _rate(mediators, residents, Fraction(10_000)),
        "C08": _rate(summed("petitions_resolved_first"), summed("petitions_received")),
        "C09": _rate(summed("criminal_cases"), residents, 10_000 * per_year),
        "C10": _rate(last("key_persons_managed"), last("key_persons_registered")),
        "C12": _rate(summed("households_reached"), households, cap=Fraction(1)),
        "D01": _rate(last("cadres_on_track"), last("cadres")),
    }


def townships_by_unit(unit_codes: set[str], facts: ReportedFacts) -> dict[str, list[Township]]:
    """The townships under each unit, found through the prefixes of each township code."""
    rollup = Rollup(unit_codes)
    out: dict[str, list[Township]] = defaultdict(list)
    for code, township in facts.townships.items():
        for unit in rollup.units_of(code):
            out[unit].append(township)
    return out


def d03_for(members: list[Township], facts: ReportedFacts) -> tuple[int, int]:
    on_time = expected = 0
    for township in members:
        n, d = facts.d03[township.code]
        on_time, expected = on_time + n, expected + d
    return on_time, expected
