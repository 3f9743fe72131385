"""The upload and download page for centre staff (capability `region.import`).

An upload becomes an ImportJob that the worker imports in the background (jobs.py); the job's
page shows a progress bar, then the report. Jobs are scoped like everything else: a job
outside the user's subtree answers 404. See docs/import-format.md."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language

from governance.interchange.base import kind_label
from governance.interchange.exporter import export_records
from governance.interchange.forms import MAX_UPLOAD_BYTES, ExportForm, ImportForm
from governance.interchange.jobs import progress_payload, start_import
from governance.middleware import client_ip
from governance.models import ImportJob

RECENT_JOBS = 20
REJECTED_PER_PAGE = 200


def _may_import(request) -> None:
    if not request.user.can("region.import"):
        raise PermissionDenied


def _job(request, pk: int) -> ImportJob:
    _may_import(request)
    return get_object_or_404(ImportJob.objects.restrict(request.user).select_related("user"), pk=pk)


FORMAT_DOC = settings.BASE_DIR / "docs" / "import-format.md"


@login_required
def records_format(request):
    """The file format description (docs/import-format.md), for the users of the import page."""
    _may_import(request)
    return render(request, "interchange/format.html", {"text": FORMAT_DOC.read_text(encoding="utf-8")})


@login_required
def records_page(request):
    """Upload a file (imported in the background, all or nothing) or download a subtree's records."""
    _may_import(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = start_import(
            upload=form.cleaned_data["file"], user=request.user, dry_run=form.cleaned_data["dry_run"],
            ip=client_ip(request), language=get_language() or "",
        )  # fmt: skip
        return redirect("interchange:job", pk=job.pk)
    export_form = ExportForm(initial={"code": request.user.region.code if request.user.region_id else ""})
    jobs = list(ImportJob.objects.restrict(request.user).select_related("user").defer("report")[:RECENT_JOBS])
    for job in jobs:
        job.progress = progress_payload(job)  # running jobs: from the cache, no query
    return render(
        request,
        "interchange/records.html",
        {"form": form, "export_form": export_form, "jobs": jobs, "max_upload": MAX_UPLOAD_BYTES},
    )


@login_required
def job_detail(request, pk: int):
    """A job's progress bar while it runs; its report once it has ended."""
    job = _job(request, pk)
    report = job.report or {}
    rejected = Paginator(report.get("rejected", []), REJECTED_PER_PAGE).get_page(request.GET.get("page"))
    counts = {
        key: [(kind_label(kind), n) for kind, n in (report.get(key) or {}).items()] for key in ("created", "unchanged")
    }
    error = next((line for line in reversed(job.error.strip().splitlines()) if line.strip()), "")
    return render(
        request,
        "interchange/job.html",
        {
            "job": job,
            "progress": progress_payload(job),
            "report": report,
            "counts": counts,
            "page_obj": rejected,
            "error": error,
        },
    )


@login_required
def job_progress(request, pk: int):
    return JsonResponse(progress_payload(_job(request, pk)))


@login_required
def job_report(request, pk: int):
    """The whole report as JSON (every rejected row), for files with many rejections."""
    job = _job(request, pk)
    if job.is_active:
        raise Http404
    response = HttpResponse(json.dumps(job.report, ensure_ascii=False, indent=1), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="import-report-{job.pk}.json"'
    return response


@login_required
def records_export(request):
    _may_import(request)
    form = ExportForm(request.GET)
    if not form.is_valid():
        raise Http404
    data = form.cleaned_data
    lines = export_records(code=data["code"], start=data["start"], end=data["end"], user=request.user)
    try:
        first = next(lines)
    except PermissionError as exc:
        raise Http404 from exc
    response = StreamingHttpResponse(
        (line.encode("utf-8") for gen in ([first], lines) for line in gen), content_type="application/x-ndjson"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="records-{data["code"]}-{data["start"]}-{data["end"]}.jsonl"'
    )
    return response
