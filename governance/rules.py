"""The numbers of SPEC that pages name in their text, for the templates.

Each number has one home in the app that owns its rule (sizing in grids.models, SLA in
grids.events.sla, the case limit in disputes.lifecycle, scoring in assessment.engine.scoring, …);
each app publishes the ones its templates mention from its AppConfig.ready(), and the
`rules` context processor hands them to every template as `rules.<name>`, so a template
writes {% blocktranslate with days=rules.appeal_working_days %} instead of the number.
A value may be a callable (read when the page renders, e.g. from a setting).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

_PUBLISHED: dict[str, object] = {}


def publish(**values) -> None:
    """Make rule numbers available to templates; a name is published once (one home)."""
    for name, value in values.items():
        if name in _PUBLISHED and _PUBLISHED[name] != value:
            raise ValueError(f"rule number {name!r} is published twice")
        _PUBLISHED[name] = value


def percent(share: Fraction | Decimal | float) -> str:
    """A share as the percentage a sentence names (Fraction(1, 5) → "20")."""
    return f"{Decimal(float(share) * 100).quantize(Decimal('0.01')).normalize():f}"


def number(value) -> str:
    """A figure as a sentence names it (2.0 → "2", 0.5 → "0.5")."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def rules(request) -> dict:
    """Context processor: `rules` in every template."""
    return {"rules": _PUBLISHED}
