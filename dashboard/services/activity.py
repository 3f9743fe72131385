"""The monthly activity counts (`MonthlyActivity`) the dashboard reads, refreshed from the events and cases."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import CharField, Count, DateField, DateTimeField, F, Q, Value
from django.db.models.functions import Length, Substr, TruncMonth
from django.utils import timezone

from disputes.choices import CaseOutcome
from disputes.lifecycle import case_overdue_q
from disputes.models import Case
from governance.codes import CODE_LENGTH, Level
from grids.events.choices import OPEN_STATUSES
from grids.events.models import GridEvent

from ..models import ActivityKind, MonthlyActivity

COLUMNS = ("region_code", "parent_code", "month", "kind", "count", "flagged", "refreshed_at")


def event_overdue(now: dt.datetime) -> Q:
    """Resolved after its deadline, or still open past it."""
    return Q(resolved_at__gt=F("resolve_deadline")) | Q(status__in=OPEN_STATUSES, resolve_deadline__lt=now)


def case_overdue(now: dt.datetime) -> Q:
    """Concluded after the 30-day limit, or still running past it (the cases' one clock)."""
    return Q(concluded_at__gt=F("conclusion_deadline")) | case_overdue_q(now)


def _sources(now: dt.datetime, since: dt.datetime):
    """(kind, queryset, date field, flagged condition) of each counted record kind."""
    return [
        (ActivityKind.EVENTS, GridEvent.objects.filter(reported_at__gte=since), "reported_at", event_overdue(now)),
        (ActivityKind.CASES, Case.objects.filter(registered_at__gte=since), "registered_at", case_overdue(now)),
        (
            ActivityKind.CONCLUDED,
            Case.objects.filter(concluded_at__gte=since),
            "concluded_at",
            Q(outcome=CaseOutcome.AGREED),
        ),
    ]


@transaction.atomic
def refresh_activity(*, now: dt.datetime | None = None, years: int = 2) -> int:
    """Recompute every region's monthly counts of this and the previous `years - 1` years: one
    INSERT … SELECT per level and record kind, grouped by the code prefix of that level. Readers
    see the old counts until the transaction commits. Returns the number of rows written."""
    now = now or timezone.now()
    since = timezone.make_aware(dt.datetime(timezone.localdate().year - years + 1, 1, 1))
    MonthlyActivity.objects.all().delete()
    table = MonthlyActivity._meta.db_table
    written = 0
    for kind, records, date_field, flagged in _sources(now, since):
        for level in Level:
            length = CODE_LENGTH[level]
            parent = (
                Substr("region_code", 1, CODE_LENGTH[Level(level - 1)])
                if level > Level.PROVINCE
                else Value("", output_field=CharField())
            )
            rows = (
                records.annotate(code_length=Length("region_code"))
                .filter(code_length__gte=length)  # a record filed on a village is not any grid's
                .annotate(
                    unit=Substr("region_code", 1, length),
                    up=parent,
                    at=TruncMonth(date_field, output_field=DateField()),
                    what=Value(str(kind), output_field=CharField()),
                )
                .order_by()
                .values("unit", "up", "at", "what")
                .annotate(n=Count("pk"), f=Count("pk", filter=flagged), stamp=Value(now, output_field=DateTimeField()))
                .values_list("unit", "up", "at", "what", "n", "f", "stamp")
            )
            sql, params = rows.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {table} ({', '.join(COLUMNS)}) {sql}", params)
                written += cursor.rowcount
    return written
