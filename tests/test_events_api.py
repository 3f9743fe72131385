"""/api/v1/events/ and /api/v1/visits/: filing (idempotent by client UUID, also under concurrent
re-sends), every transition as an action, JSON field errors, jurisdiction on every endpoint,
bounded list queries, masked and audited personal data, attachments."""

from __future__ import annotations

import datetime as dt
import io
import threading
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from governance.choices import AuditAction, Role
from governance.codes import Level
from governance.models import AuditLog, User
from governance.uploads import max_upload_bytes
from grids.events.choices import EventStatus
from grids.events.models import EventDispatch, GridEvent, VisitRecord
from grids.events.services import events as svc
from tests.factories import DepartmentFactory, UserFactory

from .factories import arrange

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"
PHONE = "13812345678"
# One filing: the caller's region (a token request reads it with the token), the category and the grid
# of the body, the SLA policy and the working calendar, the duplicate check, the event, its audit entry
# and its history row (between SAVEPOINT and RELEASE: the test's transaction is outside), and the check
# that the caller still sees the event. Nothing else: no look-up before the insert, no detail, no sealing.
FILING_QUERIES = 12


def event_body(world, **overrides) -> dict:
    body = {
        "client_uuid": str(uuid.uuid4()),
        "category": "public_order",
        "title": "小区门口聚集",
        "description": "晚间有人员聚集喧哗",
        "urgency": "normal",
        "region": world.grid_a.code,
        "address": "甲社区3号楼",
        "contact_phone": PHONE,
    }
    body.update(overrides)
    return body


def as_user(api: APIClient, user: User) -> APIClient:
    # A fresh copy each time: nothing cached on the user object carries over between requests.
    api.force_authenticate(User.objects.get(pk=user.pk))
    return api


def act(api, user, event_id: int, name: str, **body):
    return as_user(api, user).post(f"{URL}{event_id}/{name}/", body, format="json")


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- filing ----------------------------------------------------------------------------------


FILED_FIELDS = {"id", "client_uuid", "status", "duplicate_of", "reported_at", "url"}


def test_filing_answers_a_compact_201_whose_location_is_the_detail_and_a_resend_the_same_200(api, world):
    body = event_body(world)
    first = as_user(api, world.worker_a).post(URL, body, format="json")
    assert first.status_code == 201, first.json()
    data = first.json()
    assert set(data) == FILED_FIELDS
    assert data["client_uuid"] == body["client_uuid"] and data["status"] == "reported"
    assert data["duplicate_of"] is None
    assert first["Location"] == data["url"] and data["url"].endswith(f"{URL}{data['id']}/")

    detail = as_user(api, world.worker_a).get(data["url"])
    assert detail.status_code == 200
    shown = detail.json()
    assert shown["id"] == data["id"] and shown["status_display"] == "已上报"
    assert shown["category"] == "public_order" and shown["category_name"] == "治安隐患"
    assert shown["region"] == world.grid_a.code and shown["reporter"] == "worker_a"
    assert shown["source"] == "patrol"  # a grid worker's own patrol unless stated
    assert shown["clocks"] == {"respond": "ok", "resolve": "ok", "feedback": "none"}
    assert [h["action"] for h in shown["history"]] == ["report"]
    assert shown["allowed_actions"] == []  # a grid worker does not accept

    again = as_user(api, world.worker_a).post(URL, {**body, "title": "重发的标题"}, format="json")
    assert again.status_code == 200
    assert again.json() == data and again["Location"] == data["url"]
    assert GridEvent.objects.get().title == "小区门口聚集"
    assert AuditLog.objects.filter(model="grids.gridevent", action=AuditAction.CREATE).count() == 1


def test_a_resend_after_its_category_was_retired_still_answers_the_event(api, world):
    """The body no longer validates, but the event it filed exists: the phone gets its 200."""
    from grids.events.models import EventCategory

    body = event_body(world, category="fire")
    first = as_user(api, world.worker_a).post(URL, body, format="json")
    assert first.status_code == 201, first.json()
    arrange(EventCategory.objects.filter(code="fire"), is_active=False)
    again = as_user(api, world.worker_a).post(URL, body, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    fresh = as_user(api, world.worker_a).post(URL, {**body, "client_uuid": str(uuid.uuid4())}, format="json")
    assert fresh.status_code == 400 and "category" in fresh.json()["fields"]
    assert GridEvent.objects.count() == 1


def test_a_filing_costs_the_same_queries_however_many_events_exist(api, world, file_event):
    """No look-up before the insert, one duplicate query, no detail to render, no sealing in the request."""

    def queries_of_one_filing() -> int:
        client = as_user(api, world.worker_a)
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(URL, event_body(world, contact_phone=""), format="json")
        assert response.status_code == 201, response.json()
        return len(ctx.captured_queries)

    queries_of_one_filing()  # the first request of the process fills the catalogues
    few = queries_of_one_filing()
    for n in range(30):  # same grid and category within 24 h, but neither the same reporter nor nearby
        file_event(reporter=None, title=f"早先的事件 {n}", address=f"{n}号")
    many = queries_of_one_filing()
    assert few == many
    assert many <= FILING_QUERIES


def test_a_client_uuid_of_another_jurisdiction_is_not_revealed(api, world):
    body = event_body(world)
    assert as_user(api, world.worker_a).post(URL, body, format="json").status_code == 201
    worker_b = UserFactory(username="worker_b", role=Role.GRID_WORKER, region=world.grid_b)
    response = as_user(api, worker_b).post(URL, {**body, "region": world.grid_b.code}, format="json")
    assert response.status_code == 400
    assert "client_uuid" in response.json()["fields"]
    assert GridEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_sends_of_one_uuid_make_one_event(world):
    """Two clients (a flaky phone re-sending) post the same UUID at the same moment.

    SQLite cannot run this as configured: on the in-memory test database shared-cache
    connections refuse a second writer at once ("database table is locked"), and with
    deferred transactions two writers that both read first deadlock ("database is locked",
    no busy wait). With a file database and OPTIONS transaction_mode=IMMEDIATE it passes;
    PostgreSQL (production) always runs it.
    """
    if connection.vendor == "sqlite" and (
        connection.is_in_memory_db() or connection.settings_dict["OPTIONS"].get("transaction_mode") != "IMMEDIATE"
    ):
        pytest.skip("SQLite serialises writers only with a file database and transaction_mode=IMMEDIATE")
    body = event_body(world)
    barrier = threading.Barrier(2)
    results: list = []

    def send():
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=world.worker_a.pk))
        try:
            barrier.wait(timeout=10)
            response = client.post(URL, body, format="json")
            results.append((response.status_code, response.json().get("id")))
        except Exception as exc:  # reported below, never swallowed
            results.append((exc, None))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(code, int) for code, _id in results), results
    assert sorted(code for code, _id in results) == [200, 201], results
    assert len({event_id for _code, event_id in results}) == 1
    assert GridEvent.objects.filter(client_uuid=body["client_uuid"]).count() == 1


def test_missing_fields_are_answered_field_by_field(api, world):
    response = as_user(api, world.worker_a).post(URL, {"description": "只有描述"}, format="json")
    assert response.status_code == 400
    data = response.json()
    assert data["detail"] and {"title", "category", "region"} <= set(data["fields"])
    assert GridEvent.objects.count() == 0


def test_a_foreign_grid_and_a_bad_phone_are_field_errors(api, world):
    response = as_user(api, world.worker_a).post(
        URL, event_body(world, region=world.grid_b.code, contact_phone="电话"), format="json"
    )
    assert response.status_code == 400
    assert {"region", "contact_phone"} <= set(response.json()["fields"])


def test_the_service_rules_come_back_as_field_errors(api, world):
    from grids.events.models import EventCategory

    arrange(EventCategory.objects.filter(code="fire"), is_active=False)
    response = as_user(api, world.worker_a).post(URL, event_body(world, category="fire"), format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["category"] == ["该事件类别已停用。"]


def test_a_system_must_name_the_source(api, world):
    hotline = UserFactory(username="hotline", role=Role.API_CLIENT, region=world.county_a)
    response = as_user(api, hotline).post(URL, event_body(world), format="json")
    assert response.status_code == 400 and "source" in response.json()["fields"]
    response = as_user(api, hotline).post(URL, event_body(world, source="hotline"), format="json")
    assert response.status_code == 201 and GridEvent.objects.get(pk=response.json()["id"]).source == "hotline"


def test_roles_without_the_filing_capability_are_refused(api, world):
    response = as_user(api, world.province_user).post(URL, event_body(world), format="json")
    assert response.status_code == 403
    assert GridEvent.objects.count() == 0


def test_events_cannot_be_edited_or_deleted_directly(api, world, file_event):
    event = file_event()
    client = as_user(api, world.user_a)
    assert client.patch(f"{URL}{event.pk}/", {"status": "closed"}, format="json").status_code == 405
    assert client.delete(f"{URL}{event.pk}/").status_code == 405


# --- transitions -----------------------------------------------------------------------------


def test_the_whole_dispatched_path_through_the_api(api, world, people):
    justice = DepartmentFactory(region=world.county_a, kind="司法", name="城关区司法局")
    created = as_user(api, world.worker_a).post(URL, event_body(world), format="json").json()
    event_id = created["id"]

    detail = as_user(api, people["leader"]).get(f"{URL}{event_id}/").json()
    assert detail["allowed_actions"] == ["accept", "return", "merge", "convert"]

    steps = [
        (people["leader"], "accept", {}, "accepted"),
        (world.user_a, "dispatch", {"lead": world.dept_a.pk, "collaborators": [justice.pk]}, "dispatched"),
        (people["police"], "department-accept", {"note": "已签收"}, "handling"),
        (people["police"], "resolve", {"resolution": "已劝离并加强巡逻"}, "resolved"),
        (world.worker_a, "reopen", {"reason": "现场仍有聚集"}, "handling"),
        (people["police"], "resolve", {"resolution": "再次处置，已无聚集"}, "resolved"),
        (world.worker_a, "verify", {"note": "现场核实"}, "verified"),
        (people["leader"], "feedback", {"feedback": "satisfied", "note": "电话回访满意"}, "feedback"),
        (people["leader"], "close", {}, "closed"),
    ]
    for user, name, body, expected in steps:
        response = act(api, user, event_id, name, **body)
        assert response.status_code == 200, (name, response.json())
        assert response.json()["status"] == expected, name

    data = response.json()
    assert data["lead_department"] == world.dept_a.pk and data["resolved_level"] == Level.VILLAGE
    assert data["feedback"] == "satisfied" and data["allowed_actions"] == []
    assert data["clocks"]["respond"] == "done" and data["clocks"]["feedback"] == "done"
    roles = {d["department_name"]: d["role"] for d in data["dispatches"]}
    assert roles == {world.dept_a.name: "lead", "城关区司法局": "collaborator"}
    history = as_user(api, world.user_a).get(f"{URL}{event_id}/history/").json()
    assert [h["action"] for h in history] == [
        "report", "accept", "dispatch", "department_accept", "resolve", "reopen", "resolve", "verify",
        "feedback", "close",
    ]  # fmt: skip
    assert history[1]["actor"] == "leader_a" and history[1]["action_display"] == "受理"


def test_the_allowed_actions_follow_the_actor(api, world, people, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
    assert as_user(api, people["police"]).get(f"{URL}{event.pk}/").json()["allowed_actions"] == [
        "department_accept",
        "department_return",
    ]
    assert as_user(api, world.user_a).get(f"{URL}{event.pk}/").json()["allowed_actions"] == ["escalate", "convert"]
    assert as_user(api, world.worker_a).get(f"{URL}{event.pk}/").json()["allowed_actions"] == []


def test_self_handling_after_escalation_through_the_api(api, world, people, file_event):
    event = file_event()
    assert act(api, people["leader"], event.pk, "accept").status_code == 200
    response = act(api, people["leader"], event.pk, "escalate", reason="涉及多个村")
    assert response.status_code == 200 and response.json()["handling_level"] == Level.TOWNSHIP
    assert act(api, people["township"], event.pk, "accept").status_code == 200
    assert act(api, people["township"], event.pk, "self-handle").json()["self_handled"] is True
    response = act(api, world.worker_a, event.pk, "resolve", resolution="网格员现场劝导")
    assert response.status_code == 200
    assert response.json()["status"] == "resolved" and response.json()["resolved_level"] == Level.TOWNSHIP


def test_return_and_department_return_need_a_reason(api, world, people, file_event):
    event = file_event()
    response = act(api, people["leader"], event.pk, "return")
    assert response.status_code == 400
    assert response.json()["fields"]["reason"] == ["退回必须说明理由。"]
    assert response.json()["detail"] == "退回必须说明理由。"
    assert act(api, people["leader"], event.pk, "return", reason="信息不全").json()["status"] == "returned"

    other = file_event(title="另一事件", address="别处")
    svc.event_accept(event=other, user=people["leader"])
    svc.event_dispatch(event=other, user=world.user_a, lead=world.dept_a)
    assert act(api, people["police"], other.pk, "department-return").status_code == 400
    response = act(api, people["police"], other.pk, "department-return", reason="不属于本部门职责")
    assert response.status_code == 200
    assert response.json()["status"] == "accepted" and response.json()["lead_department"] is None
    assert EventDispatch.objects.get(event=other).state == "returned"


def test_merging_a_duplicate(api, world, people, file_event):
    first = file_event()
    second = file_event(title="门口又聚集了")
    detail = as_user(api, people["leader"]).get(f"{URL}{second.pk}/").json()
    assert detail["duplicate_of"] == first.pk
    response = act(api, people["leader"], second.pk, "merge")
    assert response.status_code == 400 and "into" in response.json()["fields"]
    response = act(api, people["leader"], second.pk, "merge", into=first.pk)
    assert response.status_code == 200
    assert response.json()["status"] == "merged" and response.json()["merged_into"] == first.pk
    assert response.json()["clocks"]["respond"] == "none"  # nobody owes a merged event an answer


def test_refused_transitions_say_why_and_change_nothing(api, world, people, file_event):
    event = file_event()
    response = act(api, world.worker_a, event.pk, "accept")
    assert response.status_code == 400
    assert response.json() == {"detail": "您无权对该事件执行“受理”。", "fields": {}}
    response = act(api, people["leader"], event.pk, "close")
    assert response.status_code == 400
    assert response.json()["detail"] == "事件当前状态为“已上报”，不能执行“归档”。"
    event.refresh_from_db()
    assert event.status == EventStatus.REPORTED and event.history.count() == 1


def test_dispatch_needs_a_lead_inside_the_jurisdiction(api, world, people, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    response = act(api, world.user_a, event.pk, "dispatch")
    assert response.status_code == 400 and "lead" in response.json()["fields"]
    response = act(api, world.user_a, event.pk, "dispatch", lead=world.dept_b.pk)  # another county's police
    assert response.status_code == 400 and "lead" in response.json()["fields"]
    event.refresh_from_db()
    assert event.status == EventStatus.ACCEPTED


def test_feedback_must_be_one_of_the_ratings(api, world, people, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    svc.event_self_handle(event=event, user=people["leader"])
    svc.event_resolve(event=event, user=world.worker_a, resolution="已处理")
    svc.event_verify(event=event, user=world.worker_a)
    response = act(api, people["leader"], event.pk, "feedback", feedback="great")
    assert response.status_code == 400 and "feedback" in response.json()["fields"]
    response = act(api, people["leader"], event.pk, "feedback")
    assert response.status_code == 400 and "feedback" in response.json()["fields"]


# --- jurisdiction ----------------------------------------------------------------------------


def test_another_county_gets_404_everywhere(api, world, people, file_event, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    event = file_event(contact_phone=PHONE)
    attachment = svc.event_attach(
        event=event,
        upload=SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png"),
        user=world.worker_a,
    )
    client = as_user(api, world.user_b)
    assert client.get(URL).json()["count"] == 0
    assert client.get(f"{URL}{event.pk}/").status_code == 404
    assert client.get(f"{URL}{event.pk}/history/").status_code == 404
    assert client.get(f"{URL}{event.pk}/attachments/").status_code == 404
    assert client.get(f"{URL}{event.pk}/attachments/{attachment.pk}/download/").status_code == 404
    assert client.post(f"{URL}{event.pk}/reveal-contact/", {}, format="json").status_code == 404
    for name, body in [("accept", {}), ("return", {"reason": "x"}), ("merge", {"into": event.pk})]:
        assert client.post(f"{URL}{event.pk}/{name}/", body, format="json").status_code == 404, name
    assert client.get(f"{URL}?under={world.county_a.code}").json()["count"] == 0
    # The other county's police cannot act on it either, nor dispatch into it as a merge target.
    assert act(api, people["police_b"], event.pk, "department-accept").status_code == 404
    event.refresh_from_db()
    assert event.status == EventStatus.REPORTED
    # An attachment id of the own jurisdiction does not open through a foreign event id.
    own = file_event(region=world.grid_b, reporter=world.user_b, title="乙县事件")
    assert client.get(f"{URL}{own.pk}/attachments/{attachment.pk}/download/").status_code == 404


def test_the_list_filters_and_orders(api, world, people, file_event):
    first = file_event(urgency="urgent")
    second = file_event(title="垃圾堆放", category=_category("sanitation_garbage"), address="2号楼")
    svc.event_accept(event=second, user=people["leader"])
    client = as_user(api, world.user_a)
    assert _ids(client.get(f"{URL}?status=accepted")) == [second.pk]
    assert _ids(client.get(f"{URL}?category=sanitation")) == [second.pk]
    assert _ids(client.get(f"{URL}?urgency=urgent")) == [first.pk]
    assert _ids(client.get(f"{URL}?under={world.grid_a.code}&ordering=id")) == [first.pk, second.pk]
    assert _ids(client.get(f"{URL}?under={world.grid_b.code}")) == []
    assert _ids(client.get(f"{URL}?q=垃圾")) == [second.pk]
    page = client.get(f"{URL}?page_size=1").json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]


def _category(code):
    from grids.events.models import EventCategory

    return EventCategory.objects.get(code=code)


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_the_list_takes_a_fixed_number_of_queries(api, world, people, file_event):
    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = as_user(api, world.user_a).get(f"{URL}?page_size=100")
        assert response.status_code == 200
        return len(ctx.captured_queries), response.json()["count"]

    event = file_event(contact_phone=PHONE)
    svc.event_accept(event=event, user=people["leader"])
    svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
    small, small_count = count()
    for i in range(8):
        file_event(title=f"事件{i}", address=f"{i}号楼", reporter=world.user_a if i % 2 else world.worker_a)
    large, large_count = count()
    assert (small_count, large_count) == (1, 9)
    assert small == large
    assert large <= 6


# --- personal data ---------------------------------------------------------------------------


def test_the_phone_is_masked_and_revealing_it_is_audited(api, world, people):
    client = as_user(api, world.worker_a)
    created = client.post(URL, event_body(world), format="json")
    assert created.status_code == 201 and PHONE not in created.content.decode()  # the 201 shows no phone
    event_id = created.json()["id"]
    for user in (world.user_a, world.worker_a, people["leader"]):
        listing = as_user(api, user).get(URL)
        detail = as_user(api, user).get(f"{URL}{event_id}/")
        assert listing.json()["results"][0]["contact_phone"] == "138****5678"
        assert detail.json()["contact_phone"] == "138****5678"
        assert PHONE not in listing.content.decode() and PHONE not in detail.content.decode()
    assert PHONE not in GridEvent.objects.values_list("contact_phone", flat=True).get()

    refused = as_user(api, world.worker_a).post(f"{URL}{event_id}/reveal-contact/", {}, format="json")
    assert refused.status_code == 403
    assert not AuditLog.objects.filter(action=AuditAction.READ_UNMASKED).exists()

    response = as_user(api, world.user_a).post(f"{URL}{event_id}/reveal-contact/", {"reason": "回访"}, format="json")
    assert response.status_code == 200 and response.json() == {"contact_phone": PHONE}
    entry = AuditLog.objects.get(action=AuditAction.READ_UNMASKED)
    assert entry.actor_id == world.user_a.pk and entry.object_id == str(event_id)
    assert entry.model == "grids.gridevent" and entry.changes == {"field": "contact_phone", "reason": "回访"}
    assert entry.region_code == world.grid_a.code

    committee = as_user(api, world.province_user).post(f"{URL}{event_id}/reveal-contact/", {}, format="json")
    assert committee.status_code == 200
    assert AuditLog.objects.filter(action=AuditAction.READ_UNMASKED).count() == 2


# --- attachments -----------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_photo_is_uploaded_listed_and_downloaded(api, world, people, file_event, media):
    event = file_event()
    data = png_bytes()
    client = as_user(api, world.worker_a)
    response = client.post(
        f"{URL}{event.pk}/attachments/",
        {"file": SimpleUploadedFile("现场.png", data, content_type="image/png")},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    attachment = response.json()
    assert attachment["name"] == "现场.png" and attachment["content_type"] == "image/png"
    assert attachment["size"] == len(data) and attachment["stage"] == "report"
    assert attachment["download_url"].endswith(f"{URL}{event.pk}/attachments/{attachment['id']}/download/")

    listed = as_user(api, world.user_a).get(f"{URL}{event.pk}/attachments/").json()
    assert [a["id"] for a in listed] == [attachment["id"]]
    detail = as_user(api, world.user_a).get(f"{URL}{event.pk}/").json()
    assert [a["id"] for a in detail["attachments"]] == [attachment["id"]]

    download = as_user(api, world.user_a).get(
        f"{URL}{event.pk}/attachments/{attachment['id']}/download/", HTTP_ACCEPT="image/png"
    )
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == data

    # The lead department adds its photo at resolution.
    svc.event_accept(event=event, user=people["leader"])
    svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
    response = as_user(api, people["police"]).post(
        f"{URL}{event.pk}/attachments/",
        {"file": SimpleUploadedFile("办结.png", data, content_type="image/png"), "stage": "resolution"},
        format="multipart",
    )
    assert response.status_code == 201 and response.json()["stage"] == "resolution"


def test_bad_files_are_refused(api, world, file_event, media):
    event = file_event()
    client = as_user(api, world.worker_a)

    def upload(name, content, content_type):
        return client.post(
            f"{URL}{event.pk}/attachments/",
            {"file": SimpleUploadedFile(name, content, content_type=content_type)},
            format="multipart",
        )

    text = upload("说明.txt", "不是图片".encode(), "text/plain")
    assert text.status_code == 400 and "file" in text.json()["fields"]
    fake = upload("假图.png", b"this is not a png", "image/png")
    assert fake.status_code == 400 and fake.json()["fields"]["file"] == ["照片文件已损坏或不是图片。"]
    big = upload("大图.png", png_bytes() + b"\0" * max_upload_bytes(), "image/png")
    assert big.status_code == 400 and big.json()["fields"]["file"] == ["单个文件不能超过10MB。"]
    assert event.attachments.count() == 0
    assert not any(media.rglob("*.*"))


def test_uploads_need_a_part_in_the_event(api, world, file_event, media):
    event = file_event()
    hotline = UserFactory(username="hotline", role=Role.API_CLIENT, region=world.county_a)
    response = as_user(api, hotline).post(
        f"{URL}{event.pk}/attachments/",
        {"file": SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")},
        format="multipart",
    )
    assert response.status_code == 403


# --- visits (走访记录) -------------------------------------------------------------------------


def test_a_resent_visit_with_its_client_id_returns_the_saved_record(api, world):
    client = as_user(api, world.worker_a)
    key = str(uuid.uuid4())
    body = {"grid": world.grid_a.code, "date": timezone.localdate().isoformat(), "households_visited": 4,
            "client_uuid": key}  # fmt: skip
    first = client.post("/api/v1/visits/", body, format="json")
    again = client.post("/api/v1/visits/", {**body, "households_visited": 5}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["households_visited"] == 4
    assert VisitRecord.objects.get().client_uuid == uuid.UUID(key)
    other = as_user(api, UserFactory(username="worker_x", role=Role.GRID_WORKER, region=world.grid_a))
    stolen = other.post("/api/v1/visits/", body, format="json")  # another worker's id is not theirs to read
    assert stolen.status_code == 400 and "client_uuid" in stolen.json()["fields"]
    assert VisitRecord.objects.count() == 1


def test_a_grid_worker_records_one_visit_per_grid_and_day(api, world):
    client = as_user(api, world.worker_a)
    today = timezone.localdate().isoformat()
    body = {"grid": world.grid_a.code, "date": today, "households_visited": 6, "notes": "走访独居老人"}
    created = client.post("/api/v1/visits/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["worker"] == "worker_a" and created.json()["grid_name"] == world.grid_a.name

    again = client.post("/api/v1/visits/", body, format="json")
    assert again.status_code == 400
    assert again.json()["fields"]["date"] == ["您当天已记录过该网格的走访，请修改原记录。"]
    assert VisitRecord.objects.count() == 1

    assert as_user(api, world.user_a).get("/api/v1/visits/").json()["count"] == 1
    assert as_user(api, world.user_b).get("/api/v1/visits/").json()["count"] == 0
    visit_id = created.json()["id"]
    assert as_user(api, world.user_b).get(f"/api/v1/visits/{visit_id}/").status_code == 404


def test_visits_outside_the_own_grids_are_refused(api, world):
    client = as_user(api, world.worker_a)
    today = timezone.localdate().isoformat()
    for code in (world.grid_b.code, world.grid_a2.code, world.village_a.code):
        response = client.post("/api/v1/visits/", {"grid": code, "date": today, "households_visited": 3}, format="json")
        assert response.status_code == 400 and "grid" in response.json()["fields"], code
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client.post(
        "/api/v1/visits/", {"grid": world.grid_a.code, "date": future, "households_visited": 3}, format="json"
    )
    assert response.status_code == 400 and "date" in response.json()["fields"]
    centre = as_user(api, world.user_a).post(
        "/api/v1/visits/", {"grid": world.grid_a.code, "date": today, "households_visited": 3}, format="json"
    )
    assert centre.status_code == 403
    assert VisitRecord.objects.count() == 0


def test_an_event_converts_into_a_mediation_case_through_the_api(api, world, people, mediation, file_event):
    from disputes.models import Case

    event = file_event()
    response = act(api, world.user_a, event.pk, "convert")
    assert response.status_code == 400 and {"organisation", "dispute_type"} <= set(response.json()["fields"])
    foreign = act(api, world.user_a, event.pk, "convert", organisation=mediation["org_b"].pk, dispute_type="neighbour")
    assert foreign.status_code == 400 and "organisation" in foreign.json()["fields"]
    response = act(
        api, world.user_a, event.pk, "convert", organisation=mediation["village_org"].pk, dispute_type="neighbour"
    )
    assert response.status_code == 200 and response.json()["status"] == "converted"
    assert Case.objects.get(origin_event_id=event.pk).organisation == mediation["village_org"]


def test_a_township_centre_dispatches_to_its_county_police_through_the_api(api, world, people, file_event):
    from tests.factories import DepartmentFactory

    sibling_station = DepartmentFactory(region=world.township_b, kind="公安", name="乙镇派出所")
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    refused = act(api, people["township"], event.pk, "dispatch", lead=sibling_station.pk)
    assert refused.status_code == 400 and "lead" in refused.json()["fields"]
    event.refresh_from_db()
    assert event.status == EventStatus.ACCEPTED and not event.dispatches.exists()
    response = act(api, people["township"], event.pk, "dispatch", lead=world.dept_a.pk)
    assert response.status_code == 200 and response.json()["lead_department"] == world.dept_a.pk


def test_a_token_filing_reads_the_caller_and_their_region_in_one_query(world):
    """Token authentication loads the account's region with the token: the filing costs the same
    statements as above, the token's query taking the place of the region's."""
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world.worker_a).key}")
    client.post(URL, event_body(world), format="json")  # the first request of the process fills the catalogues
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(URL, event_body(world, contact_phone=""), format="json")
    assert response.status_code == 201, response.json()
    assert len(ctx.captured_queries) == FILING_QUERIES
    assert "governance_user" in ctx.captured_queries[0]["sql"] and "grids_region" in ctx.captured_queries[0]["sql"]
