"""Outbound webhooks: signed POSTs to department systems, retried by Celery with back-off.

Signature: `X-Grid-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with
`X-Grid-Timestamp` (Unix seconds) and `X-Grid-Delivery` (a stable id: the receiver can drop
repeats). Receivers should reject timestamps older than five minutes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from django.utils import timezone

from grids.events.models import WebhookDelivery

TIMEOUT_SECONDS = 10


class WebhookError(OSError):
    """A delivery that did not get a 2xx answer (an OSError so the task retries it)."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def deliver(delivery_id: int) -> int | None:
    """Send one delivery; returns the HTTP status, or None when it was already delivered."""
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    if delivery.delivered_at is not None or not delivery.webhook.is_active:
        return None
    body = json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        delivery.webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "grid-governance-webhook/1",
            "X-Grid-Delivery": f"{delivery.webhook_id}:{delivery.key}",
            "X-Grid-Timestamp": timestamp,
            "X-Grid-Signature": sign(delivery.webhook.secret, timestamp, body),
        },
    )
    delivery.attempts += 1
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        delivery.last_error = str(exc)[:300]
        delivery.save(update_fields=["attempts", "last_error"])
        raise
    delivery.last_status = status
    if 200 <= status < 300:
        delivery.delivered_at, delivery.last_error = timezone.now(), ""
        delivery.save(update_fields=["attempts", "last_status", "delivered_at", "last_error"])
        return status
    delivery.last_error = f"HTTP {status}"
    delivery.save(update_fields=["attempts", "last_status", "last_error"])
    raise WebhookError(f"webhook answered HTTP {status}")


REQUEUE_AFTER = dt.timedelta(minutes=2)


def requeue_undelivered(*, now: dt.datetime | None = None) -> int:
    """Queue again the deliveries that were never tried: their queuing failed because the broker
    was down when the change committed (the change itself stood). Tried ones are retried by
    Celery's own back-off. A delivery queued twice is sent at most once per try, and receivers
    drop repeats by X-Grid-Delivery. Returns how many were queued; stops if the broker is still down."""
    from kombu.exceptions import OperationalError as BrokerUnavailable

    from grids.events.tasks import deliver_webhook

    cutoff = (now or timezone.now()) - REQUEUE_AFTER
    pending = WebhookDelivery.objects.filter(
        delivered_at__isnull=True, attempts=0, created_at__lt=cutoff, webhook__is_active=True
    ).values_list("pk", flat=True)
    queued = 0
    for pk in pending.order_by("created_at")[:1000]:
        try:
            deliver_webhook.delay(pk)
        except BrokerUnavailable:
            break
        queued += 1
    return queued
