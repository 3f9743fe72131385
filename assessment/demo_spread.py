"""The demo's spread of results (make demo): which township does well and which does badly.

Each township of the small demo province gets a standing — excellent, good, pass or failing — and
its records are drawn from the probabilities of that standing (events handled on time and on the
spot, cases concluded within 30 days and agreed, satisfied survey answers, complete monthly
tables, assessors' scores), so the previous year ends with at least one excellent township (and
its fiscal tilt), good, passing and failing units, and the dashboard's map, trend and radar show
something true. A failing township improves a little in the current year, so its trend rises.
"""

from __future__ import annotations

from governance.codes import Level, ancestor_code

# Standing of each township of the small demo (by code); any other township is "pass".
STANDING = {
    "620102001": "good",
    "620102002": "fail",
    "620102003": "excellent",
    "620103001": "pass",
    "620103002": "good",
    "620103003": "excellent",
    "620502001": "fail",
    "620502002": "good",
    "620502003": "pass",
    "620521001": "pass",
    "620521002": "good",
    "620521003": "pass",
}
QUALITY = {"excellent": 0.985, "good": 0.9, "pass": 0.74, "fail": 0.55}
IMPROVEMENT_THIS_YEAR = 0.12  # a failing township's quality rises by this much in the current year


def quality(code: str, current_year: bool = False) -> float:
    """How well the township holding `code` (any code below it too) works, in [0, 1]."""
    standing = STANDING.get(ancestor_code(code, Level.TOWNSHIP), "pass")
    q = QUALITY[standing]
    if current_year and standing == "fail":
        q += IMPROVEMENT_THIS_YEAR
    return q


def assessor_score(q: float, jitter: int) -> int:
    """An assessor group's 0–100 score for a unit of quality q (jitter: the group's own 0–8 points)."""
    return max(40, min(100, round(50 + 45 * q) + jitter - 4))
