"""Public reads of the assessment for other parts of the platform (the dashboard, the API):
keyword-only, set-based, and scoped by the caller (pass a restricted queryset's codes)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from .choices import FlagRule
from .models import CredibilityFlag, Cycle


def cycle_flags(
    *, cycle: Cycle, unit_codes: Iterable[str] | None = None, under: str | None = None
) -> QuerySet[CredibilityFlag]:
    """The data-credibility flags (智能预警) of a cycle for the given units (or every unit under a
    region), in one query: the checks run over the cycle's period, and the monthly mediation
    spikes inside it."""
    period = cycle.period
    spikes = Q(rule=FlagRule.MEDIATION_SPIKE, first__gte=period.first, last__lte=period.last)
    whole = ~Q(rule=FlagRule.MEDIATION_SPIKE) & Q(first=period.first, last=period.last)
    flags = CredibilityFlag.objects.filter(spikes | whole)
    if unit_codes is not None:
        codes = unit_codes if isinstance(unit_codes, QuerySet) else list(unit_codes)
        flags = flags.filter(region_code__in=codes)
    if under is not None:
        flags = flags.filter(region_code__under=under)
    return flags.order_by("region_code", "rule", "first")
