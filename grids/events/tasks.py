"""Celery tasks of grid events (thin: call a service)."""

from celery import shared_task


@shared_task(name="grids.events.tasks.sweep_deadlines")
def sweep_deadlines_task() -> dict:
    """Every minute: overdue limits go under supervision (idempotent)."""
    from grids.events.services.effects import sweep_deadlines

    return sweep_deadlines()


@shared_task(
    name="grids.events.tasks.deliver_webhook",
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=False,
    max_retries=8,
)
def deliver_webhook(self, delivery_id: int) -> int | None:
    """POST one signed notification; network errors and non-2xx answers are retried with back-off."""
    from grids.events.services.webhooks import deliver

    return deliver(delivery_id)


@shared_task(name="grids.events.tasks.requeue_webhooks")
def requeue_webhooks() -> int:
    """Every two minutes: deliveries whose queuing failed (broker down) are queued again."""
    from grids.events.services.webhooks import requeue_undelivered

    return requeue_undelivered()
