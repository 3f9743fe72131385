"""Celery tasks of the hierarchy (thin: call a service)."""

from celery import shared_task

from grids.services import recount_fulltime_workers


@shared_task(name="grids.tasks.recount_fulltime_workers")
def recount_fulltime_workers_task() -> int:
    """Daily just after midnight: start and end dates of grid workers take effect."""
    return recount_fulltime_workers()
