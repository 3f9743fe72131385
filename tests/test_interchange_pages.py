"""The /records/ upload page (issue #6): an upload becomes an import job run in the background, its page
shows a progress bar and then the report; every rejected row is listed and nothing is written; dry
runs; a job is run once; failures; jurisdiction (another county's job answers 404).

Tests marked `celery_worker` go through the real worker in the PostgreSQL + Redis run (and inline in
eager mode); the others run the task in-process (`inline_tasks`) so they can stay inside the test's
transaction in both runs."""

from __future__ import annotations

import datetime as dt
import json
import time
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from governance import tasks
from governance.choices import AuditAction, ImportStatus
from governance.interchange import jobs
from governance.interchange.jobs import percent, progress_key, run_job
from governance.models import AuditLog, ExternalRef, ImportJob
from grids.events.models import GridEvent
from grids.models import GridWorker

from .browser import browser_page  # noqa: F401
from .conftest import uses_real_broker
from .factories import arrange
from .test_event_sweep_and_webhooks import wait_for
from .test_interchange import HEADER, event_row, worker_row


def jsonl(rows: list) -> bytes:
    return "".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def upload(client, rows: list, *, name="history.jsonl", dry_run=False):
    data = {"file": SimpleUploadedFile(name, rows if isinstance(rows, bytes) else jsonl(rows))}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(reverse("interchange:records"), data)


def text_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def inline_upload(monkeypatch, media, django_capture_on_commit_callbacks):
    """upload(), with the job's task run in-process (Celery's apply()) once the job is committed."""
    task = tasks.run_import
    monkeypatch.setattr(tasks, "run_import", SimpleNamespace(delay=lambda pk: task.apply(args=[pk])))

    def post(client, rows, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return upload(client, rows, **kwargs)

    return post


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]


# --- Upload → job → progress → report -------------------------------------------------------------------


def test_an_upload_is_imported_by_a_job_whose_page_shows_the_report(client, world, inline_upload, media):
    client.force_login(world.user_a)
    response = inline_upload(client, [HEADER, worker_row(world), event_row(world)])
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("interchange:job", args=[job.pk])

    progress = client.get(reverse("interchange:job-progress", args=[job.pk])).json()
    assert progress == {
        "id": job.pk, "status": "done", "status_display": "已完成", "running": False, "progress": 100, "note": "",
        "lines": 3, "bytes_read": job.size, "size": job.size,
    }  # fmt: skip
    page = client.get(response.url)
    html = text_of(page)
    assert "导入完成" in html and "已处理 3 行" in html and "history.jsonl" in html
    assert "网格事件 新增" in html and "event 新增" not in html
    assert page.context["report"]["created"] == {"grid_worker": 1, "event": 1}
    assert "<progress" not in html and "js/progress.js" in html  # the poller stays idle on a finished job
    assert GridEvent.objects.count() == 1 and ExternalRef.objects.filter(kind="event").count() == 1

    job.refresh_from_db()
    assert (job.status, job.phase, job.user, job.region_code, job.dry_run) == (
        "done",
        "write",
        world.user_a,
        "620102",
        False,
    )
    assert job.started_at and job.finished_at and job.rejected_rows == 0
    assert not job.file and stored_files(media) == []  # the uploaded file (personal data in clear) is gone
    # The upload is audited; the import's bulk entries name the uploader, as a synchronous import would.
    assert AuditLog.objects.filter(
        action=AuditAction.CREATE, model="governance.importjob", object_id=str(job.pk)
    ).exists()
    bulk = AuditLog.objects.filter(action=AuditAction.BULK, model="grids.gridevent").get()
    assert (bulk.actor_id, bulk.region_code) == (world.user_a.pk, "620102")

    listing = client.get(reverse("interchange:records"))
    assert [j.pk for j in listing.context["jobs"]] == [job.pk] and "已完成" in text_of(listing)
    report = client.get(reverse("interchange:job-report", args=[job.pk]))
    assert json.loads(report.content)["created"] == {"grid_worker": 1, "event": 1}


def test_a_rejected_file_lists_every_rejected_row_and_writes_nothing(client, world, inline_upload):
    client.force_login(world.user_a)
    rows = [
        HEADER,
        worker_row(world),
        event_row(world, 1),
        "{not json\n",
        event_row(world, 2, region=world.grid_b.code),  # another county
        event_row(world, 3, urgency="very"),
        {"type": "nonsense", "id": "X"},
    ]
    response = inline_upload(client, rows)
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.REJECTED and job.rejected_rows == 4
    page = client.get(response.url)
    html = text_of(page)
    assert "文件被拒绝，未导入任何记录" in html and "已拒绝" in html
    assert "新增" not in html and "网格事件 校验通过（未导入）" in html  # nothing was added
    shown = [(r["line"], r["type"], r["id"]) for r in page.context["page_obj"]]
    assert shown == [(4, "", ""), (5, "event", "E2"), (6, "event", "E3"), (7, "nonsense", "")]
    assert "管辖" in html and "urgency" in html and "未知的记录类型" in html
    assert GridEvent.objects.count() == 0 and GridWorker.objects.filter(name="张网格").count() == 0
    assert ExternalRef.objects.count() == 0 and not AuditLog.objects.filter(action=AuditAction.BULK).exists()


def test_many_rejected_rows_are_paged_and_all_in_the_downloadable_report(client, world, inline_upload, monkeypatch):
    from governance.interchange import views

    monkeypatch.setattr(views, "REJECTED_PER_PAGE", 2)
    client.force_login(world.user_a)
    inline_upload(client, [HEADER, *[event_row(world, n, urgency="very", reporter="") for n in range(5)]])
    job = ImportJob.objects.get()
    url = reverse("interchange:job", args=[job.pk])
    pages = [[r["line"] for r in client.get(url, {"page": n}).context["page_obj"]] for n in (1, 2, 3)]
    assert pages == [[2, 3], [4, 5], [6]]
    report = json.loads(client.get(reverse("interchange:job-report", args=[job.pk])).content)
    assert [r["line"] for r in report["rejected"]] == [2, 3, 4, 5, 6]


def test_a_dry_run_validates_and_saves_nothing(client, world, inline_upload):
    client.force_login(world.user_a)
    response = inline_upload(client, [HEADER, worker_row(world), event_row(world)], dry_run=True)
    job = ImportJob.objects.get()
    assert job.dry_run and job.status == ImportStatus.DONE and job.phase == "validate"
    html = text_of(client.get(response.url))
    assert "校验通过（未保存）" in html and "仅校验，不保存" in html
    assert GridEvent.objects.count() == 0 and ExternalRef.objects.count() == 0


def test_a_file_that_is_not_utf8_is_rejected_with_a_message(client, world, inline_upload):
    client.force_login(world.user_a)
    body = jsonl([HEADER]) + '{"type": "grid_worker", "name": "张"}\n'.encode("gb18030")
    response = inline_upload(client, body)
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.REJECTED and job.rejected_rows == 1
    page = text_of(client.get(response.url))
    assert "这一行不是UTF-8编码的文本（第" in page and "codec" not in page  # no English developer text


def test_an_importer_crash_marks_the_job_failed_and_writes_nothing(client, world, inline_upload, monkeypatch, media):
    from governance.interchange import importer

    def explode(batch, ctx):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer.REGISTRY["event"], "write", explode)
    client.force_login(world.user_a)
    response = inline_upload(client, [HEADER, worker_row(world), event_row(world)])
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED and job.phase == "write"
    page = text_of(client.get(response.url))
    assert "导入失败，未导入任何记录：导入时发生系统错误，请联系系统管理员查看日志。" in page
    assert "RuntimeError" not in page and "disk full" not in page  # the detail is in the log, not on the page
    assert GridWorker.objects.filter(name="张网格").count() == 0 and ExternalRef.objects.count() == 0  # rolled back
    assert stored_files(media) == []


def test_a_job_delivered_twice_runs_once(client, world, inline_upload):
    client.force_login(world.user_a)
    inline_upload(client, [HEADER, worker_row(world), event_row(world)])
    job = ImportJob.objects.get()
    assert run_job(job.pk) == {"job": job.pk, "skipped": "done"}
    arrange(ImportJob.objects.filter(pk=job.pk), status=ImportStatus.WRITING)  # another worker is on it
    assert run_job(job.pk) == {"job": job.pk, "skipped": "writing"}
    assert GridEvent.objects.count() == 1 and AuditLog.objects.filter(action=AuditAction.BULK).count() == 2


def test_a_file_over_the_limit_is_refused_on_the_page(client, world, inline_upload, monkeypatch):
    from governance.interchange import forms

    monkeypatch.setattr(forms, "MAX_UPLOAD_BYTES", 100)
    client.force_login(world.user_a)
    response = inline_upload(client, [HEADER, worker_row(world), event_row(world)])
    assert response.status_code == 200 and "文件超过100\xa0字节，请由运维人员使用import_records命令导入。" in text_of(
        response
    )
    assert ImportJob.objects.count() == 0


# --- Progress while running --------------------------------------------------------------------------------


def test_the_bar_counts_the_bytes_of_the_pass_under_way():
    """A file that passes is read once (validated and written chunk by chunk); a rejected one is read
    again by the validation pass, which fills the bar afresh."""
    assert percent(status="queued", bytes_read=0, size=900) == 0
    assert percent(status="writing", bytes_read=0, size=900) == 0
    assert percent(status="writing", bytes_read=450, size=900) == 50
    assert percent(status="validating", bytes_read=300, size=900) == 33
    assert percent(status="done", bytes_read=0, size=900) == 100


def test_the_write_pass_reports_through_the_cache_because_its_transaction_hides_the_row(
    client, world, inline_upload, monkeypatch
):
    """Inside the importer's transaction an update of the job row would not be seen by the page
    (another connection) until the end; the recorder writes the cache there, the row elsewhere."""
    seen = []
    publish = jobs.ProgressRecorder.publish

    def spy(recorder):
        publish(recorder)
        job = ImportJob.objects.get(pk=recorder.job_id)
        seen.append(
            (recorder.status, job.status, jobs.progress_payload(job)["status"], cache.get(progress_key(job.pk)))
        )

    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0)
    monkeypatch.setattr(jobs.ProgressRecorder, "publish", spy)
    client.force_login(world.user_a)
    inline_upload(client, [HEADER, worker_row(world), event_row(world)])
    statuses = [s[0] for s in seen]
    first_write = statuses.index("writing")
    assert set(statuses[:first_write]) == {"validating"} and set(statuses[first_write:]) == {"writing"}
    writing = [s for s in seen if s[0] == "writing"]
    assert all(payload_status == "writing" for _r, _row, payload_status, _c in writing)  # what the page reads
    assert writing[-1][3].pop("at") > time.time() - 60  # when the worker last spoke
    assert writing[-1][3] == {
        "status": "writing",
        "phase": "write",
        "lines": 3,
        "bytes_read": ImportJob.objects.get().size,
    }
    assert cache.get(progress_key(ImportJob.objects.get().pk)) is None  # dropped at the end


def test_a_running_job_page_has_the_progress_bar_and_the_poller(client, world, media):
    job = ImportJob.objects.create(user=world.user_a, region_code="620102", name="big.jsonl", size=3000)
    arrange(ImportJob.objects.filter(pk=job.pk), status=ImportStatus.VALIDATING, phase="validate")
    cache.set(progress_key(job.pk), {"status": "writing", "phase": "write", "lines": 1200, "bytes_read": 1500})
    client.force_login(world.user_a)
    html = text_of(client.get(reverse("interchange:job", args=[job.pk])))
    assert '<progress max="100" value="50">' in html and "逐行校验并写入数据库，已处理1200行" in html
    assert f'data-progress-url="/records/jobs/{job.pk}/progress/" data-running="1"' in html and "js/progress.js" in html
    progress = client.get(reverse("interchange:job-progress", args=[job.pk])).json()
    assert (progress["running"], progress["status_display"], progress["progress"]) == (True, "写入中", 50)
    assert client.get(reverse("interchange:job-report", args=[job.pk])).status_code == 404  # not yet
    listing = text_of(client.get(reverse("interchange:records")))
    assert "写入中" in listing and '<progress max="100" value="50">' in listing


def test_a_job_whose_worker_went_silent_half_an_hour_ago_is_marked_failed(client, world, media):
    started = timezone.now() - dt.timedelta(hours=2)
    job = ImportJob.objects.create(user=world.user_a, region_code="620102", name="big.jsonl", size=3000)
    arrange(ImportJob.objects.filter(pk=job.pk), status=ImportStatus.WRITING, phase="write", started_at=started)
    lively = ImportJob.objects.create(user=world.user_a, region_code="620102", name="live.jsonl", size=3000)
    arrange(ImportJob.objects.filter(pk=lively.pk), status=ImportStatus.WRITING, phase="write", started_at=started)
    cache.set(progress_key(lively.pk), {"status": "writing", "phase": "write", "lines": 10, "bytes_read": 10,
                                        "at": time.time() - 60})  # fmt: skip
    client.force_login(world.user_a)
    progress = client.get(reverse("interchange:job-progress", args=[job.pk])).json()
    assert (progress["running"], progress["status"]) == (False, ImportStatus.FAILED)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "未导入任何记录" in job.error and job.finished_at
    assert client.get(reverse("interchange:job-progress", args=[lively.pk])).json()["running"] is True


# --- Jurisdiction ------------------------------------------------------------------------------------------


def test_another_countys_job_answers_404_and_is_not_listed(client, world):
    job_b = ImportJob.objects.create(user=world.user_b, region_code="620103", name="b.jsonl", size=10)
    province_job = ImportJob.objects.create(user=world.admin_province, region_code="62", name="p.jsonl", size=10)
    client.force_login(world.user_a)
    for job in (job_b, province_job):
        for name in ("job", "job-progress", "job-report"):
            assert client.get(reverse(f"interchange:{name}", args=[job.pk])).status_code == 404, (job, name)
    assert list(client.get(reverse("interchange:records")).context["jobs"]) == []

    colleague = ImportJob.objects.create(user=world.admin_a, region_code="620102", name="a.jsonl", size=10)
    assert client.get(reverse("interchange:job", args=[colleague.pk])).status_code == 200  # same county

    client.force_login(world.admin_province)  # the province sees the whole subtree
    listed = {j.pk for j in client.get(reverse("interchange:records")).context["jobs"]}
    assert listed == {job_b.pk, province_job.pk, colleague.pk}

    client.force_login(world.worker_a)  # no region.import: refused before scoping
    assert client.get(reverse("interchange:job", args=[colleague.pk])).status_code == 403
    assert upload(client, [HEADER]).status_code == 403 and ImportJob.objects.count() == 3


def test_the_export_is_downloaded_for_the_own_subtree_only(client, world, inline_upload):
    client.force_login(world.user_a)
    inline_upload(client, [HEADER, worker_row(world), event_row(world)])
    url, dates = reverse("interchange:export"), {"start": "2025-01-01", "end": "2025-12-31"}
    download = client.get(url, {"code": world.county_a.code, **dates})
    assert download.status_code == 200 and b'"type":"event"' in b"".join(download.streaming_content)
    assert client.get(url, {"code": world.county_b.code, **dates}).status_code == 404


# --- Through the real worker -------------------------------------------------------------------------------


def worker_media(settings, tmp_path):
    """A real worker reads the uploads from its own MEDIA_ROOT (the default); eager mode uses a temp dir."""
    if not uses_real_broker():
        settings.MEDIA_ROOT = tmp_path


@pytest.mark.django_db(transaction=True)
def test_an_upload_is_imported_by_the_worker_while_the_page_polls(client, world, celery_worker, settings, tmp_path):
    worker_media(settings, tmp_path)
    client.force_login(world.user_a)
    response = upload(client, [HEADER, worker_row(world), *[event_row(world, n) for n in range(20)]])
    assert response.status_code == 302
    job = ImportJob.objects.get()
    url = reverse("interchange:job-progress", args=[job.pk])
    polled, deadline = [client.get(url).json()], time.monotonic() + 60
    while polled[-1]["running"]:
        assert time.monotonic() < deadline, polled[-1]
        time.sleep(0.1)
        polled.append(client.get(url).json())
    assert polled[-1]["status"] == "done" and polled[-1]["progress"] == 100 and polled[-1]["lines"] == 22
    assert [p["progress"] for p in polled] == sorted(p["progress"] for p in polled)  # never backwards
    assert GridEvent.objects.count() == 20 and ExternalRef.objects.filter(kind="event").count() == 20
    assert "导入完成" in text_of(client.get(response.url))
    assert not ImportJob.objects.get().file


@pytest.mark.skipif(not uses_real_broker(), reason="live progress from another process needs the real worker")
@pytest.mark.django_db(transaction=True)
def test_the_page_sees_the_workers_write_pass_as_it_goes(client, world, celery_worker, settings):
    """The worker's cache entries carry no per-test key prefix: read them as the web process would."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": ""}}
    client.force_login(world.user_a)
    rows = [HEADER, worker_row(world), *[event_row(world, n) for n in range(6000)]]  # a write pass of seconds
    upload(client, rows)
    job = ImportJob.objects.get()
    url = reverse("interchange:job-progress", args=[job.pk])
    writing = wait_for(lambda: (p := client.get(url).json())["status"] == "writing" and p, timeout=120)
    assert 0 <= writing["progress"] < 100 and writing["note"].startswith("逐行校验并写入数据库")
    assert ImportJob.objects.get().status != ImportStatus.WRITING  # the row cannot show it (transaction)
    wait_for(lambda: not client.get(url).json()["running"], timeout=300)
    assert ImportJob.objects.get().status == ImportStatus.DONE and GridEvent.objects.count() == 6000


# --- In the browser ----------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_job_page_follows_the_import_to_its_report_in_the_browser(
    live_server,
    world,
    password,
    celery_worker,
    settings,
    tmp_path,
    browser_page,  # noqa: F811
):
    from playwright.sync_api import expect

    from .browser import screenshot_path
    from .test_browser_events import login

    worker_media(settings, tmp_path)
    page, base = browser_page, live_server.url
    login(page, base, world.user_a.username, password)

    # A job that is running: the bar moves with the progress, and the page reloads when the job ends.
    running = ImportJob.objects.create(user=world.user_a, region_code="620102", name="old.jsonl", size=300)
    arrange(ImportJob.objects.filter(pk=running.pk), status=ImportStatus.VALIDATING, phase="validate")
    page.goto(f"{base}/records/jobs/{running.pk}/")
    expect(page.locator("#progress .status")).to_have_text("校验中")
    cache.set(progress_key(running.pk), {"status": "writing", "phase": "write", "lines": 7, "bytes_read": 150})
    expect(page.locator("#progress [data-progress-value]")).to_have_text("50")
    expect(page.locator("#progress [data-progress-note]")).to_have_text("逐行校验并写入数据库，已处理7行")
    expect(page.locator("#progress .status")).to_have_text("写入中")
    page.screenshot(path=str(screenshot_path("records-job-running")), full_page=True)
    report = {"written": True, "lines": 7, "created": {"event": 6}, "unchanged": {}, "rejected": []}
    arrange(ImportJob.objects.filter(pk=running.pk), status=ImportStatus.DONE, report=report)
    expect(page.locator("#report h2")).to_have_text("导入完成")
    expect(page.locator("#progress progress")).to_have_count(0)

    # An upload from the records page ends on its job page with the report (eager: inside the request;
    # a real worker: the poller reloads the page when the job is done).
    path = tmp_path / "history.jsonl"
    path.write_bytes(jsonl([HEADER, worker_row(world), event_row(world)]))
    page.goto(f"{base}/records/")
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="上传并校验").click()
    job = ImportJob.objects.exclude(pk=running.pk).get()
    assert page.url == f"{base}/records/jobs/{job.pk}/"
    expect(page.locator("#report h2")).to_have_text("导入完成", timeout=60_000)
    expect(page.locator("#report")).to_contain_text("已处理 3 行")
    page.screenshot(path=str(screenshot_path("records-job-done")), full_page=True)
    assert GridEvent.objects.count() == 1


def test_the_import_page_serves_the_file_format_description(client, world):
    client.force_login(world.user_a)
    page = text_of(client.get(reverse("interchange:records")))
    assert "docs/import-format.md" not in page and reverse("interchange:format") in page
    description = client.get(reverse("interchange:format"))
    assert description.status_code == 200 and "legal_representative" in text_of(description)
    client.force_login(world.worker_a)
    assert client.get(reverse("interchange:format")).status_code == 403
