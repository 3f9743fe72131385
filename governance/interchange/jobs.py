"""Background imports from the /records/ page: an uploaded file becomes an ImportJob, the
worker runs the importer on it (governance.tasks.run_import) and the page polls its progress.

Where the live progress lives. The write pass runs inside the importer's one transaction, so
an update of the job row made from inside it stays invisible to the page (and would be rolled
back with a rejected file) until the very end. Live progress therefore goes to the cache
(Redis whenever a worker is configured; in eager mode the import runs in the web process, so
its local-memory cache serves too). While no transaction is open — the validation pass — it
is also written to the row, as the assessment cycles do, so a crashed job shows how far it got.
The end state (status, counts, report) is always written to the row.

Progress is measured in bytes of the stored file: the size is known from the upload, so the
bar is a real percentage without counting lines first. It counts the pass under way: a file that
passes is read once (each chunk validated, then written); a rejected one is read again by the
validation pass, which fills the bar afresh (as a dry run's only pass does).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from governance import audit
from governance.choices import ImportStatus
from governance.models import ImportJob

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.5  # seconds between two progress writes
PROGRESS_TTL = 6 * 3600  # a cache entry outlives any run; a crashed run's entry expires
ACTIVE = (ImportStatus.QUEUED, ImportStatus.VALIDATING, ImportStatus.WRITING)
STALL_SECONDS = 30 * 60  # the worker reports every half second while it reads the file


def progress_key(job_id: int) -> str:
    return f"interchange:import-job:{job_id}"


# --- Starting ----------------------------------------------------------------------------------------------


def start_import(*, upload, user, dry_run: bool, ip: str | None = None, language: str = "") -> ImportJob:
    """Store the uploaded file, create the job and queue it once the row is committed.

    The stored name is random: the original name is kept on the row, and nothing the
    uploader typed ends up in a path."""
    from governance.tasks import run_import

    with transaction.atomic():
        job = ImportJob(
            user=user,
            region_code=user.region.code if user.region_id else "",
            ip=ip,
            language=language,
            name=upload.name[:255],
            size=upload.size,
            dry_run=dry_run,
        )
        job.file.save(f"{uuid.uuid4().hex}.jsonl", upload, save=False)
        job.save()
        transaction.on_commit(lambda: run_import.delay(job.pk))
    return job


# --- Running (the worker's side) -------------------------------------------------------------------------------


class ProgressRecorder:
    """Reads the stored file for the importer and reports how far it got.

    `open_stream` follows import_records' contract: it is called for the header, then once
    per pass (validation, then writing), and each call reads the file afresh."""

    def __init__(self, job: ImportJob):
        self.job_id = job.pk
        self.storage, self.path = job.file.storage, job.file.name
        self.status = ImportStatus.VALIDATING
        self.lines = self.bytes_read = 0
        self._published = 0.0

    @property
    def phase(self) -> str:
        return "write" if self.status == ImportStatus.WRITING else "validate"

    def open_stream(self) -> Iterator[bytes]:
        return self._read()

    def on_progress(self, phase: str, line: int) -> None:
        """The importer's own progress callback: it names the pass for certain."""
        self.status = ImportStatus.WRITING if phase == "write" else ImportStatus.VALIDATING

    def _read(self) -> Iterator[bytes]:
        self.lines = self.bytes_read = 0
        with self.storage.open(self.path, "rb") as handle:
            for raw in handle:
                self.lines += 1
                self.bytes_read += len(raw)
                if time.monotonic() - self._published >= PROGRESS_INTERVAL:
                    self.publish()
                yield raw

    def publish(self) -> None:
        self._published = time.monotonic()
        state = {"status": str(self.status), "phase": self.phase, "lines": self.lines, "bytes_read": self.bytes_read}
        cache.set(progress_key(self.job_id), {**state, "at": time.time()}, PROGRESS_TTL)
        if not transaction.get_connection().in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).audited_update(reason="import progress", **state)


def run_job(job_id: int) -> dict:
    """Run one queued job to its end: done, rejected (with every rejected row) or failed.

    A job that is no longer queued (the task delivered twice, or already finished) is left
    alone. The importer is all-or-nothing, so a failure leaves nothing half-written."""
    from governance.interchange.importer import import_records

    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).audited_update(
        reason="import started", status=ImportStatus.VALIDATING, phase="validate", started_at=timezone.now()
    )
    if not claimed:
        status = ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        return {"job": job_id, "skipped": status or "missing"}
    cache.delete(progress_key(job_id))  # start clean: no entry left under this id by an earlier run
    job = ImportJob.objects.select_related("user__region").get(pk=job_id)
    recorder = ProgressRecorder(job)
    # The bulk audit entries name the uploader and the address of the upload, as a synchronous import would.
    token = audit.set_context(audit.AuditContext(actor_id=job.user_id, actor_name=job.user.get_username(), ip=job.ip))
    try:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            outcome = _import(job, recorder, import_records)
    finally:
        audit.reset_context(token)
    _finish(job, recorder, **outcome)
    return {"job": job_id, "status": outcome["status"]}


def _import(job: ImportJob, recorder: ProgressRecorder, import_records) -> dict:
    try:
        report = import_records(
            open_stream=recorder.open_stream,
            user=job.user,
            dry_run=job.dry_run,
            progress=recorder.on_progress,
            name=job.name,
        )
    except UnicodeDecodeError:
        logger.info("Import job %s: not UTF-8", job.pk, exc_info=True)
        return {"status": ImportStatus.REJECTED, "error": _("文件无法读取：请使用UTF-8编码保存后再上传。")}
    except Exception:  # the detail goes to the log, the user gets a sentence in their language
        logger.exception("Import job %s failed", job.pk)
        return {
            "status": ImportStatus.FAILED,
            "error": _("导入时发生系统错误，请联系系统管理员查看日志。"),
        }
    status = ImportStatus.DONE if report.ok else ImportStatus.REJECTED
    result = audit.to_jsonable(report.as_dict())
    result["rejected"].sort(key=lambda row: row["line"])  # the importer reports a chunk's rows when it ends
    return {"status": status, "report": result}


def _finish(job: ImportJob, recorder: ProgressRecorder, *, status: str, report: dict | None = None, error: str = ""):
    """Write the end state, then drop the live progress and the stored file."""
    done = status == ImportStatus.DONE
    ImportJob.objects.filter(pk=job.pk).audited_update(
        reason="import finished",
        status=status,
        phase=recorder.phase,
        lines=(report or {}).get("lines", recorder.lines),
        bytes_read=job.size if done else recorder.bytes_read,
        report=report or {},
        rejected_rows=len((report or {}).get("rejected", ())),
        error=error,
        finished_at=timezone.now(),
        file="",
    )
    cache.delete(progress_key(job.pk))
    try:
        job.file.storage.delete(job.file.name)
    except OSError:
        logger.warning("Could not delete the uploaded file %s of import job %s", job.file.name, job.pk)


# --- Reading -------------------------------------------------------------------------------------------------


def percent(*, status: str, bytes_read: int, size: int) -> int:
    """The share of the whole job done, 0–100 (see the module docstring)."""
    if status == ImportStatus.DONE:
        return 100
    if status == ImportStatus.QUEUED:
        return 0
    fraction = min(bytes_read / size, 1.0) if size else 0.0
    return int(fraction * 100)


def live_state(job: ImportJob) -> dict:
    """The job's status and counts: from the cache while it runs, else from the row. A job whose
    worker has said nothing for STALL_SECONDS died with it (the import, one transaction, left
    nothing behind): it is marked failed so that the page stops waiting."""
    state = {"status": job.status, "phase": job.phase, "lines": job.lines, "bytes_read": job.bytes_read}
    if job.status in (ImportStatus.VALIDATING, ImportStatus.WRITING):  # claimed by a worker
        live = cache.get(progress_key(job.pk)) or {}
        heard = live.pop("at", None) or (job.started_at.timestamp() if job.started_at else time.time())
        state.update(live)
        if time.time() - heard > STALL_SECONDS:
            _mark_stalled(job)
            state["status"] = job.status
    return state


def _mark_stalled(job: ImportJob) -> None:
    error = _("后台处理中断（超过%(minutes)s分钟没有进展），未导入任何记录，请重新上传。") % {
        "minutes": STALL_SECONDS // 60
    }
    running = (ImportStatus.VALIDATING, ImportStatus.WRITING)
    now = timezone.now()
    if ImportJob.objects.filter(pk=job.pk, status__in=running).audited_update(
        reason="import stalled", status=ImportStatus.FAILED, error=error, finished_at=now
    ):
        job.status, job.error, job.finished_at = ImportStatus.FAILED, error, now


def step_note(*, status: str, lines: int) -> str:
    if status == ImportStatus.QUEUED:
        return _("等待后台处理")
    if status == ImportStatus.VALIDATING:
        step = _("逐行校验")
    elif status == ImportStatus.WRITING:
        step = _("逐行校验并写入数据库")
    else:
        return ""
    return _("%(step)s，已处理%(lines)s行") % {"step": step, "lines": lines}


def progress_payload(job: ImportJob) -> dict:
    """What the page's poller and GET …/progress/ read."""
    state = live_state(job)
    status = state["status"]
    return {
        "id": job.pk,
        "status": status,
        "status_display": str(ImportStatus(status).label),
        "running": status in ACTIVE,
        "progress": percent(status=status, bytes_read=state["bytes_read"], size=job.size),
        "note": step_note(status=status, lines=state["lines"]),
        "lines": state["lines"],
        "bytes_read": state["bytes_read"],
        "size": job.size,
    }
