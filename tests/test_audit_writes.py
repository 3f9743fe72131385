"""Explicit audit entries of transitions, and bulk updates that are recorded or refused."""

import pytest
from django.apps import apps

from assessment.choices import CycleStatus
from assessment.models import Cycle
from assessment.services import create_cycle, run_cycle
from disputes import services as cases
from governance import audit
from governance.audit import AuditedModel, AuditedQuerySet, UnauditedUpdate
from governance.choices import AuditAction
from governance.models import AuditLog
from grids.events.choices import DispatchState, EventStatus
from grids.events.models import EventDispatch, GridEvent
from grids.events.services import events as svc
from grids.models import Region

from .test_case_lifecycle import register

pytestmark = pytest.mark.django_db

YEAR = 2025


def entries(model: str, pk) -> list[AuditLog]:
    return list(AuditLog.objects.filter(model=model, object_id=str(pk)).order_by("pk"))


def test_every_audited_model_has_an_audited_queryset():
    for model in apps.get_models():
        if issubclass(model, AuditedModel):
            for manager in model._meta.managers:
                assert isinstance(manager.get_queryset(), AuditedQuerySet), (model, manager.name)


def test_a_plain_update_of_an_audited_field_is_refused_and_writes_nothing(world):
    before = AuditLog.objects.count()
    with pytest.raises(UnauditedUpdate):
        Region.objects.filter(pk=world.grid_a.pk).update(population=1)
    with pytest.raises(UnauditedUpdate):
        world.grid_a.population = 2
        Region.objects.bulk_update([world.grid_a], ["population"])
    assert Region.objects.get(pk=world.grid_a.pk).population == 300
    assert AuditLog.objects.count() == before


def test_fields_left_out_of_the_trail_may_be_updated_plainly(world):
    before = AuditLog.objects.count()
    assert Region.objects.filter(pk=world.grid_a.pk).update(fulltime_workers=3) == 1  # audit_exclude
    assert AuditLog.objects.count() == before


def test_an_audited_update_of_one_row_is_an_update_entry_with_its_reason(world):
    assert Region.objects.filter(pk=world.grid_a.pk).audited_update(reason="人口普查", population=320) == 1
    entry = entries("grids.region", world.grid_a.pk)[-1]
    assert entry.action == AuditAction.UPDATE and entry.region_code == world.grid_a.code
    assert entry.changes == {"population": [300, 320], "reason": "人口普查"}


def test_an_audited_update_of_many_rows_is_one_bulk_entry_and_no_change_is_no_entry(world):
    grids = Region.objects.filter(pk__in=[world.grid_a.pk, world.grid_a2.pk])
    before = AuditLog.objects.count()
    assert grids.audited_update(reason="人口普查", population=300) == 2  # nothing changes
    assert AuditLog.objects.count() == before
    assert grids.audited_update(reason="人口普查", population=400) == 2
    bulk = AuditLog.objects.get(action=AuditAction.BULK, model="grids.region")
    assert bulk.changes == {
        "reason": "人口普查",
        "ids": [str(pk) for pk in sorted([world.grid_a.pk, world.grid_a2.pk])],
        "population": [[300], 400],
    }
    # Seen by whoever's jurisdiction holds both rows (the village), not by one grid's.
    code = bulk.region_code
    assert code.startswith(world.village_a.code) and not code.startswith(world.grid_a.code)
    assert world.grid_a.code.startswith(code) and world.grid_a2.code.startswith(code)


def test_a_transition_writes_one_entry_naming_it(world, people, file_event):
    event = file_event()
    count = len(entries("grids.gridevent", event.pk))
    svc.event_accept(event=event, user=people["leader"])
    new = entries("grids.gridevent", event.pk)[count:]
    assert len(new) == 1 and new[0].action == AuditAction.UPDATE
    assert new[0].changes["transition"] == "accept"
    assert new[0].changes["status"] == [EventStatus.REPORTED, EventStatus.ACCEPTED]
    assert new[0].actor_name  # the acting user's context, as for any entry


def test_a_case_transition_writes_one_entry_naming_it(world, mediation):
    case = register(world, mediation)
    count = len(entries("disputes.case", case.pk))
    cases.case_accept(case=case, user=mediation["mediator"])
    new = entries("disputes.case", case.pk)[count:]
    assert [(e.action, e.changes["transition"], e.changes["status"]) for e in new] == [
        (AuditAction.UPDATE, "accept", ["registered", "accepted"])
    ]


def test_closing_dispatches_is_recorded(world, people, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
    dispatch = EventDispatch.objects.get(event=event)
    svc.event_escalate(event=event, user=world.user_a, reason="需上级协调")
    assert EventDispatch.objects.get(pk=dispatch.pk).state == DispatchState.CLOSED
    entry = entries("grids.eventdispatch", dispatch.pk)[-1]
    assert entry.action == AuditAction.UPDATE
    assert entry.changes == {
        "state": [DispatchState.PENDING, DispatchState.CLOSED],
        "reason": f"event {event.pk}: escalate",
    }
    assert entry.region_code == world.grid_a.code


def test_a_cycle_computed_and_failed_are_recorded(world, monkeypatch):
    cycle = create_cycle(kind="year_end", year=YEAR, root=world.city)
    run_cycle(cycle.pk)
    status_entries = [e for e in entries("assessment.cycle", cycle.pk) if "status" in e.changes]
    assert status_entries[-1].changes["status"] == [CycleStatus.RUNNING, CycleStatus.COMPUTED]
    assert status_entries[-1].changes["reason"] == "assessment run computed"

    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("assessment.engine.run._store_annual", boom)
    with pytest.raises(RuntimeError):
        run_cycle(cycle.pk)
    last = [e for e in entries("assessment.cycle", cycle.pk) if "status" in e.changes][-1]
    assert last.changes["status"] == [CycleStatus.RUNNING, CycleStatus.FAILED]
    assert "database went away" in last.changes["error"][1]
    assert Cycle.objects.get(pk=cycle.pk).status == CycleStatus.FAILED


def test_inside_a_recorded_bulk_operation_plain_updates_pass(world):
    with audit.bulk_entry_recorded():
        GridEvent.objects.filter(pk__in=[]).update(status=EventStatus.CLOSED)
        Region.objects.filter(pk=world.grid_a.pk).update(population=5)
    with pytest.raises(UnauditedUpdate):
        Region.objects.filter(pk=world.grid_a.pk).update(population=6)
