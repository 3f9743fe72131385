"""Our records in GeoReport v2 shapes: categories as services, events as service requests.

Status mapping: GeoReport v2 knows only `open` (being worked on) and `closed`. An event is
open until it is resolved; from 办结 on (verified, feedback, archived) and when it ends any
other way (returned, merged, converted to a mediation case) it is closed. `status_notes`
carries our detailed status, e.g. "已办结：已劝离并加强巡逻" or "已退回：重复上报".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable

from django.db.models import Max, OuterRef, Prefetch, QuerySet, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import AuditLog
from grids.events.choices import UNRESOLVED_STATUSES, EventStatus, Urgency
from grids.events.models import EventAttachment, EventCategory, EventHistory, GridEvent
from grids.models import Region

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When the shape of this endpoint (services, definitions) last changed; category edits move it later.
ENDPOINT_CHANGESET = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
OPEN, CLOSED = "open", "closed"
RESOLUTION_STATUSES = {EventStatus.RESOLVED, EventStatus.VERIFIED, EventStatus.FEEDBACK, EventStatus.CLOSED}


def w3c(value: dt.datetime | None) -> str | None:
    """ISO 8601 with the offset, as the specification requires (2026-03-01T09:30:00+08:00)."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def open311_status(status: str) -> str:
    return OPEN if status in UNRESOLVED_STATUSES else CLOSED


def statuses_for(open311: str) -> list[str]:
    """Our statuses behind `open` or `closed` (for the `status` filter)."""
    return [s for s in EventStatus.values if open311_status(s) == open311]


# --- Discovery and services --------------------------------------------------------------


def changeset() -> dt.datetime:
    """The last change of the service list: the latest audited edit of a category (indexed lookup)."""
    latest = AuditLog.objects.filter(model="grids.eventcategory").aggregate(at=Max("at"))["at"]
    return max(ENDPOINT_CHANGESET, latest) if latest else ENDPOINT_CHANGESET


def active_services() -> QuerySet[EventCategory]:
    return (
        EventCategory.objects.filter(is_active=True)
        .exclude(parent__is_active=False)
        .select_related("parent")
        .order_by("sort_order", "code")
    )


def _keywords(value: str) -> str:
    """Comma-separated, as the specification asks; staff may type Chinese separators."""
    return ",".join(word.strip() for word in re.split(r"[,，、;；\s]+", value) if word.strip())


def service(category: EventCategory) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or str(category),
        "metadata": True,
        "type": "realtime",
        "keywords": _keywords(category.keywords),
        "group": category.parent.name if category.parent_id else category.name,
    }


def service_definition(category: EventCategory) -> dict:
    """The attributes a client may send as attribute[code] with a new request."""
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": "grid_code",
                "datatype": "string",
                "required": False,
                "datatype_description": _("15位网格代码或12位村（社区）代码"),
                "order": 1,
                "description": _("问题所在的网格或村（社区）。不填时按经纬度在您的管辖范围内就近确定网格。"),
            },
            {
                "variable": True,
                "code": "urgency",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": None,
                "order": 2,
                "description": _("紧急程度，不填为“一般”。"),
                "values": [{"key": value, "name": str(label)} for value, label in Urgency.choices],
            },
            {
                "variable": True,
                "code": "client_uuid",
                "datatype": "string",
                "required": False,
                "datatype_description": _("客户端生成的UUID"),
                "order": 3,
                "description": _("重发同一编号时返回原服务请求，不会重复登记。"),
            },
        ],
    }


# --- Service requests ----------------------------------------------------------------------


def with_request_fields(queryset: QuerySet[GridEvent]) -> QuerySet[GridEvent]:
    """Everything a service request shows, in a fixed number of queries whatever the row count."""
    last_note = (
        EventHistory.objects.filter(event=OuterRef("pk")).exclude(note="").order_by("-at", "-pk").values("note")[:1]
    )
    images = EventAttachment.objects.filter(content_type__startswith="image/").order_by("uploaded_at", "pk")
    return (
        queryset.select_related("category", "lead_department")
        .annotate(last_note=Subquery(last_note))
        .prefetch_related(Prefetch("attachments", queryset=images, to_attr="images"))
    )


def status_notes(event: GridEvent) -> str:
    if event.status == EventStatus.RETURNED:
        detail = event.return_reason
    elif event.status in RESOLUTION_STATUSES:
        detail = event.resolution
    elif event.status == EventStatus.MERGED and event.merged_into_id:
        detail = _("已并入服务请求 %(id)s") % {"id": event.merged_into_id}
    else:
        detail = getattr(event, "last_note", "") or ""
    label = event.get_status_display()
    return _("%(status)s：%(detail)s") % {"status": label, "detail": detail} if detail else str(label)


def service_notice(event: GridEvent) -> str | None:
    if open311_status(event.status) == CLOSED:
        return None
    return _("将于%(respond)s前响应，%(resolve)s前办结。") % {
        "respond": timezone.localtime(event.respond_deadline).strftime("%Y-%m-%d %H:%M"),
        "resolve": timezone.localtime(event.resolve_deadline).strftime("%Y-%m-%d %H:%M"),
    }


def _media_url(event: GridEvent, absolute: Callable[[str], str]) -> str | None:
    """The first photo's download address (the API's, answered only inside the jurisdiction)."""
    images = getattr(event, "images", None)
    if images is None:
        images = [a for a in event.attachments.all() if a.is_image]
    if not images:
        return None
    try:
        path = reverse("event-attachment-download", kwargs={"pk": event.pk, "att_id": images[0].pk})
    except NoReverseMatch:
        return None
    return absolute(path)


def _centre_names(events: Iterable[GridEvent]) -> dict[str, str]:
    """Names of the regions whose centres hold events without a lead department (one query)."""
    codes = {e.handling_region_code() for e in events if not e.lead_department_id}
    return dict(Region.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}


def service_requests(events: Iterable[GridEvent], absolute: Callable[[str], str]) -> list[dict]:
    events = list(events)
    centres = _centre_names(events)
    rows = []
    for event in events:
        if event.lead_department_id:
            agency = event.lead_department.name
        else:
            name = centres.get(event.handling_region_code())
            agency = _("%(region)s综治中心") % {"region": name} if name else None
        rows.append(
            {
                "service_request_id": str(event.pk),
                "status": open311_status(event.status),
                "status_notes": status_notes(event),
                "service_name": event.category.name,
                "service_code": event.category.code,
                "description": event.description,
                "agency_responsible": agency,
                "service_notice": service_notice(event),
                "requested_datetime": w3c(event.reported_at),
                "updated_datetime": w3c(event.updated_at),
                "expected_datetime": w3c(event.resolve_deadline),
                "address": event.address or None,
                "address_id": event.region_code,
                "zipcode": None,
                "lat": event.lat,
                "long": event.lng,
                "media_url": _media_url(event, absolute),
            }
        )
    return rows
