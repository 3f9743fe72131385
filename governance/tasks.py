"""Celery tasks of the platform package (thin: call a service, report)."""

import logging

from celery import shared_task

from . import audit

logger = logging.getLogger(__name__)


@shared_task(name="governance.tasks.verify_audit_chain")
def verify_audit_chain() -> dict:
    """Re-hash the whole audit trail; log loudly when a link is broken (tampering)."""
    checked, broken_at = audit.verify_chain()
    if broken_at is not None:
        logger.error("Audit chain broken at entry #%s after %s good entries", broken_at, checked)
    return {"checked": checked, "broken_at": broken_at}


@shared_task(name="governance.tasks.run_import")
def run_import(job_id: int) -> dict:
    """Import an uploaded interchange file on the worker (progress is reported as it goes).
    Delivered twice, the second run finds the job no longer queued and does nothing."""
    from .interchange.jobs import run_job

    return run_job(job_id)
