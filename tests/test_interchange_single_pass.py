"""The import reads a file that passes once (each chunk validated, then written, in one transaction)
and falls back to the validation pass for the report of a rejected file; rows written by COPY keep
the tables' sequences and the case-number counters right."""

from __future__ import annotations

import io
import json
import os
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from disputes.models import Agreement, Case, CaseNumberSequence, JudicialConfirmation, Party
from disputes.services import take_case_number_blocks, take_case_numbers
from governance.bulk import take_ids
from governance.interchange import base
from governance.interchange.importer import import_records
from governance.models import AuditLog, ExternalRef
from grids.events.models import EventDispatch, EventHistory, GridEvent

from .test_interchange import HEADER, at, case_row, event_row, worker_row

ON_POSTGRESQL = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="sequences: PostgreSQL only"
)


class File:
    """An interchange file that counts how often the importer opens it."""

    def __init__(self, rows: list[dict]):
        self.text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        self.opened = 0

    def __call__(self):
        self.opened += 1
        return io.StringIO(self.text)


def dispatched_event(world, n: int, **overrides) -> dict:
    """An event dispatched to a department (dispatch rows) and then resolved and closed."""
    lead = {"region": world.dept_a.region.code, "name": world.dept_a.name}
    return event_row(
        world,
        n,
        reporter="",
        timeline=[
            {"action": "report", "at": at(2025, 1, 6, 9)},
            {"action": "accept", "at": at(2025, 1, 6, 9, 30)},
            {"action": "dispatch", "at": at(2025, 1, 6, 10), "lead": lead},
            {"action": "department_accept", "at": at(2025, 1, 6, 11)},
            {"action": "resolve", "at": at(2025, 1, 8, 15), "resolution": "已处理"},
        ],
        **overrides,
    )


def test_a_file_that_passes_is_read_once_and_written_in_one_go(world):
    file = File([HEADER, worker_row(world), event_row(world, 1), event_row(world, 2)])
    report = import_records(open_stream=file)
    assert report.ok and report.written and report.created == {"grid_worker": 1, "event": 2}
    assert file.opened == 2  # the header, then the one pass
    assert GridEvent.objects.count() == 2 and EventHistory.objects.count() == 14
    assert AuditLog.objects.filter(action="bulk").count() == 2  # one per record type


def test_a_rejected_file_is_validated_again_and_every_rejected_row_is_reported(world, monkeypatch):
    """The write pass stops at the first chunk with a refused row and rolls back; the validation
    pass then reports every refused row, in later chunks too."""
    monkeypatch.setattr(base, "BATCH_SIZE", 2)
    monkeypatch.setattr("governance.interchange.importer.BATCH_SIZE", 2)
    rows = [HEADER, worker_row(world), *[event_row(world, n) for n in range(1, 8)]]
    rows[3]["category"] = "no_such_category"  # line 4, the first chunk of events
    rows[8]["timeline"] = [rows[8]["timeline"][0], {"action": "close", "at": at(2025, 1, 6, 10)}]  # line 9
    file = File(rows)
    report = import_records(open_stream=file)
    assert not report.ok and not report.written
    assert [(r.line, next(iter(r.reasons))) for r in report.rejected] == [(4, "category"), (9, "timeline[1]")]
    assert file.opened == 3  # header, the write pass (stopped), the validation pass
    assert GridEvent.objects.count() == 0 and ExternalRef.objects.count() == 0  # nothing written
    assert AuditLog.objects.filter(action="bulk").count() == 0
    dry = import_records(open_stream=File(rows), dry_run=True)
    assert [(r.line, r.reasons) for r in dry.rejected] == [(r.line, r.reasons) for r in report.rejected]


def test_a_row_only_the_write_refuses_is_reported_and_nothing_is_written(world, monkeypatch):
    """Two events of the file claiming one client uuid: the validation pass cannot tell (neither is
    on the platform yet); the write pass refuses the second once the first is written."""
    monkeypatch.setattr(base, "BATCH_SIZE", 1)
    monkeypatch.setattr("governance.interchange.importer.BATCH_SIZE", 1)
    shared = str(uuid.uuid4())
    rows = [HEADER, event_row(world, 1, reporter="", uuid=shared), event_row(world, 2, reporter="", uuid=shared)]
    assert import_records(open_stream=File(rows), dry_run=True).ok
    file = File(rows)
    report = import_records(open_stream=file)
    assert [(r.line, list(r.reasons)) for r in report.rejected] == [(3, ["uuid"])]
    assert file.opened == 4  # header, write (stopped), validation (nothing found), write to the end
    assert GridEvent.objects.count() == 0 and not report.written


def test_a_repeated_region_with_other_content_is_refused_by_the_write_pass_too(world, monkeypatch):
    """Regions have no ExternalRef: the write pass finds a repeated code in its staged ids, as the
    validation pass does, instead of writing the second version over the first."""
    monkeypatch.setattr(base, "BATCH_SIZE", 1)
    monkeypatch.setattr("governance.interchange.importer.BATCH_SIZE", 1)
    code = world.village_a.code + "901"
    grid = {"type": "region", "code": code, "name": "新网格", "level": "grid", "terrain": "plain", "population": 300,
            "households": 100, "grid_type": "comprehensive"}  # fmt: skip
    file = File([HEADER, grid, {**grid, "name": "另一个名字"}])
    report = import_records(open_stream=file)
    assert [(r.line, list(r.reasons)) for r in report.rejected] == [(3, ["id"])]
    assert not report.written and not type(world.village_a).objects.filter(code=code).exists()


def test_the_write_of_a_chunk_takes_as_many_statements_for_twelve_events_as_for_three(world):
    def statements(source: str, count: int) -> int:
        rows = [{**HEADER, "source": source}, *[dispatched_event(world, n) for n in range(count)]]
        with CaptureQueriesContext(connection) as queries:
            assert import_records(open_stream=File(rows)).written
        return len(queries)

    assert statements("first", 3) == statements("second", 12)
    assert EventDispatch.objects.count() == 15


@ON_POSTGRESQL
def test_the_sequences_continue_after_rows_written_by_copy(world, mediation):
    """COPY writes explicit ids taken from each table's sequence: the next row a service inserts
    gets a fresh id (PostgreSQL only: SQLite takes bulk_create's ids)."""
    rows = [HEADER, worker_row(world), dispatched_event(world, 1), case_row(world, mediation)]
    assert import_records(open_stream=File(rows)).written
    for model in (GridEvent, EventDispatch, EventHistory, Case, Party, Agreement, JudicialConfirmation):
        highest = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        assert highest is not None and take_ids(model, 1)[0] > highest, model


def test_case_numbers_for_many_counties_and_years_take_two_statements(db):
    CaseNumberSequence.objects.bulk_create(CaseNumberSequence(prefix=f"T{620100 + n}2025", last=n) for n in range(6))
    wanted = {f"T{620100 + n}2025": 2 for n in range(6)}
    with CaptureQueriesContext(connection) as queries:
        taken = take_case_number_blocks(wanted)
    locks_and_updates = [q for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(locks_and_updates) == 2
    assert taken["T6201032025"] == ["T6201032025000004", "T6201032025000005"]
    assert take_case_numbers(prefix="T6201032025") == ["T6201032025000006"]
    assert dict(CaseNumberSequence.objects.values_list("prefix", "last"))["T6201052025"] == 7
