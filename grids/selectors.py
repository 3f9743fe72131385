"""Reads of the hierarchy: subtree summaries computed set-based, grouped by code prefix."""

from __future__ import annotations

from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr

from governance.codes import CODE_LENGTH, Level
from grids.choices import SizingFlag
from grids.models import Region, sizing_conditions


def child_summaries(region: Region, user) -> dict[str, dict]:
    """Per child of `region`: grids below it, residents and households of those grids, and
    how many grids break each sizing rule — one grouped query over the subtree's grids."""
    if region.level >= Level.GRID:
        return {}
    child_length = CODE_LENGTH[Level(region.level + 1)]
    conditions = sizing_conditions()
    rows = (
        Region.objects.restrict(user)
        .under(region.code)
        .filter(level=Level.GRID)
        .annotate(child=Substr("code", 1, child_length))
        .order_by()
        .values("child")
        .annotate(
            grids=Count("pk"),
            grid_population=Sum("population"),
            grid_households=Sum("households"),
            **{f"flag_{flag}": Count("pk", filter=condition) for flag, condition in conditions.items()},
            flagged=Count("pk", filter=_any(conditions.values())),
        )
    )
    return {row.pop("child"): row for row in rows}


def _any(conditions) -> Q:
    combined = Q()
    for condition in conditions:
        combined |= condition
    return combined


def subtree_level_counts(region: Region, user, *, grids: int | None = None) -> dict[int, int]:
    """How many regions of each level lie under `region` (itself excluded).

    `grids`: the subtree's number of grids when the caller has it already (the sum of
    child_summaries), so that only the few regions above the grids are read — a province's
    70,000 grids are then scanned once per page, not twice.
    """
    regions = Region.objects.restrict(user).under(region.code).exclude(pk=region.pk)
    if grids is not None:
        regions = regions.filter(level__lt=Level.GRID)
    rows = regions.order_by().values("level").annotate(n=Count("pk"))
    counts = {row["level"]: row["n"] for row in rows}
    if grids:
        counts[Level.GRID] = grids
    return counts


def summed_flags(summaries: dict[str, dict]) -> dict[str, int]:
    """The subtree's grids breaking each sizing rule, added up from child_summaries (no query)."""
    return {flag: sum(row[f"flag_{flag}"] for row in summaries.values()) for flag in sizing_conditions()}


def flag_labels() -> dict[str, str]:
    return {flag.value: flag.label for flag in SizingFlag}
