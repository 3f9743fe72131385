"""Reads of the assessment for its pages, its API and the other parts of the platform (the
dashboard): keyword-only where shared, set-based, and scoped by the caller — `restrict(user)`, or a
restricted queryset's codes. Inputs (`inputs`), data-credibility flags (`flags`); the stored results
(`results`) are imported as a module."""

from .flags import cycle_flags
from .inputs import (
    assessed_indicators,
    claimable_indicators,
    groups_of_assessor,
    report_grid,
    report_months,
    report_state,
    report_totals,
    score_lines,
    veto_indicators,
    visible_groups,
)

__all__ = [
    "assessed_indicators",
    "claimable_indicators",
    "cycle_flags",
    "groups_of_assessor",
    "report_grid",
    "report_months",
    "report_state",
    "report_totals",
    "score_lines",
    "veto_indicators",
    "visible_groups",
]
