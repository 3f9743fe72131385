"""Issue #6: departments and mediation organisations in the file, merged duplicates, the history of
sessions and follow-ups, region rows a county re-imports from its own export, rectification items,
and the services' own refusals of a timeline step (docs/import-format.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from assessment import services as assessment
from assessment.choices import CycleStatus, RectificationStatus
from assessment.models import RectificationItem
from disputes.models import Case, CaseHistory, MediationOrganisation
from governance.choices import AuditAction
from governance.interchange.exporter import export_records
from governance.models import AuditLog, Department
from grids.events.models import EventDispatch, EventHistory, GridEvent

from .test_interchange import HEADER, at, case_row, check_ids, event_row, run, worker_row


def directory_rows(world):
    return [
        {"type": "department", "region": world.county_a.code, "name": "城关区住建局", "kind": "housing"},
        {"type": "mediation_organisation", "region": world.township_a.code, "name": "甲镇人民调解委员会",
         "kind": "township_committee", "department": {"region": world.county_a.code, "name": "城关区住建局"}},
    ]  # fmt: skip


def dispatched(world, n=1, lead="城关区住建局"):
    return event_row(world, n, timeline=[
        {"action": "report", "at": at(2025, 4, 1, 9)},
        {"action": "accept", "at": at(2025, 4, 1, 9, 30)},
        {"action": "dispatch", "at": at(2025, 4, 1, 10), "lead": {"region": world.county_a.code, "name": lead}},
        {"action": "department_accept", "at": at(2025, 4, 1, 11)},
        {"action": "resolve", "at": at(2025, 4, 2, 15), "resolution": "已修复"},
    ])  # fmt: skip


def test_departments_and_organisations_of_the_file_serve_its_events_and_cases(world, mediation):
    check_ids()
    org = {"region": world.township_a.code, "name": "甲镇人民调解委员会"}
    case = case_row(world, mediation, 1, organisation=org, timeline=[
        {"action": "register", "at": at(2025, 4, 3, 9)}, {"action": "accept", "at": at(2025, 4, 3, 10)},
    ], sessions=[], agreement=None, follow_ups=[], confirmation=None)  # fmt: skip
    lines = [HEADER, *directory_rows(world), worker_row(world), dispatched(world), case]
    report = run(lines)
    assert report.ok and report.written, report.as_dict()
    department = Department.objects.get(name="城关区住建局")
    assert department.kind == "住建" and department.region == world.county_a
    assert MediationOrganisation.objects.get(name="甲镇人民调解委员会").department == department
    event = GridEvent.objects.get()
    assert event.lead_department == department and event.status == "resolved"
    assert list(EventDispatch.objects.values_list("department__name", "state")) == [("城关区住建局", "closed")]
    assert Case.objects.get().organisation.name == "甲镇人民调解委员会"

    again = run(lines)
    assert again.ok and not again.created
    assert again.unchanged == {"department": 1, "mediation_organisation": 1, "grid_worker": 1, "event": 1, "case": 1}


def test_a_department_already_on_the_platform_with_other_content_is_refused(world):
    row = {"type": "department", "region": world.county_a.code, "name": world.dept_a.name, "kind": "housing"}
    report = run([HEADER, row])
    assert not report.ok and "kind" in report.rejected[0].reasons
    same = {**row, "kind": next(k for k, v in _kinds().items() if v == world.dept_a.kind)}
    assert run([HEADER, same]).unchanged == {"department": 1}


def _kinds():
    from governance.interchange.department import DEPARTMENT_KINDS

    return DEPARTMENT_KINDS


def test_a_dispatch_to_a_department_outside_the_callers_jurisdiction_is_refused(world):
    row = dispatched(world, lead=world.dept_b.name)
    row["timeline"][2]["lead"]["region"] = world.county_b.code
    report = run([HEADER, worker_row(world), row], user=world.user_a)
    assert not report.ok
    assert "不在您的管辖范围内" in str(report.rejected[0].reasons["timeline[2].lead"])


def test_a_duplicate_merged_into_an_earlier_event_keeps_both_sides_of_the_merge(world):
    duplicate = event_row(world, 2, timeline=[
        {"action": "report", "at": at(2025, 1, 6, 9, 5)},
        {"action": "merge", "at": at(2025, 1, 6, 9, 40), "into": "E1"},
    ])  # fmt: skip
    report = run([HEADER, worker_row(world), event_row(world), duplicate])
    assert report.ok and report.written, report.as_dict()
    first, second = GridEvent.objects.order_by("pk")
    assert second.status == "merged" and second.merged_into == first and second.closed_at
    assert EventHistory.objects.filter(event=first, action="absorb", data__merged=second.pk).exists()
    exported = [line for line in export_records(code=world.county_a.code, start=dt.date(2025, 1, 1),
                                                end=dt.date(2025, 12, 31)) if '"merge"' in line]  # fmt: skip
    assert exported and f'"into":"{first.client_uuid}"' in exported[0]


def test_a_merge_into_an_unknown_event_is_refused(world):
    duplicate = event_row(world, 2, timeline=[
        {"action": "report", "at": at(2025, 1, 6, 9, 5)},
        {"action": "merge", "at": at(2025, 1, 6, 9, 40), "into": "E404"},
    ])  # fmt: skip
    report = run([HEADER, worker_row(world), duplicate])
    assert not report.ok and "timeline[1].into" in report.rejected[0].reasons


@pytest.mark.parametrize(
    ("step", "field", "words"),
    [
        ({"action": "return", "at": at(2025, 1, 6, 10)}, "timeline[1].note", "退回必须说明理由"),
        ({"action": "accept", "at": at(2025, 1, 6, 10)}, "timeline[2]", "早于上一步"),
    ],
)
def test_the_services_own_refusals_name_the_timeline_step(world, step, field, words):
    timeline = [{"action": "report", "at": at(2025, 1, 6, 9)}, step]
    if step["action"] == "accept":
        timeline.append({"action": "self_handle", "at": at(2025, 1, 6, 9, 30)})
    report = run([HEADER, worker_row(world), event_row(world, timeline=timeline)])
    assert not report.ok
    assert words in " ".join(report.rejected[0].reasons[field]), report.as_dict()


def test_sessions_follow_ups_and_the_confirmation_leave_history_as_live_entry_does(world, mediation):
    check_ids()
    report = run([HEADER, case_row(world, mediation, 1)])
    assert report.ok and report.written, report.as_dict()
    actions = list(CaseHistory.objects.order_by("at", "pk").values_list("action", flat=True))
    assert actions == [
        "register", "accept", "assign", "session", "agree", "follow_up", "confirmation_apply",
        "confirmation_decide", "close",
    ]  # fmt: skip


def test_the_region_rows_of_a_countys_export_re_import_unchanged_including_those_above_it(world):
    lines = export_records(code=world.county_a.code, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    regions = [line for line in lines if '"type":"region"' in line or '"type":"header"' in line]
    report = run(regions, user=world.user_a)
    assert report.ok and not report.created, report.as_dict()["rejected"]
    assert report.unchanged == {"region": 7}  # province, city, county, township, village, two grids


def test_a_changed_region_outside_the_callers_subtree_is_refused(world):
    row = {"type": "region", "code": world.city.code, "name": "改名市", "level": 2, "parent_code": world.province.code}
    report = run([HEADER, row], user=world.user_a)
    assert not report.ok and "code" in report.rejected[0].reasons


# --- Rectification items -------------------------------------------------------------------------------------


@pytest.fixture
def finalised(world):
    cycle = assessment.create_cycle(kind="year_end", year=2025, root=world.county_a)
    cycle.status, cycle.finalised_at = CycleStatus.FINALISED, dt.datetime(2026, 1, 20, 10, tzinfo=dt.UTC)
    cycle.save(update_fields=["status", "finalised_at"])
    return cycle


def item_row(world, n=1, **overrides):
    row = {"type": "rectification_item", "id": f"R{n}", "unit": world.township_a.code, "indicator": "B01",
           "cycle": {"kind": "year_end", "year": 2025, "quarter": None, "root": world.county_a.code},
           "ratio": "0.45", "opened_on": "2026-01-20",
           "ledger": [{"action": "report", "at": at(2026, 2, 10, 9), "report": "已整改"},
                      {"action": "return", "at": at(2026, 2, 12, 9), "note": "证据不足"},
                      {"action": "report", "at": at(2026, 2, 20, 9), "report": "补充台账"},
                      {"action": "close", "at": at(2026, 3, 1, 9), "by": world.user_a.username}]}  # fmt: skip
    row.update(overrides)
    return row


def test_a_rectification_item_is_imported_with_its_ledger_and_derived_dates(world, finalised):
    report = run([HEADER, item_row(world)])
    assert report.ok and report.written, report.as_dict()
    item = RectificationItem.objects.get()
    # 10 working days after Tue 20 Jan 2026 is Tue 3 Feb; the rectification is due 30 days later.
    assert (item.notice_due_on, item.due_on) == (dt.date(2026, 2, 3), dt.date(2026, 3, 5))
    assert item.status == RectificationStatus.CLOSED and item.report == "补充台账"
    assert item.closed_on == dt.date(2026, 3, 1) and item.closed_by == world.user_a and not item.recurring
    assert AuditLog.objects.filter(action=AuditAction.UPDATE, model="assessment.rectificationitem").exists()
    assert run([HEADER, item_row(world)]).unchanged == {"rectification_item": 1}


def test_an_item_failing_again_in_a_later_cycle_is_recurring(world, finalised):
    later = assessment.create_cycle(kind="half_year", year=2026, root=world.county_a)
    later.status, later.finalised_at = CycleStatus.FINALISED, dt.datetime(2026, 7, 20, 10, tzinfo=dt.UTC)
    later.save(update_fields=["status", "finalised_at"])
    second = item_row(world, 2, cycle={"kind": "half_year", "year": 2026, "quarter": None,
                                       "root": world.county_a.code}, opened_on="2026-07-20", ledger=[])  # fmt: skip
    report = run([HEADER, item_row(world), second])
    assert report.ok and report.written, report.as_dict()
    assert list(RectificationItem.objects.order_by("pk").values_list("recurring", flat=True)) == [False, True]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ratio": "0.60"}, "ratio"),
        ({"indicator": "Z99"}, "indicator"),
        ({"ledger": [{"action": "close", "at": at(2026, 3, 1, 9)}]}, "ledger[0]"),
        ({"ledger": [{"action": "report", "at": at(2026, 2, 10, 9)}]}, "ledger[0].report"),
        ({"ledger": [{"action": "report", "at": at(2026, 1, 2, 9), "report": "早"}]}, "ledger[0].at"),
        ({"cycle": {"kind": "half_year", "year": 2025, "quarter": None, "root": "620102"}}, "cycle"),
    ],
)
def test_an_impossible_rectification_item_is_refused(world, finalised, overrides, field):
    report = run([HEADER, item_row(world, **overrides)])
    assert not report.ok and field in report.rejected[0].reasons, report.as_dict()
    assert not RectificationItem.objects.exists()


def test_an_item_the_platform_opened_itself_is_not_imported_again(world, finalised):
    RectificationItem.objects.create(cycle=finalised, unit=world.township_a, indicator="B01", ratio="0.40",
                                     notice_due_on=dt.date(2026, 2, 3), due_on=dt.date(2026, 3, 5))  # fmt: skip
    report = run([HEADER, item_row(world)])
    assert not report.ok and "indicator" in report.rejected[0].reasons


def test_a_finalised_cycles_items_round_trip_through_an_export(world, finalised):
    assert run([HEADER, item_row(world)]).written
    lines = list(export_records(code=world.county_a.code, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31)))
    RectificationItem.objects.all().delete()
    from governance.models import ExternalRef

    ExternalRef.objects.filter(kind="rectification_item").delete()
    report = run(lines)
    assert report.ok and report.created.get("rectification_item") == 1, report.as_dict()
    item = RectificationItem.objects.get()
    assert (item.status, item.report, item.closed_by) == (RectificationStatus.CLOSED, "补充台账", world.user_a)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"follow_ups": [{"visited_on": "2025-05-05", "fulfilment": "full", "satisfaction": "satisfied"}],
          "confirmation": None}, "回访"),
        ({"confirmation": {"court": "城关区人民法院", "applied_on": "2025-03-10", "decided_on": "2025-04-30",
                           "decision": "confirmed"}}, "司法确认"),
    ],
)  # fmt: skip
def test_a_case_closed_before_its_follow_up_or_the_courts_decision_is_refused(world, mediation, overrides, words):
    check_ids()
    report = run([HEADER, case_row(world, mediation, 1, **overrides)])  # closed on 2025-03-20
    assert not report.ok and words in str(report.rejected[0].reasons["timeline[4]"]), report.as_dict()


def test_a_visit_of_a_worker_without_an_account_is_refused_while_validating(world):
    visit = {"type": "visit", "id": "V1", "worker": "W1", "grid": world.grid_a.code, "date": "2025-03-01",
             "households": 12}  # fmt: skip
    report = run([HEADER, worker_row(world, account=""), visit], dry_run=True)
    assert not report.ok and report.rejected[0].line == 3 and "worker" in report.rejected[0].reasons
    assert run([HEADER, worker_row(world), visit], dry_run=True).ok


def test_a_township_department_is_imported_and_a_village_one_is_refused(world):
    ok = run(
        [HEADER, {"type": "department", "region": world.township_a.code, "name": "甲街道派出所", "kind": "police"}]
    )
    assert ok.ok and Department.objects.get(name="甲街道派出所").region == world.township_a
    refused = run(
        [HEADER, {"type": "department", "region": world.village_a.code, "name": "甲社区警务室", "kind": "police"}]
    )
    assert not refused.ok and not Department.objects.filter(name="甲社区警务室").exists()
