"""Reads of stored assessment results, shared by the result pages, the Excel exports and the API.

Everything starts from `restrict(user)`: a cycle through `Cycle.objects.restrict` (which also
hides a spot-check from the sampled townships until its check date), and the unit results of
a cycle through `UnitResult.objects.restrict`, so a unit outside the caller's jurisdiction is
simply not found. Numbers are stored with 8 decimals; what is shown is rounded here, half up,
to 2 decimals (ratios as percentages), never the raw storage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from types import SimpleNamespace

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import Count, Min, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from disputes.choices import CaseOutcome
from governance import codes
from governance.codes import Level
from governance.scoping import in_jurisdiction
from grids.models import Region

from ..choices import DIMENSION_POINTS, CycleStatus, Dimension, LineStatus, Source
from ..engine import scoring
from ..engine.facts import SURVEY_QUESTIONS
from ..engine.trace import trace
from ..models import AnnualResult, Cycle, IndicatorResult, UnitResult

CENT = Decimal("0.01")
ACTIVE_STATUSES = (CycleStatus.QUEUED, CycleStatus.RUNNING)
# Sources whose line can be opened down to the records behind it (数据来源透明).
TRACEABLE_SOURCES = (Source.COMPUTED, Source.SURVEY, Source.REPORTED, Source.ASSESSED)
TRACE_PAGE_SIZE = 50
# Labels of the columns a trace computes rather than reads from a model field, and of the bare
# `region_code` columns whose fields carry Django's default English name.
ANNOTATION_LABELS = {
    "fulltime_at_end": gettext_lazy("期末在岗专职网格员（人）"),
    "activity": gettext_lazy("期内上报事件与走访记录（条）"),
    "code_length": gettext_lazy("区划代码位数"),
    "resolved_at_end": gettext_lazy("期末有效的办结时间"),
    "level_at_end": gettext_lazy("期末有效办结的化解层级"),
    "concluded_at_end": gettext_lazy("期末有效的调解终结时间"),
    "outcome_at_end": gettext_lazy("期末调解结果"),
    "code_at_end": gettext_lazy("期末承办组织区划代码"),
    "region_code": gettext_lazy("区划代码"),
}
# The choices of those columns that hold a coded value (shown by label, as a field's would be).
ANNOTATION_CHOICES = {"level_at_end": Level.choices, "outcome_at_end": CaseOutcome.choices}
# Records a trace row can link to (the pages check jurisdiction again).
RECORD_PAGES = {"grids.GridEvent": "events:detail", "disputes.Case": "disputes:detail"}


# --- Numbers as shown ------------------------------------------------------------------------------------


def round2(value) -> Decimal | None:
    """Half-up to 2 decimals (SPEC §5.2); None stays None."""
    if value is None or value == "":
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt2(value) -> str:
    rounded = round2(value)
    return "" if rounded is None else f"{rounded:.2f}"


def fmt_count(value) -> str:
    """A count without decimals when it is whole (numerators and denominators are mostly counts)."""
    if value is None:
        return ""
    value = Decimal(str(value))
    return str(int(value)) if value == value.to_integral_value() else fmt2(value)


def percent(value) -> Decimal | None:
    return None if value is None else round2(Decimal(str(value)) * 100)


def fmt_percent(value) -> str:
    shown = percent(value)
    return "" if shown is None else f"{shown:.2f}%"


def is_rate(meta: dict) -> bool:
    """Whether an indicator's value is a share (its floor, target and ceiling all lie in [0, 1]):
    a share is shown as a percentage, anything else (yuan per resident, an assessor's 0–100
    score, cases per 10,000 residents) as a number."""
    if meta.get("rule") not in ("higher_better", "lower_better"):
        return False
    bounds = [Decimal(meta[k]) for k in ("floor", "target", "ceiling") if meta.get(k) not in (None, "")]
    return bool(bounds) and all(0 <= b <= 1 for b in bounds)


def fmt_value(meta: dict, value) -> str:
    return fmt_percent(value) if is_rate(meta) else fmt2(value)


# --- Scoped querysets ------------------------------------------------------------------------------------


def visible_cycles(user):
    """The cycles a user may open (run at, under or above their region; spot-checks hidden from
    the sampled units until the check date)."""
    return Cycle.objects.restrict(user).select_related("root", "catalogue_version")


def get_cycle(user, pk: int) -> Cycle:
    cycle = visible_cycles(user).filter(pk=pk).first()
    if cycle is None:
        raise Http404
    return cycle


def visible_results(user, cycle: Cycle):
    """The cycle's unit results inside the user's jurisdiction (the cycle itself came through restrict)."""
    return UnitResult.objects.restrict(user).filter(cycle=cycle)


def visible_annual(user, cycle: Cycle):
    return AnnualResult.objects.restrict(user).filter(cycle=cycle)


def get_unit(user, cycle: Cycle, code: str) -> UnitResult:
    if not code.isdigit():
        raise Http404
    unit = visible_results(user, cycle).select_related("region").filter(region_code=code).first()
    if unit is None:
        raise Http404
    return unit


def get_line(user, cycle: Cycle, code: str, indicator: str) -> tuple[UnitResult, IndicatorResult]:
    """A unit's result and one of its lines, inside the user's jurisdiction (else 404)."""
    unit = get_unit(user, cycle, code)
    line = unit.lines.filter(indicator=indicator).first()
    if line is None:
        raise Http404
    return unit, line


def indicators_of(cycle: Cycle) -> dict:
    """The indicator catalogue the cycle was computed with (frozen in its version)."""
    return cycle.catalogue_version.data["indicators"] if cycle.catalogue_version_id else {}


def indicator_name(indicators: dict, code: str) -> str:
    return (indicators.get(code) or {}).get("name_zh", "")


def progress_payload(cycle: Cycle) -> dict:
    """What the progress poller and GET …/progress/ read."""
    return {
        "id": cycle.pk,
        "status": cycle.status,
        "status_display": cycle.get_status_display(),
        "progress": cycle.progress,
        "note": cycle.progress_note,
        "running": cycle.status in ACTIVE_STATUSES,
        "runs": cycle.runs,
        "records_read": cycle.records_read,
        "computed_at": cycle.computed_at.isoformat() if cycle.computed_at else None,
    }


def blocking_for(cycle: Cycle, user) -> list[dict]:
    """services.blocking_items limited to the units inside the user's jurisdiction (items about
    the cycle as a whole stay)."""
    from ..services import blocking_items

    return [item for item in blocking_items(cycle) if not item.get("unit") or in_jurisdiction(user, item["unit"])]


BLOCKING_REASONS = {
    "unscored": gettext_lazy("未评分"),
    "spread": gettext_lazy("评分差异过大"),
    "groups": gettext_lazy("评分考核组不足两个"),
    "tolerance_pending": gettext_lazy("容错申请待审核"),
}


def group_blocking(items: list[dict], limit: int) -> tuple[list[str], list[dict]]:
    """The blocking items as the page lists them: messages about the cycle as a whole, then one
    row per unit (its name from one query) with its indicators by reason; at most `limit` units."""
    general = [item["message"] for item in items if not item.get("unit")]
    by_unit: dict[str, dict[str, list[str]]] = {}
    for item in items:
        if item.get("unit"):
            reasons = by_unit.setdefault(item["unit"], {})
            reasons.setdefault(item["reason"], []).append(item.get("indicator", ""))
    codes = sorted(by_unit)[:limit]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    units = [
        {
            "code": code,
            "name": names.get(code, ""),
            "reasons": [
                (str(BLOCKING_REASONS.get(reason, reason)), indicators)
                for reason, indicators in sorted(by_unit[code].items())
            ],
        }
        for code in codes
    ]
    return general, units


def sample_of(cycle: Cycle, user) -> list[Region]:
    """The sampled townships inside the user's jurisdiction (call only when services.sample_visible_to)."""
    return list(
        Region.objects.restrict(user)
        .filter(pk__in=cycle.sample.values("region_id"))
        .select_related("parent")
        .order_by("code")
    )


# --- Ranking ---------------------------------------------------------------------------------------------


@dataclass
class RankingScope:
    """Which units a ranking lists: those at `level` under `parent`."""

    parent: Region
    level: int
    level_options: list[tuple[int, str]]
    next_level: int | None
    ancestors: list[Region]

    @property
    def level_label(self) -> str:
        return str(Level(self.level).label)


def _int_or_none(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def ranking_scope(user, cycle: Cycle, level=None, parent: str | None = None) -> RankingScope:
    """The parent defaults to the user's region when it lies inside the cycle's root, else the
    root; the level defaults to the first level below the parent that has results."""
    regions = Region.objects.restrict(user)
    if parent:
        if not str(parent).isdigit():
            raise Http404
        region = regions.filter(code=parent).first()
    else:
        own = getattr(user, "region", None)
        if own is not None and own.code.startswith(cycle.region_code) and not user.is_superuser:
            region = own
        else:
            region = regions.filter(pk=cycle.root_id).first()
    if region is None:
        raise Http404
    levels = sorted(int(x) for x in cycle.levels)
    chosen = _int_or_none(level)
    if chosen not in levels:
        below = (
            visible_results(user, cycle)
            .filter(region_code__under=region.code, level__gt=region.level)
            .aggregate(m=Min("level"))["m"]
        )
        chosen = below or region.level
    prefixes = codes.ancestors(region.code)
    ancestors = list(regions.filter(code__in=prefixes).order_by("level")) if prefixes else []
    return RankingScope(
        parent=region,
        level=chosen,
        level_options=[(lv, str(Level(lv).label)) for lv in levels if lv >= region.level],
        next_level=min((lv for lv in levels if lv > chosen), default=None),
        ancestors=ancestors,
    )


def ranking_queryset(user, cycle: Cycle, scope: RankingScope):
    return (
        visible_results(user, cycle)
        .filter(level=scope.level, region_code__under=scope.parent.code)
        .select_related("region")
        .order_by("-total", "rank", "region_code")
    )


def annual_queryset(user, cycle: Cycle, scope: RankingScope):
    return visible_annual(user, cycle).filter(level=scope.level, region_code__under=scope.parent.code)


@dataclass
class RankingRow:
    unit: UnitResult
    position: int
    dimensions: list[str]  # A, B, C, D as shown
    annual: AnnualResult | None = None

    @property
    def total(self) -> str:
        return fmt2(self.unit.total)

    @property
    def annual_shown(self) -> dict[str, str]:
        a = self.annual
        if a is None:
            return {}
        return {
            "spot_check_mean": fmt2(a.spot_check_mean),
            "half_year": fmt2(a.half_year),
            "year_end": fmt2(a.year_end),
            "bonus": fmt2(a.bonus) if a.bonus else "",
            "result": fmt2(a.result),
            "fiscal_tilt": fmt2(a.fiscal_tilt),
        }

    @property
    def flags(self) -> int:
        return len(self.unit.flags or [])

    @property
    def vetoes(self) -> list[str]:
        codes = set(self.unit.vetoes or [])
        if self.annual is not None:
            codes |= set(self.annual.vetoes or [])
        return sorted(codes)


def ranking_rows(units, annual: dict[str, AnnualResult], start: int = 1) -> list[RankingRow]:
    return [
        RankingRow(
            unit=unit,
            position=position,
            dimensions=[fmt2(unit.dimensions.get(d)) for d in DIMENSION_POINTS],
            annual=annual.get(unit.region_code),
        )
        for position, unit in enumerate(units, start=start)
    ]


def failing_units(user, cycle: Cycle, scope: RankingScope) -> list[AnnualResult]:
    """不合格 units at the ranked level under the parent, for the report to the party committee."""
    from ..choices import Grade

    return list(
        annual_queryset(user, cycle, scope)
        .filter(grade=Grade.FAIL)
        .select_related("region")
        .order_by("result", "region_code")
    )


# --- A unit's breakdown ----------------------------------------------------------------------------------


@dataclass
class LineRow:
    """One indicator line as shown (2 decimals, ratios as percentages)."""

    line: IndicatorResult
    name: str
    dimension: str
    source: str
    source_label: str
    value: str
    numerator: str
    denominator: str
    ratio: str
    weight: str
    effective_weight: str
    points: str
    tolerance: str
    lost: str
    traceable: bool

    @property
    def code(self) -> str:
        return self.line.indicator

    @property
    def status_label(self) -> str:
        return self.line.get_status_display()

    @property
    def status(self) -> str:
        return self.line.status

    @property
    def note(self) -> str:
        return self.line.note


def line_rows(unit: UnitResult, indicators: dict) -> list[LineRow]:
    rows = []
    for line in unit.lines.all():
        meta = indicators.get(line.indicator) or {}
        source = meta.get("source", "")
        rows.append(
            LineRow(
                line=line,
                name=meta.get("name_zh", ""),
                dimension=meta.get("dimension", ""),
                source=source,
                source_label=str(Source(source).label) if source in Source.values else source,
                value=fmt_value(meta, line.value),
                numerator=fmt_count(line.numerator),
                denominator=fmt_count(line.denominator),
                ratio=fmt_percent(line.ratio),
                weight=fmt2(line.weight),
                effective_weight=fmt2(line.effective_weight),
                points=fmt2(line.points),
                tolerance=fmt2(line.tolerance) if line.tolerance else "",
                lost=fmt2(line.lost),
                traceable=source in TRACEABLE_SOURCES and line.status != LineStatus.NOT_IN_PROFILE,
            )
        )
    order = {code: (meta.get("order", 0), code) for code, meta in indicators.items()}
    rows.sort(key=lambda r: order.get(r.code, (10**6, r.code)))
    return rows


def dimension_totals(unit: UnitResult, rows: list[LineRow]) -> list[dict]:
    """Per dimension: full points, weight after redistribution, points scored (stored,
    rounded from the exact total) and points lost."""
    out = []
    for dim, full in DIMENSION_POINTS.items():
        lines = [r.line for r in rows if r.dimension == dim]
        effective = sum((line.effective_weight for line in lines), Decimal(0))
        points = Decimal(str(unit.dimensions.get(dim, "0")))
        out.append(
            {
                "code": dim,
                "label": str(Dimension(dim).label),
                "full": full,
                "effective": fmt2(effective),
                "points": fmt2(points),
                "lost": fmt2(max(effective - points, Decimal(0))),
            }
        )
    return out


def accountability(rows: list[LineRow], indicators: dict) -> list[tuple[str, str]]:
    """Points lost per department (SPEC §5.3: 60 % lead, 40 % shared by collaborators), most first."""
    lines = [SimpleNamespace(code=r.code, lost=Fraction(str(r.line.lost))) for r in rows]
    lost = scoring.accountability(lines, indicators)
    ordered = sorted(lost.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(dept, f"{scoring.round2(value):.2f}") for dept, value in ordered]


# --- Trace -----------------------------------------------------------------------------------------------


@dataclass
class TraceBlock:
    """One kind of record behind a line, with its counts and one page of rows."""

    model_label: str
    verbose_name: str
    numerator_label: str
    denominator_label: str
    columns: list[tuple[str, str]]
    numerator: int
    total: int
    page: Page
    page_param: str
    rows: list[dict] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)  # expected records that do not exist (D03)


def _resolve(model, path: str):
    """(the first field on a lookup path, the last one), or (None, None) for an annotation."""
    first = last = None
    current = model
    for part in path.split("__"):
        try:
            last = current._meta.get_field(part)
        except FieldDoesNotExist:
            return None, None
        first = first or last
        if last.is_relation and last.related_model is not None:
            current = last.related_model
    return first, last


def column_label(model, path: str) -> str:
    """A field's verbose name; across a relation, the relation's ("案件" for case__number)."""
    if path in ANNOTATION_LABELS:
        return str(ANNOTATION_LABELS[path])
    first, _last = _resolve(model, path)
    return str(getattr(first, "verbose_name", path)) if first is not None else path


def _choices(model, path: str) -> dict:
    if path in ANNOTATION_CHOICES:
        return {str(k): str(v) for k, v in ANNOTATION_CHOICES[path]}
    _first, last = _resolve(model, path)
    if last is None or last.is_relation:
        return {}
    return {str(k): str(v) for k, v in (last.flatchoices or [])}


def format_cell(value, choices: dict | None = None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if choices and str(value) in choices:
        return choices[str(value)]
    if isinstance(value, dt.datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            if timezone.is_aware(value)
            else f"{value:%Y-%m-%d %H:%M}"
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return fmt2(value)
    return str(value)


def trace_blocks(cycle: Cycle, unit: UnitResult, line: IndicatorResult, pages: dict | None = None) -> list[TraceBlock]:
    """The record sets of engine.trace, each counted (numerator, all rows) in one query and
    paged (`pages`: {"p0": "2", …}); a fixed number of queries per set, whatever the rows.
    A line outside the unit's weight profile counted nothing, so nothing is listed."""
    if line.status == LineStatus.NOT_IN_PROFILE:
        return []
    pages = pages or {}
    blocks = []
    for index, ts in enumerate(trace(cycle, unit.region_code, line.indicator)):
        model = ts.rows.model
        columns = list(ts.columns)
        counts = ts.rows.aggregate(total=Count("pk"), numerator=Count("pk", filter=Q(in_numerator=True)))
        param = f"p{index}"
        paginator = Paginator(ts.rows.values(*columns, "in_numerator"), TRACE_PAGE_SIZE)
        paginator.count = counts["total"]  # known already: no second count query
        page = paginator.get_page(pages.get(param))
        choices = {c: _choices(model, c) for c in columns}
        link_name = RECORD_PAGES.get(ts.model_label)
        rows = []
        for record in page.object_list:
            rows.append(
                {
                    "raw": record,
                    "cells": [format_cell(record[c], choices[c]) for c in columns],
                    "in_numerator": bool(record["in_numerator"]),
                    "link": reverse(link_name, args=[record["id"]]) if link_name and record.get("id") else "",
                }
            )
        blocks.append(
            TraceBlock(
                model_label=ts.model_label,
                verbose_name=str(model._meta.verbose_name_plural),
                numerator_label=ts.numerator_label,
                denominator_label=ts.denominator_label,
                columns=[(c, column_label(model, c)) for c in columns],
                numerator=counts["numerator"],
                total=counts["total"] + len(ts.extra),
                page=page,
                page_param=param,
                rows=rows,
                missing=ts.extra,
            )
        )
    return blocks


def counts_comparable(indicator: str, indicators: dict, blocks: list[TraceBlock]) -> bool:
    """Whether the rows are exactly what was counted: the computed rates (their numerator and
    denominator are record counts) and the surveys (answers). Reported tables and assessor
    scores are shown as the records behind the value, not as counts."""
    if not blocks:
        return False
    return indicator in SURVEY_QUESTIONS or (indicators.get(indicator) or {}).get("source") == "computed"


def trace_check(line: IndicatorResult, blocks: list[TraceBlock]) -> dict:
    numerator = sum(b.numerator for b in blocks)
    denominator = sum(b.total for b in blocks)
    return {
        "numerator": numerator,
        "denominator": denominator,
        "stored_numerator": fmt_count(line.numerator),
        "stored_denominator": fmt_count(line.denominator),
        "matches": line.numerator is not None
        and line.denominator is not None
        and Decimal(numerator) == line.numerator
        and Decimal(denominator) == line.denominator,
    }
