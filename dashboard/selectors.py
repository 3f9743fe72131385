"""The committee's dashboard (SPEC §5.5): what the page, its JSON endpoint and its Excel export read.

Scores come from the stored results of the assessment (`UnitResult`, `AnnualResult`), the same
rows the ranking and breakdown pages show, through `restrict(user)`. Operational measures come
from the monthly counts of events and cases (`MonthlyActivity`, refreshed hourly by the beat):
one indexed query for the children, one for the months. A dashboard costs a fixed number of
queries whatever the number of children.

Caching: the score part is cached under a key built from the visible cycles' ids, run counts,
computation times and statuses, so re-running or finalising a cycle changes the key (nothing
stale can be served); the operational part is read from the monthly counts every time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import statistics
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Q, Sum
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from assessment.choices import DIMENSION_POINTS, CycleKind, CycleStatus, Dimension, Grade
from assessment.models import AnnualResult, CredibilityFlag, Cycle, UnitResult
from assessment.periods import Period, period_for
from assessment.selectors import cycle_flags
from assessment.selectors.results import round2
from governance.codes import Level, ancestors, parent_code
from grids.models import Region
from grids.selectors import child_summaries

from .models import ActivityKind, MonthlyActivity

SCORES_TTL = 24 * 3600  # the key changes when a cycle is re-run or finalised
RESIDENTS_TTL = 3600
VOLUME_MONTHS = 12
SHOWN_STATUSES = (CycleStatus.COMPUTED, CycleStatus.FINALISED)
KIND_ORDER = {CycleKind.SPOT_CHECK: 0, CycleKind.HALF_YEAR: 1, CycleKind.YEAR_END: 2}

MEASURES = {
    "score": gettext_lazy("考核得分"),
    "annual": gettext_lazy("年度结果与等次"),
    "events_per_1000": gettext_lazy("每千人事件数"),
    "overdue_share": gettext_lazy("事件超期率"),
    "mediation_success": gettext_lazy("调解成功率"),
    "open_flags": gettext_lazy("未处理预警"),
}
FLAGS_NO_CYCLE = gettext_lazy("选择一个考核周期后显示该周期的数据可信度预警。")
FLAGS_SHOWN = 50


# --- Which region, which cycles ----------------------------------------------------------------------------


def dashboard_region(user, code: str | None) -> Region:
    """The region a dashboard is about: `code` inside the user's jurisdiction (else 404), or the
    user's own region (a superuser without one: the top of the hierarchy)."""
    regions = Region.objects.restrict(user)
    if code is None:
        region = getattr(user, "region", None) or regions.filter(level=Level.PROVINCE).order_by("code").first()
    elif code.isdigit():
        region = regions.filter(code=code).first()
    else:
        region = None
    if region is None:
        raise Http404
    return region


def breadcrumb(user, region: Region) -> list[Region]:
    """The ancestors the user may open (top first), then the region: one query."""
    codes = region.ancestors_codes()
    ancestors = list(Region.objects.restrict(user).filter(code__in=codes).order_by("level")) if codes else []
    return [*ancestors, region]


def dashboard_cycles(user, region: Region, today: dt.date | None = None) -> list[Cycle]:
    """The computed cycles of this and the previous year that cover the region (organised at or
    above it), in period order; of two cycles for the same period the one organised highest wins."""
    today = today or timezone.localdate()
    above = ancestors(region.code, include_self=True)
    rows = (
        Cycle.objects.restrict(user)
        .filter(region_code__in=above, year__in=(today.year - 1, today.year), status__in=SHOWN_STATUSES)
        .only("id", "kind", "year", "quarter", "status", "region_code", "runs", "computed_at", "levels", "root_id")
    )
    chosen: dict[tuple, Cycle] = {}
    for cycle in sorted(rows, key=lambda c: (len(c.region_code), c.pk)):
        chosen.setdefault((cycle.kind, cycle.year, cycle.quarter), cycle)
    return sorted(chosen.values(), key=_period_order)


def _period_order(cycle: Cycle):
    period = period_for(cycle.kind, cycle.year, cycle.quarter)
    return (period.last, KIND_ORDER[cycle.kind], cycle.quarter or 0)


def default_cycle(cycles: list[Cycle]) -> Cycle | None:
    """The latest year-end assessment if there is one, else the latest cycle (annual results
    and grades are what a committee looks at first)."""
    year_ends = [c for c in cycles if c.kind == CycleKind.YEAR_END]
    if year_ends:
        return year_ends[-1]
    return cycles[-1] if cycles else None


def cycles_signature(cycles: list[Cycle]) -> str:
    """Changes whenever a cycle is re-run (runs, computed_at) or finalised (status)."""
    parts = [f"{c.pk}:{c.runs}:{c.computed_at.timestamp() if c.computed_at else 0}:{c.status}" for c in cycles]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


# --- The payload -------------------------------------------------------------------------------------------


@dataclass
class Dashboard:
    region: Region
    crumbs: list[Region]
    cycles: list[Cycle]
    cycle: Cycle | None
    data: dict


def dashboard(user, code: str | None, cycle_id=None) -> Dashboard:
    """Everything the dashboard of one region shows, for the user."""
    region = dashboard_region(user, code)
    cycles = dashboard_cycles(user, region)
    cycle = next((c for c in cycles if str(c.pk) == str(cycle_id)), None) if cycle_id else None
    if cycle_id and cycle is None:
        raise Http404
    cycle = cycle or default_cycle(cycles)
    crumbs = breadcrumb(user, region)
    data = {
        "region": _region_json(region),
        "breadcrumb": [{"code": r.code, "name": r.name} for r in crumbs],
        "cycles": [_cycle_json(c) for c in cycles],
        "cycle": _cycle_json(cycle) if cycle else None,
        "measures": [{"key": key, "label": str(label)} for key, label in MEASURES.items()],
        **_scores(user, region, cycles, cycle),
    }
    operations = _operations(user, region, cycle)
    for child in data["children"]:
        child["measures"] = operations["measures"].get(child["code"], _empty_measures())
    data["volumes"] = operations["volumes"]
    data["flags"] = _flags(user, region, cycle, data["children"])
    return Dashboard(region=region, crumbs=crumbs, cycles=cycles, cycle=cycle, data=data)


def _flags(user, region: Region, cycle: Cycle | None, children: list[dict]) -> dict:
    """The data-credibility flags (SPEC §5.4) of the units under this region for the cycle: the
    first FLAGS_SHOWN listed (each opens its records), and every child's count for the map — two
    queries whatever the number of flags. Flags never change a score."""
    if cycle is None:
        return {"available": True, "items": [], "total": 0, "note": str(FLAGS_NO_CYCLE)}
    flags = cycle_flags(cycle=cycle, under=region.code) & CredibilityFlag.objects.restrict(user)
    codes = list(flags.values_list("region_code", flat=True))
    if region.level + 1 <= Level.TOWNSHIP:  # flags are raised on assessed units, township and above
        for child in children:
            child["measures"]["open_flags"] = sum(code.startswith(child["code"]) for code in codes)
    items = [
        {
            "rule": flag.rule,
            "rule_label": flag.get_rule_display(),
            "region_code": flag.region_code,
            "region_name": flag.region.name,
            "first": flag.first.isoformat(),
            "last": flag.last.isoformat(),
            "message": _("%(unit)s：%(rule)s（%(first)s 至 %(last)s）")
            % {"unit": flag.region.name, "rule": flag.get_rule_display(), "first": flag.first, "last": flag.last},
            "url": reverse("assessment:flag-detail", args=[flag.pk]),
        }
        for flag in flags.select_related("region")[:FLAGS_SHOWN]
    ]
    return {"available": True, "items": items, "total": len(codes), "note": ""}


def _region_json(region: Region) -> dict:
    child_level = region.level + 1 if region.level < Level.GRID else None
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "level_label": str(Level(region.level).label),
        "child_level": child_level,
        "child_level_label": str(Level(child_level).label) if child_level else "",
        "population": region.population,
    }


def _cycle_json(cycle: Cycle) -> dict:
    period = cycle.period
    return {
        "id": cycle.pk,
        "title": cycle.title,
        "kind": cycle.kind,
        "year": cycle.year,
        "quarter": cycle.quarter,
        "status": cycle.status,
        "status_label": cycle.get_status_display(),
        "first": period.first.isoformat(),
        "last": period.last.isoformat(),
    }


def _number(value) -> float | None:
    shown = round2(value)
    return None if shown is None else float(shown)


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return _number(statistics.median(values)) if values else None


# --- Scores (stored results) -------------------------------------------------------------------------------


def _scores(user, region: Region, cycles: list[Cycle], cycle: Cycle | None) -> dict:
    key = f"dashboard:scores:{region.code}:{cycle.pk if cycle else 0}:{cycles_signature(cycles)}:{get_language()}"
    cached = cache.get(key)
    if cached is None:
        cached = _compute_scores(user, region, cycles, cycle)
        cache.set(key, cached, SCORES_TTL)
    return cached


def _compute_scores(user, region: Region, cycles: list[Cycle], cycle: Cycle | None) -> dict:
    children = list(
        Region.objects.restrict(user).filter(parent=region).order_by("code").only("code", "name", "level", "population")
    )
    cycle_ids = [c.pk for c in cycles]
    # The children's and the region's own results of every shown cycle: one query.
    rows = list(
        UnitResult.objects.restrict(user)
        .filter(cycle_id__in=cycle_ids)
        .filter(Q(parent_code=region.code) | Q(region_code=region.code))
        .values("cycle_id", "region_code", "parent_code", "total", "dimensions", "rank", "peers")
    )
    peers = _peer_results(region, cycle_ids)
    annual = {}
    if cycle is not None and cycle.kind == CycleKind.YEAR_END:
        annual = {
            a["region_code"]: a
            for a in AnnualResult.objects.restrict(user)
            .filter(cycle=cycle, parent_code=region.code)
            .values("region_code", "result", "grade", "rank", "peers", "fiscal_tilt")
        }
    own = {(r["cycle_id"], r["region_code"]): r for r in rows}
    assessed = region.level + 1 in [int(x) for x in (cycle.levels if cycle else [])]
    sampled = cycle is not None and cycle.kind == CycleKind.SPOT_CHECK
    grades = dict(Grade.choices)
    out_children = []
    for child in children:
        result = own.get((cycle.pk, child.code)) if cycle else None
        a = annual.get(child.code)
        out_children.append(
            {
                "code": child.code,
                "name": child.name,
                "population": child.population,
                "score": _number(result["total"]) if result else None,
                "rank": result["rank"] if result else None,
                "peers": result["peers"] if result else None,
                "dimensions": {d: _number(result["dimensions"].get(d)) for d in DIMENSION_POINTS} if result else {},
                "annual": _number(a["result"]) if a else None,
                "annual_rank": a["rank"] if a else None,
                "grade": a["grade"] if a else "",
                "grade_label": str(grades.get(a["grade"], "")) if a else "",
                "fiscal_tilt": _number(a["fiscal_tilt"]) if a else None,
                "breakdown_url": reverse("assessment:unit", args=[cycle.pk, child.code]) if result else "",
                "no_result": "" if result else _why_no_result(cycle, assessed, sampled),
            }
        )
    return {
        "children": out_children,
        "scores_available": any(c["score"] is not None for c in out_children),
        "trend": _trend(region, cycles, own, peers, children),
        "radar": _radar(region, cycle, own, peers, children),
    }


def _why_no_result(cycle: Cycle | None, assessed: bool, sampled: bool) -> str:
    if cycle is None:
        return _("尚无已计算的考核周期")
    if not assessed:
        return _("该层级不参加本周期考核")
    if sampled:
        return _("未被本季度抽查抽中")
    return _("本周期无该单位的结果")


def _peer_results(region: Region, cycle_ids: list[int]) -> dict[int, list[dict]]:
    """The results of the region's peers (same level, same parent) per cycle, for their median
    only. Deliberately read past the user's jurisdiction: a county committee compares itself
    with the median of its sibling counties (as its rank already does) without seeing any
    sibling's own score — only the median leaves this function (docs/decisions.md)."""
    if region.level == Level.PROVINCE or not cycle_ids:
        return {}
    by_cycle: dict[int, list[dict]] = {}
    rows = UnitResult.objects.filter(cycle_id__in=cycle_ids, level=region.level, parent_code=parent_code(region.code))
    for row in rows.values("cycle_id", "total", "dimensions"):
        by_cycle.setdefault(row["cycle_id"], []).append(row)
    return by_cycle


def _dimension_share(dimensions: dict, dimension: str) -> float | None:
    value = dimensions.get(dimension)
    if value is None:
        return None
    return float(round2(Decimal(str(value)) * 100 / DIMENSION_POINTS[dimension]))


def _trend(region, cycles, own, peers, children) -> dict:
    """The region's score and its peers' median per cycle; a region that is not assessed itself
    (the province, a village) shows the median of its children instead."""
    labels = [c.title for c in cycles]
    series = []
    if any((c.pk, region.code) in own for c in cycles):
        series.append(
            {
                "key": "unit",
                "name": region.name,
                "data": [
                    _number(own[(c.pk, region.code)]["total"]) if (c.pk, region.code) in own else None for c in cycles
                ],
            }
        )
        series.append(
            {
                "key": "peer_median",
                "name": _("同级单位中位数"),
                "data": [_median([p["total"] for p in peers.get(c.pk, [])]) for c in cycles],
            }
        )
    codes = [child.code for child in children]
    child_medians = [_median([own[(c.pk, code)]["total"] for code in codes if (c.pk, code) in own]) for c in cycles]
    if any(v is not None for v in child_medians):
        series.append({"key": "children_median", "name": _("下级单位中位数"), "data": child_medians})
    return {"labels": labels, "cycles": [c.pk for c in cycles], "series": series}


def _radar(region, cycle, own, peers, children) -> dict:
    """A/B/C/D as a share (%) of their full points: the region against its peers' median, or
    (a region not assessed itself) its children's median."""
    dims = list(DIMENSION_POINTS)
    indicators = [{"key": d, "name": f"{d} {Dimension(d).label}", "max": 100} for d in dims]
    series = []
    if cycle is not None:
        mine = own.get((cycle.pk, region.code))
        if mine:
            series.append(
                {"key": "unit", "name": region.name, "data": [_dimension_share(mine["dimensions"], d) for d in dims]}
            )
            group = [p["dimensions"] for p in peers.get(cycle.pk, [])]
            series.append({"key": "peer_median", "name": _("同级单位中位数"), "data": _dimension_medians(group, dims)})
        else:
            group = [own[(cycle.pk, c.code)]["dimensions"] for c in children if (cycle.pk, c.code) in own]
            if group:
                series.append(
                    {"key": "children_median", "name": _("下级单位中位数"), "data": _dimension_medians(group, dims)}
                )
    return {"indicators": indicators, "series": series}


def _dimension_medians(group: list[dict], dims: list[str]) -> list[float | None]:
    return [_median([_dimension_share(g, d) for g in group]) for d in dims]


# --- Operations (live records) -----------------------------------------------------------------------------


def _empty_measures() -> dict:
    return {
        "events": 0,
        "events_overdue": 0,
        "events_per_1000": None,
        "overdue_share": None,
        "cases_concluded": 0,
        "cases_agreed": 0,
        "mediation_success": None,
        "open_flags": None,
    }


def measure_period(cycle: Cycle | None, today: dt.date | None = None) -> Period:
    """The operational measures cover the selected cycle's period, or this year without one."""
    today = today or timezone.localdate()
    if cycle is not None:
        return cycle.period
    return period_for(CycleKind.YEAR_END, today.year)


def _operations(user, region: Region, cycle: Cycle | None) -> dict:
    period = measure_period(cycle)
    return {"measures": _measures(user, region, period), "volumes": _volumes(user, region, period)}


def _measures(user, region: Region, period: Period) -> dict[str, dict]:
    """Per child, from the monthly counts: events reported in the period (per 1,000 residents,
    share overdue) and cases concluded in it (share agreed) — one indexed query."""
    if region.level >= Level.GRID:
        return {}
    rows = (
        MonthlyActivity.objects.restrict(user)
        .filter(parent_code=region.code, month__gte=period.first.replace(day=1), month__lte=period.last)
        .filter(kind__in=(ActivityKind.EVENTS, ActivityKind.CONCLUDED))
        .order_by()
        .values("region_code", "kind")
        .annotate(n=Sum("count"), flagged=Sum("flagged"))
    )
    residents = _residents(user, region)
    codes = Region.objects.restrict(user).filter(parent=region).values_list("code", flat=True)
    out: dict[str, dict] = {code: _empty_measures() for code in codes}
    for row in rows:
        m = out.get(row["region_code"])
        if m is None:
            continue
        n, flagged = row["n"], row["flagged"]
        if row["kind"] == ActivityKind.EVENTS:
            m["events"], m["events_overdue"] = n, flagged
            people = residents.get(row["region_code"])
            m["events_per_1000"] = _number(Decimal(n) * 1000 / people) if people else None
            m["overdue_share"] = _number(Decimal(flagged) * 100 / n) if n else None
        else:
            m["cases_concluded"], m["cases_agreed"] = n, flagged
            m["mediation_success"] = _number(Decimal(flagged) * 100 / n) if n else None
    return out


def _residents(user, region: Region) -> dict[str, int]:
    """Residents per child: the sum over its grids (parents' own figures may not be rolled up). The
    hierarchy changes rarely and a province has 70,000 grids, so the sums are cached for an hour."""
    key = f"dashboard:residents:{region.code}"
    residents = cache.get(key)
    if residents is None:
        summaries = child_summaries(region, user)
        residents = {code: row["grid_population"] or 0 for code, row in summaries.items()}
        cache.set(key, residents, RESIDENTS_TTL)
    return residents


def _volume_months(period: Period, today: dt.date) -> list[dt.date]:
    last = min(period.last, today).replace(day=1)
    months = []
    month = last
    for _n in range(VOLUME_MONTHS):
        months.append(month)
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return months[::-1]


def _volumes(user, region: Region, period: Period) -> dict:
    """Events reported and cases registered per month (the twelve months up to the period's end),
    with how many of them went overdue, from the monthly counts: one indexed query."""
    months = _volume_months(period, timezone.localdate())
    rows = (
        MonthlyActivity.objects.restrict(user)
        .filter(region_code=region.code, month__gte=months[0], month__lte=months[-1])
        .filter(kind__in=(ActivityKind.EVENTS, ActivityKind.CASES))
        .values("month", "kind", "count", "flagged", "refreshed_at")
    )
    index = {m: i for i, m in enumerate(months)}
    out = {
        "months": [m.strftime("%Y-%m") for m in months],
        "events": [0] * len(months),
        "events_overdue": [0] * len(months),
        "cases": [0] * len(months),
        "cases_overdue": [0] * len(months),
        "as_of": None,
    }
    for row in rows:
        i = index.get(row["month"])
        if i is not None:
            out[row["kind"]][i] = row["count"]
            out[f"{row['kind']}_overdue"][i] = row["flagged"]
            out["as_of"] = timezone.localtime(row["refreshed_at"]).strftime("%Y-%m-%d %H:%M")
    return out


def children_outlines(user, region: Region) -> dict:
    """The children's outlines as one GeoJSON FeatureCollection (simplified on import)."""
    from grids.outlines import feature_collection

    children = Region.objects.restrict(user).filter(parent=region).order_by("code").only("code", "name", "boundary")
    return feature_collection(children)
