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


def subtree_level_counts(region: Region, user) -> dict[int, int]:
    """How many regions of each level lie under `region` (itself excluded)."""
    rows = (
        Region.objects.restrict(user)
        .under(region.code)
        .exclude(pk=region.pk)
        .order_by()
        .values("level")
        .annotate(n=Count("pk"))
    )
    return {row["level"]: row["n"] for row in rows}


def flag_labels() -> dict[str, str]:
    return {flag.value: flag.label for flag in SizingFlag}
