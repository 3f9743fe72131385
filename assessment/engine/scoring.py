"""The scoring rules of SPEC §5.2–§5.4 as pure functions over exact rationals.

Everything is computed with `fractions.Fraction`, so no rounding happens until a number is
shown: points and totals are rounded to 2 decimals half up (`round2`), and grades and
rankings use the rounded annual result.
"""

from __future__ import annotations

import decimal
import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from ..choices import DIMENSION_POINTS, Grade, LineStatus

ZERO = Fraction(0)
ONE = Fraction(1)
# The numbers of SPEC §5.2–5.3 (each stated here once; pages and messages import them).
SURVEY_MIN_ANSWERS = 30  # per channel for the 50/50 mix, in all for the indicator to apply
SURVEY_CHANNEL_WEIGHT = Fraction(1, 2)  # online and offline shares weigh half each
SPREAD_LIMIT_POINTS = 15  # two assessor groups whose scores differ by more are flagged 评分差异过大
SPREAD_LIMIT = Fraction(SPREAD_LIMIT_POINTS)
EXCELLENT_SHARE = Fraction(1, 5)  # 优秀 only within the ceil(20 %) best of the peers
SPOT_CHECK_WEIGHT, HALF_YEAR_WEIGHT, YEAR_END_WEIGHT = Fraction(1, 10), Fraction(2, 5), Fraction(1, 2)
UNSAMPLED_WEIGHT = Fraction(1, 2)  # half-year and year-end each, for a unit never spot-checked
BONUS_CAP_POINTS = 3  # innovation bonus points a unit may get in a year (创新加分)
BONUS_CAP = Fraction(BONUS_CAP_POINTS)
RESULT_CAP = Fraction(100)
FAIL_BELOW, GOOD_FROM, EXCELLENT_FROM = 60, 80, 90
TILT_FROM, TILT_TO = Fraction(5), Fraction(10)  # % fiscal tilt at EXCELLENT_FROM rising to 100
LEAD_SHARE, COLLABORATORS_SHARE = Fraction(3, 5), Fraction(2, 5)  # of the points a unit lost


def frac(value) -> Fraction | None:
    """A Fraction from an int, str, Decimal or Fraction (floats are refused: they are inexact)."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise TypeError("use Decimal or str, not float")
    return Fraction(str(value)) if isinstance(value, Decimal) else Fraction(value)


def round2(value: Fraction) -> Decimal:
    """Half-up rounding to 2 decimals (values here are never negative, but stay correct if they are)."""
    scaled = value * 100
    rounded = math.floor(scaled + Fraction(1, 2)) if scaled >= 0 else -math.floor(-scaled + Fraction(1, 2))
    return (Decimal(rounded) / 100).quantize(Decimal("0.01"))


_STORE = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)


def to_decimal(value: Fraction | None, places: int = 8) -> Decimal | None:
    """A Fraction for storage, half up to `places` decimals (display precision; totals also
    keep their exact form). Decimal division at 60 digits, then one rounding."""
    if value is None:
        return None
    if value.denominator == 1:
        return Decimal(value.numerator).quantize(Decimal(1).scaleb(-places), context=_STORE)
    quotient = _STORE.divide(Decimal(value.numerator), Decimal(value.denominator))
    return quotient.quantize(Decimal(1).scaleb(-places), context=_STORE)


@functools.lru_cache(maxsize=256)
def as_fraction(text) -> Fraction:
    """A catalogue parameter ("0.95") as a Fraction, converted once."""
    return frac(text)


_SCALE = 10**8


def to_decimal_text(value: Fraction | None) -> str | None:
    """The same rounding as `to_decimal` (half up, 8 places) as text, with integer arithmetic
    only — for writing tens of thousands of result lines."""
    if value is None:
        return None
    numerator, denominator = value.numerator, value.denominator
    sign = "-" if numerator < 0 else ""
    if denominator == 1:  # zeros and whole weights, a third of the lines' figures
        return f"{sign}{abs(numerator)}.00000000"
    units = (2 * abs(numerator) * _SCALE + denominator) // (2 * denominator)
    return f"{sign}{units // _SCALE}.{units % _SCALE:08d}"


def clamp01(value: Fraction) -> Fraction:
    return max(ZERO, min(ONE, value))


def ratio(rule: str, value: Fraction, floor=None, target=None, ceiling=None) -> Fraction:
    """r ∈ [0, 1] of a `higher_better` or `lower_better` value."""
    if rule == "higher_better":
        f, span = _span(floor, target)
        return clamp01((value - f) / span)
    if rule == "lower_better":
        c, span = _span(ceiling, target)
        return clamp01((c - value) / -span)
    raise ValueError(f"no ratio rule {rule!r}")


@functools.lru_cache(maxsize=256)
def _span(start, end) -> tuple[Fraction, Fraction]:
    """A catalogue bound and the distance to the target, once per run rather than per line."""
    begin = as_fraction(start)
    return begin, as_fraction(end) - begin


def survey_value(online_yes: int, online_n: int, offline_yes: int, offline_n: int) -> Fraction | None:
    """SPEC survey rule: 0.5 × online share + 0.5 × offline share when both channels have at
    least 30 answers, else the pooled share; fewer than 30 answers in all: not applicable (None)."""
    total = online_n + offline_n
    if total < SURVEY_MIN_ANSWERS:
        return None
    if online_n >= SURVEY_MIN_ANSWERS and offline_n >= SURVEY_MIN_ANSWERS:
        return (
            Fraction(online_yes, online_n) * SURVEY_CHANNEL_WEIGHT
            + Fraction(offline_yes, offline_n) * SURVEY_CHANNEL_WEIGHT
        )
    return Fraction(online_yes + offline_yes, total)


@dataclass
class AssessedOutcome:
    ratio: Fraction | None
    mean: Fraction | None
    spread: Fraction | None
    groups: int


def assessed(scores: list) -> AssessedOutcome:
    """r = mean of the groups' 0–100 scores / 100, with the max − min spread."""
    values = [frac(s) for s in scores]
    if not values:
        return AssessedOutcome(None, None, None, 0)
    mean = sum(values, ZERO) / len(values)
    return AssessedOutcome(mean / 100, mean, max(values) - min(values), len(values))


@dataclass
class Line:
    """One indicator of one unit on its way to points."""

    code: str
    dimension: str
    weight: Fraction
    status: str
    ratio: Fraction = ZERO
    effective_weight: Fraction = ZERO
    points: Fraction = ZERO
    tolerance: Fraction = ZERO

    @property
    def applicable(self) -> bool:
        return self.status in (LineStatus.SCORED, LineStatus.MISSING_REPORT, LineStatus.UNSCORED)

    @property
    def lost(self) -> Fraction:
        return self.effective_weight - self.points


@dataclass
class UnitScore:
    lines: list[Line]
    total: Fraction
    dimensions: dict[str, Fraction] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def score_unit(lines: list[Line], tolerance_for: str | None = None) -> UnitScore:
    """Effective weights (not-applicable redistribution within the dimension, then across
    dimensions), points = effective weight × r, and the approved tolerance claim (half of the
    points lost on that indicator restored)."""
    profile_dims: dict[str, Fraction] = defaultdict(Fraction)
    applicable_dims: dict[str, Fraction] = defaultdict(Fraction)
    for line in lines:
        profile_dims[line.dimension] += line.weight
        if line.applicable:
            applicable_dims[line.dimension] += line.weight
    profile_total = sum(profile_dims.values(), ZERO)
    live_total = sum((profile_dims[d] for d, w in applicable_dims.items() if w > 0), ZERO)
    across = profile_total / live_total if live_total else ZERO
    # within × across once per dimension, not per line (exact either way: the same product)
    factor = {d: profile_dims[d] / w * across for d, w in applicable_dims.items() if w}
    dimensions: dict[str, Fraction] = dict.fromkeys(profile_dims, ZERO)
    for line in lines:
        if not line.applicable or line.dimension not in factor:
            line.effective_weight = line.points = ZERO
            continue
        line.effective_weight = line.weight * factor[line.dimension]
        line.points = line.effective_weight * line.ratio if line.ratio else ZERO
        if tolerance_for == line.code:
            line.tolerance = (line.effective_weight - line.points) / 2
            line.points += line.tolerance
        dimensions[line.dimension] += line.points
    return UnitScore(lines, sum(dimensions.values(), ZERO), dimensions)


def dimension_weights() -> dict[str, int]:
    return dict(DIMENSION_POINTS)


# --- Annual result, grades, tilt, accountability ------------------------------------------------------


def annual_result(
    spot_checks: list[Fraction], half_year: Fraction, year_end: Fraction, bonus: Fraction = ZERO
) -> Fraction:
    """0.10 × mean(spot checks) + 0.40 × half-year + 0.50 × year-end, or 0.50 × half-year +
    0.50 × year-end for a unit never sampled; plus the innovation bonus (≤ 3), capped at 100."""
    if spot_checks:
        base = SPOT_CHECK_WEIGHT * (sum(spot_checks, ZERO) / len(spot_checks)) + HALF_YEAR_WEIGHT * half_year
        base += YEAR_END_WEIGHT * year_end
    else:
        base = UNSAMPLED_WEIGHT * half_year + UNSAMPLED_WEIGHT * year_end
    return min(RESULT_CAP, base + min(max(bonus, ZERO), BONUS_CAP))


@dataclass
class Ranked:
    code: str
    result: Decimal  # rounded annual result
    year_end: Fraction
    vetoed: bool
    rank: int = 0
    grade: str = ""


def grade_peers(peers: list[Ranked]) -> list[Ranked]:
    """Rank peers (same level, same parent) by the rounded result, ties by the higher year-end
    score then the lower code; grade them: fail on a veto or below 60, excellent at ≥ 90 within
    the ceil(20 %) best, good at ≥ 80, otherwise pass."""
    ordered = sorted(peers, key=lambda p: (-p.result, -p.year_end, p.code))
    top = math.ceil(EXCELLENT_SHARE * len(ordered))
    for position, peer in enumerate(ordered, start=1):
        peer.rank = position
        if peer.vetoed or peer.result < FAIL_BELOW:
            peer.grade = Grade.FAIL
        elif peer.result >= EXCELLENT_FROM and position <= top:
            peer.grade = Grade.EXCELLENT
        elif peer.result >= GOOD_FROM:
            peer.grade = Grade.GOOD
        else:
            peer.grade = Grade.PASS
    return ordered


def fiscal_tilt(result: Decimal) -> Decimal:
    """Suggested transfer-payment tilt of an excellent unit: 5 % at 90 rising linearly to 10 % at 100."""
    span = RESULT_CAP - EXCELLENT_FROM
    value = TILT_FROM + (frac(result) - EXCELLENT_FROM) / span * (TILT_TO - TILT_FROM)
    return round2(max(TILT_FROM, min(TILT_TO, value)))


def accountability(lines, indicators: dict) -> dict[str, Fraction]:
    """Points lost per department: 60 % to the lead, 40 % shared equally by the collaborators
    (100 % to the lead without collaborators). `lines` need `.code` and `.lost`."""
    out: dict[str, Fraction] = defaultdict(Fraction)
    for line in lines:
        meta = indicators.get(line.code) or {}
        lead, collaborators = meta.get("lead"), meta.get("collaborators") or []
        lost = frac(line.lost) if not isinstance(line.lost, Fraction) else line.lost
        if not lead or lost <= 0:
            continue
        if collaborators:
            out[lead] += lost * LEAD_SHARE
            for dept in collaborators:
                out[dept] += lost * COLLABORATORS_SHARE / len(collaborators)
        else:
            out[lead] += lost
    return dict(out)
