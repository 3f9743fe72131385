"""Celery tasks of the assessment (thin: call a service)."""

from celery import shared_task


@shared_task(name="assessment.tasks.run_cycle")
def run_cycle_task(cycle_id: int) -> dict:
    """Compute a cycle on the worker (progress is written to the cycle as it goes)."""
    from .services import run_cycle

    summary = run_cycle(cycle_id)
    if summary is None:
        return {"cycle": cycle_id, "skipped": "finalised"}
    return {"cycle": cycle_id, "units": summary.units, "records_read": summary.records_read}


@shared_task(name="assessment.tasks.start_due_cycles")
def start_due_cycles_task() -> list[int]:
    """Daily: start the spot-check, half-year and year-end cycles whose time has come."""
    from .services import start_due_cycles

    return start_due_cycles()


@shared_task(name="assessment.tasks.rescore_cycle", autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def rescore_cycle_task(cycle_id: int) -> list[int]:
    """After an upheld appeal: compute the cycle again with the adjustment (and its year-end)."""
    from .services.appeals import rescore

    return rescore(cycle_id)


@shared_task(name="assessment.tasks.sweep_appeal_deadlines")
def sweep_appeal_deadlines_task() -> int:
    from .services.appeals import sweep_appeal_deadlines

    return sweep_appeal_deadlines()


@shared_task(name="assessment.tasks.monthly_credibility_checks")
def monthly_credibility_checks_task() -> int:
    """Monthly: the data-credibility checks over the previous month for every top-level region."""
    from .services.credibility import run_monthly_checks

    return run_monthly_checks()


@shared_task(name="assessment.tasks.build_report_bundle")
def build_bundle_task(bundle_id: int) -> dict:
    """The ZIP of a cycle's diagnostic reports for one region (progress on the bundle row)."""
    from .services.reports import build_bundle

    bundle = build_bundle(bundle_id)
    return {"bundle": bundle.pk, "units": bundle.units}
