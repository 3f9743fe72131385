"""The reports of a cycle (SPEC §5.4): one unit's diagnostic report or rectification notice on
request, and a ZIP of every unit's diagnostic report under a region built by a Celery job whose
progress the page shows (static/js/progress.js, as for the cycle runs and the imports).

Who may read them is scoping's business: a unit's documents come from its scoped result; a
bundle covers the units under the requester's region (or the cycle's root, for those above it)
and is itself scoped by that region code.
"""

from __future__ import annotations

import io
import traceback
import zipfile

from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import User
from governance.scoping import scope_prefix
from grids.models import Region

from ..choices import JobStatus
from ..models import Cycle, ReportBundle, UnitResult
from ..pdf import diagnoses, diagnostic_pdf, notice_items, notice_pdf

BATCH = 50  # units read and rendered per step (progress is written after each)


def notice_for(cycle: Cycle, unit: Region) -> bytes:
    """The rectification notice of a unit (404 while unpublished or without problem items)."""
    items = notice_items(cycle, unit.code) if cycle.published_at else []
    if not items:
        raise Http404
    return notice_pdf(cycle, unit, items)


def report_for(cycle: Cycle, unit: UnitResult) -> bytes:
    return diagnostic_pdf(diagnoses(cycle, [unit])[0])


def bundle_region(user: User, cycle: Cycle) -> str:
    """The requester's region when it lies inside the cycle's root, else the root."""
    prefix = scope_prefix(user)
    if prefix and prefix.startswith(cycle.region_code):
        return prefix
    return cycle.region_code


@transaction.atomic
def request_bundle(*, user: User, cycle: Cycle) -> ReportBundle:
    """Queue (again) the ZIP of the cycle's reports for the user's region; a job already queued
    or running is returned as it is, so repeated clicks start one job."""
    from ..tasks import build_bundle_task

    code = bundle_region(user, cycle)
    bundle, _created = ReportBundle.objects.select_for_update().get_or_create(
        cycle=cycle, region_code=code, defaults={"requested_by": user}
    )
    if not _created and bundle.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return bundle
    bundle.status, bundle.progress, bundle.note, bundle.error = JobStatus.QUEUED, 0, _("排队中"), ""
    bundle.requested_by, bundle.requested_at, bundle.finished_at = user, timezone.now(), None
    bundle.save(update_fields=["status", "progress", "note", "error", "requested_by", "requested_at", "finished_at"])
    transaction.on_commit(lambda: build_bundle_task.delay(bundle.pk))
    return bundle


def _progress(bundle_id: int, **values) -> None:
    ReportBundle.objects.filter(pk=bundle_id).update(**values)


def build_bundle(bundle_id: int) -> ReportBundle:
    """The worker's side: render every unit's report in batches into one ZIP."""
    bundle = ReportBundle.objects.select_related("cycle", "cycle__root", "cycle__catalogue_version").get(pk=bundle_id)
    cycle = bundle.cycle
    try:
        units = list(
            UnitResult.objects.filter(cycle=cycle, region_code__under=bundle.region_code)
            .select_related("region")
            .order_by("level", "region_code")
        )
        _progress(bundle.pk, status=JobStatus.RUNNING, units=len(units), note=_("生成中"))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for start in range(0, len(units), BATCH):
                for d in diagnoses(cycle, units[start : start + BATCH]):
                    name = f"{d.unit.region_code}_{d.unit.region.name}.pdf"
                    archive.writestr(name, diagnostic_pdf(d))
                done = min(start + BATCH, len(units))
                _progress(bundle.pk, progress=int(done * 99 / max(len(units), 1)), note=f"{done}/{len(units)}")
        bundle.file.save(f"reports_{cycle.pk}_{bundle.region_code}.zip", ContentFile(buffer.getvalue()), save=False)
        bundle.status, bundle.progress, bundle.note = JobStatus.DONE, 100, _("已完成")
        bundle.finished_at = timezone.now()
        bundle.save(update_fields=["file", "status", "progress", "note", "finished_at"])
    except Exception:
        _progress(bundle.pk, status=JobStatus.FAILED, error=traceback.format_exc()[-4000:], note=_("生成失败"))
        raise
    return bundle


def bundle_payload(bundle: ReportBundle) -> dict:
    """What the progress bar polls (the shape progress.js reads)."""
    return {
        "id": bundle.pk,
        "status": bundle.status,
        "status_display": bundle.get_status_display(),
        "progress": bundle.progress,
        "note": bundle.note,
        "running": bundle.status in (JobStatus.QUEUED, JobStatus.RUNNING),
        "units": bundle.units,
    }
