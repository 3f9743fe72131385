"""The deadline sweep (督办 by the next level up, idempotent) and outbound webhooks
(HMAC-signed POSTs to a real HTTP server, retried, never blocking the request that caused them).

In the PostgreSQL + Redis run the tasks go through the real worker process started by the
`celery_worker` fixture; in eager mode they run inline through the same code."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from governance.choices import Role
from governance.codes import Level
from governance.models import User
from grids.events.choices import DeadlineKind
from grids.events.models import GridEvent, Notification, Supervision, Webhook, WebhookDelivery
from grids.events.services import events as svc
from grids.events.services.effects import sweep_deadlines, webhook_payload
from grids.events.services.webhooks import WebhookError, deliver, sign
from grids.events.tasks import deliver_webhook, sweep_deadlines_task
from tests.conftest import uses_real_broker
from tests.factories import UserFactory

from .factories import arrange

SECRET = "s3cret-键"
POLL_SECONDS = 30


def overdue(event: GridEvent, *, respond=True, resolve=True) -> None:
    past = timezone.now() - dt.timedelta(minutes=5)
    values = {}
    if respond:
        values["respond_deadline"] = past
    if resolve:
        values["resolve_deadline"] = past
    arrange(GridEvent.objects.filter(pk=event.pk), **values)


def wait_for(predicate, timeout: float = POLL_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"nothing arrived within {timeout} s")


# --- the sweep -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_overdue_village_event_is_supervised_once_per_limit_by_the_township(world, people, file_event):
    second_township_staff = UserFactory(username="township_a2", role=Role.CENTRE_STAFF, region=world.township_a)
    event = file_event()
    on_time = file_event(title="按时事件", address="别处", category=_category("fire"))
    overdue(event)

    assert sweep_deadlines() == {"respond": 1, "resolve": 1, "feedback": 0}
    supervisions = Supervision.objects.filter(event=event)
    assert sorted(supervisions.values_list("kind", flat=True)) == ["resolve", "respond"]
    assert {s.supervising_region_id for s in supervisions} == {world.township_a.pk}
    assert not Supervision.objects.filter(event=on_time).exists()

    township_staff = {people["township"].pk, second_township_staff.pk}
    notifications = Notification.objects.filter(event=event)
    assert set(notifications.values_list("user_id", flat=True)) == township_staff  # not the village, not the county
    for user_id in township_staff:
        assert notifications.filter(user_id=user_id).count() == 2  # one per overdue limit
    assert any("督办" in n.message and "响应" in n.message for n in notifications)

    assert sweep_deadlines() == {"respond": 0, "resolve": 0, "feedback": 0}
    assert Supervision.objects.count() == 2 and Notification.objects.count() == 4


@pytest.mark.django_db
def test_an_escalated_event_is_supervised_by_the_county(world, people, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    svc.event_escalate(event=event, user=people["leader"], reason="涉及多个村")
    assert GridEvent.objects.get(pk=event.pk).handling_level == Level.TOWNSHIP
    overdue(event, respond=False)  # accepted once already: only the resolve limit runs

    assert sweep_deadlines()["resolve"] == 1
    supervision = Supervision.objects.get(event=event)
    assert supervision.kind == DeadlineKind.RESOLVE and supervision.supervising_region_id == world.county_a.pk
    assert list(Notification.objects.filter(event=event).values_list("user_id", flat=True)) == [world.user_a.pk]


@pytest.mark.django_db
def test_a_late_feedback_is_supervised_and_resolved_events_leave_the_resolve_sweep(world, people, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    svc.event_self_handle(event=event, user=people["leader"])
    svc.event_resolve(event=event, user=world.worker_a, resolution="已处理")
    overdue(event)
    arrange(GridEvent.objects.filter(pk=event.pk), feedback_deadline=timezone.now() - dt.timedelta(minutes=1))
    assert sweep_deadlines() == {"respond": 0, "resolve": 0, "feedback": 1}


@pytest.mark.django_db(transaction=True)
def test_the_sweep_task_is_idempotent(world, people, file_event, celery_worker):
    event = file_event()
    overdue(event)
    first = sweep_deadlines_task.delay().get(timeout=POLL_SECONDS)
    assert first == {"respond": 1, "resolve": 1, "feedback": 0}
    again = sweep_deadlines_task.delay().get(timeout=POLL_SECONDS)
    assert again == {"respond": 0, "resolve": 0, "feedback": 0}
    assert sweep_deadlines() == {"respond": 0, "resolve": 0, "feedback": 0}
    assert Supervision.objects.filter(event=event, supervising_region=world.township_a).count() == 2
    assert Notification.objects.filter(event=event, user=people["township"]).count() == 2


def _category(code):
    from grids.events.models import EventCategory

    return EventCategory.objects.get(code=code)


# --- webhooks --------------------------------------------------------------------------------


@dataclass
class Receiver:
    """What the department system received."""

    port: int
    fail_first: int = 0
    delay: float = 0.0
    requests: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/grid-events"


@contextmanager
def department_system(*, fail_first: int = 0, delay: float = 0.0) -> Iterator[Receiver]:
    """A real HTTP server on a free local port that records each POST; it answers 500 to the
    first `fail_first` requests and 200 afterwards, each after `delay` seconds."""
    receiver = Receiver(port=0, fail_first=fail_first, delay=delay)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                receiver.requests.append(
                    {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                number = len(receiver.requests)
            if receiver.delay:
                time.sleep(receiver.delay)
            status = 500 if number <= receiver.fail_first else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def assert_signed(request: dict, secret: str = SECRET) -> dict:
    headers, body = request["headers"], request["body"]
    timestamp, signature = headers["x-grid-timestamp"], headers["x-grid-signature"]
    assert signature == sign(secret, timestamp, body)
    # Recomputed independently, as a receiver would.
    expected = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, f"sha256={expected}")
    assert abs(int(timestamp) - time.time()) < 300
    assert headers["content-type"].startswith("application/json")
    assert not hmac.compare_digest(signature, sign("wrong secret", timestamp, body))
    return json.loads(body)


@pytest.mark.django_db(transaction=True)
def test_a_dispatch_is_posted_signed_to_the_departments_system(world, people, file_event, celery_worker):
    real_worker = uses_real_broker()
    # With a real worker the receiver answers slowly: the request that dispatched must not wait for it.
    with department_system(delay=3.0 if real_worker else 0.0) as receiver:
        Webhook.objects.create(department=world.dept_a, url=receiver.url, secret=SECRET)
        event = file_event()
        svc.event_accept(event=event, user=people["leader"])
        assert WebhookDelivery.objects.count() == 0  # nothing for the department before the dispatch

        client = APIClient()
        client.force_authenticate(User.objects.get(pk=world.user_a.pk))
        started = time.monotonic()
        response = client.post(f"/api/v1/events/{event.pk}/dispatch/", {"lead": world.dept_a.pk}, format="json")
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.json()
        if real_worker:
            assert elapsed < receiver.delay, f"the dispatch waited {elapsed:.1f} s for the webhook"

        wait_for(lambda: receiver.requests)
        delivery = WebhookDelivery.objects.get()
        wait_for(lambda: WebhookDelivery.objects.filter(pk=delivery.pk, delivered_at__isnull=False).exists())

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["path"] == "/grid-events"
    assert request["headers"]["x-grid-delivery"] == f"{delivery.webhook_id}:{delivery.key}"
    payload = assert_signed(request)
    assert payload["event_id"] == event.pk and payload["action"] == "dispatch"
    assert payload["status"] == "dispatched" and payload["lead_department"] == world.dept_a.pk
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_status == 200 and delivery.payload == payload


@pytest.mark.django_db
def test_a_failed_delivery_raises_for_a_retry_and_the_next_attempt_succeeds(world, people, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
    history = event.history.get(action="dispatch")
    with department_system(fail_first=1) as receiver:
        webhook = Webhook.objects.create(department=world.dept_a, url=receiver.url, secret=SECRET)
        delivery = WebhookDelivery.objects.create(
            webhook=webhook, key=f"event:{event.pk}:history:{history.pk}", payload=webhook_payload(event, history)
        )
        with pytest.raises(WebhookError):  # an OSError: the task's autoretry picks it up
            deliver(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.attempts == 1 and delivery.last_status == 500 and delivery.delivered_at is None
        assert delivery.last_error == "HTTP 500"

        assert deliver(delivery.pk) == 200
        delivery.refresh_from_db()
        assert delivery.attempts == 2 and delivery.last_status == 200 and delivery.delivered_at is not None
        assert deliver(delivery.pk) is None  # delivered once: never sent again
    assert len(receiver.requests) == 2
    assert [assert_signed(r)["action"] for r in receiver.requests] == ["dispatch", "dispatch"]
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]


@pytest.mark.django_db
def test_the_task_retries_after_a_500(world, people, file_event):
    """The task's autoretry, run in-process with apply(throw=False): the retry is executed at once
    instead of after its back-off (30 s, doubling), through the same task code the worker runs."""
    event = file_event()
    history = event.history.get()
    with department_system(fail_first=1) as receiver:
        webhook = Webhook.objects.create(department=world.dept_a, url=receiver.url, secret=SECRET)
        delivery = WebhookDelivery.objects.create(
            webhook=webhook, key="retry-test", payload=webhook_payload(event, history)
        )
        result = deliver_webhook.apply(args=[delivery.pk], throw=False)
        assert result.successful() and result.get() == 200
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.delivered_at is not None
    assert len(receiver.requests) == 2


@pytest.mark.django_db
def test_an_unreachable_system_is_recorded_and_raised(world, file_event):
    event = file_event()
    with department_system() as receiver:
        url = receiver.url
    webhook = Webhook.objects.create(department=world.dept_a, url=url, secret=SECRET)  # the server is gone
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, key="gone", payload=webhook_payload(event, event.history.get())
    )
    with pytest.raises(OSError):
        deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_error and delivery.delivered_at is None


@pytest.mark.django_db(transaction=True)
def test_a_failing_department_system_never_fails_the_dispatch(world, people, file_event, celery_worker):
    """The receiver answers 500: the dispatch is committed and answered 200 all the same; the
    failure is recorded on the delivery (and retried with back-off by the worker)."""
    with department_system(fail_first=1_000) as receiver:
        Webhook.objects.create(department=world.dept_a, url=receiver.url, secret=SECRET)
        event = file_event()
        svc.event_accept(event=event, user=people["leader"])
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=world.user_a.pk))
        response = client.post(f"/api/v1/events/{event.pk}/dispatch/", {"lead": world.dept_a.pk}, format="json")
        assert response.status_code == 200 and response.json()["status"] == "dispatched"
        wait_for(lambda: WebhookDelivery.objects.filter(last_status=500).exists())
        # Stop the worker's later retries from reaching a receiver that is gone.
        arrange(Webhook.objects, is_active=False)
    assert GridEvent.objects.get(pk=event.pk).status == "dispatched"
    assert WebhookDelivery.objects.get().delivered_at is None
