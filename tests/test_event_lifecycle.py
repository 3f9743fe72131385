"""The grid-event state machine: every transition allowed and refused, history, levels, duplicates."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance.choices import Role
from governance.codes import Level
from governance.models import AuditLog
from grids.events.choices import EventStatus
from grids.events.models import EventCategory, EventDispatch, EventHistory, GridEvent
from grids.events.selectors import dispatch_departments
from grids.events.services import events as svc
from grids.events.transitions import TRANSITIONS
from tests.factories import DepartmentFactory, UserFactory

from .factories import arrange

pytestmark = pytest.mark.django_db


def test_filing_stores_the_deadlines_and_the_history(world, file_event):
    event = file_event()
    assert event.status == EventStatus.REPORTED and event.handling_level == Level.VILLAGE
    assert event.region_code == world.grid_a.code
    assert event.respond_deadline - event.reported_at == dt.timedelta(hours=1)
    assert timezone.localtime(event.resolve_deadline).time() == dt.time(23, 59, 59)
    assert list(event.history.values_list("action", flat=True)) == ["report"]
    assert AuditLog.objects.filter(model="grids.gridevent", object_id=str(event.pk), action="create").exists()


def test_an_urgent_event_must_be_resolved_within_24_hours(file_event):
    event = file_event(urgency="urgent")
    assert event.resolve_deadline - event.reported_at == dt.timedelta(hours=24)


def test_resending_the_same_client_uuid_returns_the_same_event(world, file_event):
    key = uuid.uuid4()
    first = file_event(client_uuid=key)
    second = file_event(client_uuid=key, title="重发")
    assert first.pk == second.pk and GridEvent.objects.count() == 1
    assert second.title == "小区门口聚集"


def test_a_worker_cannot_file_into_a_foreign_grid(world, file_event):
    with pytest.raises(ValidationError) as exc:
        file_event(region=world.grid_b)
    assert "region" in exc.value.message_dict


def walk_to_resolved_by_department(event, world, people):
    svc.event_accept(event=event, user=people["leader"])
    svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
    svc.event_department_accept(event=event, user=people["police"])
    return svc.event_resolve(event=event, user=people["police"], resolution="已劝离并加强巡逻")


def test_the_whole_dispatched_path_to_archive(world, people, file_event):
    event = walk_to_resolved_by_department(file_event(), world, people)
    assert event.status == EventStatus.RESOLVED and event.resolved_level == Level.VILLAGE
    assert event.feedback_deadline is not None
    svc.event_verify(event=event, user=world.worker_a)
    svc.event_feedback(event=event, user=people["leader"], feedback="satisfied", note="电话回访满意")
    event = svc.event_close(event=event, user=people["leader"])
    assert event.status == EventStatus.CLOSED and event.closed_at
    actions = list(event.history.values_list("action", flat=True))
    assert actions == ["report", "accept", "dispatch", "department_accept", "resolve", "verify", "feedback", "close"]
    assert all(h.actor_id for h in event.history.exclude(action="report")) and event.responded_at


def test_the_self_handled_path(world, people, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    svc.event_self_handle(event=event, user=people["leader"])
    event = svc.event_resolve(event=event, user=world.worker_a, resolution="已现场劝导")
    assert event.status == EventStatus.RESOLVED and event.self_handled


def test_returning_needs_a_reason_and_ends_the_event(people, file_event):
    event = file_event()
    with pytest.raises(ValidationError):
        svc.event_return(event=event, user=people["leader"], reason=" ")
    event = svc.event_return(event=event, user=people["leader"], reason="重复上报")
    assert event.status == EventStatus.RETURNED and event.responded_at


def test_a_department_may_return_a_dispatch_to_the_centre(world, people, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
    event = svc.event_department_return(event=event, user=people["police"], reason="不属于本部门职责")
    assert event.status == EventStatus.ACCEPTED and event.lead_department is None
    assert EventDispatch.objects.get(event=event).state == "returned"


def test_dispatch_with_collaborators(world, people, file_event):
    from tests.factories import DepartmentFactory

    justice = DepartmentFactory(region=world.county_a, kind="司法", name="城关区司法局")
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a, collaborators=[justice])
    roles = dict(EventDispatch.objects.filter(event=event).values_list("department__name", "role"))
    assert roles == {world.dept_a.name: "lead", "城关区司法局": "collaborator"}


@pytest.fixture
def stations(world):
    """The township departments of both counties: 甲街道派出所 in county A, 乙镇派出所 in county B."""
    return {
        "a": DepartmentFactory(region=world.township_a, kind="公安", name="甲街道派出所"),
        "b": DepartmentFactory(region=world.township_b, kind="公安", name="乙镇派出所"),
        "city": DepartmentFactory(region=world.city, kind="公安", name="兰州市公安局"),
    }


def test_a_township_centre_dispatches_to_its_own_station_and_to_its_county(world, people, stations, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    offered = set(dispatch_departments(event=event, user=people["township"]).values_list("name", flat=True))
    assert offered == {"甲街道派出所", world.dept_a.name}  # not the sibling township's, not the city's
    event = svc.event_dispatch(event=event, user=people["township"], lead=stations["a"])
    assert event.status == EventStatus.DISPATCHED and event.lead_department == stations["a"]


def test_a_grid_leader_dispatches_to_the_township_stations_above_the_village(world, people, stations, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    event = svc.event_dispatch(event=event, user=people["leader"], lead=stations["a"])
    assert event.lead_department == stations["a"]


def test_a_township_station_handler_handles_what_was_dispatched_to_it(world, people, stations, file_event):
    handler = UserFactory(
        username="pcs_a", role=Role.DEPARTMENT_HANDLER, region=world.township_a, department=stations["a"]
    )
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    svc.event_dispatch(event=event, user=people["township"], lead=stations["a"])
    svc.event_department_accept(event=event, user=handler)
    event = svc.event_resolve(event=event, user=handler, resolution="民警到场劝离")
    assert event.status == EventStatus.RESOLVED and event.resolved_level == Level.VILLAGE


def test_a_county_centre_is_not_offered_the_city_departments_nor_a_sibling_townships(
    world, people, stations, file_event
):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    offered = set(dispatch_departments(event=event, user=world.user_a).values_list("name", flat=True))
    assert offered == {"甲街道派出所", world.dept_a.name}
    for department in (stations["b"], stations["city"]):
        with pytest.raises(ValidationError):
            svc.event_dispatch(event=event, user=world.user_a, lead=department)
    event.refresh_from_db()
    assert event.status == EventStatus.ACCEPTED and not EventDispatch.objects.filter(event=event).exists()


def test_a_city_centre_may_also_dispatch_to_the_city_departments(world, people, stations, file_event):
    city_centre = UserFactory(username="city_centre", role=Role.CENTRE_STAFF, region=world.city)
    event = file_event()
    offered = set(dispatch_departments(event=event, user=city_centre).values_list("name", flat=True))
    assert offered == {"甲街道派出所", world.dept_a.name, "兰州市公安局"}


def test_a_foreign_department_cannot_be_dispatched_to(world, people, file_event):
    event = file_event()
    svc.event_accept(event=event, user=people["leader"])
    with pytest.raises(ValidationError):
        svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_b)
    event.refresh_from_db()
    assert event.status == EventStatus.ACCEPTED


def test_escalation_moves_the_event_up_a_level_without_restarting_the_clock(world, people, file_event):
    event = file_event()
    deadline = event.resolve_deadline
    svc.event_accept(event=event, user=people["leader"])
    event = svc.event_escalate(event=event, user=people["leader"], reason="涉及多个村")
    assert event.status == EventStatus.REPORTED and event.handling_level == Level.TOWNSHIP
    with pytest.raises(ValidationError):  # the village no longer holds it
        svc.event_accept(event=event, user=people["leader"])
    svc.event_accept(event=event, user=people["township"])
    svc.event_self_handle(event=event, user=people["township"])
    event = svc.event_resolve(event=event, user=people["township"], resolution="镇综治中心协调解决")
    assert event.resolved_level == Level.TOWNSHIP and event.resolve_deadline == deadline


def test_reopening_after_a_failed_verification(world, people, file_event):
    event = walk_to_resolved_by_department(file_event(), world, people)
    event = svc.event_reopen(event=event, user=world.worker_a, reason="现场仍有聚集")
    assert event.status == EventStatus.HANDLING and event.resolved_at is None and event.resolved_level is None
    event = svc.event_resolve(event=event, user=people["police"], resolution="再次处置")
    assert event.status == EventStatus.RESOLVED


def test_feedback_needs_one_of_the_three_ratings(world, people, file_event):
    event = walk_to_resolved_by_department(file_event(), world, people)
    svc.event_verify(event=event, user=world.worker_a)
    with pytest.raises(ValidationError):
        svc.event_feedback(event=event, user=people["leader"], feedback="great")


# --- refused transitions -----------------------------------------------------------------


ILLEGAL = [
    ("resolve", EventStatus.REPORTED),
    ("close", EventStatus.REPORTED),
    ("verify", EventStatus.ACCEPTED),
    ("dispatch", EventStatus.REPORTED),
    ("department_accept", EventStatus.ACCEPTED),
    ("feedback", EventStatus.RESOLVED),
]


@pytest.mark.parametrize(("name", "status"), ILLEGAL)
def test_illegal_transitions_are_refused_with_the_current_state(world, file_event, name, status, settings):
    event = file_event()
    arrange(GridEvent.objects.filter(pk=event.pk), status=status)
    event.refresh_from_db()
    world.user_a.is_superuser = True  # any actor: it is the state that refuses
    kwargs = {"event": event, "user": world.user_a}
    extra = {"dispatch": {"lead": world.dept_a}, "resolve": {"resolution": "x"}, "feedback": {"feedback": "satisfied"}}
    with pytest.raises(svc.TransitionError) as exc:
        svc.transition(name, **kwargs, **extra.get(name, {}))
    assert "不能执行" in exc.value.messages[0]
    event.refresh_from_db()
    assert event.status == status


def test_every_state_has_its_allowed_transitions_declared_once():
    for transition in TRANSITIONS.values():
        assert transition.sources and transition.target in EventStatus.values


@pytest.mark.parametrize(
    ("actor", "name"),
    [
        ("worker", "accept"),  # a grid worker does not accept
        ("police_b", "department_accept"),  # another county's police
        ("worker", "resolve"),  # not left to the worker
        ("centre_b", "accept"),  # another county's centre
    ],
)
def test_the_wrong_actor_is_refused(world, people, file_event, actor, name):
    event = file_event()
    if name in ("department_accept", "resolve"):
        svc.event_accept(event=event, user=people["leader"])
        svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
        if name == "resolve":
            svc.event_department_accept(event=event, user=people["police"])
    user = {"worker": world.worker_a, "police_b": people["police_b"], "centre_b": world.user_b}[actor]
    extra = {"resolve": {"resolution": "x"}}.get(name, {})
    before = EventHistory.objects.filter(event=event).count()
    with pytest.raises(svc.TransitionError) as exc:
        svc.transition(name, event=event, user=user, **extra)
    assert "无权" in exc.value.messages[0]
    assert EventHistory.objects.filter(event=event).count() == before


def test_a_higher_centre_may_take_over(world, people, file_event):
    event = svc.event_accept(event=file_event(), user=world.user_a)  # the county centre, above the village
    assert event.status == EventStatus.ACCEPTED


# --- duplicates ---------------------------------------------------------------------------


def test_a_second_report_by_the_same_worker_is_flagged_and_mergeable(world, people, file_event):
    first = file_event()
    second = file_event(title="门口又聚集了")
    assert second.duplicate_of_id == first.pk
    merged = svc.event_merge(event=second, into=first, user=people["leader"])
    assert merged.status == EventStatus.MERGED and merged.merged_into_id == first.pk
    assert first.history.filter(action="absorb").exists()


def test_nearby_reports_from_different_people_are_flagged(world, file_event):
    first = file_event(lat=36.06100, lng=103.83400, reporter=None, reporter_name="群众甲", source="resident")
    second = file_event(lat=36.06150, lng=103.83420, reporter=None, reporter_name="群众乙", source="resident")
    far = file_event(lat=36.07000, lng=103.84000, reporter=None, reporter_name="群众丙", source="resident")
    assert second.duplicate_of_id == first.pk and far.duplicate_of_id is None


def test_the_same_address_or_phone_from_different_people_is_flagged_unless_the_earlier_was_returned_or_merged(
    world, file_event
):
    def resident(**fields):
        return file_event(reporter=None, source="resident", **fields)

    first = resident(reporter_name="群众甲", address="幸福路1号")
    same_address = resident(reporter_name="群众乙", address="幸福路1号")
    other_address = resident(reporter_name="群众丙", address="幸福路2号")
    by_phone = resident(reporter_name="群众丁", address="幸福路3号", contact_phone="13812345678")
    same_phone = resident(reporter_name="群众戊", address="幸福路4号", contact_phone="13812345678")
    assert same_address.duplicate_of_id == first.pk and other_address.duplicate_of_id is None
    assert by_phone.duplicate_of_id is None and same_phone.duplicate_of_id == by_phone.pk

    arrange(GridEvent.objects.filter(pk=first.pk), status=EventStatus.RETURNED)
    again = resident(reporter_name="群众己", address="幸福路1号")
    assert again.duplicate_of_id == same_address.pk
    arrange(GridEvent.objects.filter(pk__in=[same_address.pk, again.pk]), status=EventStatus.MERGED)
    assert resident(reporter_name="群众庚", address="幸福路1号").duplicate_of_id is None


def test_other_categories_are_not_duplicates(world, file_event):
    file_event()
    other = file_event(category=EventCategory.objects.get(code="fire"))
    assert other.duplicate_of_id is None


def test_department_handlers_see_only_what_was_dispatched_to_their_department(world, people, file_event):
    from tests.factories import DepartmentFactory, UserFactory

    justice = DepartmentFactory(region=world.county_a, kind="司法", name="城关区司法局")
    clerk = UserFactory(username="justice_a", role="department_handler", region=world.county_a, department=justice)
    event = file_event()
    other = file_event(title="另一事件", category=EventCategory.objects.get(code="fire"))
    assert not GridEvent.objects.restrict(people["police"]).exists()
    svc.event_accept(event=event, user=people["leader"])
    svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
    assert list(GridEvent.objects.restrict(people["police"])) == [event]
    assert not GridEvent.objects.restrict(clerk).exists()
    assert set(GridEvent.objects.restrict(world.user_a)) == {event, other}


def test_the_timeline_starts_when_the_event_was_reported(file_event):
    reported_at = timezone.now() - dt.timedelta(days=3)
    event = file_event(reported_at=reported_at)
    assert event.history.get(action="report").at == reported_at
