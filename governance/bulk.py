"""Writing many rows whose values are already known, where building model instances and preparing
each field would cost more than the SQL (import history rows, assessment result lines)."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from functools import partial
from operator import attrgetter

from django.db import connection
from django.db.models import Field

_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text_cell(value) -> str:
    """One value in COPY's text format (NULL is \\N; a string that reads "\\N" stays a string)."""
    cls = value.__class__
    if cls is str:  # most cells: tested first
        return value.translate(_TEXT_ESCAPES)
    if value is None:
        return r"\N"
    if cls is bool:
        return "t" if value else "f"
    if cls is int:
        return str(value)
    if cls is dt.datetime or cls is dt.date:  # datetimes aware, with their offset
        return value.isoformat()
    if cls is dict or cls is list:
        return json.dumps(value, ensure_ascii=False, default=str).translate(_TEXT_ESCAPES)
    return str(value).translate(_TEXT_ESCAPES)


def copy_into(model, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """PostgreSQL's COPY of `rows` (tuples in the order of `columns`) into the model's table, in COPY's text format."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    buffer = io.StringIO()
    buffer.writelines("\t".join([_text_cell(value) for value in row]) + "\n" for row in rows)
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", buffer)


def write_rows(model, columns: Sequence[str], rows: list[Sequence]) -> None:
    """COPY on PostgreSQL; elsewhere (SQLite: tests and development) model instances and bulk_create."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        copy_into(model, columns, rows)
    else:
        model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=1000)


# --- Model instances by COPY -----------------------------------------------------------------------------------


def take_ids(model, count: int) -> list[int]:
    """`count` new primary keys from the table's own sequence (one statement), so rows written with
    explicit ids by COPY leave the sequence where inserts would have left it."""
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
        )
        return [row[0] for row in cursor.fetchall()]


def insert_objects(model, objects: list) -> list:
    """bulk_create for many unsaved instances of one model, each getting its primary key. On
    PostgreSQL the keys come from the table's sequence (take_ids) and the rows go in by one COPY
    (an INSERT of thousands of parameters costs the server several times more); elsewhere
    (SQLite: tests and development) it is bulk_create. Like bulk_create it sends no signals: the
    caller records the `bulk` audit entry (audit.bulk_entry_recorded)."""
    if not objects:
        return objects
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objects, batch_size=1000)
    fields = [f for f in model._meta.concrete_fields if not f.generated]  # the database computes those
    for obj, pk in zip(objects, take_ids(model, len(objects)), strict=True):
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias
    # a field's value as bulk_create takes it: pre_save where a field has its own (auto_now), else the attribute
    getters = [
        attrgetter(f.attname) if f.__class__.pre_save is Field.pre_save else partial(f.pre_save, add=True)
        for f in fields
    ]
    copy_into(model, [f.column for f in fields], ([get(obj) for get in getters] for obj in objects))
    return objects
