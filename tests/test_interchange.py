"""Historical import and export (issue #6): round trip, every rejection reason, idempotency,
all-or-nothing, jurisdiction and masking. The format is in docs/import-format.md."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from disputes import services as cases
from disputes.models import Case, CaseHistory, FollowUp, JudicialConfirmation, MediationSession, Party
from governance.choices import AuditAction
from governance.interchange.exporter import export_records
from governance.interchange.importer import import_records
from governance.models import AuditLog, ExternalRef
from grids.events.models import EventDispatch, EventHistory, GridEvent, VisitRecord
from grids.events.services import events as ev
from grids.models import GridWorker

ID_1 = "620102198001010017"  # valid GB 11643 check digit
ID_2 = "62010219900101002X"


def check_ids():
    from disputes.validators import validate_citizen_id

    for value in (ID_1, ID_2):
        validate_citizen_id(value)


def run(lines: list[dict] | list[str], **kwargs):
    text = "".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return import_records(open_stream=lambda: io.StringIO(text), **kwargs)


HEADER = {"type": "header", "format": "grid-governance-interchange", "version": 1, "source": "oldsys"}


def at(y, m, d, hh=9, mm=0) -> str:
    return dt.datetime(y, m, d, hh, mm, tzinfo=dt.timezone(dt.timedelta(hours=8))).isoformat()


def event_row(world, n=1, **overrides):
    row = {
        "type": "event", "id": f"E{n}", "category": "public_order", "title": "门口聚集", "description": "晚间喧哗",
        "urgency": "normal", "source": "patrol", "region": world.grid_a.code, "reporter": "W1",
        "contact_phone": "13800001234",
        "timeline": [
            {"action": "report", "at": at(2025, 1, 6, 9)},
            {"action": "accept", "at": at(2025, 1, 6, 9, 30)},
            {"action": "self_handle", "at": at(2025, 1, 6, 10)},
            {"action": "resolve", "at": at(2025, 1, 8, 15), "resolution": "已劝散", "level": "village"},
            {"action": "verify", "at": at(2025, 1, 8, 17)},
            {"action": "feedback", "at": at(2025, 1, 9, 10), "feedback": "satisfied"},
            {"action": "close", "at": at(2025, 1, 9, 11)},
        ],
    }  # fmt: skip
    row.update(overrides)
    return row


def worker_row(world, **overrides):
    return {"type": "grid_worker", "id": "W1", "grid": world.grid_a.code, "name": "张网格", "full_time": True,
            "started_on": "2024-01-01", "account": "imported_worker", **overrides}  # fmt: skip


def case_row(world, mediation, n=1, **overrides):
    org = mediation["village_org"]
    row = {
        "type": "case", "id": f"K{n}", "organisation": {"region": org.region.code, "name": org.name},
        "origin_region": world.village_a.code, "dispute_type": "neighbour", "risk": "general", "title": "邻里纠纷",
        "facts": "漏水", "parties": [{"side": "applicant", "name": "甲", "id_number": ID_1, "phone": "13900001111"},
                                   {"side": "respondent", "name": "乙", "id_number": ID_2}],
        "timeline": [
            {"action": "register", "at": at(2025, 1, 10, 9)},
            {"action": "accept", "at": at(2025, 1, 10, 10)},
            {"action": "assign", "at": at(2025, 1, 10, 11), "mediator": "mediator_a"},
            {"action": "agree", "at": at(2025, 2, 5, 16)},
            {"action": "close", "at": at(2025, 3, 20, 9)},
        ],
        "sessions": [{"held_on": "2025-01-12", "place": "村委会", "attendees": "甲、乙", "notes": "调解"}],
        "agreement": {"terms": "赔偿500元", "amount": "500.00", "signed_on": "2025-02-05"},
        "follow_ups": [{"visited_on": "2025-03-05", "fulfilment": "full", "satisfaction": "satisfied"}],
        "confirmation": {"court": "城关区人民法院", "applied_on": "2025-03-10", "decided_on": "2025-03-18",
                         "decision": "confirmed"},
    }  # fmt: skip
    row.update(overrides)
    return row


# --- Import ------------------------------------------------------------------------------------------------


def test_an_event_is_imported_with_the_platforms_own_deadlines_and_history(world):
    report = run([HEADER, worker_row(world), event_row(world)])
    assert report.ok and report.written, report.as_dict()
    event = GridEvent.objects.get()
    # Mon Jan 6 09:00 normal: respond within 1 h, resolve by the 5th working day (Jan 13), feedback 7 days.
    local = timezone.localtime
    assert local(event.respond_deadline).isoformat() == at(2025, 1, 6, 10)
    assert local(event.resolve_deadline).isoformat() == "2025-01-13T23:59:59+08:00"
    assert local(event.feedback_deadline).isoformat() == "2025-01-15T23:59:59+08:00"
    assert event.status == "closed" and event.resolved_level == event.first_resolved_level == 5
    assert event.first_resolved_at == event.resolved_at and local(event.responded_at).isoformat() == at(
        2025, 1, 6, 9, 30
    )
    assert event.contact_phone != "13800001234" and event.contact_phone_index
    assert event.reporter.username == "imported_worker" and not event.reporter.is_active
    assert list(EventHistory.objects.filter(event=event).values_list("action", flat=True)) == [
        "report", "accept", "self_handle", "resolve", "verify", "feedback", "close",
    ]  # fmt: skip
    assert AuditLog.objects.filter(action=AuditAction.BULK, model="grids.gridevent").count() == 1


def test_a_case_is_imported_with_deadlines_masks_and_the_repeat_flag(world, mediation):
    check_ids()
    earlier = case_row(world, mediation, 1)
    later = case_row(world, mediation, 2, timeline=[
        {"action": "register", "at": at(2025, 6, 1, 9)}, {"action": "accept", "at": at(2025, 6, 1, 10)},
    ], sessions=[], agreement=None, follow_ups=[], confirmation=None)  # fmt: skip
    report = run([HEADER, earlier, later])
    assert report.ok, report.as_dict()
    k1, k2 = Case.objects.order_by("registered_at")
    assert (k1.status, k1.outcome, k1.first_outcome) == ("closed", "agreed", "agreed")
    assert timezone.localtime(k1.conclusion_deadline).isoformat() == "2025-02-09T23:59:59+08:00"
    assert k1.assessment_code == mediation["village_org"].region.code and k1.mediator == mediation["mediator"]
    assert not k1.is_repeat and k2.is_repeat  # the same ID number within 365 days
    party = Party.objects.filter(case=k1, side="applicant").get()
    assert party.id_number_masked == "620102********0017" and party.phone_masked == "139****1111"
    confirmation = JudicialConfirmation.objects.get(case=k1)
    assert confirmation.deadline == dt.date(2025, 3, 19)  # 7th working day after Mon Mar 10
    assert MediationSession.objects.filter(case=k1).count() == FollowUp.objects.filter(case=k1).count() == 1


def test_importing_the_same_file_twice_changes_nothing(world, mediation):
    lines = [HEADER, worker_row(world), event_row(world), case_row(world, mediation)]
    assert run(lines).ok
    counts = [m.objects.count() for m in (GridEvent, EventHistory, Case, CaseHistory, Party, GridWorker, ExternalRef)]
    again = run(lines)
    assert again.ok and again.created == {} and again.unchanged == {"grid_worker": 1, "event": 1, "case": 1}
    assert [
        m.objects.count() for m in (GridEvent, EventHistory, Case, CaseHistory, Party, GridWorker, ExternalRef)
    ] == counts


@pytest.mark.parametrize(
    "bad, field",
    [
        (lambda w: event_row(w, region="620102001001099"), "region"),  # unknown region
        (
            lambda w: event_row(
                w,
                timeline=[{"action": "report", "at": at(2025, 1, 6, 9)}, {"action": "accept", "at": at(2025, 1, 5, 9)}],
            ),
            "timeline[1]",
        ),
        (
            lambda w: event_row(
                w,
                timeline=[
                    {"action": "report", "at": at(2025, 1, 6, 9)},
                    {"action": "resolve", "at": at(2025, 1, 7), "resolution": "x"},
                ],
            ),
            "timeline[1]",
        ),  # resolved without being accepted: not in the state machine
        (lambda w: event_row(w, urgency="very"), "urgency"),
        (lambda w: event_row(w, category="nonsense"), "category"),
        (lambda w: event_row(w, reporter="W404"), "reporter"),
        (lambda w: event_row(w, timeline=[{"action": "report", "at": "2025-01-06T09:00:00"}]), "timeline[0].at"),
        (
            lambda w: event_row(
                w,
                timeline=[
                    {"action": "report", "at": at(2025, 1, 6)},
                    {"action": "accept", "at": at(2025, 1, 6, 10)},
                    {"action": "self_handle", "at": at(2025, 1, 6, 11)},
                    {"action": "resolve", "at": at(2025, 1, 7), "resolution": "x", "level": "county"},
                ],
            ),
            "timeline[3].level",
        ),
    ],
)
def test_each_bad_event_row_is_rejected_with_its_reason_and_nothing_is_written(world, bad, field):
    report = run([HEADER, worker_row(world), event_row(world, 2), bad(world)])
    assert not report.ok and not report.written
    assert [r.line for r in report.rejected] == [4]
    assert field in report.rejected[0].reasons, report.rejected[0].reasons
    assert GridEvent.objects.count() == GridWorker.objects.filter(name="张网格").count() == 0  # all or nothing


@pytest.mark.parametrize(
    "change, field",
    [
        ({"parties": [{"side": "applicant", "name": "甲", "id_number": "620102198001010016"}]}, "parties[0].id_number"),
        ({"parties": [{"side": "applicant", "name": "甲", "phone": "12345"}]}, "parties[0].phone"),
        (
            {
                "parties": [
                    {"side": "applicant", "kind": "organisation", "name": "公司", "credit_code": "91350100M000100Y4X"}
                ]
            },
            "parties[0].credit_code",
        ),
        ({"organisation": {"region": "620102001001", "name": "不存在的调委会"}}, "organisation"),
        ({"follow_ups": []}, "timeline[4]"),  # closing an agreement needs a follow-up
        ({"agreement": None}, "agreement"),
    ],
)
def test_each_bad_case_row_is_rejected_with_its_reason(world, mediation, change, field):
    report = run([HEADER, case_row(world, mediation, **change)])
    assert not report.ok and field in report.rejected[0].reasons, report.rejected[0].reasons
    assert Case.objects.count() == 0


def test_a_reused_external_id_with_different_content_is_rejected(world):
    assert run([HEADER, worker_row(world), event_row(world)]).ok
    report = run([HEADER, worker_row(world), event_row(world, title="另一件事")])
    assert [(r.kind, list(r.reasons)) for r in report.rejected] == [("event", ["id"])]
    inside = run([HEADER, worker_row(world, id="W2", account=""), worker_row(world, id="W2", account="", name="李")])
    assert [(r.line, list(r.reasons)) for r in inside.rejected] == [(3, ["id"])]


def test_a_bad_header_or_line_rejects_the_file(world):
    assert list(run([{"type": "event"}]).rejected[0].reasons) == ["type"]
    report = run([HEADER, "{not json\n", worker_row(world)])
    assert not report.ok and report.rejected[0].line == 2 and GridWorker.objects.filter(name="张网格").count() == 0


def test_sections_must_follow_the_documented_order(world):
    report = run([HEADER, event_row(world, reporter=""), worker_row(world)])
    assert [(r.line, r.kind) for r in report.rejected] == [(3, "grid_worker")]


def test_a_county_user_cannot_import_rows_for_another_county(world):
    foreign = event_row(world, 2, region=world.grid_b.code, reporter="")
    report = run([HEADER, event_row(world, 1, reporter=""), foreign], user=world.user_a)
    assert [(r.line, list(r.reasons)) for r in report.rejected] == [(3, ["region"])]
    assert "管辖" in report.rejected[0].reasons["region"][0]
    assert run([HEADER, event_row(world, 1, reporter="")], user=world.user_a).written


def test_a_dry_run_writes_nothing(world):
    report = run([HEADER, worker_row(world), event_row(world)], dry_run=True)
    assert report.ok and not report.written and report.created == {"grid_worker": 1, "event": 1}
    assert GridEvent.objects.count() == 0


# --- Export and the round trip ---------------------------------------------------------------------------------


def build_county(world, people, mediation, file_event):
    """Records of county A made through the services."""
    check_ids()
    centre, worker = world.user_a, world.worker_a
    e1 = file_event(contact_phone="13800001234")
    ev.event_accept(event=e1, user=centre)
    ev.event_self_handle(event=e1, user=centre)
    ev.event_resolve(event=e1, user=worker, resolution="已劝散")
    ev.event_verify(event=e1, user=worker)
    ev.event_feedback(event=e1, user=worker, feedback="satisfied")
    ev.event_close(event=e1, user=centre)
    e2 = file_event(title="道路破损")
    ev.event_accept(event=e2, user=centre)
    ev.event_dispatch(event=e2, user=centre, lead=world.dept_a)
    ev.event_department_accept(event=e2, user=people["police"])
    ev.event_resolve(event=e2, user=people["police"], resolution="已修复")
    ev.event_reopen(event=e2, user=worker, reason="未修好")
    ev.event_resolve(event=e2, user=people["police"], resolution="已修复")
    e3 = file_event(title="重复反映")
    ev.event_return(event=e3, user=centre, reason="重复")
    e4 = file_event(title="上报")
    ev.event_accept(event=e4, user=centre)
    ev.event_escalate(event=e4, user=centre, reason="需乡镇协调")
    mediator = mediation["mediator"]
    k1 = cases.case_register(
        user=mediator, organisation=mediation["village_org"], origin_region=world.village_a, dispute_type="neighbour",
        title="漏水", facts="楼上漏水", parties=[{"side": "applicant", "name": "甲", "id_number": ID_1, "phone": "13900001111"}],
    )  # fmt: skip
    cases.case_accept(case=k1, user=mediator)
    cases.case_assign(case=k1, user=mediator, mediator=mediator)
    cases.session_log(
        case=k1, user=mediator, held_on=timezone.localdate(), place="村委会", attendees="甲", notes="调解"
    )
    cases.case_agree(case=k1, user=mediator, terms="赔偿", signed_on=timezone.localdate())
    cases.follow_up_record(
        case=k1, user=mediator, visited_on=timezone.localdate(), fulfilment="full", satisfaction="satisfied"
    )
    k2 = cases.case_register(
        user=mediator, organisation=mediation["village_org"], origin_region=world.village_a, dispute_type="labour",
        title="欠薪", facts="欠薪", parties=[{"side": "applicant", "name": "甲", "id_number": ID_1}],
    )  # fmt: skip
    cases.case_accept(case=k2, user=mediator)
    cases.case_transfer(case=k2, user=mediator, to=mediation["county_org"], reason="涉及多方")
    assert k2.pk and Case.objects.get(pk=k2.pk).is_repeat


EVENT_FIELDS = [
    "category_id", "title", "description", "urgency", "source", "region_id", "region_code", "address", "reporter_id",
    "status", "handling_level", "lead_department_id", "self_handled", "resolved_level", "first_resolved_at",
    "first_resolved_level", "reopened_at", "resolution", "return_reason", "feedback", "reported_at", "responded_at",
    "resolved_at", "verified_at", "feedback_at", "closed_at", "respond_deadline", "resolve_deadline",
    "feedback_deadline", "contact_phone_index", "client_uuid",
]  # fmt: skip
CASE_FIELDS = [
    "number", "organisation_id", "region_code", "origin_region_id", "dispute_type", "risk_level", "people_involved",
    "largest_side", "is_mass", "title", "facts", "status", "mediator_id", "registered_at", "accepted_at",
    "concluded_at", "outcome", "first_concluded_at", "first_outcome", "assessment_code", "transferred_at", "closed_at",
    "conclusion_deadline", "conclusion_warn_at", "decline_reason", "failure_reason", "referral", "is_repeat",
]  # fmt: skip


# Sessions, follow-ups and confirmations are imported as rows; their history lines are not recreated.
RECORD_STEPS = ["session", "follow_up", "confirmation_apply", "confirmation_decide"]


def snapshot():
    return {
        "events": sorted(GridEvent.objects.values_list(*EVENT_FIELDS), key=str),
        "history": sorted(EventHistory.objects.values_list("event__client_uuid", "action", "from_status", "to_status"), key=str),
        "dispatches": sorted(EventDispatch.objects.values_list("event__client_uuid", "department_id", "role", "state"), key=str),
        "cases": sorted(Case.objects.values_list(*CASE_FIELDS), key=str),
        "parties": sorted(Party.objects.values_list("case__number", "name", "id_number_index", "phone_index", "id_number_masked"), key=str),
        "case_history": sorted(CaseHistory.objects.exclude(action__in=RECORD_STEPS).values_list("case__number", "action", "to_status"), key=str),
        "sessions": sorted(MediationSession.objects.values_list("case__number", "held_on", "place"), key=str),
        "follow_ups": sorted(FollowUp.objects.values_list("case__number", "visited_on", "fulfilment"), key=str),
    }  # fmt: skip


def wipe():
    for model in (Party, CaseHistory, MediationSession, FollowUp, Case, EventHistory, EventDispatch, GridEvent,
                  VisitRecord, GridWorker):  # fmt: skip
        model.objects.all().delete()


def test_an_export_imported_into_an_emptied_county_reproduces_the_records(world, people, mediation, file_event):
    build_county(world, people, mediation, file_event)
    before = snapshot()
    today = timezone.localdate()
    lines = list(export_records(code=world.county_a.code, start=today - dt.timedelta(days=1), end=today))
    assert sum('"type":"event"' in line for line in lines) == 4 and sum('"type":"case"' in line for line in lines) == 2
    wipe()
    report = import_records(open_stream=lambda: iter(lines))
    assert report.ok and report.written, report.as_dict()
    after = snapshot()
    for key in before:
        assert after[key] == before[key], key
    again = import_records(open_stream=lambda: iter(lines))
    # region rows go through the region import, which leaves identical regions unchanged
    assert again.ok and set(again.created) <= {"region"} and snapshot() == before


def test_the_export_masks_personal_data_unless_the_caller_may_see_it(world, people, mediation, file_event):
    build_county(world, people, mediation, file_event)
    today = timezone.localdate()
    grid_leader = people["leader"]  # no reveal capability
    masked = "".join(export_records(code=world.village_a.code, start=today, end=today, user=grid_leader))
    assert "13800001234" not in masked and "138****1234" in masked
    assert ID_1 not in masked and "620102********0017" in masked
    clear = "".join(export_records(code=world.county_a.code, start=today, end=today, user=world.user_a))
    assert "13800001234" in clear and ID_1 in clear
    with pytest.raises(PermissionError):
        list(export_records(code=world.county_b.code, start=today, end=today, user=world.user_a))
    assert AuditLog.objects.filter(action=AuditAction.EXPORT, model="governance.interchange").count() == 2


def test_the_commands_import_and_export(world, tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in [HEADER, worker_row(world), event_row(world)])
    )
    out = io.StringIO()
    call_command("import_records", str(path), "--dry-run", stdout=out, verbosity=0)
    assert "dry run" in out.getvalue() and GridEvent.objects.count() == 0
    call_command("import_records", str(path), "--as", world.user_a.username, stdout=io.StringIO(), verbosity=0)
    assert GridEvent.objects.count() == 1
    target = tmp_path / "export.jsonl"
    call_command("export_records", world.county_a.code, "--from", "2025-01-01", "--to", "2025-12-31", "-o", str(target))
    assert '"id":"' in target.read_text() and '"type":"event"' in target.read_text()


def test_an_imported_organisation_keeps_its_legal_representative_and_repeats_by_credit_code(world, mediation):
    company = {"side": "respondent", "kind": "organisation", "name": "兰州某物业服务有限公司",
               "credit_code": "91350100M000100Y43", "legal_representative": "钱八"}  # fmt: skip
    later = case_row(world, mediation, 2, parties=[company], timeline=[
        {"action": "register", "at": at(2025, 6, 1, 9)}, {"action": "accept", "at": at(2025, 6, 1, 10)},
    ], sessions=[], agreement=None, follow_ups=[], confirmation=None)  # fmt: skip
    report = run([HEADER, case_row(world, mediation, 1, parties=[company]), later])
    assert report.ok, report.as_dict()
    k1, k2 = Case.objects.order_by("registered_at")
    assert not k1.is_repeat and k2.is_repeat
    assert Party.objects.get(case=k1).legal_representative == "钱八"
    lines = export_records(code=world.county_a.code, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    exported = [json.loads(line) for line in lines]
    parties = [p for row in exported if row.get("type") == "case" for p in row["parties"]]
    assert {p.get("legal_representative") for p in parties} == {"钱八"}
