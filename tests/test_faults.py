"""Faults the platform survives: Redis (cache and broker) down while events are filed. Redis is
made unreachable for real — cache and broker pointed at a closed local port — not mocked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import caches
from django.utils import timezone
from rest_framework.test import APIClient

from governance.models import User
from grids.events.models import GridEvent, Webhook, WebhookDelivery
from grids.events.services import events as svc
from grids.events.services.webhooks import requeue_undelivered

from .test_event_sweep_and_webhooks import SECRET, department_system, wait_for
from .test_events_api import event_body

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def redis_down(settings):
    """Cache and broker on an address where nothing answers; restored afterwards."""
    from governance.celery import app

    saved = {name: app.conf[name] for name in ("task_always_eager", "broker_url")}
    settings.CACHES = {
        "default": {
            "BACKEND": "governance.cache.ResilientRedisCache",
            "LOCATION": CLOSED_PORT_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    caches._settings = None  # Django reads CACHES again on the next access

    def use(conf):
        from kombu import pools

        app.conf.update(conf)
        pools.reset()  # kombu keeps its connection and producer pools per process: drop them,
        app._pool = None  # so that publishing follows broker_url again
        app.amqp._producer_pool = None

    use({"task_always_eager": False, "broker_url": CLOSED_PORT_URL})

    def back_up():
        use(saved)

    yield back_up
    back_up()


@pytest.mark.django_db(transaction=True)  # webhooks are queued when the dispatch commits
def test_filing_and_dispatching_succeed_while_redis_is_down_and_webhooks_go_out_once_it_is_back(
    world, people, redis_down, celery_worker
):
    with department_system() as receiver:
        Webhook.objects.create(department=world.dept_a, url=receiver.url, secret=SECRET)
        worker = APIClient()
        worker.force_authenticate(User.objects.get(pk=world.worker_a.pk))
        filed = worker.post("/api/v1/events/", event_body(world), format="json")  # the API throttle reads the cache
        assert filed.status_code == 201, filed.content
        event = GridEvent.objects.get(pk=filed.json()["id"])
        svc.event_accept(event=event, user=people["leader"])
        centre = APIClient()
        centre.force_authenticate(User.objects.get(pk=world.user_a.pk))
        dispatched = centre.post(f"/api/v1/events/{event.pk}/dispatch/", {"lead": world.dept_a.pk}, format="json")
        assert dispatched.status_code == 200 and dispatched.json()["status"] == "dispatched"
        delivery = WebhookDelivery.objects.get()
        assert delivery.attempts == 0 and delivery.delivered_at is None and receiver.requests == []

        redis_down()  # Redis is back (eager here, the real broker in the PostgreSQL run)
        later = timezone.now() + dt.timedelta(minutes=3)
        assert requeue_undelivered(now=later) == 1
        wait_for(lambda: WebhookDelivery.objects.filter(delivered_at__isnull=False).exists())
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().delivered_at is not None
    assert requeue_undelivered(now=later) == 0  # delivered: nothing to queue again


@pytest.mark.django_db
def test_the_filing_page_and_login_work_while_the_cache_is_down(client, world, password, redis_down):
    response = client.post("/accounts/login/", {"username": world.worker_a.username, "password": password})
    assert response.status_code == 302  # the per-address login limit fails open, the lockout still counts
    page = client.get("/events/new/")
    assert page.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_database_restart_during_filing_is_a_retryable_503_and_the_resend_files_once(world):
    """The database connection is terminated while the event is being written (as a restart
    would): the client is told to retry, nothing half-written remains, and the resend with the
    same client id gives exactly one event."""
    from django.db import connection, connections
    from django.db.models.signals import pre_save

    if connection.vendor != "postgresql":
        pytest.skip("terminating a server connection needs PostgreSQL")

    def terminate_own_connection(sender, instance, **kwargs):
        pid = connection.connection.info.backend_pid
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            other.close()

    body = event_body(world)
    api = APIClient()
    api.force_authenticate(User.objects.get(pk=world.worker_a.pk))
    pre_save.connect(terminate_own_connection, sender=GridEvent)
    try:
        response = api.post("/api/v1/events/", body, format="json")
    finally:
        pre_save.disconnect(terminate_own_connection, sender=GridEvent)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    connection.close()  # the test's own connection was the terminated one
    assert not GridEvent.objects.filter(client_uuid=body["client_uuid"]).exists()
    again = api.post("/api/v1/events/", body, format="json")
    assert again.status_code == 201, again.content
    assert GridEvent.objects.filter(client_uuid=body["client_uuid"]).count() == 1


def _results(cycle) -> list[tuple]:
    from assessment.models import IndicatorResult, UnitResult

    units = UnitResult.objects.filter(cycle=cycle).order_by("region_code").values_list("region_code", "total", "rank")
    lines = IndicatorResult.objects.filter(unit__cycle=cycle).order_by("unit__region_code", "indicator")
    return [*units, *lines.values_list("unit__region_code", "indicator", "value", "ratio", "points")]


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_of_a_run_leaves_the_results_and_the_retry_gives_the_same(
    world, file_event, celery_worker
):
    """kill -9 of the worker while it computes a year-end cycle: the previous results stay as they
    were, the run's message is not lost (acknowledged only at its end), and another worker takes
    it up after the visibility timeout and computes the identical results."""
    import os
    import signal
    import time
    import uuid

    from django.db import connections

    from assessment import services
    from assessment.choices import CycleKind, CycleStatus
    from assessment.models import Cycle
    from assessment.tasks import run_cycle_task

    from .conftest import start_celery_worker, stop_celery_worker, uses_real_broker

    if not uses_real_broker():
        pytest.skip("killing a worker needs the real broker and worker processes")
    for index in range(3):
        file_event(title=f"事件{index}")
    cycle = services.create_cycle(
        kind=CycleKind.YEAR_END, year=timezone.localdate().year, root=world.province, user=world.province_user
    )
    services.run_cycle(cycle.pk)
    before = _results(cycle)
    assert before

    # The run's storing step waits on a table lock held here, so the worker is surely mid-run.
    blocker = connections.create_connection("default")
    blocker.set_autocommit(False)
    with blocker.cursor() as cursor:
        cursor.execute("LOCK TABLE assessment_unitresult IN ACCESS EXCLUSIVE MODE")
    queue = f"kill-{uuid.uuid4().hex[:8]}"
    fast_restore = {"CELERY_VISIBILITY_TIMEOUT": "3", "CELERY_UNACKED_RESTORE_INTERVAL": "1"}
    doomed = start_celery_worker(queue, extra_env=fast_restore, log_name="celery-worker-killed.log")
    survivor = None
    try:
        run_cycle_task.apply_async(args=[cycle.pk], queue=queue)
        deadline = time.monotonic() + 60
        while Cycle.objects.get(pk=cycle.pk).status != CycleStatus.RUNNING and time.monotonic() < deadline:
            time.sleep(0.2)
        assert Cycle.objects.get(pk=cycle.pk).status == CycleStatus.RUNNING
        time.sleep(1)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
        blocker.rollback()  # the killed worker's transaction is abandoned by the server
        assert _results(cycle) == before  # nothing of the broken run is visible

        survivor = start_celery_worker(queue, extra_env=fast_restore, log_name="celery-worker-survivor.log")
        deadline = time.monotonic() + 90
        while Cycle.objects.get(pk=cycle.pk).status != CycleStatus.COMPUTED and time.monotonic() < deadline:
            time.sleep(0.5)
        retried = Cycle.objects.get(pk=cycle.pk)
        assert retried.status == CycleStatus.COMPUTED, retried.error
        assert _results(cycle) == before  # identical to the digit
    finally:
        blocker.close()
        doomed.log.close()
        if survivor is not None:
            stop_celery_worker(survivor)
