"""Reads of the data-credibility flags (智能预警): a cycle's flags for the dashboard and the API, and
the records behind one flag, opened like a trace (数据来源透明): the rows the caller may see among
those the check counted, with the columns that show why."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import FlagRule
from ..models import CredibilityFlag, Cycle

EVENT_COLUMNS = [
    ("id", _("编号")),
    ("title", _("标题")),
    ("region_code", _("区划代码")),
    ("reported_at", _("上报时间")),
    ("first_resolved_at", _("首次办结时间")),
    ("duplicate_of_id", _("疑似重复")),
    ("status", _("状态")),
]
CASE_COLUMNS = [
    ("id", _("编号")),
    ("number", _("案号")),
    ("title", _("案由")),
    ("region_code", _("区划代码")),
    ("registered_at", _("登记时间")),
    ("session_count", _("调解记录数")),
    ("status", _("状态")),
]


def flag_columns(flag) -> list[tuple[str, str]]:
    return CASE_COLUMNS if flag.rule == FlagRule.MEDIATION_SPIKE else EVENT_COLUMNS


def flag_queryset(flag, user):
    """The flag's records inside the caller's jurisdiction (scoped like every record)."""
    if flag.rule == FlagRule.MEDIATION_SPIKE:
        from disputes.models import Case

        qs = Case.objects.restrict(user).annotate(session_count=Count("sessions"))
    else:
        from grids.events.models import GridEvent

        qs = GridEvent.objects.restrict(user)
    return qs.filter(pk__in=flag.record_ids).order_by("pk")


def flag_records(flag, user, pks: list[int] | None = None) -> list[dict]:
    """Rows as {"raw": {column: JSON value}, "cells": [shown text]} (only `pks` when given: a page)."""
    paths = [path for path, _label in flag_columns(flag)]
    qs = flag_queryset(flag, user)
    if pks is not None:
        qs = qs.filter(pk__in=pks)
    qs = qs.values(*paths)
    rows = []
    for values in qs:
        raw = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}
        cells = [
            f"{timezone.localtime(v):%Y-%m-%d %H:%M}"
            if hasattr(v, "tzinfo") and v is not None
            else ("" if v is None else str(v))
            for v in values.values()
        ]
        rows.append({"raw": raw, "cells": cells, "id": values["id"]})
    return rows


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
