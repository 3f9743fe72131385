"""Import of a whole interchange file: a validation pass, then (only if no row was rejected)
a write pass inside one transaction. See docs/import-format.md.

Both passes stream the file a line at a time and work in chunks of BATCH_SIZE rows of one
type: a chunk's regions and references are read in a few queries, its rows are written with
bulk_create, and the ExternalRef rows that make a second import a no-op are written with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import audit
from governance.bulk import write_rows
from governance.choices import AuditAction
from governance.interchange.base import (
    BATCH_SIZE,
    DEFAULT_SOURCE,
    FORMAT_NAME,
    FORMAT_VERSION,
    REGISTRY,
    Context,
    ImportReport,
    Prepared,
    Rejected,
    RejectedRow,
    Unchanged,
    digest_of,
    read_lines,
)
from governance.models import ExternalRef

Progress = Callable[[str, int], None]
REF_COLUMNS = ("source", "kind", "external_id", "object_id", "digest", "region_code", "imported_at")


class AbortImport(Exception):
    """Raised inside the write transaction to roll everything back."""


def import_records(
    *,
    open_stream: Callable[[], Iterable[str | bytes]],
    user=None,
    dry_run: bool = False,
    progress: Progress | None = None,
    name: str = "",
) -> ImportReport:
    """Validate the whole file and, unless this is a dry run, write it all in one transaction, or
    nothing. `open_stream` is called once per pass and must return the lines afresh. `user` is
    whose jurisdiction applies (None: an unrestricted operator).

    A file is read once when every row passes: each chunk is validated against what the platform
    and the chunks before it hold, then written, in the one transaction. At the first rejected
    row that transaction is rolled back and the file is read again by the validation pass alone,
    whose report (every rejected row) is the answer, as a dry run would give it. Only if that
    pass finds nothing (a row only the write can refuse) a complete write pass, rolled back,
    reports what it refused."""
    report = ImportReport(dry_run=dry_run)
    source = _read_header(open_stream(), report)
    if not report.ok:
        return report
    report.source = source
    if not dry_run:
        written = _write(open_stream, user=user, source=source, name=name, progress=progress, early=True)
        if written.ok:
            report.created, report.unchanged, report.written, report.lines = (
                written.created, written.unchanged, True, written.lines,
            )  # fmt: skip
            return report
    ctx = Context(user=user, source=source)
    ctx.stage_begin()
    try:
        _pass(open_stream(), ctx, report, write=False, progress=progress)
    finally:
        ctx.stage_end()
    report.rejected.sort(key=lambda r: r.line)
    if report.ok and not dry_run:  # rows only the write refuses (the validation pass cannot see them)
        report.rejected = _write(open_stream, user=user, source=source, name=name, progress=progress).rejected
    return report


def _write(open_stream, *, user, source: str, name: str, progress: Progress | None, early: bool = False):
    """The write pass: validate and write every chunk in one transaction, rolled back if a row is
    refused (`early`: at the end of the first chunk with a refused row)."""
    counts = ImportReport(source=source)
    ctx = Context(user=user, source=source)
    ctx.phase = "write"
    try:
        # Rows are written in bulk; the `bulk` entries below record them (audit.bulk_entry_recorded).
        with transaction.atomic(), audit.bulk_entry_recorded():
            ctx.stage_begin(kinds=[t.kind for t in REGISTRY.types() if not t.uses_refs])
            _pass(open_stream(), ctx, counts, write=True, progress=progress, early=early)
            if not counts.ok:
                raise AbortImport
            ctx.stage_end()
            _record(counts, user=user, source=source, name=name)
    except AbortImport:
        ctx.forget_stage()  # the temporary table went with the rollback
    counts.rejected.sort(key=lambda r: r.line)
    return counts


def _record(counts: ImportReport, *, user, source: str, name: str) -> None:
    """One `bulk` audit entry per record type the file holds."""
    for kind in REGISTRY.kinds():
        if kind in counts.created or kind in counts.unchanged:
            audit.record(
                AuditAction.BULK,
                model_label=REGISTRY[kind].model_label,
                object_repr=_("历史数据导入：%(name)s") % {"name": name or source},
                region_code=user.region.code if user is not None and user.region_id else "",
                changes={
                    "source": source,
                    "type": kind,
                    "file": name,
                    "created": counts.created.get(kind, 0),
                    "unchanged": counts.unchanged.get(kind, 0),
                },
            )


def _read_header(lines: Iterable[str | bytes], report: ImportReport) -> str:
    for number, row, error in read_lines(lines):
        if error or row.get("type") != "header":
            report.rejected.append(RejectedRow(number, "header", "", {"type": [_("文件第一行应为header记录。")]}))
            return ""
        reasons = {}
        if row.get("format") != FORMAT_NAME:
            reasons["format"] = [_("format应为“%(name)s”。") % {"name": FORMAT_NAME}]
        if row.get("version") != FORMAT_VERSION:
            reasons["version"] = [_("不支持的版本：%(v)s。") % {"v": row.get("version")}]
        source = str(row.get("source") or DEFAULT_SOURCE).strip()[:60]
        if reasons:
            report.rejected.append(RejectedRow(number, "header", "", reasons))
        return source
    report.rejected.append(RejectedRow(0, "header", "", {"file": [_("文件为空。")]}))
    return ""


def _pass(
    lines, ctx: Context, report: ImportReport, *, write: bool, progress: Progress | None, early: bool = False
) -> None:
    chunk: list[tuple[int, dict]] = []
    kind = ""
    position = -1
    phase = "write" if write else "validate"
    first = True
    if progress is not None:
        progress(phase, 0)  # the pass begins
    for number, row, error in read_lines(lines):
        report.lines = number
        if first:  # the header
            first = False
            continue
        if progress is not None and number % 1000 == 0:
            progress(phase, number)
        if error:
            report.rejected.append(RejectedRow(number, "", "", {"row": [error]}))
            continue
        row_kind = str(row.get("type", ""))
        if row_kind not in REGISTRY:
            report.rejected.append(
                RejectedRow(number, row_kind, "", {"type": [_("未知的记录类型“%(t)s”。") % {"t": row_kind}]})
            )
            continue
        if REGISTRY.index(row_kind) < position:
            report.rejected.append(
                RejectedRow(
                    number,
                    row_kind,
                    str(row.get("id", "")),
                    {
                        "type": [
                            _("“%(t)s”记录应位于“%(prev)s”之前（各类记录按文档顺序分节）。")
                            % {"t": row_kind, "prev": kind}
                        ]
                    },
                )
            )
            continue
        if row_kind != kind and chunk:
            _chunk(kind, chunk, ctx, report, write)
            chunk = []
        if early and not report.ok:
            return
        kind, position = row_kind, REGISTRY.index(row_kind)
        chunk.append((number, row))
        if len(chunk) >= BATCH_SIZE:
            _chunk(kind, chunk, ctx, report, write)
            chunk = []
    if chunk:
        _chunk(kind, chunk, ctx, report, write)
    if progress is not None:
        progress(phase, report.lines)


def _chunk(kind: str, chunk: list[tuple[int, dict]], ctx: Context, report: ImportReport, write: bool) -> None:
    record_type = REGISTRY[kind]
    rows = [row for _n, row in chunk]
    ctx.begin_chunk()
    record_type.prefetch(rows, ctx)
    # Both passes look a row's id up among earlier rows (ExternalRef, and the temporary table of
    # the ids this pass has seen), so a repeated id is refused alike whether or not its type has refs.
    ctx.load_refs(kind, (record_type.identity(row) for row in rows))
    batch: list[Prepared] = []
    for number, row in chunk:
        external_id = record_type.identity(row)
        if not external_id:
            report.rejected.append(RejectedRow(number, kind, "", {record_type.id_key: [_("缺少记录编号。")]}))
            continue
        digest = digest_of(row)
        key = (kind, external_id)
        known = ctx.seen.get(key) or (ctx.refs.get(key) or (None, None))[1]
        if known is not None:
            if known == digest:
                report.count(report.unchanged, kind)
            else:
                report.rejected.append(
                    RejectedRow(
                        number,
                        kind,
                        external_id,
                        {"id": [_("编号重复且内容不同（同一编号已导入或在本文件中出现过）。")]},
                    )
                )
            continue
        try:
            prepared = record_type.validate(row, ctx)
        except Unchanged:
            ctx.seen[key] = digest
            report.count(report.unchanged, kind)
            continue
        except Rejected as exc:
            report.rejected.append(RejectedRow(number, kind, external_id, exc.reasons))
            continue
        prepared.kind, prepared.external_id, prepared.digest, prepared.line = kind, external_id, digest, number
        ctx.seen[key] = digest
        report.count(report.created, kind)
        batch.append(prepared)
    ctx.stage(kind)
    if write and batch and report.ok:
        ids = record_type.write(batch, ctx)
        if record_type.uses_refs:
            now = timezone.now()
            refs = [(ctx.source, kind, p.external_id, object_id, p.digest, p.region_code, now)
                    for p, object_id in zip(batch, ids, strict=True)]  # fmt: skip
            write_rows(ExternalRef, REF_COLUMNS, refs)
