"""Set-based collection of every indicator's numerator and denominator for all units at once.

Each kind of record is read by ONE grouped aggregate query: rows of the root's subtree are
grouped by their region code cut to the finest assessed level (a township's 9 digits), with
one conditional COUNT per numerator and denominator. The groups are then summed into every
unit whose code prefixes them (`rollup`), so a county's rate is its townships' counts added
up — never an average of rates and never a query per unit or per indicator.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Count, Q
from django.db.models.functions import Substr

from governance.codes import CODE_LENGTH

from ..choices import SurveyChannel
from ..periods import Period
from .measures import Measure, computed_measures


@dataclass
class Counts:
    """Per-unit sums keyed by a name (e.g. "C04.n", "C04.d")."""

    by_unit: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    records_read: int = 0
    queries: int = 0


class Rollup:
    """Adds a group's counts to every assessed unit whose code is a prefix of the group key."""

    def __init__(self, unit_codes: set[str]):
        self.unit_codes = unit_codes
        self.lengths = sorted({len(c) for c in unit_codes})

    def units_of(self, key: str) -> list[str]:
        return [key[:n] for n in self.lengths if n <= len(key) and key[:n] in self.unit_codes]


def key_length(levels: list[int]) -> int:
    return max(CODE_LENGTH[level] for level in levels)


def collect_computed(period: Period, root_code: str, levels: list[int], unit_codes: set[str], counts: Counts):
    """Run the grouped aggregate of every record kind and roll it up into the units."""
    rollup = Rollup(unit_codes)
    length = key_length(levels)
    groups: dict[tuple, list[Measure]] = defaultdict(list)
    for measure in computed_measures(period):
        groups[measure.group].append(measure)
    for measures in groups.values():
        first = measures[0]
        aggregates = {"_rows": Count("pk")}
        if len(measures) == 1:  # the WHERE is the denominator: count the rest within it
            aggregates.update(n0=Count("pk", filter=first.extra), d0=Count("pk"))
        else:
            for i, m in enumerate(measures):
                aggregates[f"n{i}"] = Count("pk", filter=m.numerator)
                aggregates[f"d{i}"] = Count("pk", filter=m.denominator)
        _jit_for(first.model)
        qs = (
            first.rows()
            .filter(first.under(root_code))
            .filter(reduce(or_, [m.denominator for m in measures]))
            .annotate(_key=Substr(first.scope, 1, length))
            .values("_key")
            .annotate(**aggregates)
            .order_by()
        )
        counts.queries += 1
        for row in qs:
            counts.records_read += row["_rows"]
            for unit in rollup.units_of(row["_key"]):
                bucket = counts.by_unit[unit]
                for i, m in enumerate(measures):
                    bucket[f"{m.indicator}.n"] += row[f"n{i}"]
                    bucket[f"{m.indicator}.d"] += row[f"d{i}"]
    return groups


def _jit_for(model) -> None:
    """PostgreSQL's JIT pays for itself on the event aggregate (millions of rows, a dozen
    conditional counts) and costs more than it saves on the smaller ones."""
    from django.db import connection

    from grids.events.models import GridEvent

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET jit = on" if model is GridEvent else "SET jit = off")


SURVEY_QUESTIONS = {
    # indicator: (answer field, answers that count as yes)
    "B01": ("safety", ("safe", "fairly_safe")),
    "B02": ("satisfaction", ("satisfied", "basically")),
    "C15": ("awareness", ("aware",)),
}


def survey_filters(code: str, period: Period) -> tuple[Q, Q]:
    """(answered, answered yes) for one survey indicator over the period."""
    field_name, yes = SURVEY_QUESTIONS[code]
    answered = Q(answered_at__gte=period.start, answered_at__lt=period.end) & ~Q(**{field_name: ""})
    return answered, answered & Q(**{f"{field_name}__in": yes})


def collect_surveys(period: Period, root_code: str, levels: list[int], unit_codes: set[str], counts: Counts):
    """Answers and yes-answers per question and channel, one grouped query."""
    from ..models import SurveyResponse

    rollup = Rollup(unit_codes)
    aggregates = {"_rows": Count("pk")}
    for code in SURVEY_QUESTIONS:
        answered, yes = survey_filters(code, period)
        aggregates[f"{code}_n"] = Count("pk", filter=answered)
        aggregates[f"{code}_y"] = Count("pk", filter=yes)
    qs = (
        SurveyResponse.objects.filter(
            region_code__under=root_code, answered_at__gte=period.start, answered_at__lt=period.end
        )
        .annotate(_key=Substr("region_code", 1, key_length(levels)))
        .values("_key", "channel")
        .annotate(**aggregates)
        .order_by()
    )
    counts.queries += 1
    for row in qs:
        counts.records_read += row["_rows"]
        channel = "on" if row["channel"] == SurveyChannel.ONLINE else "off"
        for unit in rollup.units_of(row["_key"]):
            bucket = counts.by_unit[unit]
            for code in SURVEY_QUESTIONS:
                bucket[f"{code}.{channel}.n"] += row[f"{code}_n"]
                bucket[f"{code}.{channel}.y"] += row[f"{code}_y"]
