"""Bounded counts: exact up to `settings.LIST_EXACT_COUNT_LIMIT`, beyond it an estimate, flagged.

An exact `COUNT(*)` reads every matching row: over a province's ten million events that is the
slowest part of a list page, and nobody reads "9,949,309" differently from "about 9.9 million".
So a list counts at most LIMIT + 1 matching rows (a `LIMIT`ed sub-count, as cheap as reading one
page); when there are more, the total is the planner's estimate (PostgreSQL: `EXPLAIN`, one more
statement; other databases: the bound itself) and says it is not exact. The API reports it as
`count_exact: false`, the pages as "约 N" / "超过 N" (docs/decisions.md, "Bounded list counts").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable
from django.utils.translation import gettext as _


def exact_count_limit() -> int:
    """Up to how many rows a count is exact (read per call, so tests can lower it with `settings`)."""
    return settings.LIST_EXACT_COUNT_LIMIT


@dataclass(frozen=True)
class BoundedCount:
    """A count that is exact, or, when `exact` is false, a lower bound or an estimate above the limit."""

    value: int
    exact: bool = True

    def __int__(self) -> int:
        return self.value

    def __bool__(self) -> bool:
        return self.value > 0

    def __str__(self) -> str:
        if self.exact:
            return str(self.value)
        return _("超过%(n)s") % {"n": self.value}


def _limited_sql(queryset: QuerySet, limit: int) -> tuple[str, tuple]:
    """`SELECT COUNT(*)` over at most `limit` + 1 of the queryset's rows, as SQL and parameters."""
    inner = queryset.order_by().values("pk")[: limit + 1]
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:  # a queryset that can match nothing (`none()`, `pk__in=[]`) has no SQL
        return "SELECT 0", ()
    return f"SELECT COUNT(*) FROM ({sql}) bounded", tuple(params)


def bounded_counts(querysets: dict[str, QuerySet], limit: int | None = None) -> dict[str, BoundedCount]:
    """Each queryset's count, exact up to `limit`, else `limit` flagged inexact — in ONE statement.

    The sub-counts are scalar sub-selects of one SELECT, so a page with a dozen counts (a queue's
    status chips) still sends one query; each stops after `limit` + 1 rows.
    """
    if not querysets:
        return {}
    limit = exact_count_limit() if limit is None else limit
    names = list(querysets)
    first = querysets[names[0]]
    parts, params = [], []
    for name in names:
        sql, part_params = _limited_sql(querysets[name], limit)
        parts.append(f"({sql})")
        params.extend(part_params)
    with connections[first.db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {
        name: BoundedCount(n, True) if n <= limit else BoundedCount(limit, False)
        for name, n in zip(names, row, strict=True)
    }


def estimated_rows(queryset: QuerySet) -> int | None:
    """The planner's estimate of the queryset's rows (PostgreSQL), or None where there is none."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def list_count(queryset: QuerySet, limit: int | None = None) -> BoundedCount:
    """A list's total: exact up to `limit`; above it the planner's estimate (never below the limit + 1)."""
    limit = exact_count_limit() if limit is None else limit
    counted = bounded_counts({"n": queryset}, limit)["n"]
    if counted.exact:
        return counted
    estimate = estimated_rows(queryset)
    return BoundedCount(max(estimate or 0, limit + 1), False)


def _of_model_instances(object_list) -> bool:
    """A queryset that yields model instances (not `values()` dicts or tuples): its pages can be read ids first."""
    return isinstance(object_list, QuerySet) and issubclass(object_list._iterable_class, ModelIterable)


class BoundedPaginator(Paginator):
    """Django's paginator with a bounded count: `count_exact` says whether `count` is exact.

    While the total is an estimate the estimated last page is no wall: any page number may be asked
    for (one past the data is simply empty), and "next" is offered while the page is full. A page is
    read ids first, then rows (`_deferred_rows`).
    """

    @cached_property
    def bounded(self) -> BoundedCount:
        if isinstance(self.object_list, QuerySet):
            return list_count(self.object_list)
        return BoundedCount(len(self.object_list))

    @cached_property
    def count(self) -> int:
        return self.bounded.value

    @property
    def count_exact(self) -> bool:
        return self.bounded.exact

    def validate_number(self, number):
        if self.count_exact:
            return super().validate_number(number)
        number = self._int_number(number)
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def _int_number(self, number) -> int:
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            return int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.count_exact and top + self.orphans >= self.count:
            top = self.count
        if not _of_model_instances(self.object_list):
            return self._get_page(self.object_list[bottom:top], number, self)
        return self._get_page(self._deferred_rows(bottom, top), number, self)

    def _deferred_rows(self, bottom: int, top: int) -> list:
        """The page's rows in two steps: its ids first — a narrow query the database answers from an index
        that holds the subtree's codes, the sort key and the id (event_region_list_idx, case_region_list_idx),
        sorting only those ids — then those rows with everything they show."""
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in self.object_list.filter(pk__in=ids).order_by()}
        return [rows[pk] for pk in ids if pk in rows]

    def _get_page(self, *args, **kwargs):
        return BoundedPage(*args, **kwargs)


class BoundedPage(Page):
    """A page of a BoundedPaginator: past an estimated total, "next" exists while this page is full."""

    def has_next(self) -> bool:
        if self.paginator.count_exact:
            return super().has_next()
        return len(self.object_list) >= self.paginator.per_page
