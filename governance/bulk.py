"""Writing many rows whose values are already known, where building model instances and preparing
each field would cost more than the SQL (import history rows, assessment result lines)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence

from django.db import connection


def _cell(value):
    if value is None:
        return r"\N"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def copy_into(model, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """PostgreSQL's COPY of `rows` (tuples in the order of `columns`) into the model's table."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)


def write_rows(model, columns: Sequence[str], rows: list[Sequence]) -> None:
    """COPY on PostgreSQL; elsewhere (SQLite: tests and development) model instances and bulk_create."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        copy_into(model, columns, rows)
    else:
        model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=1000)
