"""Open311 GeoReport v2 at /open311/v2/, so hotline (12345) and city systems can file and track
events with a standard client.

Plain Django views: the api_key (a DRF token) is checked here, not by DRF, because errors must
keep the GeoReport shape ([{"code": 403, "description": "…"}]) in JSON or XML. Discovery, the
service list and the service definitions are public; reading and filing service requests need an
api_key, and only events inside the key's jurisdiction are visible (others answer 404).
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from governance import audit
from governance.middleware import context_for
from grids.events.models import GridEvent
from grids.events.open311 import serializers
from grids.events.open311.formats import MEDIA_TYPES, Open311Error, error_response, render
from grids.events.open311.inputs import MAX_REQUESTS, api_user, filing, filter_requests
from grids.events.open311.serializers import (
    SPECIFICATION,
    active_services,
    changeset,
    service,
    service_notice,
    service_requests,
    w3c,
    with_request_fields,
)
from grids.events.services.events import event_file


def open311_view(*methods: str):
    """Answer disallowed methods and raised Open311Errors in the format of the URL suffix."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, fmt: str, **kwargs):
            allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)
            if request.method not in allowed:
                response = error_response(
                    Open311Error(405, _("不支持 %(method)s 方法。") % {"method": request.method}), fmt
                )
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                return view(request, fmt, **kwargs)
            except Open311Error as error:
                return error_response(error, fmt)

        return wrapper

    return decorate


@open311_view("GET")
def discovery(request, fmt: str):
    base_url = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt})).rsplit("/", 1)[0]
    changed = w3c(changeset())
    payload = {
        "changeset": changed,
        "contact": _("请联系本平台系统管理员。"),
        "key_service": _(
            "api_key 为平台账号的API令牌，由系统管理员为对接系统（“系统对接”角色）或绑定区划的账号签发；"
            "读取和提交服务请求均需提供 api_key，且只能访问该账号管辖范围内的事件。"
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": changed,
                "type": "production",
                "formats": MEDIA_TYPES,
            }
        ],
    }
    return render(payload, fmt, root="discovery")


@open311_view("GET")
def services(request, fmt: str):
    return render([service(category) for category in active_services()], fmt, root="services", item="service")


@open311_view("GET")
def service_definition(request, fmt: str, code: str):
    category = active_services().filter(code=code).first()
    if category is None:
        raise Open311Error(404, _("service_code “%(code)s” 不存在。") % {"code": code})
    return render(serializers.service_definition(category), fmt, root="service_definition")


@csrf_exempt  # key-authenticated, no cookies involved
@open311_view("GET", "POST")
def requests(request, fmt: str):
    if request.method == "POST":
        return _create(request, fmt)
    user = api_user(request.GET)
    events = filter_requests(GridEvent.objects.restrict(user), request.GET)
    events = with_request_fields(events).order_by("-reported_at", "-pk")[:MAX_REQUESTS]
    rows = service_requests(events, request.build_absolute_uri)
    return render(rows, fmt, root="service_requests", item="request")


def _create(request, fmt: str):
    user = api_user(request.POST if "api_key" in request.POST else request.GET)
    arguments = filing(user, request.POST)
    token = audit.set_context(context_for(request, user))  # the audit trail names the API user
    try:
        event, _created = event_file(**arguments)
    except ValidationError as exc:
        raise Open311Error(400, " ".join(exc.messages)) from exc
    finally:
        audit.reset_context(token)
    payload = [{"service_request_id": str(event.pk), "service_notice": service_notice(event), "account_id": None}]
    return render(payload, fmt, root="service_requests", item="request")


@open311_view("GET")
def request_detail(request, fmt: str, request_id: str):
    user = api_user(request.GET)
    event = None
    if request_id.isdigit():
        event = with_request_fields(GridEvent.objects.restrict(user)).filter(pk=int(request_id)).first()
    if event is None:
        raise Open311Error(404, _("服务请求 %(id)s 不存在。") % {"id": request_id})
    rows = service_requests([event], request.build_absolute_uri)
    return render(rows, fmt, root="service_requests", item="request")
