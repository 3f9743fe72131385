"""Computing a cycle: collect every unit's facts with a fixed number of set-based queries,
score them with the pure rules of `scoring`, and replace the cycle's stored results in one
transaction (a failure leaves the previous results as they were).

The query count is fixed — one per record kind plus a handful of small lookups — whatever
the number of units or indicators; tests assert it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as noop

from governance.audit import record
from governance.bulk import copy_into
from governance.codes import parent_code
from governance.rules import percent

from ..catalogue import profile_for
from ..choices import AppealStatus, CycleKind, Grade, LineStatus, RulingStatus
from ..models import (
    AnnualResult,
    AssessorScore,
    Cycle,
    IndicatorResult,
    InnovationAward,
    ProfileOverride,
    SampledUnit,
    ScoreAppeal,
    ScoreReview,
    ToleranceClaim,
    UnitResult,
    VetoRuling,
)
from . import reported as reported_facts
from .facts import Counts, collect_computed, collect_surveys
from .measures import CREDIBILITY_REPORTED, CREDIBILITY_RESOLVED
from .scoring import (
    SPREAD_LIMIT,
    SURVEY_CHANNEL_WEIGHT,
    SURVEY_MIN_ANSWERS,
    Line,
    Ranked,
    annual_result,
    as_fraction,
    assessed,
    fiscal_tilt,
    frac,
    grade_peers,
    ratio,
    round2,
    score_unit,
    survey_value,
    to_decimal,
    to_decimal_text,
)

V04_THRESHOLD = Fraction(85, 100)
ACTIVE_RULINGS = (RulingStatus.IN_FORCE, RulingStatus.APPEALED, RulingStatus.UPHELD)
Progress = Callable[[int, str], None]
_NOTES: dict[tuple[str | None, str], str] = {}
_RUN_LANGUAGE: list[str | None] = [None]  # the language of the run in progress, read once


def _n(message: str) -> str:
    """gettext for the notes written on tens of thousands of lines, looked up once per language."""
    key = (_RUN_LANGUAGE[0], message)
    if key not in _NOTES:
        _NOTES[key] = _(message)
    return _NOTES[key]


@dataclass
class Unit:
    pk: int
    code: str
    name: str
    level: int
    terrain: str
    profile: str = ""

    @property
    def parent_code(self) -> str:
        return parent_code(self.code)


@dataclass
class LineOut:
    code: str
    status: str
    numerator: Fraction | None = None
    denominator: Fraction | None = None
    value: Fraction | None = None
    ratio: Fraction | None = None
    note: str = ""


@dataclass
class RunSummary:
    units: int = 0
    records_read: int = 0
    queries: int = 0
    seconds: float = 0.0
    blocking: list = field(default_factory=list)
    # Per unit: the event counts the credibility checks read (see measures.CREDIBILITY_*).
    event_counts: dict = field(default_factory=dict)


@contextmanager
def analytic_session():
    """On PostgreSQL, the few large aggregates run without JIT (its compile time exceeds what it
    saves on these scans) and with room to hash their groups in memory; reset afterwards."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
        cursor.execute("SET work_mem = '64MB'")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")
            cursor.execute("RESET work_mem")


def cycle_units(cycle: Cycle) -> list[Unit]:
    """The units of the cycle: sampled townships for a spot-check, else every region at an
    assessed level in the root's subtree (the root included)."""
    from grids.models import Region

    if cycle.kind == CycleKind.SPOT_CHECK:
        qs = Region.objects.filter(pk__in=SampledUnit.objects.filter(cycle=cycle).values("region_id"))
    else:
        qs = Region.objects.filter(code__under=cycle.region_code, level__in=cycle.levels)
    return [Unit(*row) for row in qs.order_by("code").values_list("pk", "code", "name", "level", "terrain")]


def _rule_line(meta: dict, out: LineOut) -> LineOut:
    if out.status == LineStatus.SCORED and out.value is not None and meta["rule"] in ("higher_better", "lower_better"):
        out.ratio = ratio(meta["rule"], out.value, meta["floor"], meta["target"], meta["ceiling"])
    return out


def compute_cycle(
    cycle: Cycle, progress: Progress | None = None, now: dt.datetime | None = None, allow_frozen: bool = False
) -> RunSummary:
    """Compute and store the results of an unfinalised cycle (see module docstring). Only an
    upheld appeal re-computes a finalised one (`allow_frozen`), with its frozen catalogue."""
    started = timezone.now()
    _RUN_LANGUAGE[0] = get_language()
    progress = progress or (lambda pct, note: None)
    now = now or timezone.now()
    if cycle.is_frozen and not allow_frozen:
        raise ValueError("a finalised cycle is frozen")
    data = cycle.catalogue_version.data
    indicators = data["indicators"]
    period = cycle.period
    summary = RunSummary()

    units = cycle_units(cycle)
    overrides = dict(
        ProfileOverride.objects.filter(region_id__in=[u.pk for u in units]).values_list("region_id", "profile__code")
    )
    for unit in units:
        unit.profile = profile_for(data, unit.terrain, overrides.get(unit.pk))
    unit_codes = {u.code for u in units}
    summary.units = len(units)
    levels = sorted({u.level for u in units}) or cycle.levels
    progress(10, _("读取平台数据"))

    counts = Counts()
    if units:
        with analytic_session():
            collect_computed(period, cycle.region_code, levels, unit_codes, counts)
            progress(50, _("读取问卷"))
            collect_surveys(period, cycle.region_code, levels, unit_codes, counts)
    progress(60, _("读取核心指标表"))
    monthly = reported_facts.load(period, cycle.region_code, now=now)
    members = reported_facts.townships_by_unit(unit_codes, monthly)
    counts.records_read += monthly.records_read
    progress(70, _("读取评分、否决与容错"))
    scores: dict[tuple[str, str], list] = defaultdict(list)
    for code, indicator, score in AssessorScore.objects.filter(cycle=cycle).values_list(
        "region_code", "indicator", "score"
    ):
        scores[(code, indicator)].append(score)
    reviews = set(ScoreReview.objects.filter(cycle=cycle).values_list("region_code", "indicator", "kind"))
    tolerance = dict(
        ToleranceClaim.objects.filter(cycle=cycle, status="approved").values_list("region_code", "indicator")
    )
    vetoes: dict[str, list[str]] = defaultdict(list)
    for code, indicator in VetoRuling.objects.filter(
        region_code__under=cycle.region_code,
        occurred_on__gte=period.first,
        occurred_on__lte=period.last,
        status__in=ACTIVE_RULINGS,
    ).values_list("region_code", "indicator"):
        vetoes[code].append(indicator)
    adjustments = {
        (code, indicator): (percent, note)
        for code, indicator, percent, note in ScoreAppeal.objects.filter(
            cycle=cycle, status=AppealStatus.UPHELD
        ).values_list("region_code", "indicator", "adjusted_percent", "decision_note")
    }
    counts.queries += 9

    progress(80, _("计分"))
    unit_rows, line_rows = [], []
    blocking: list[dict] = []
    for unit in units:
        bucket = counts.by_unit.get(unit.code, {})
        weights = data["profiles"].get(unit.profile, {})
        reported_values = reported_facts.values_for(unit.code, unit.level, members.get(unit.code, []), period)
        outs: dict[str, LineOut] = {}
        lines: list[Line] = []
        unit_blocking = []
        for code, meta in sorted(indicators.items(), key=lambda kv: (kv[1]["order"], kv[0])):
            if meta["rule"] == "veto":
                continue
            if code not in weights:
                outs[code] = LineOut(code, LineStatus.NOT_IN_PROFILE)
                continue
            out = _line(code, meta, unit, bucket, reported_values, monthly, members, scores, reviews)
            if out.status == LineStatus.UNSCORED:
                unit_blocking.append({"indicator": code, "reason": "unscored"})
            if out.note == "spread" or out.note == "groups":
                if (unit.code, code, ScoreReview.Kind.ACCEPT_SPREAD) not in reviews:
                    unit_blocking.append({"indicator": code, "reason": out.note})
                out.note = _n(noop("评分差异过大")) if out.note == "spread" else _n(noop("评分考核组不足两个"))
            outs[code] = out = _adjusted(_rule_line(meta, out), adjustments.get((unit.code, code)))
            lines.append(
                Line(code, meta["dimension"], as_fraction(weights[code]), out.status, out.ratio or Fraction(0))
            )
        result = score_unit(lines, tolerance_for=tolerance.get(unit.code))
        unit_vetoes = sorted(set(vetoes.get(unit.code, [])))
        b01 = outs.get("B01")
        if (
            cycle.kind == CycleKind.YEAR_END
            and b01 is not None
            and b01.status == LineStatus.SCORED
            and b01.value < V04_THRESHOLD
        ):
            unit_vetoes.append("V04")
        flags = [
            {"indicator": code, "note": out.note or out.status}
            for code, out in outs.items()
            if out.status == LineStatus.NOT_APPLICABLE
        ]
        unit_rows.append((unit, result, unit_vetoes, flags, unit_blocking))
        by_code = {line.code: line for line in result.lines}
        for code, out in outs.items():
            line = by_code.get(code)
            line_rows.append((unit, code, out, line, weights.get(code, "0")))
        blocking.extend({"unit": unit.code, **b} for b in unit_blocking)

    progress(90, _("保存结果"))
    _store(cycle, unit_rows, line_rows, blocking, counts, allow_frozen=allow_frozen)
    summary.records_read = counts.records_read
    summary.queries = counts.queries
    summary.event_counts = {
        code: {
            "n": bucket.get(f"{CREDIBILITY_REPORTED}.d", 0),
            "dup": bucket.get(f"{CREDIBILITY_REPORTED}.n", 0),
            "resolved": bucket.get(f"{CREDIBILITY_RESOLVED}.d", 0),
            "instant": bucket.get(f"{CREDIBILITY_RESOLVED}.n", 0),
        }
        for code, bucket in counts.by_unit.items()
    }
    summary.blocking = blocking
    summary.seconds = (timezone.now() - started).total_seconds()
    progress(100, _("完成"))
    return summary


def _adjusted(out: LineOut, adjustment: tuple | None) -> LineOut:
    """An upheld appeal (申诉) puts the 得分率 the committee found right in place of the computed
    one; the line keeps its numerator, denominator and value, and says why in its note."""
    if adjustment is None:
        return out
    percent, reason = adjustment
    out.status, out.ratio = LineStatus.SCORED, as_fraction(percent) / 100
    out.note = (_n(noop("申诉调整：%s")) % reason)[:300]
    return out


def _line(code, meta, unit, bucket, reported_values, monthly, members, scores, reviews) -> LineOut:
    source = meta["source"]
    if source == "computed" and code != "D03":
        n, d = bucket.get(f"{code}.n", 0), bucket.get(f"{code}.d", 0)  # C06 adds events and cases
        if not d:
            return LineOut(code, LineStatus.NOT_APPLICABLE, Fraction(n), Fraction(d), note=_n(noop("分母为0，不适用")))
        return LineOut(code, LineStatus.SCORED, Fraction(n), Fraction(d), Fraction(n, d))
    if code == "D03":
        n, d = reported_facts.d03_for(members.get(unit.code, []), monthly)
        if not d:
            return LineOut(code, LineStatus.NOT_APPLICABLE, Fraction(n), Fraction(d), note=_n(noop("分母为0，不适用")))
        return LineOut(code, LineStatus.SCORED, Fraction(n), Fraction(d), Fraction(n, d))
    if source == "reported":
        rv = reported_values[code]
        if rv.status == "missing":
            return LineOut(
                code, LineStatus.MISSING_REPORT, ratio=Fraction(0), note=_n(noop("未按期报送：%s")) % rv.note
            )
        if rv.status == "na":
            return LineOut(code, LineStatus.NOT_APPLICABLE, rv.numerator, rv.denominator, note=_n(noop("无报送数据")))
        return LineOut(code, LineStatus.SCORED, rv.numerator, rv.denominator, rv.value)
    if source == "survey":
        on_n, on_y = bucket.get(f"{code}.on.n", 0), bucket.get(f"{code}.on.y", 0)
        off_n, off_y = bucket.get(f"{code}.off.n", 0), bucket.get(f"{code}.off.y", 0)
        value = survey_value(on_y, on_n, off_y, off_n)
        if value is None:
            return LineOut(
                code,
                LineStatus.NOT_APPLICABLE,
                Fraction(on_y + off_y),
                Fraction(on_n + off_n),
                note=_n(noop("答卷不足%(n)s份，不适用")) % {"n": SURVEY_MIN_ANSWERS},
            )
        both = on_n >= SURVEY_MIN_ANSWERS and off_n >= SURVEY_MIN_ANSWERS
        mix = {"share": percent(SURVEY_CHANNEL_WEIGHT)}
        note = _n(noop("线上、线下各占%(share)s%%")) % mix if both else _n(noop("合并计算"))
        return LineOut(code, LineStatus.SCORED, Fraction(on_y + off_y), Fraction(on_n + off_n), value, note=note)
    if source == "assessed":
        if (unit.code, code, ScoreReview.Kind.NOT_APPLICABLE) in reviews:
            return LineOut(code, LineStatus.NOT_APPLICABLE, note=_n(noop("经审核不适用")))
        outcome = assessed(scores.get((unit.code, code), []))
        if outcome.ratio is None:
            return LineOut(code, LineStatus.UNSCORED, ratio=Fraction(0), note=_n(noop("尚未评分")))
        note = ""
        if outcome.groups < 2:
            note = "groups"
        elif outcome.spread > SPREAD_LIMIT:
            note = "spread"
        return LineOut(code, LineStatus.SCORED, value=outcome.mean, ratio=outcome.ratio, note=note)
    return LineOut(code, LineStatus.NOT_APPLICABLE)


@transaction.atomic
def _store(cycle: Cycle, unit_rows, line_rows, blocking, counts: Counts, allow_frozen: bool = False) -> None:
    """Replace the cycle's results as a whole, rank the peers, and compute the annual results
    with a year-end cycle."""
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.is_frozen and not allow_frozen:
        raise ValueError("a finalised cycle is frozen")
    if connection.vendor == "postgresql":
        # Results can always be computed again: do not wait for the WAL flush of ~50,000 rows.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
    cycle.results.all().delete()  # lines and annual results cascade
    AnnualResult.objects.filter(cycle=cycle).delete()
    peers: dict[tuple[int, str], list] = defaultdict(list)
    for unit, result, *_rest in unit_rows:
        peers[(unit.level, unit.parent_code)].append((round2(result.total), unit.code))
    rank_of: dict[str, tuple[int, int]] = {}
    for group in peers.values():
        group.sort(key=lambda item: (-item[0], item[1]))
        for position, (_total, code) in enumerate(group, start=1):
            rank_of[code] = (position, len(group))
    results = []
    for unit, result, unit_vetoes, flags, unit_blocking in unit_rows:
        rank, n = rank_of[unit.code]
        results.append(
            UnitResult(
                cycle=cycle,
                region_id=unit.pk,
                region_code=unit.code,
                level=unit.level,
                parent_code=unit.parent_code,
                profile=unit.profile,
                total_exact=str(result.total),
                total=round2(result.total),
                dimensions={d: str(round2(v)) for d, v in result.dimensions.items()},
                rank=rank,
                peers=n,
                vetoes=unit_vetoes,
                flags=flags,
                blocking=unit_blocking,
            )
        )
    UnitResult.objects.bulk_create(results, batch_size=1000)
    ids = dict(UnitResult.objects.filter(cycle=cycle).values_list("region_code", "pk"))
    zero = Fraction(0)
    rows = [
        (
            ids[unit.code],
            cycle.pk,
            unit.code,
            code,
            out.status,
            to_decimal_text(out.numerator),
            to_decimal_text(out.denominator),
            to_decimal_text(out.value),
            to_decimal_text(out.ratio if out.status != LineStatus.NOT_APPLICABLE else None),
            str(weight),
            to_decimal_text(line.effective_weight if line else zero),
            to_decimal_text(line.points if line else zero),
            to_decimal_text(line.tolerance if line else zero),
            str(out.note)[:300],
        )
        for unit, code, out, line, weight in line_rows
    ]
    insert_rows(IndicatorResult, LINE_COLUMNS, rows)
    if cycle.kind == CycleKind.YEAR_END:
        _store_annual(cycle, unit_rows)
    cycle.records_read = counts.records_read
    cycle.computed_at = timezone.now()
    cycle.runs += 1
    cycle.save(update_fields=["records_read", "computed_at", "runs"])
    record(
        "bulk",
        instance=cycle,
        changes={"computed": {"units": len(results), "lines": len(rows), "blocking": len(blocking)}},
    )


LINE_COLUMNS = (
    "unit_id", "cycle_id", "region_code", "indicator", "status", "numerator", "denominator", "value", "ratio",
    "weight", "effective_weight", "points", "tolerance", "note",
)  # fmt: skip


def insert_rows(model, columns, rows, batch: int = 2000) -> None:
    """Write already converted values: tens of thousands of result lines per run, where model
    instances and per-field preparation would cost more than the SQL. PostgreSQL takes them
    by COPY, other databases by multi-row INSERTs."""
    if connection.vendor == "postgresql":
        copy_into(model, columns, rows)
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for i in range(0, len(rows), batch):
            chunk = rows[i : i + batch]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES " + ", ".join([row_sql] * len(chunk)),
                [value for row in chunk for value in row],
            )


def _store_annual(cycle: Cycle, unit_rows) -> None:
    """Annual results (SPEC §5.3) from this year-end run, the half-year cycle and the year's
    spot-checks of the same root."""
    siblings = Cycle.objects.filter(root_id=cycle.root_id, year=cycle.year).exclude(pk=cycle.pk)
    half: dict[str, Fraction] = {}
    spots: dict[str, list[Fraction]] = defaultdict(list)
    for kind, code, exact in UnitResult.objects.filter(
        cycle__in=siblings, cycle__kind__in=[CycleKind.HALF_YEAR, CycleKind.SPOT_CHECK]
    ).values_list("cycle__kind", "region_code", "total_exact"):
        if kind == CycleKind.HALF_YEAR:
            half[code] = Fraction(exact)
        else:
            spots[code].append(Fraction(exact))
    awards = dict(
        InnovationAward.objects.filter(region_code__under=cycle.region_code, year=cycle.year).values_list(
            "region_code", "points"
        )
    )
    year_vetoes: dict[str, set[str]] = defaultdict(set)
    for code, indicator in VetoRuling.objects.filter(
        region_code__under=cycle.region_code, occurred_on__year=cycle.year, status__in=ACTIVE_RULINGS
    ).values_list("region_code", "indicator"):
        year_vetoes[code].add(indicator)
    rows, peers = {}, defaultdict(list)
    for unit, result, unit_vetoes, _flags, _blocking in unit_rows:
        notes = []
        h = half.get(unit.code)
        if h is None:
            notes.append(_("无半年评估结果，按年终考核得分计"))
            h = result.total
        bonus = frac(awards.get(unit.code, 0))
        exact = annual_result(spots.get(unit.code, []), h, result.total, bonus)
        vetoes = sorted(year_vetoes[unit.code] | set(unit_vetoes))
        rows[unit.code] = (unit, exact, h, bonus, vetoes, notes)
        peers[(unit.level, unit.parent_code)].append(
            Ranked(unit.code, round2(exact), result.total, vetoed=bool(vetoes))
        )
    graded = {r.code: r for group in peers.values() for r in grade_peers(group)}
    out = []
    for code, (unit, exact, h, bonus, vetoes, notes) in rows.items():
        ranked = graded[code]
        spot_list = spots.get(code, [])
        out.append(
            AnnualResult(
                cycle=cycle,
                region_id=unit.pk,
                region_code=code,
                level=unit.level,
                parent_code=unit.parent_code,
                spot_check_mean=to_decimal(sum(spot_list, Fraction(0)) / len(spot_list)) if spot_list else None,
                spot_checks=len(spot_list),
                half_year=to_decimal(h),
                year_end=to_decimal(ranked.year_end),
                bonus=to_decimal(bonus, 2),
                result_exact=str(exact),
                result=ranked.result,
                grade=ranked.grade,
                rank=ranked.rank,
                peers=len(peers[(unit.level, unit.parent_code)]),
                vetoes=vetoes,
                fiscal_tilt=fiscal_tilt(ranked.result) if ranked.grade == Grade.EXCELLENT else None,
                notes=notes,
            )
        )
    AnnualResult.objects.bulk_create(out, batch_size=1000)
