"""Celery tasks of mediation (thin: call a service)."""

from celery import shared_task


@shared_task(name="disputes.tasks.sweep_case_deadlines")
def sweep_case_deadlines_task() -> dict:
    """Every ten minutes: overdue cases and judicial confirmations go under supervision (idempotent)."""
    from .supervision import sweep_case_deadlines

    return sweep_case_deadlines()
