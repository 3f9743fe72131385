"""Data-credibility checks (智能预警, SPEC §5.4): patterns in the platform's records that suggest
a unit's figures are padded or suppressed. They run with every cycle (over its period) and
monthly (the beat, over the previous month), and never change a score.

Each rule is at most ONE grouped query over the whole root's subtree (rows grouped by region
code cut to the finest assessed level, then rolled up into every unit, as the engine does) —
the three event rules share one scan of the events, the spike rule has one over the cases —
plus one query for the records behind the flags it raised; never a query per unit. A run replaces the
flags of its rules, subtree and period as a whole (re-running changes nothing).

The rules (thresholds are in this module only):
- mediation spike: a month's cases > mean + 3σ of the previous 6 months (population σ, months
  without cases count as 0), at least double that mean and at least 10 cases, and more than half
  of that month's cases have no session record (调解记录);
- instant closures: over 30 % of the events first resolved in the period were resolved within
  10 minutes of being reported;
- under-reporting: events reported per 1,000 residents below 20 % of the median of the peers
  (units at the same level under the same parent, the unit included);
- duplicate submissions: over 10 %, and at least 5, of the events reported in the period were
  flagged as likely duplicates of another (same category and grid, close in time and place).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone

from governance.codes import parent_code
from grids.events.models import GridEvent
from grids.models import Region

from ..choices import FlagRule
from ..engine.facts import Rollup, key_length
from ..engine.measures import instant_resolution_filters
from ..models import CredibilityFlag
from ..periods import Period

SPIKE_HISTORY_MONTHS = 6
SPIKE_SIGMAS = 3
SPIKE_MIN_FACTOR = 2
SPIKE_MIN_CASES = 10
INSTANT_SHARE = Fraction(30, 100)
UNDER_SHARE_OF_MEDIAN = Fraction(20, 100)
DUPLICATE_SHARE = Fraction(10, 100)
DUPLICATE_MIN = 5


@dataclass
class Unit:
    pk: int
    code: str
    level: int
    population: int

    @property
    def peer_key(self) -> tuple[int, str]:
        """Peers: the same level under the same parent."""
        return self.level, parent_code(self.code)


@dataclass
class Found:
    """A flag before it is stored: the unit, the figures, and how to find its records."""

    rule: str
    unit: Unit
    first: dt.date
    last: dt.date
    figures: dict
    records: Q = field(default_factory=Q)
    record_ids: list[int] = field(default_factory=list)


def month_period(month: dt.date) -> Period:
    first = month.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return Period(first, nxt - dt.timedelta(days=1), f"{first:%Y-%m}")


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def check_units(root_code: str, levels: list[int]) -> list[Unit]:
    return [
        Unit(*row)
        for row in Region.objects.filter(code__under=root_code, level__in=levels)
        .order_by("code")
        .values_list("pk", "code", "level", "population")
    ]


def run_checks(
    *, root_code: str, period: Period, levels: list[int] | None = None, events: dict | None = None
) -> list[CredibilityFlag]:
    """Run the four rules over `period` for every unit of the root's subtree; store the flags.
    `events`: the per-unit event counts a cycle run already made in its own event scan
    (engine.run.RunSummary.event_counts, for the same units); without them one scan is made here."""
    levels = sorted(levels or settings.ASSESSMENT_LEVELS)
    units = check_units(root_code, levels)
    if not units:
        return []
    by_code = {u.code: u for u in units}
    rollup, length = Rollup(set(by_code)), key_length(levels)
    if events is None:
        events = _units_of(event_counts(root_code, period, length), rollup, "n", "dup", "resolved", "instant")
    found = (
        mediation_spikes(root_code, period, by_code, rollup, length)
        + instant_closures(period, by_code, events)
        + under_reporting(period, units, events)
        + duplicate_submissions(period, by_code, events)
    )
    return _store(root_code, period, found)


def run_monthly_checks(today: dt.date | None = None) -> int:
    """The beat: last month, for every top-level region."""
    month = add_months((today or timezone.localdate()).replace(day=1), -1)
    return sum(
        len(run_checks(root_code=code, period=month_period(month)))
        for code in Region.objects.filter(parent__isnull=True).values_list("code", flat=True)
    )


def _units_of(rows, rollup: Rollup, *names: str) -> dict[str, dict[str, int]]:
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        for code in rollup.units_of(row["_key"]):
            for name in names:
                sums[code][name] += row[name]
    return sums


# --- Mediation spikes ------------------------------------------------------------------------------------


def mediation_spikes(root_code, period: Period, units, rollup, length) -> list[Found]:
    """Counts per unit and month in one grouped query; the session condition is then checked on
    the records of the few months whose count already spikes (the records query every rule has),
    so the grouped query needs no per-case look-up of sessions."""
    from disputes.models import Case, MediationSession

    months = period.months
    earliest = add_months(months[0], -SPIKE_HISTORY_MONTHS)
    rows = (
        Case.objects.filter(
            region_code__under=root_code,
            registered_at__gte=Period.day_start(earliest),
            registered_at__lt=period.end,
        )
        .annotate(_key=Substr("region_code", 1, length), _month=TruncMonth("registered_at"))
        .values("_key", "_month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[tuple[str, dt.date], int] = defaultdict(int)
    for row in rows:
        month = _as_month(row["_month"])
        for code in rollup.units_of(row["_key"]):
            counts[(code, month)] += row["n"]
    candidates = []
    for code, unit in units.items():
        for month in months:
            n = counts.get((code, month), 0)
            history = [counts.get((code, add_months(month, -k)), 0) for k in range(1, SPIKE_HISTORY_MONTHS + 1)]
            if is_spike(n, n, history):  # every condition but the sessions, checked below
                p = month_period(month)
                mean = Fraction(sum(history), len(history))
                candidates.append(
                    Found(
                        FlagRule.MEDIATION_SPIKE,
                        unit,
                        p.first,
                        p.last,
                        {
                            "cases": n,
                            "history": list(reversed(history)),
                            "mean": _num(mean),
                            "sigma": _num(Fraction(statistics.pstdev([Fraction(h) for h in history]))),
                        },
                        Q(region_code__under=code, registered_at__gte=p.start, registered_at__lt=p.end)
                        & ~Q(Exists(MediationSession.objects.filter(case=OuterRef("pk")))),
                    )
                )
    _attach(Case, candidates, "registered_at")
    found = []
    for f in candidates:
        f.figures["without_sessions"] = len(f.record_ids)
        if is_spike(f.figures["cases"], len(f.record_ids), list(reversed(f.figures["history"]))):
            found.append(f)
    return found


def is_spike(n: int, bare: int, history: list[int]) -> bool:
    """this month > mean + 3σ, ≥ 2 × mean, ≥ 10 cases, and most of them without a session —
    compared exactly: n − mean > 3σ ⟺ n > mean and (n − mean)² > 9σ². Over the history's
    length L, sum S and sum of squares Q (mean = S/L, σ² = (LQ − S²)/L²), every comparison is
    one of integers multiplied through by L or L²: the checks call it for every unit and month."""
    if n < SPIKE_MIN_CASES or 2 * bare <= n:
        return False
    length, total = len(history), sum(history)
    squares = sum(h * h for h in history)
    excess = n * length - total  # (n − mean) × L
    return (
        excess > 0
        and excess * excess > SPIKE_SIGMAS**2 * (length * squares - total * total)
        and n * length >= SPIKE_MIN_FACTOR * total
    )


def _as_month(value) -> dt.date:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


# --- Instant closures ------------------------------------------------------------------------------------


def event_counts(root_code: str, period: Period, length: int):
    """Per region-code group, in ONE scan of the events: reported in the period, of those the
    likely duplicates (under-reporting, duplicate submissions), first resolved in the period and
    of those the instant closures."""
    reported = Q(reported_at__gte=period.start, reported_at__lt=period.end)
    resolved, instant = instant_resolution_filters(period)
    return (
        GridEvent.objects.filter(region_code__under=root_code, reported_at__lt=period.end)
        .filter(reported | resolved)
        .annotate(_key=Substr("region_code", 1, length))
        .values("_key")
        .annotate(
            n=Count("pk", filter=reported),
            dup=Count("pk", filter=reported & Q(duplicate_of__isnull=False)),
            resolved=Count("pk", filter=resolved),
            instant=Count("pk", filter=instant),
        )
        .order_by()
    )


def instant_closures(period: Period, units, sums) -> list[Found]:
    found = []
    for code, s in sorted(sums.items()):
        if s["resolved"] and Fraction(s["instant"], s["resolved"]) > INSTANT_SHARE:
            found.append(
                Found(
                    FlagRule.INSTANT_CLOSURE,
                    units[code],
                    period.first,
                    period.last,
                    {
                        "resolved": s["resolved"],
                        "instant": s["instant"],
                        "share": _num(Fraction(s["instant"], s["resolved"])),
                    },
                    Q(region_code__under=code) & instant_resolution_filters(period)[1],
                )
            )
    _attach(GridEvent, found, "reported_at")
    return found


# --- Under-reporting -------------------------------------------------------------------------------------


def under_reporting(period: Period, units: list[Unit], sums) -> list[Found]:
    rates: dict[str, Fraction] = {
        u.code: Fraction(sums.get(u.code, {}).get("n", 0) * 1000, u.population) for u in units if u.population > 0
    }
    peers: dict[tuple[int, str], list[Unit]] = defaultdict(list)
    for u in units:
        if u.code in rates:
            peers[u.peer_key].append(u)
    found = []
    for group in peers.values():
        median = Fraction(statistics.median([rates[u.code] for u in group]))
        for u in group:
            if rates[u.code] < UNDER_SHARE_OF_MEDIAN * median:
                found.append(
                    Found(
                        FlagRule.UNDER_REPORTING,
                        u,
                        period.first,
                        period.last,
                        {
                            "events": sums.get(u.code, {}).get("n", 0),
                            "population": u.population,
                            "per_1000": _num(rates[u.code]),
                            "peer_median": _num(median),
                            "peers": len(group),
                        },
                        Q(region_code__under=u.code, reported_at__gte=period.start, reported_at__lt=period.end),
                    )
                )
    _attach(GridEvent, found, "reported_at")
    return found


# --- Duplicate submissions -------------------------------------------------------------------------------


def duplicate_submissions(period: Period, units, sums) -> list[Found]:
    found = []
    for code, s in sorted(sums.items()):
        if s["dup"] >= DUPLICATE_MIN and Fraction(s["dup"], s["n"]) > DUPLICATE_SHARE:
            found.append(
                Found(
                    FlagRule.DUPLICATE_SUBMISSION,
                    units[code],
                    period.first,
                    period.last,
                    {"reported": s["n"], "duplicates": s["dup"], "share": _num(Fraction(s["dup"], s["n"]))},
                    Q(
                        region_code__under=code,
                        reported_at__gte=period.start,
                        reported_at__lt=period.end,
                        duplicate_of__isnull=False,
                    ),
                )
            )
    _attach(GridEvent, found, "reported_at")
    return found


# --- Records and storage ---------------------------------------------------------------------------------


def _attach(model, found: list[Found], at_field: str) -> None:
    """One query for the records behind every flag of a rule: each row goes to the flags whose
    unit contains it and whose period holds its timestamp."""
    if not found:
        return
    rows = model.objects.filter(reduce(or_, [f.records for f in found])).order_by("pk")
    for pk, code, at in rows.values_list("pk", "region_code", at_field):
        day = timezone.localtime(at).date()
        for f in found:
            if code.startswith(f.unit.code) and f.first <= day <= f.last:
                f.record_ids.append(pk)


def _num(value: Fraction) -> str:
    return f"{float(value):.4f}"


RECORD_MODELS = {
    FlagRule.MEDIATION_SPIKE: "disputes.case",
    FlagRule.INSTANT_CLOSURE: "grids.gridevent",
    FlagRule.UNDER_REPORTING: "grids.gridevent",
    FlagRule.DUPLICATE_SUBMISSION: "grids.gridevent",
}


@transaction.atomic
def _store(root_code: str, period: Period, found: list[Found]) -> list[CredibilityFlag]:
    """Replace the subtree's flags of this period (spikes: of its months) with what was found."""
    months = Q(rule=FlagRule.MEDIATION_SPIKE, first__gte=period.first, last__lte=period.last)
    whole = ~Q(rule=FlagRule.MEDIATION_SPIKE) & Q(first=period.first, last=period.last)
    CredibilityFlag.objects.filter(months | whole, region_code__under=root_code).delete()
    now = timezone.now()
    return CredibilityFlag.objects.bulk_create(
        [
            CredibilityFlag(
                rule=f.rule,
                region_id=f.unit.pk,
                region_code=f.unit.code,
                first=f.first,
                last=f.last,
                figures=f.figures,
                record_model=RECORD_MODELS[f.rule],
                record_ids=f.record_ids,
                found_at=now,
            )
            for f in found
        ],
        batch_size=1000,
    )
