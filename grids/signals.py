"""Keep each grid's count of on-duty full-time workers in step with its GridWorker rows."""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from grids.models import GridWorker
from grids.services import recount_fulltime_workers


@receiver(pre_save, sender=GridWorker)
def remember_previous_grid(sender, instance: GridWorker, **kwargs) -> None:
    # The grid the worker was loaded with (the audit snapshot is refreshed after save).
    instance._previous_grid_id = getattr(instance, "_audit_snapshot", {}).get("grid_id")


@receiver(post_save, sender=GridWorker)
@receiver(post_delete, sender=GridWorker)
def recount_after_worker_change(sender, instance: GridWorker, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    grid_ids = {instance.grid_id}
    previous = getattr(instance, "_previous_grid_id", None)
    if previous:
        grid_ids.add(previous)  # a worker moved from another grid
    recount_fulltime_workers(grid_ids=grid_ids)
