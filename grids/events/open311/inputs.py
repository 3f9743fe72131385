"""Open311 input: the api_key, the GET Service Requests filters, and a POST turned into a filing.

Every problem is raised as an Open311Error whose description names the offending argument.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from governance.api.filters import plausible_moment
from governance.choices import Role
from governance.codes import Level
from governance.models import User
from grids.events.choices import EventSource, Urgency
from grids.events.models import EventCategory, GridEvent
from grids.events.open311.formats import Open311Error
from grids.events.open311.serializers import CLOSED, OPEN, statuses_for
from grids.models import Region

MAX_REQUESTS = 1000
MAX_SPAN = dt.timedelta(days=90)
TITLE_LENGTH = 30
# Half-widths (degrees of latitude) of the boxes searched for the nearest grid, smallest first.
SEARCH_BOXES = (0.02, 0.1, 0.5)
METRES_PER_DEGREE = 111_195
CJK = re.compile(r"[\u3400-\u9fff]")
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")  # as the REST API accepts it


def api_user(params: QueryDict) -> User:
    """The user whose DRF token is the api_key (403 when it is missing or invalid)."""
    key = (params.get("api_key") or "").strip()
    if not key:
        raise Open311Error(403, _("缺少 api_key：读取和提交服务请求都需要 api_key。"))
    token = Token.objects.select_related("user__region").filter(key=key).first()
    if token is None or not token.user.is_active:
        raise Open311Error(403, _("api_key 无效。"))
    user = token.user
    if not user.is_superuser and user.region_id is None:
        raise Open311Error(403, _("该 api_key 的账号未绑定区划。"))
    return user


# --- GET Service Requests --------------------------------------------------------------------


def filter_requests(queryset: QuerySet[GridEvent], params: QueryDict) -> QuerySet[GridEvent]:
    """The standard filters; service_request_id overrides all others, as the specification says."""
    if params.get("service_request_id"):
        ids = [part.strip() for part in params["service_request_id"].split(",")]
        return queryset.filter(pk__in=[int(part) for part in ids if part.isdigit()][:MAX_REQUESTS])
    if params.get("service_code"):
        queryset = queryset.filter(category__code__in=_list(params["service_code"]))
    if params.get("status"):
        wanted = _list(params["status"])
        unknown = [value for value in wanted if value not in (OPEN, CLOSED)]
        if unknown:
            raise Open311Error(400, _("status 只能为 open 或 closed。"))
        queryset = queryset.filter(status__in=[s for value in wanted for s in statuses_for(value)])
    start, end = _date_range(params)
    return queryset.filter(reported_at__gte=start, reported_at__lte=end)


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _date_range(params: QueryDict) -> tuple[dt.datetime, dt.datetime]:
    """start_date / end_date on requested_datetime: the last 90 days by default, never wider."""
    start = _when(params.get("start_date"), "start_date")
    end = _when(params.get("end_date"), "end_date", end_of_day=True)
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - MAX_SPAN
    elif end is None:
        end = start + MAX_SPAN
    if start > end:
        raise Open311Error(400, _("start_date 不能晚于 end_date。"))
    if end - start > MAX_SPAN:
        raise Open311Error(400, _("start_date 与 end_date 之间不能超过%(days)s天。") % {"days": MAX_SPAN.days})
    return start, end


def _when(value: str | None, name: str, *, end_of_day: bool = False) -> dt.datetime | None:
    """An ISO 8601 date-time (a bare date means the whole day); a naive one is local time."""
    if not value or not value.strip():
        return None
    # An unencoded "+08:00" in a query string arrives as " 08:00".
    text = re.sub(r" (\d{2}(?::?\d{2})?)$", r"+\1", value.strip())
    try:
        day = parse_date(text) if len(text) == 10 else None  # fromisoformat would read a date as midnight
        moment = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min) if day else parse_datetime(text)
        if moment is None or not plausible_moment(moment):
            raise ValueError(text)
    except ValueError as exc:
        raise Open311Error(400, _("%(name)s 不是有效的 ISO 8601 日期时间。") % {"name": name}) from exc
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


# --- POST Service Request --------------------------------------------------------------------


def filing(user: User, params: QueryDict) -> dict:
    """The keyword arguments of grids.events.services.events.event_file for this POST."""
    if not user.can("event.file"):
        raise Open311Error(403, _("该 api_key 的账号无权提交服务请求。"))
    category = _category(params.get("service_code"))
    point = _point(params)
    region = _region(user, params, point)
    description = (params.get("description") or "").strip()
    media_url = (params.get("media_url") or "").strip()
    if media_url.startswith(("http://", "https://")):
        description = "\n".join(filter(None, [description, _("图片链接：%(url)s") % {"url": media_url}]))
    summary = " ".join(description.split())
    return {
        "reporter": user,
        "category": category,
        "title": summary[:TITLE_LENGTH] or category.name,
        "description": description[:4000],
        "urgency": _urgency(_attribute(params, "urgency")),
        "source": EventSource.HOTLINE if user.role == Role.API_CLIENT else EventSource.DEPARTMENT,
        "region": region,
        "client_uuid": _client_uuid(_attribute(params, "client_uuid")),
        "address": (params.get("address_string") or "").strip()[:200],
        "lat": point[0] if point else None,
        "lng": point[1] if point else None,
        "reporter_name": _person_name(params.get("first_name") or "", params.get("last_name") or ""),
        "contact_phone": _phone(params.get("phone") or ""),
    }


def _attribute(params: QueryDict, code: str) -> str:
    return (params.get(f"attribute[{code}]") or "").strip()


def _category(code: str | None) -> EventCategory:
    if not code:
        raise Open311Error(400, _("缺少 service_code。"))
    category = EventCategory.objects.filter(code=code, is_active=True).exclude(parent__is_active=False).first()
    if category is None:
        raise Open311Error(400, _("service_code “%(code)s” 不存在或已停用。") % {"code": code})
    return category


def _urgency(value: str) -> str:
    if not value:
        return Urgency.NORMAL
    if value not in Urgency.values:
        raise Open311Error(400, _("attribute[urgency] 只能为 normal、urgent 或 critical。"))
    return value


def _client_uuid(value: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise Open311Error(400, _("attribute[client_uuid] 不是有效的UUID。")) from exc


def _person_name(first: str, last: str) -> str:
    """A Chinese name reads surname first (张 + 三); others "first last"."""
    first, last = first.strip(), last.strip()
    if CJK.search(first + last):
        return (last + first)[:50]
    return " ".join(part for part in (first, last) if part)[:50]


def _phone(value: str) -> str:
    value = value.strip()
    if value and not PHONE.match(value):
        raise Open311Error(400, _("phone 不是有效的联系电话（数字，可含空格或短横线）。"))
    return value


def _point(params: QueryDict) -> tuple[float, float] | None:
    lat, lng = (params.get("lat") or "").strip(), (params.get("long") or "").strip()
    if not lat and not lng:
        return None
    try:
        point = float(lat), float(lng)
    except ValueError as exc:
        raise Open311Error(400, _("lat 和 long 必须同时提供且为数字。")) from exc
    if not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180) or not all(map(math.isfinite, point)):
        raise Open311Error(400, _("lat 或 long 超出有效范围。"))
    return point


def _region(user: User, params: QueryDict, point: tuple[float, float] | None) -> Region:
    """Where the event happened: a named grid, else the grid nearest to the point, else the
    caller's own grid or village when only an address is given."""
    for field, code in (
        ("attribute[grid_code]", _attribute(params, "grid_code")),
        ("address_id", params.get("address_id", "").strip()),
    ):
        if code:
            return _region_by_code(user, field, code)
    if point is not None:
        return nearest_region(user, *point)
    own = user.region
    if (params.get("address_string") or "").strip() and own is not None and own.level in (Level.VILLAGE, Level.GRID):
        return own
    raise Open311Error(400, _("缺少位置：请提供 attribute[grid_code]（或 address_id）或 lat/long。"))


def _region_by_code(user: User, field: str, code: str) -> Region:
    region = (
        Region.objects.restrict(user).filter(code=code, level__in=[Level.VILLAGE, Level.GRID]).first()
        if code.isdigit() and len(code) in (12, 15)
        else None
    )
    if region is None:
        raise Open311Error(
            400, _("%(field)s “%(code)s” 不是您管辖范围内的网格或村（社区）代码。") % {"field": field, "code": code}
        )
    return region


def _distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    x = math.radians(lng2 - lng1) * math.cos(math.radians((lat1 + lat2) / 2))
    return 6_371_000 * math.hypot(x, math.radians(lat2 - lat1))


def nearest_region(user: User, lat: float, lng: float) -> Region:
    """The grid (or, where grids have no centroid, the village) nearest to the point, inside the
    caller's jurisdiction. Each search is a bounded box; a hit is trusted once it lies within the
    box's inscribed circle, since nothing outside the box can be nearer."""
    scoped = Region.objects.restrict(user)
    for level in (Level.GRID, Level.VILLAGE):
        best = None
        for half in SEARCH_BOXES:
            half_lng = half / max(math.cos(math.radians(lat)), 0.01)
            candidates = scoped.filter(
                level=level,
                centroid_lat__range=(lat - half, lat + half),
                centroid_lng__range=(lng - half_lng, lng + half_lng),
            ).values_list("pk", "centroid_lat", "centroid_lng")
            distances = [(_distance_m(lat, lng, c_lat, c_lng), pk) for pk, c_lat, c_lng in candidates]
            if distances:
                best = min(distances)
                if best[0] <= half * METRES_PER_DEGREE:
                    break
        if best is not None:
            return Region.objects.get(pk=best[1])
    raise Open311Error(400, _("在您的管辖范围内未找到该位置附近的网格，请提供 attribute[grid_code]。"))
