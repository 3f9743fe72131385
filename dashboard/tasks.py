"""Celery tasks of the dashboard (thin: call a service)."""

from celery import shared_task


@shared_task(name="dashboard.tasks.refresh_activity")
def refresh_activity_task() -> int:
    """Hourly: recount the monthly events and cases every dashboard reads."""
    from .services import refresh_activity

    return refresh_activity()
