"""Open311 GeoReport v2 at /open311/v2/, driven with the request and response shapes of the
published specification (http://wiki.open311.org/GeoReport_v2) as a standard client sends them."""

import datetime as dt
import io
import uuid
import xml.etree.ElementTree as ET

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.authtoken.models import Token

from governance import personal_data
from governance.codes import Level
from governance.models import AuditLog
from grids.events.choices import EventStatus
from grids.events.models import EventCategory, GridEvent
from grids.events.services import events as svc
from grids.models import Region
from tests.factories import UserFactory

from .factories import arrange

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
}  # fmt: skip


@pytest.fixture
def hotline(world):
    """A 12345 hotline system of county A and its api_key."""
    user = UserFactory(username="hotline_a", role="api_client", region=world.county_a)
    return Token.objects.create(user=user).key


@pytest.fixture
def key_b(world):
    return Token.objects.create(user=UserFactory(username="hotline_b", role="api_client", region=world.county_b)).key


def post(client, key, fmt="json", **fields):
    body = {"api_key": key, "service_code": "fire_passage", "description": "楼道堆放杂物堵塞消防通道，已持续一周"}
    body.update(fields)
    return client.post(f"{BASE}/requests.{fmt}", body)  # application/x-www-form-urlencoded, as the spec says


def assert_error(response, code):
    assert response.status_code == code
    assert response["Content-Type"].startswith("application/json")
    [error] = response.json()
    assert error["code"] == code and error["description"]
    return error["description"]


def set_centroid(region, lat, lng):
    arrange(Region.objects.filter(pk=region.pk), centroid_lat=lat, centroid_lng=lng)


# --- discovery and services ------------------------------------------------------------------


def test_discovery_names_our_endpoint_from_the_request(client, world):
    response = client.get(f"{BASE}/discovery.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json; charset=utf-8"
    data = response.json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(data)
    [endpoint] = data["endpoints"]
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["type"] == "production" and {"application/json", "text/xml"} == set(endpoint["formats"])
    assert dt.datetime.fromisoformat(endpoint["changeset"]).tzinfo is not None


def test_discovery_in_xml(client, world, settings):
    settings.ALLOWED_HOSTS = ["open311.example.gov.cn"]
    response = client.get(f"{BASE}/discovery.xml", HTTP_HOST="open311.example.gov.cn")
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(response.content)
    assert root.tag == "discovery"
    assert root.findtext("endpoints/endpoint/url") == "http://open311.example.gov.cn/open311/v2"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]


def test_services_list_every_active_category_with_its_group(client, world):
    arrange(EventCategory.objects.filter(code="other"), is_active=False)
    arrange(EventCategory.objects.filter(code="dispute"), is_active=False)  # its children go with it
    services = client.get(f"{BASE}/services.json").json()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["fire_passage"] == {
        "service_code": "fire_passage",
        "service_name": "消防通道堵塞",
        "description": "消防隐患 / 消防通道堵塞",
        "metadata": True,
        "type": "realtime",
        "keywords": "",
        "group": "消防隐患",
    }
    assert by_code["fire"]["group"] == "消防隐患" and "key_person" in by_code
    assert not {"other", "dispute", "dispute_neighbour"} & set(by_code)
    expected = EventCategory.objects.filter(is_active=True).exclude(parent__is_active=False).count()
    assert len(services) == expected


def test_services_in_xml(client, world):
    arrange(EventCategory.objects.filter(code="fire"), keywords="通道、电线，堵塞")
    root = ET.fromstring(client.get(f"{BASE}/services.xml").content)
    assert root.tag == "services"
    fire = next(s for s in root.findall("service") if s.findtext("service_code") == "fire")
    assert fire.findtext("metadata") == "true" and fire.findtext("type") == "realtime"
    assert fire.findtext("keywords") == "通道,电线,堵塞"


def test_a_service_definition_lists_its_attributes(client, world):
    data = client.get(f"{BASE}/services/fire_passage.json").json()
    assert data["service_code"] == "fire_passage"
    attributes = {a["code"]: a for a in data["attributes"]}
    grid = attributes["grid_code"]
    assert grid["variable"] is True and grid["datatype"] == "string" and grid["required"] is False
    assert grid["order"] == 1 and grid["description"]
    urgency = attributes["urgency"]
    assert urgency["datatype"] == "singlevaluelist" and urgency["required"] is False
    assert urgency["values"] == [
        {"key": "normal", "name": "一般"},
        {"key": "urgent", "name": "紧急"},
        {"key": "critical", "name": "特急"},
    ]


def test_a_service_definition_in_xml_and_an_unknown_service(client, world):
    root = ET.fromstring(client.get(f"{BASE}/services/fire_passage.xml").content)
    assert root.tag == "service_definition"
    codes = [a.findtext("code") for a in root.findall("attributes/attribute")]
    assert codes[:2] == ["grid_code", "urgency"]
    keys = [v.findtext("key") for v in root.findall("attributes/attribute/values/value")]
    assert keys == ["normal", "urgent", "critical"]
    assert_error(client.get(f"{BASE}/services/no_such_service.json"), 404)


# --- POST Service Request ----------------------------------------------------------------------


def test_posting_a_request_files_an_event(client, world, hotline):
    key = hotline
    response = post(
        client, key,
        **{"attribute[grid_code]": world.grid_a.code, "attribute[urgency]": "urgent"},
        first_name="三", last_name="张", phone="13800001111", email="zhang@example.com",
        address_string="甲社区3号楼2单元", device_id="hotline-1", account_id="42",
    )  # fmt: skip
    assert response.status_code == 200
    [answer] = response.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["account_id"] is None and "办结" in answer["service_notice"]

    event = GridEvent.objects.get(pk=answer["service_request_id"])
    api_user = Token.objects.get(key=key).user
    assert event.category.code == "fire_passage" and event.region == world.grid_a
    assert event.source == "hotline" and event.reporter == api_user and event.urgency == "urgent"
    assert event.description == "楼道堆放杂物堵塞消防通道，已持续一周"
    assert event.title == event.description[:30]
    assert event.reporter_name == "张三" and event.address == "甲社区3号楼2单元"
    assert event.contact_phone and "13800001111" not in event.contact_phone
    assert personal_data.decrypt(event.contact_phone) == "13800001111"
    assert event.status == EventStatus.REPORTED and event.resolve_deadline - event.reported_at == dt.timedelta(hours=24)
    entry = AuditLog.objects.get(model="grids.gridevent", object_id=str(event.pk), action="create")
    assert entry.actor_id == api_user.pk and entry.actor_name == "hotline_a"


def test_a_department_system_files_as_a_department_referral_in_xml(client, world):
    key = Token.objects.create(user=world.user_a).key
    response = post(client, key, fmt="xml", **{"attribute[grid_code]": world.village_a.code})
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    event = GridEvent.objects.get(pk=root.findtext("request/service_request_id"))
    assert event.source == "department" and event.region == world.village_a
    assert root.find("request/account_id") is not None and root.findtext("request/account_id") == ""


def test_lat_long_choose_the_nearest_grid_of_the_jurisdiction(client, world, hotline):
    set_centroid(world.grid_a, 36.0600, 103.8300)
    set_centroid(world.grid_a2, 36.0700, 103.8400)
    set_centroid(world.grid_b, 36.0610, 103.8310)  # nearest of all, but county B's
    answer = post(client, hotline, lat="36.0612", long="103.8312").json()[0]
    event = GridEvent.objects.get(pk=answer["service_request_id"])
    assert event.region == world.grid_a and (event.lat, event.lng) == (36.0612, 103.8312)

    answer = post(client, hotline, lat="36.0690", long="103.8390").json()[0]
    assert GridEvent.objects.get(pk=answer["service_request_id"]).region == world.grid_a2


def test_a_far_grid_is_found_through_the_wider_boxes(client, world, hotline):
    set_centroid(world.grid_a2, 36.3, 103.9)
    answer = post(client, hotline, lat="36.0", long="103.8").json()[0]
    assert GridEvent.objects.get(pk=answer["service_request_id"]).region == world.grid_a2
    assert_error(post(client, hotline, lat="30.0", long="120.0"), 400)  # nothing within reach


def test_the_grid_code_wins_over_lat_long(client, world, hotline):
    set_centroid(world.grid_a, 36.06, 103.83)
    response = post(client, hotline, lat="36.06", long="103.83", **{"attribute[grid_code]": world.grid_a2.code})
    assert GridEvent.objects.get(pk=response.json()[0]["service_request_id"]).region == world.grid_a2


def test_a_missing_location_is_a_400_naming_the_fields(client, world, hotline):
    description = assert_error(post(client, hotline), 400)
    assert "attribute[grid_code]" in description and "lat/long" in description
    assert_error(post(client, hotline, address_string="甲社区3号楼"), 400)  # a county system cannot place it
    response = post(client, hotline, fmt="xml")
    assert response.status_code == 400 and response["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == "errors" and root.findtext("error/code") == "400" and root.findtext("error/description")
    assert GridEvent.objects.count() == 0


def test_a_grid_system_may_give_only_an_address(client, world):
    key = Token.objects.create(user=world.worker_a).key
    response = post(client, key, address_string="甲社区3号楼")
    assert GridEvent.objects.get(pk=response.json()[0]["service_request_id"]).region == world.grid_a


@pytest.mark.parametrize(
    "fields",
    [
        {"service_code": ""},
        {"service_code": "no_such_service"},
        {"attribute[urgency]": "whenever"},
        {"attribute[client_uuid]": "not-a-uuid"},
        {"phone": "电话"},
        {"lat": "north", "long": "103.8"},
        {"lat": "36.0"},
        {"attribute[grid_code]": "620102"},  # a county, not a grid or village
    ],
)
def test_bad_arguments_are_400s(client, world, hotline, fields):
    body = {"attribute[grid_code]": world.grid_a.code, **fields}
    assert_error(post(client, hotline, **body), 400)
    assert GridEvent.objects.count() == 0


def test_a_bad_or_missing_api_key_is_a_403(client, world):
    assert_error(post(client, "0" * 40, **{"attribute[grid_code]": world.grid_a.code}), 403)
    assert_error(client.post(f"{BASE}/requests.json", {"service_code": "fire"}), 403)
    assert_error(client.get(f"{BASE}/requests.json"), 403)
    assert_error(client.get(f"{BASE}/requests.json", {"api_key": "nope"}), 403)
    response = client.get(f"{BASE}/requests/1.xml")
    assert response.status_code == 403 and ET.fromstring(response.content).findtext("error/code") == "403"
    assert GridEvent.objects.count() == 0


def test_an_inactive_user_or_a_role_without_filing_is_refused(client, world):
    committee = Token.objects.create(user=world.province_user).key
    assert_error(post(client, committee, **{"attribute[grid_code]": world.grid_a.code}), 403)
    world.user_a.is_active = False
    world.user_a.save(update_fields=["is_active"])
    key = Token.objects.create(user=world.user_a).key
    assert_error(client.get(f"{BASE}/requests.json", {"api_key": key}), 403)


def test_resending_the_same_client_uuid_returns_the_same_request(client, world, hotline):
    fields = {"attribute[grid_code]": world.grid_a.code, "attribute[client_uuid]": str(uuid.uuid4())}
    first = post(client, hotline, **fields).json()[0]["service_request_id"]
    second = post(client, hotline, **fields).json()[0]["service_request_id"]
    assert first == second and GridEvent.objects.count() == 1


def test_a_media_url_is_kept_in_the_description(client, world, hotline):
    response = post(
        client, hotline, media_url="https://img.example.com/1.jpg", **{"attribute[grid_code]": world.grid_a.code}
    )
    event = GridEvent.objects.get(pk=response.json()[0]["service_request_id"])
    assert event.description.endswith("https://img.example.com/1.jpg")


def test_wrong_methods_keep_the_error_shape(client, world):
    response = client.post(f"{BASE}/services.json")
    assert_error(response, 405)
    assert response["Allow"] == "GET, HEAD"


# --- GET Service Requests -----------------------------------------------------------------


@pytest.fixture
def requests_a(world, people, file_event):
    """Four county-A events: open, resolved, returned, and a 100-day-old one."""
    opened = file_event(title="聚集", description="门口聚集")
    resolved = file_event(category=EventCategory.objects.get(code="sanitation"), description="垃圾堆放")
    svc.event_accept(event=resolved, user=people["leader"])
    svc.event_self_handle(event=resolved, user=people["leader"])
    svc.event_resolve(event=resolved, user=world.worker_a, resolution="已清运")
    returned = file_event(description="重复的反映")
    svc.event_return(event=returned, user=people["leader"], reason="重复上报")
    old = file_event(description="旧事件")
    arrange(GridEvent.objects.filter(pk=old.pk), reported_at=timezone.now() - dt.timedelta(days=100))
    return {"open": opened, "resolved": resolved, "returned": returned, "old": old}


def get_ids(client, key, fmt="json", **params):
    response = client.get(f"{BASE}/requests.{fmt}", {"api_key": key, **params})
    assert response.status_code == 200, response.content
    return {int(r["service_request_id"]) for r in response.json()}


def test_the_list_shows_the_last_90_days_with_open_and_closed(client, world, hotline, requests_a):
    response = client.get(f"{BASE}/requests.json", {"api_key": hotline})
    rows = {int(r["service_request_id"]): r for r in response.json()}
    assert set(rows) == {requests_a[k].pk for k in ("open", "resolved", "returned")}
    assert all(set(row) == REQUEST_FIELDS for row in rows.values())
    assert rows[requests_a["open"].pk]["status"] == "open"
    assert rows[requests_a["open"].pk]["status_notes"] == "已上报"
    assert rows[requests_a["resolved"].pk]["status"] == "closed"
    assert rows[requests_a["resolved"].pk]["status_notes"] == "已办结：已清运"
    assert rows[requests_a["returned"].pk]["status"] == "closed"
    assert rows[requests_a["returned"].pk]["status_notes"] == "已退回：重复上报"


def test_the_status_filter(client, world, hotline, requests_a):
    assert get_ids(client, hotline, status="open") == {requests_a["open"].pk}
    assert get_ids(client, hotline, status="closed") == {requests_a["resolved"].pk, requests_a["returned"].pk}
    assert len(get_ids(client, hotline, status="open,closed")) == 3
    assert_error(client.get(f"{BASE}/requests.json", {"api_key": hotline, "status": "pending"}), 400)


def test_the_service_code_filter(client, world, hotline, requests_a):
    assert get_ids(client, hotline, service_code="sanitation") == {requests_a["resolved"].pk}
    assert get_ids(client, hotline, service_code="fire") == set()


def test_the_date_filters(client, world, hotline, requests_a):
    now = timezone.localtime()
    old = {requests_a["old"].pk}
    start = (now - dt.timedelta(days=105)).isoformat(timespec="seconds")
    end = (now - dt.timedelta(days=95)).isoformat(timespec="seconds")
    assert get_ids(client, hotline, start_date=start, end_date=end) == old
    assert get_ids(client, hotline, start_date=start) == old  # a 90-day window from the start
    day = (now - dt.timedelta(days=100)).date().isoformat()
    assert get_ids(client, hotline, start_date=day, end_date=day) == old
    # "+08:00" sent unencoded arrives as " 08:00" and is still understood.
    assert get_ids(client, hotline, start_date=start.replace("+", " "), end_date=end.replace("+", " ")) == old
    recent = (now - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    assert len(get_ids(client, hotline, start_date=recent)) == 3
    utc = (now - dt.timedelta(hours=1)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(get_ids(client, hotline, start_date=utc)) == 3


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-13-01"},
        {"start_date": "2026-01-01", "end_date": "2025-12-01"},
        {"start_date": "2025-01-01", "end_date": "2025-06-01"},  # wider than 90 days
        {"start_date": "2026-01-01T00:00:00+23:25"},  # an offset no zone uses (PostgreSQL refuses it)
        {"start_date": "1153-07-13T11:57:20Z"},
    ],
)
def test_bad_dates_are_400s(client, world, hotline, params):
    assert_error(client.get(f"{BASE}/requests.json", {"api_key": hotline, **params}), 400)


def test_service_request_ids_override_the_other_filters(client, world, hotline, requests_a):
    ids = f"{requests_a['old'].pk}, {requests_a['open'].pk},999999,x"
    assert get_ids(client, hotline, service_request_id=ids, status="closed") == {
        requests_a["old"].pk,
        requests_a["open"].pk,
    }


def test_the_list_in_xml(client, world, hotline, requests_a):
    response = client.get(f"{BASE}/requests.xml", {"api_key": hotline, "status": "closed"})
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    requests = {r.findtext("service_request_id"): r for r in root.findall("request")}
    resolved = requests[str(requests_a["resolved"].pk)]
    assert resolved.findtext("status") == "closed" and resolved.findtext("status_notes") == "已办结：已清运"
    assert {child.tag for child in resolved} == REQUEST_FIELDS


def test_the_list_takes_a_fixed_number_of_queries(
    client, world, hotline, requests_a, file_event, people, django_assert_max_num_queries
):
    for _ in range(5):
        event = file_event(description="更多")
        svc.event_accept(event=event, user=people["leader"])
        svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
    with django_assert_max_num_queries(8):
        assert len(get_ids(client, hotline)) == 8


# --- GET Service Request -----------------------------------------------------------------


def test_one_request_in_the_list_shape(client, world, hotline, people, file_event):
    event = file_event(address="甲社区3号楼", lat=36.06, lng=103.83)
    [row] = client.get(f"{BASE}/requests/{event.pk}.json", {"api_key": hotline}).json()
    event.refresh_from_db()
    local = timezone.localtime
    assert row == {
        "service_request_id": str(event.pk),
        "status": "open",
        "status_notes": "已上报",
        "service_name": "治安隐患",
        "service_code": "public_order",
        "description": "晚间有人员聚集喧哗",
        "agency_responsible": "甲社区综治中心",
        "service_notice": row["service_notice"],
        "requested_datetime": local(event.reported_at).isoformat(timespec="seconds"),
        "updated_datetime": local(event.updated_at).isoformat(timespec="seconds"),
        "expected_datetime": local(event.resolve_deadline).isoformat(timespec="seconds"),
        "address": "甲社区3号楼",
        "address_id": world.grid_a.code,
        "zipcode": None,
        "lat": 36.06,
        "long": 103.83,
        "media_url": None,
    }
    assert row["requested_datetime"].endswith("+08:00") and "前办结" in row["service_notice"]

    svc.event_accept(event=event, user=people["leader"])
    svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a, note="请公安分局核处")
    [row] = client.get(f"{BASE}/requests/{event.pk}.json", {"api_key": hotline}).json()
    assert row["status"] == "open" and row["agency_responsible"] == "城关区公安分局"
    assert row["status_notes"] == "已分派：请公安分局核处"


def test_the_first_photo_is_the_media_url(client, world, hotline, file_event, settings, tmp_path):
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    event = file_event()
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    upload = SimpleUploadedFile("现场.png", buffer.getvalue(), content_type="image/png")
    attachment = svc.event_attach(event=event, upload=upload, user=world.worker_a)
    [row] = client.get(f"{BASE}/requests/{event.pk}.json", {"api_key": hotline}).json()
    assert row["media_url"] == f"http://testserver/api/v1/events/{event.pk}/attachments/{attachment.pk}/download/"


def test_an_unknown_request_is_a_404(client, world, hotline):
    assert_error(client.get(f"{BASE}/requests/999999.json", {"api_key": hotline}), 404)
    assert_error(client.get(f"{BASE}/requests/abc.json", {"api_key": hotline}), 404)


# --- jurisdiction ----------------------------------------------------------------------------


def test_another_county_can_neither_read_nor_file_in_county_a(client, world, hotline, key_b, requests_a):
    event = requests_a["open"]
    assert_error(client.get(f"{BASE}/requests/{event.pk}.json", {"api_key": key_b}), 404)
    assert get_ids(client, key_b) == set()
    assert get_ids(client, key_b, service_request_id=str(event.pk)) == set()

    description = assert_error(post(client, key_b, **{"attribute[grid_code]": world.grid_a.code}), 400)
    assert world.grid_a.code in description
    assert_error(post(client, key_b, address_id=world.village_a.code), 400)
    set_centroid(world.grid_a, 36.06, 103.83)
    assert_error(post(client, key_b, lat="36.06", long="103.83"), 400)  # county B has no grid with a centroid
    assert GridEvent.objects.filter(reporter__username="hotline_b").count() == 0

    key_province = Token.objects.create(user=world.province_user).key
    assert event.pk in get_ids(client, key_province)


def test_a_client_uuid_of_another_county_is_not_returned(client, world, hotline, key_b):
    key = str(uuid.uuid4())
    post(client, hotline, **{"attribute[grid_code]": world.grid_a.code, "attribute[client_uuid]": key})
    assert_error(post(client, key_b, **{"attribute[grid_code]": world.grid_b.code, "attribute[client_uuid]": key}), 400)
    assert GridEvent.objects.count() == 1


def test_the_level_of_a_village_code_is_accepted(client, world, hotline):
    response = post(client, hotline, address_id=world.village_a.code)
    event = GridEvent.objects.get(pk=response.json()[0]["service_request_id"])
    assert event.region.level == Level.VILLAGE


def test_without_grid_centroids_the_nearest_village_is_taken(client, world, hotline):
    set_centroid(world.village_a, 36.06, 103.83)
    answer = post(client, hotline, lat="36.07", long="103.84").json()[0]
    assert GridEvent.objects.get(pk=answer["service_request_id"]).region == world.village_a
