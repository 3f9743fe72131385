"""Celery tasks of the platform package (thin: call a service, report)."""

import logging

from celery import shared_task

from . import audit

logger = logging.getLogger(__name__)


@shared_task(name="governance.tasks.seal_audit_chain")
def seal_audit_chain() -> int:
    """Seal entries that no writer's after-commit sealing picked up (it never waits for a
    sealer that is already running)."""
    return audit.seal_pending()


@shared_task(name="governance.tasks.verify_audit_chain")
def verify_audit_chain() -> dict:
    """Seal what is pending, then re-compute the whole chain and compare its head with the
    checkpoint; log loudly when it is broken (tampering)."""
    audit.seal_pending()
    report = audit.verify_chain()
    if not report.intact:
        logger.error(
            "Audit chain broken (%s) at position #%s after %s good entries",
            report.reason,
            report.broken_at,
            report.checked,
        )
    return {"checked": report.checked, "broken_at": report.broken_at, "reason": report.reason}


@shared_task(name="governance.tasks.run_import")
def run_import(job_id: int) -> dict:
    """Import an uploaded interchange file on the worker (progress is reported as it goes).
    Delivered twice, the second run finds the job no longer queued and does nothing."""
    from .interchange.jobs import run_job

    return run_job(job_id)
