"""The event pages: filing form, own events, visits, queues, the event page and its actions,
attachments, ledger export, notifications, the public report page, navigation and home cards."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from governance.choices import AuditAction
from governance.models import AuditLog
from grids.events.choices import EventSource, EventStatus
from grids.events.models import (
    EventCategory,
    EventDispatch,
    GridEvent,
    Notification,
    Supervision,
    VisitRecord,
)
from grids.events.services import events as svc

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png(name="photo.png", colour=(200, 30, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def login(client, user, password):
    assert client.login(username=user.username, password=password)
    return client


@pytest.fixture
def foreign_event(world, file_event):
    """An event of county B, with a photo."""
    event = file_event(reporter=world.user_b, region=world.grid_b, title="七里河区的事件")
    svc.event_attach(event=event, upload=png(), user=world.user_b)
    return event


def filing_data(world, **overrides):
    data = {
        "client_uuid": str(uuid.uuid4()),
        "grid": world.grid_a.pk,
        "category": EventCategory.objects.get(code="fire_passage").pk,
        "title": "消防通道被占用",
        "description": "3号楼前消防通道停满车辆",
        "urgency": "urgent",
        "source": "patrol",
        "address": "甲社区3号楼",
        "lat": "36.061",
        "lng": "103.834",
    }
    data.update(overrides)
    return data


# --- Pages by role ---------------------------------------------------------------------------


def test_worker_pages_render(client, world, password):
    login(client, world.worker_a, password)
    for name in ("events:event-new", "events:mine", "events:visit-new", "events:notifications"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
    html = client.get(reverse("events:event-new")).content.decode()
    assert "重复提交不会产生重复事件" in html
    assert 'capture="environment"' in html and 'accept="image/*"' in html and "multiple" in html
    assert 'name="client_uuid"' in html and "events.js" in html
    assert world.grid_a.name in html and world.grid_b.name not in html
    assert "<optgroup" in html
    # The worker has no queue.
    assert client.get(reverse("events:queue")).status_code == 403
    assert client.get(reverse("events:department")).status_code == 403


def test_centre_and_department_pages_render(client, world, people, password, file_event):
    event = file_event()
    login(client, world.user_a, password)
    response = client.get(reverse("events:queue"))
    assert response.status_code == 200
    assert event.title in response.content.decode()
    assert client.get(reverse("events:detail", args=[event.pk])).status_code == 200
    assert client.get(reverse("events:visit-new")).status_code == 403
    assert client.get(reverse("events:department")).status_code == 403

    client.logout()
    login(client, people["leader"], password)
    assert client.get(reverse("events:queue")).status_code == 200

    client.logout()
    login(client, world.province_user, password)
    assert event.title in client.get(reverse("events:queue")).content.decode()

    client.logout()
    login(client, people["police"], password)
    response = client.get(reverse("events:department"))
    assert response.status_code == 200
    assert event.title not in response.content.decode()  # not dispatched to the police yet
    assert client.get(reverse("events:queue")).status_code == 403


def test_anonymous_users_are_sent_to_login(client, world, file_event):
    event = file_event()
    for url in (reverse("events:queue"), reverse("events:event-new"), reverse("events:detail", args=[event.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Jurisdiction ------------------------------------------------------------------------------


def test_a_foreign_event_answers_404_everywhere(client, world, password, foreign_event, file_event):
    own = file_event()
    own_photo = svc.event_attach(event=own, upload=png(), user=world.worker_a)
    foreign_photo = foreign_event.attachments.get()
    login(client, world.user_a, password)
    assert client.get(reverse("events:detail", args=[foreign_event.pk])).status_code == 404
    assert client.get(reverse("events:attachment", args=[foreign_event.pk, foreign_photo.pk])).status_code == 404
    # A foreign attachment cannot be fetched through an own event either.
    assert client.get(reverse("events:attachment", args=[own.pk, foreign_photo.pk])).status_code == 404
    response = client.post(reverse("events:act", args=[foreign_event.pk, "accept"]), {})
    assert response.status_code == 404
    foreign_event.refresh_from_db()
    assert foreign_event.status == EventStatus.REPORTED
    assert client.post(reverse("events:reveal-phone", args=[foreign_event.pk])).status_code == 404
    # …while the own event's photo is served inline.
    response = client.get(reverse("events:attachment", args=[own.pk, own_photo.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content)[:4] == b"\x89PNG"
    # The queue and the export never list it.
    assert foreign_event.title not in client.get(reverse("events:queue")).content.decode()


def test_a_grid_worker_sees_only_their_grid(client, world, password, foreign_event, file_event):
    sibling = file_event(reporter=world.user_a, region=world.grid_a2, title="第2网格的事件")
    login(client, world.worker_a, password)
    assert client.get(reverse("events:detail", args=[sibling.pk])).status_code == 404
    assert client.get(reverse("events:detail", args=[foreign_event.pk])).status_code == 404


def test_a_department_handler_sees_only_events_dispatched_to_them(client, world, people, password, file_event):
    event = file_event()
    login(client, people["police"], password)
    assert client.get(reverse("events:detail", args=[event.pk])).status_code == 404
    svc.event_accept(event=event, user=world.user_a)
    svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
    assert client.get(reverse("events:detail", args=[event.pk])).status_code == 200


# --- Filing ----------------------------------------------------------------------------------------


def test_filing_with_photos_redirects_to_the_event(client, world, password):
    login(client, world.worker_a, password)
    data = filing_data(world, photos=[png("a.png"), png("b.png", (0, 90, 200))])
    response = client.post(reverse("events:event-new"), data)
    event = GridEvent.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("events:detail", args=[event.pk])
    assert event.reporter == world.worker_a and event.region == world.grid_a
    assert event.category.code == "fire_passage" and event.urgency == "urgent" and event.source == "patrol"
    assert event.lat == pytest.approx(36.061) and event.address == "甲社区3号楼"
    assert str(event.client_uuid) == data["client_uuid"]
    assert event.attachments.count() == 2
    html = client.get(response["Location"]).content.decode()
    assert "事件已上报" in html and "消防通道被占用" in html
    assert html.count(f"/events/{event.pk}/attachments/") >= 2


def test_resending_the_same_form_files_one_event(client, world, password):
    login(client, world.worker_a, password)
    data = filing_data(world)
    first = client.post(reverse("events:event-new"), {**data, "photos": [png()]})
    second = client.post(reverse("events:event-new"), {**data, "photos": [png()]})
    assert GridEvent.objects.count() == 1
    event = GridEvent.objects.get()
    assert first["Location"] == second["Location"] == reverse("events:detail", args=[event.pk])
    assert event.attachments.count() == 1
    html = client.get(second["Location"]).content.decode()
    assert "未重复创建" in html
    # A fresh form (new UUID) files a new event.
    client.post(reverse("events:event-new"), filing_data(world))
    assert GridEvent.objects.count() == 2


def test_a_bad_form_keeps_what_was_typed_and_explains_in_chinese(client, world, password):
    login(client, world.worker_a, password)
    data = filing_data(world, category="", description="", lat="36.1", lng="", photos=[png()])
    response = client.post(reverse("events:event-new"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert GridEvent.objects.count() == 0
    assert "请选择事件类别。" in html
    assert "请描述事件情况。" in html
    assert "经纬度需同时填写" in html
    assert "照片需要重新选择" in html
    # Everything typed comes back, including the same client UUID (so re-sending stays idempotent).
    assert 'value="消防通道被占用"' in html
    assert 'value="甲社区3号楼"' in html
    assert f'value="{data["client_uuid"]}"' in html
    assert 'value="urgent" required id="id_urgency_1" checked' in html
    assert 'data-bound="true"' in html


def test_a_worker_cannot_file_into_a_foreign_grid(client, world, password):
    login(client, world.worker_a, password)
    response = client.post(reverse("events:event-new"), filing_data(world, grid=world.grid_b.pk))
    assert response.status_code == 200
    assert "请选择您负责的网格。" in response.content.decode()
    assert GridEvent.objects.count() == 0


def test_a_non_image_photo_is_refused(client, world, password):
    login(client, world.worker_a, password)
    fake = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    response = client.post(reverse("events:event-new"), filing_data(world, photos=[fake]))
    assert response.status_code == 200
    assert "照片文件已损坏或不是图片" in response.content.decode()
    assert GridEvent.objects.count() == 0  # nothing half-filed


# --- Own events and visits ----------------------------------------------------------------------------


def test_my_events_colour_the_deadlines(client, world, password, file_event):
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    file_event(title="正常事件")
    file_event(
        title="预警事件", category=EventCategory.objects.get(code="dispute"), reported_at=now - dt.timedelta(minutes=50)
    )
    file_event(
        title="超期事件", category=EventCategory.objects.get(code="fire"), reported_at=now - dt.timedelta(hours=3)
    )
    login(client, world.worker_a, password)
    html = client.get(reverse("events:mine")).content.decode()
    assert html.count('class="clock clock-ok"') >= 2  # the item and the legend
    assert html.count('class="clock clock-amber"') >= 2
    assert html.count('class="clock clock-red"') >= 2
    assert "预警" in html and "超期" in html


def test_visit_log_is_one_per_worker_grid_and_day(client, world, password):
    login(client, world.worker_a, password)
    data = {"grid": world.grid_a.pk, "date": "2025-03-03", "households_visited": 12, "notes": "走访独居老人"}
    response = client.post(reverse("events:visit-new"), data)
    assert response.status_code == 302
    assert VisitRecord.objects.filter(worker=world.worker_a, households_visited=12).count() == 1
    response = client.post(reverse("events:visit-new"), {**data, "households_visited": 5})
    assert response.status_code == 200
    html = response.content.decode()
    assert "每个网格每天一条" in html and "走访独居老人" in html
    assert VisitRecord.objects.count() == 1
    assert "2025-03-03" in client.get(reverse("events:visit-new")).content.decode()
    response = client.post(reverse("events:visit-new"), {**data, "date": "2999-01-01"})
    assert "走访日期不能晚于今天" in response.content.decode()


# --- The event page and its actions -----------------------------------------------------------------------


def test_centre_accepts_and_dispatches_then_the_department_resolves(client, world, people, password, file_event):
    event = file_event()
    login(client, world.user_a, password)
    html = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert 'id="action-accept"' in html and 'id="action-return"' in html and 'id="action-dispatch"' not in html
    response = client.post(reverse("events:act", args=[event.pk, "accept"]), {"accept-note": "受理"})
    assert response.status_code == 302
    html = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert 'id="action-dispatch"' in html and world.dept_b.name not in html
    response = client.post(
        reverse("events:act", args=[event.pk, "dispatch"]), {"dispatch-lead": world.dept_a.pk, "dispatch-note": ""}
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.DISPATCHED and event.lead_department == world.dept_a

    client.logout()
    login(client, people["police"], password)
    html = client.get(reverse("events:department")).content.decode()
    assert event.title in html and "签收" in html
    response = client.post(
        reverse("events:act", args=[event.pk, "department_accept"]), {"next": reverse("events:department")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("events:department")
    response = client.post(
        reverse("events:act", args=[event.pk, "resolve"]),
        {"resolve-resolution": "已清理通道", "resolve-photos": [png("done.png")]},
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.RESOLVED and event.resolution == "已清理通道"
    assert event.attachments.get().stage == "resolution"
    assert EventDispatch.objects.get(event=event).state == "closed"


def test_a_refused_action_shows_the_message_and_keeps_the_input(client, world, password, file_event):
    event = file_event()
    login(client, world.user_a, password)
    response = client.post(reverse("events:act", args=[event.pk, "return"]), {"return-reason": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "“退回”未完成" in html and "请填写理由。" in html
    # The state machine refuses an illegal move, with its own message.
    response = client.post(reverse("events:act", args=[event.pk, "close"]), {"close-note": "想直接归档"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "不能执行“归档”" in html
    event.refresh_from_db()
    assert event.status == EventStatus.REPORTED
    # The merge target must lie in the jurisdiction.
    foreign = GridEvent.objects.create(
        **{
            f.name: getattr(event, f.name)
            for f in GridEvent._meta.concrete_fields
            if f.name not in ("id", "client_uuid")
        }
        | {"region": world.grid_b, "region_code": world.grid_b.code, "title": "外区"}
    )
    response = client.post(reverse("events:act", args=[event.pk, "merge"]), {"merge-into": foreign.pk})
    html = response.content.decode()
    assert f"事件#{foreign.pk}不存在或不在您的管辖范围内" in html
    assert f'value="{foreign.pk}"' in html
    assert client.post(reverse("events:act", args=[event.pk, "nonsense"])).status_code == 404


def test_the_worker_verifies_and_gives_feedback(client, world, people, password, file_event):
    event = file_event()
    svc.event_accept(event=event, user=world.user_a)
    svc.event_self_handle(event=event, user=world.user_a)
    login(client, world.worker_a, password)
    assert event.title in client.get(reverse("events:mine")).content.decode()
    response = client.post(reverse("events:act", args=[event.pk, "resolve"]), {"resolve-resolution": "现场劝导"})
    assert response.status_code == 302
    response = client.post(reverse("events:act", args=[event.pk, "verify"]), {"verify-note": "已核实"})
    assert response.status_code == 302
    html = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    for label in ("满意", "基本满意", "不满意"):
        assert label in html
    response = client.post(reverse("events:act", args=[event.pk, "feedback"]), {"feedback-feedback": "basically"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.FEEDBACK and event.feedback == "basically"
    html = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    for action in ("上报", "受理", "网格员自办", "办结", "核查", "回访"):
        assert action in html


def test_the_event_page_masks_the_phone_and_reveals_it_with_an_audit_entry(client, world, password, file_event):
    event = file_event(contact_phone=PHONE)
    login(client, world.user_a, password)
    html = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "138****5678" in html and PHONE not in html
    response = client.post(reverse("events:reveal-phone", args=[event.pk]))
    assert PHONE in response.content.decode()
    assert AuditLog.objects.filter(action=AuditAction.READ_UNMASKED, object_id=str(event.pk)).exists()
    client.logout()
    login(client, world.worker_a, password)
    assert client.post(reverse("events:reveal-phone", args=[event.pk])).status_code == 403


def test_the_event_page_links_a_likely_duplicate(client, world, password, file_event):
    first = file_event()
    second = file_event(title="同一地点再次上报")
    assert second.duplicate_of == first
    login(client, world.user_a, password)
    html = client.get(reverse("events:detail", args=[second.pk])).content.decode()
    assert f'href="/events/{first.pk}/"' in html and "疑似" in html
    assert f'value="{first.pk}"' in html  # the merge form proposes the original


# --- Queues -------------------------------------------------------------------------------------------------


def test_queue_filters_and_counts(client, world, people, password, file_event):
    a = file_event(title="甲事件")
    b = file_event(title="乙事件", region=world.grid_a2, reporter=world.user_a, urgency="critical")
    svc.event_accept(event=b, user=world.user_a)
    login(client, world.user_a, password)
    html = client.get(reverse("events:queue"), {"status": "accepted"}).content.decode()
    assert "乙事件" in html and "甲事件" not in html
    assert "已上报 <b>1</b>" in html and "已受理 <b>1</b>" in html
    html = client.get(reverse("events:queue"), {"under": world.grid_a.code}).content.decode()
    assert "甲事件" in html and "乙事件" not in html
    html = client.get(reverse("events:queue"), {"urgency": "critical", "q": "乙"}).content.decode()
    assert "乙事件" in html and "甲事件" not in html
    html = client.get(reverse("events:queue"), {"category": "public_order"}).content.decode()
    assert "甲事件" in html and "乙事件" in html
    assert a.pk


def test_queue_explains_bad_filters_in_chinese(client, world, password, file_event):
    file_event(title="甲事件")
    login(client, world.user_a, password)
    response = client.get(reverse("events:queue"), {"under": "abc", "status": "bogus", "q": "甲"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "请输入2至15位数字的区划代码。" in html and "bogus" in html
    assert "甲事件" in html  # the valid filters still apply


def test_queue_marks_overdue_and_supervised_items(client, world, password, file_event):
    import datetime as dt

    from django.utils import timezone

    from grids.events.services.effects import sweep_deadlines

    late = file_event(title="超期很久", reported_at=timezone.now() - dt.timedelta(days=20))
    sweep_deadlines()
    assert Supervision.objects.filter(event=late).exists()
    login(client, world.user_a, password)
    html = client.get(reverse("events:queue"), {"overdue": "true"}).content.decode()
    assert "超期很久" in html and "clock-red" in html and "tag supervised" in html


def test_queue_and_home_query_counts_do_not_grow_with_the_events(client, world, people, password, file_event):
    login(client, world.user_a, password)
    categories = list(EventCategory.objects.all()[:5])

    def make(n):
        for i in range(n):
            event = file_event(
                title=f"事件{i}", category=categories[i % 5], reporter=world.user_a, region=world.grid_a2
            )
            if i % 2:
                svc.event_accept(event=event, user=world.user_a)
                svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)

    def count(url):
        client.get(url)  # warm caches (sessions, content types)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    make(3)
    few = {name: count(reverse(name)) for name in ("events:queue", "home")}
    police_client = type(client)()
    login(police_client, people["police"], password)
    few_department = _count_with(police_client, reverse("events:department"))
    make(20)
    many = {name: count(reverse(name)) for name in ("events:queue", "home")}
    assert many == few
    assert _count_with(police_client, reverse("events:department")) == few_department
    # session, user, region, status counts (one bounded statement), page count, the page's ids, its rows,
    # filter options (categories, regions, departments), unread notifications, and the session save (3).
    assert few["events:queue"] <= 14
    # the home page: session, user, the region overview (levels, children, their summaries, sizing flags),
    # the event card, unread notifications and the session save
    assert few["home"] <= 12


def _count_with(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_department_queue_lists_pending_first(client, world, people, password, file_event):
    first = file_event(title="先分派已签收")
    second = file_event(title="后分派待签收", region=world.grid_a2, reporter=world.user_a)
    for event in (first, second):
        svc.event_accept(event=event, user=world.user_a)
        svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
    svc.event_department_accept(event=first, user=people["police"])
    login(client, people["police"], password)
    html = client.get(reverse("events:department")).content.decode()
    assert html.index("后分派待签收") < html.index("先分派已签收")
    assert "待签收" in html and "已签收" in html


# --- Export -------------------------------------------------------------------------------------------------


def test_csv_export_has_only_the_jurisdiction_with_masked_phones(client, world, password, file_event, foreign_event):
    file_event(title="甲区事件", contact_phone=PHONE)
    file_event(title='=HYPERLINK("x")', address="+1")
    login(client, world.user_a, password)
    response = client.get(reverse("events:export-csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:5] == ["事件编号", "上报时间", "类别", "子类", "标题"]
    assert "联系电话" in rows[0]
    titles = [row[4] for row in rows[1:]]
    assert "甲区事件" in titles and foreign_event.title not in titles
    assert "138****5678" in body and PHONE not in body
    assert '\'=HYPERLINK("x")' in titles  # formulas are neutralised
    assert AuditLog.objects.filter(action=AuditAction.EXPORT, model="grids.gridevent").exists()
    # The same filters as the queue.
    body = b"".join(client.get(reverse("events:export-csv"), {"q": "甲区"}).streaming_content).decode()
    assert len(list(csv.reader(io.StringIO(body)))) == 2


def test_xlsx_export_has_only_the_jurisdiction_with_masked_phones(client, world, password, file_event, foreign_event):
    from openpyxl import load_workbook

    event = file_event(title="甲区事件", contact_phone=PHONE)
    file_event(title='=HYPERLINK("x")', description="第一行\n第二行 <b>&amp;\x07")
    login(client, world.user_a, password)
    response = client.get(reverse("events:export-xlsx"))
    assert response.status_code == 200 and response.streaming  # sent as it is written
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    assert sheet.title == "事件台账" and sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "事件编号" and "联系电话" in rows[0] and sheet["A1"].font.b
    assert [row[4] for row in rows[1:]] == ["甲区事件", '\'=HYPERLINK("x")']  # formulas are neutralised
    assert rows[2][5] == "第一行\n第二行 <b>&amp;"  # markup kept as text, a control character dropped
    phone_column = rows[0].index("联系电话")
    assert rows[1][phone_column] == "138****5678" and rows[1][0] == event.pk
    assert abs(rows[1][1] - timezone.localtime(event.reported_at).replace(tzinfo=None)).total_seconds() < 1
    assert sheet["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert AuditLog.objects.filter(action=AuditAction.EXPORT, changes__format="xlsx").exists()


def test_workers_cannot_export(client, world, password):
    login(client, world.worker_a, password)
    assert client.get(reverse("events:export-csv")).status_code == 403
    assert client.get(reverse("events:export-xlsx")).status_code == 403


# --- Notifications, navigation, home -------------------------------------------------------------------------


def test_notifications_are_listed_and_marked_read(
    client, world, people, password, file_event, django_capture_on_commit_callbacks
):
    event = file_event()
    svc.event_accept(event=event, user=world.user_a)
    with django_capture_on_commit_callbacks(execute=True):
        svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
    notification = Notification.objects.get(user=people["police"])
    Notification.objects.create(user=world.user_b, key="x", message="别人的通知")
    login(client, people["police"], password)
    html = client.get(reverse("events:notifications")).content.decode()
    assert notification.message in html and "别人的通知" not in html
    assert "通知（1）" in html
    client.post(reverse("events:notifications"), {"id": notification.pk})
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "通知（1）" not in client.get(reverse("home")).content.decode()


def test_navigation_follows_the_role(client, world, people, password):
    def nav(user):
        client.logout()
        login(client, user, password)
        # committee staff land on the dashboard: follow the redirect
        return client.get(reverse("home"), follow=True).content.decode().split("</nav>")[0]

    html = nav(world.worker_a)
    for label in ("上报事件", "我的事件", "走访记录", "通知"):
        assert label in html
    assert "事件受理" not in html and "部门待办" not in html
    html = nav(world.user_a)
    assert "事件受理" in html and "上报事件" not in html and "通知" in html
    assert "事件受理" in nav(people["leader"]) and "事件受理" in nav(world.province_user)
    html = nav(people["police"])
    assert "部门待办" in html and "事件受理" not in html


def test_home_cards_count_open_and_overdue_items(client, world, people, password, file_event):
    import datetime as dt

    from django.utils import timezone

    file_event()
    file_event(
        title="超期", reported_at=timezone.now() - dt.timedelta(days=20), region=world.grid_a2, reporter=world.user_a
    )
    login(client, world.user_a, password)
    html = client.get(reverse("home")).content.decode()
    assert "进入事件受理" in html and reverse("events:queue") in html
    card = html.split('class="card event-card"')[1].split("</section>")[0]
    assert "待受理</dt><dd><a" in card and ">2</a>" in card and "超期</dt><dd><a" in card
    client.logout()
    login(client, world.worker_a, password)
    card = client.get(reverse("home")).content.decode().split('class="card event-card"')[1].split("</section>")[0]
    assert "上报事件" in card and ">1</a>" in card
    client.logout()
    login(client, people["police"], password)
    assert "进入部门待办" in client.get(reverse("home")).content.decode()


# --- Public report page (随手拍) -------------------------------------------------------------------------------


def public_data(world, **overrides):
    data = {
        "client_uuid": str(uuid.uuid4()),
        "county": world.county_a.code,
        "township": world.township_a.code,
        "village": world.village_a.code,
        "category": EventCategory.objects.get(code="sanitation").pk,
        "description": "小区门口垃圾三天没人清运",
        "address": "甲社区东门",
        "phone": "139 1234 5678",
    }
    data.update(overrides)
    return data


def test_the_public_page_files_a_resident_report(client, world):
    html = client.get(reverse("public:report")).content.decode()
    assert world.county_a.name in html and 'name="village"' in html
    response = client.post(reverse("public:report"), {**public_data(world), "photo": png()})
    assert response.status_code == 302 and response["Location"] == reverse("public:thanks")
    event = GridEvent.objects.get()
    assert event.source == EventSource.RESIDENT and event.reporter is None
    assert event.region == world.village_a and event.reporter_name == "群众"
    assert event.category.code == "sanitation" and event.title.startswith("环境卫生：")
    assert event.attachments.count() == 1
    assert event.contact_phone_index  # stored encrypted, searchable
    html = client.get(response["Location"]).content.decode()
    assert f"#{event.pk}" in html and "感谢" in html
    entry = AuditLog.objects.filter(model="grids.gridevent", object_id=str(event.pk), action="create").get()
    assert entry.actor_name == "anonymous"


def test_the_public_page_checks_the_phone_and_keeps_the_text(client, world):
    response = client.post(reverse("public:report"), public_data(world, phone="12345", description="路灯坏了好几天"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "请输入11位手机号码" in html and "路灯坏了好几天" in html
    assert f'value="{world.village_a.code}" selected' in html
    assert GridEvent.objects.count() == 0


def test_the_public_page_steps_through_the_regions_without_javascript(client, world):
    response = client.post(
        reverse("public:report"), {"step": "county", "county": world.county_a.code, "description": "已经写好的描述"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and GridEvent.objects.count() == 0
    assert world.township_a.name in html and world.township_b.name not in html and "已经写好的描述" in html
    response = client.post(
        reverse("public:report"),
        {"step": "township", "county": world.county_a.code, "township": world.township_a.code},
    )
    assert world.village_a.name in response.content.decode()
    children = client.get(reverse("public:region-children", args=[world.county_a.code])).json()
    assert children["children"] == [{"code": world.township_a.code, "name": world.township_a.name}]
    assert client.get(reverse("public:region-children", args=[world.grid_a.code])).status_code == 404


def test_the_public_page_is_rate_limited(client, world):
    for _ in range(5):
        assert client.post(reverse("public:report"), public_data(world)).status_code == 302
    response = client.post(reverse("public:report"), public_data(world, description="第六次提交的内容"))
    assert response.status_code == 429
    html = response.content.decode()
    assert "提交过于频繁" in html and "第六次提交的内容" in html
    assert GridEvent.objects.count() == 5
    # Another address is not affected.
    response = client.post(reverse("public:report"), public_data(world), REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302


def test_resending_the_public_form_files_one_event(client, world):
    data = public_data(world)
    client.post(reverse("public:report"), data)
    client.post(reverse("public:report"), data)
    assert GridEvent.objects.count() == 1


def test_public_reports_reach_the_centre_queue(client, world, password):
    client.post(reverse("public:report"), public_data(world))
    event = GridEvent.objects.get()
    login(client, world.user_a, password)
    html = client.get(reverse("events:queue"), {"source": "resident"}).content.decode()
    assert event.title in html and "群众随手拍" in html
    # A village-level report lies outside any single grid worker's jurisdiction.
    client.logout()
    login(client, world.worker_a, password)
    assert client.get(reverse("events:detail", args=[event.pk])).status_code == 404


def test_a_resident_follows_a_report_with_its_number_and_the_phones_last_four_digits(client, world, people):
    client.post(reverse("public:report"), public_data(world))
    event = GridEvent.objects.get()
    thanks = client.get(reverse("public:thanks")).content.decode()
    assert reverse("public:status") in thanks
    client.cookies.clear()  # a later visit, from another browser
    found = client.post(reverse("public:status"), {"number": event.pk, "phone_last4": "5678"}).content.decode()
    assert "等待受理" in found and "环境卫生" in found and f"#{event.pk}" in found
    shown = found.split('class="public-status"')[1].split("</section>")[0]
    assert "等待受理" in shown
    for private in ("甲社区东门", "小区门口垃圾三天没人清运", "5678", world.village_a.name, "群众"):
        assert private not in found
    svc.event_accept(event=event, user=world.user_a)
    found = client.post(reverse("public:status"), {"number": event.pk, "phone_last4": "5678"}).content.decode()
    assert "正在办理" in found


def test_a_wrong_number_or_wrong_digits_get_the_same_answer(client, world, file_event):
    client.post(reverse("public:report"), public_data(world))
    event = GridEvent.objects.get()
    patrol = file_event(contact_phone="13912345678")  # filed by a grid worker, not a resident's report
    answers = [
        client.post(reverse("public:status"), {"number": number, "phone_last4": digits}).content.decode()
        for number, digits in ((event.pk, "1234"), (event.pk + 999, "5678"), (patrol.pk, "5678"))
    ]
    assert all("没有找到与该编号和手机号码后四位相符的反映" in page and "public-status" not in page for page in answers)
    bad = client.post(reverse("public:status"), {"number": "abc", "phone_last4": "56"}).content.decode()
    assert "事件编号为数字。" in bad and "请填写提交时所留手机号码的后四位数字。" in bad


def test_the_status_look_up_is_rate_limited_per_address(client, world):
    client.post(reverse("public:report"), public_data(world))
    event = GridEvent.objects.get()
    for digits in range(10):
        client.post(reverse("public:status"), {"number": event.pk, "phone_last4": f"{digits:04d}"})
    response = client.post(reverse("public:status"), {"number": event.pk, "phone_last4": "5678"})
    assert response.status_code == 429 and "等待受理" not in response.content.decode()
    other = client.post(reverse("public:status"), {"number": event.pk, "phone_last4": "5678"}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200 and "等待受理" in other.content.decode()


def test_a_converted_event_shows_its_case(client, world, people, mediation, file_event):
    from grids.events.services.events import event_convert

    event = file_event()
    event_convert(event=event, user=world.user_a, organisation=mediation["village_org"], dispute_type="neighbour")
    client.force_login(world.user_a)
    page = client.get(f"/events/{event.pk}/").content.decode()
    assert "已转矛盾纠纷" in page and event.mediation_case.number in page and "甲社区人民调解委员会" in page
    case = event.mediation_case
    assert f'href="/cases/{case.pk}/"' in page and case.get_status_display() in page


def test_the_township_centre_is_offered_its_stations_and_its_county_departments(
    client, world, people, password, file_event
):
    from tests.factories import DepartmentFactory

    station = DepartmentFactory(region=world.township_a, kind="公安", name="甲街道派出所")
    DepartmentFactory(region=world.township_b, kind="公安", name="乙镇派出所")
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    client.login(username="township_a", password=password)
    html = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert 'id="action-dispatch"' in html
    assert "甲街道派出所（甲街道）" in html and f"{world.dept_a.name}（城关区）" in html and "乙镇派出所" not in html
    # The category's default department kind (公安) at the event's own township is chosen first.
    form = html[html.index('id="action-dispatch"') :]
    assert f'value="{station.pk}" selected' in form
    client.post(reverse("events:act", args=[event.pk, "dispatch"]), {"dispatch-lead": station.pk, "dispatch-note": ""})
    event.refresh_from_db()
    assert event.status == EventStatus.DISPATCHED and event.lead_department == station


def test_the_event_page_answers_in_a_bounded_number_of_queries(
    client, world, people, password, file_event, django_assert_max_num_queries
):
    from tests.factories import DepartmentFactory

    def walked(title, rounds, grid):
        event = file_event(title=title, region=grid, reporter=world.user_a)
        svc.event_accept(event=event, user=world.user_a)
        for i in range(rounds):
            extra = DepartmentFactory(region=world.county_a, kind="司法", name=f"{title}协办{i}")
            svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a, collaborators=[extra])
            svc.event_department_return(event=event, user=people["police"], reason=f"第{i}次退回")
        for i in range(rounds):
            file_event(title=f"{title}重复{i}", region=grid, reporter=world.user_a)  # likely duplicates
        return event

    login(client, world.user_a, password)
    short, long = walked("短", 1, world.grid_a), walked("长", 6, world.grid_a2)
    client.get(reverse("events:detail", args=[short.pk]))  # warm the once-a-day caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("events:detail", args=[short.pk])).status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("events:detail", args=[long.pk])).status_code == 200
    assert len(few.captured_queries) <= 20
