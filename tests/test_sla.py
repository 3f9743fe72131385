"""Time limits on the PRC calendar: 调休 working weekends, national holidays, unpublished years."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from grids.events.choices import LimitUnit
from grids.events.models import CalendarException
from grids.events.sla import (
    Limit,
    add_limit,
    clock_state,
    coverage_warning,
    is_workday,
    nth_working_day_after,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def test_the_national_day_week_is_not_worked_and_its_swapped_saturday_is():
    # 2026: 1–7 October off, Saturday 10 October is a working day (调休).
    assert not is_workday(dt.date(2026, 10, 1))
    assert is_workday(dt.date(2026, 10, 10))
    assert not is_workday(dt.date(2026, 10, 11))


def test_five_working_days_skip_the_holiday_and_count_the_swapped_saturday():
    # Reported Wednesday 30 Sept 2026: the working days after it are 8, 9, 10 (Saturday, 调休), 12, 13 Oct.
    deadline = add_limit(at(2026, 9, 30, 15, 0), Limit(5, LimitUnit.WORKING_DAYS))
    assert deadline == at(2026, 10, 13, 23, 59, 59)
    # Without the swapped Saturday the fifth working day would be the 14th.
    CalendarException.objects.create(date=dt.date(2026, 10, 10), is_workday=False)
    assert add_limit(at(2026, 9, 30, 15, 0), Limit(5, LimitUnit.WORKING_DAYS)) == at(2026, 10, 14, 23, 59, 59)


def test_the_start_date_itself_is_not_counted():
    assert nth_working_day_after(dt.date(2026, 11, 23), 1) == dt.date(2026, 11, 24)  # Monday → Tuesday
    assert nth_working_day_after(dt.date(2026, 11, 27), 1) == dt.date(2026, 11, 30)  # Friday → Monday


def test_an_hour_limit_ignores_the_calendar():
    assert add_limit(at(2026, 10, 1, 23, 30), Limit(1, LimitUnit.HOURS)) == at(2026, 10, 2, 0, 30)
    assert add_limit(at(2026, 10, 1, 9, 0), Limit(24, LimitUnit.HOURS)) == at(2026, 10, 2, 9, 0)


def test_natural_days_end_at_the_end_of_the_nth_day():
    assert add_limit(at(2026, 11, 23, 10, 0), Limit(7, LimitUnit.DAYS)) == at(2026, 11, 30, 23, 59, 59)


def test_an_unpublished_year_falls_back_to_monday_to_friday():
    # 2027 is not in the package yet: 1 January 2027 is a Friday and counts as a working day.
    assert is_workday(dt.date(2027, 1, 1))
    assert not is_workday(dt.date(2027, 1, 2))
    assert add_limit(at(2026, 12, 31, 9, 0), Limit(2, LimitUnit.WORKING_DAYS)) == at(2027, 1, 4, 23, 59, 59)


def test_staff_exceptions_override_the_fallback_and_the_package():
    CalendarException.objects.create(date=dt.date(2027, 1, 1), is_workday=False, note="元旦")
    CalendarException.objects.create(date=dt.date(2026, 10, 10), is_workday=False, note="test override")
    assert not is_workday(dt.date(2027, 1, 1))
    assert not is_workday(dt.date(2026, 10, 10))
    assert add_limit(at(2026, 12, 31, 9, 0), Limit(1, LimitUnit.WORKING_DAYS)) == at(2027, 1, 4, 23, 59, 59)


def test_administrators_are_warned_from_november_while_next_year_is_missing():
    assert coverage_warning(dt.date(2026, 10, 31)) is None
    assert "2027" in coverage_warning(dt.date(2026, 11, 1))
    CalendarException.objects.create(date=dt.date(2027, 2, 17), is_workday=False, note="春节")
    assert coverage_warning(dt.date(2026, 11, 1)) is None


def test_clock_states_turn_amber_at_80_percent_and_red_past_the_limit():
    start, deadline = at(2026, 11, 23, 8, 0), at(2026, 11, 23, 18, 0)
    assert clock_state(start, deadline, None, now=at(2026, 11, 23, 15, 59)) == "ok"
    assert clock_state(start, deadline, None, now=at(2026, 11, 23, 16, 0)) == "amber"
    assert clock_state(start, deadline, None, now=at(2026, 11, 23, 18, 1)) == "red"
    assert clock_state(start, deadline, at(2026, 11, 23, 17, 0)) == "done"
    assert clock_state(start, deadline, at(2026, 11, 23, 19, 0)) == "red"


@pytest.fixture
def november(monkeypatch):
    """1 November 2026 is past, and 2027's holidays are neither in the package nor entered."""
    import grids.events.context_processors as processors
    import grids.events.sla as sla

    monkeypatch.setattr(processors.timezone, "localdate", lambda: dt.date(2026, 11, 23))
    monkeypatch.setattr(sla, "package_covers", lambda year: year < 2027)


def calendar_maintainer(world, role="admin", region=None):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    user = UserFactory(username="calendar_keeper", role=role, region=region or world.province, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_calendarexception"))
    return user


def test_the_calendar_notice_reaches_only_those_who_maintain_the_calendar(world, rf, november):
    import grids.events.context_processors as processors

    request = rf.get("/")
    request.user = calendar_maintainer(world)
    context = processors.calendar_warning(request)
    assert "2027" in context["calendar_notice"] and context["calendar_url"] == "/admin/grids/calendarexception/"
    for user in (world.worker_a, world.user_a, world.admin_a):  # grid worker, centre staff, an admin not in the admin
        request.user = user
        assert processors.calendar_warning(request) == {}


def test_the_calendar_notice_is_a_translated_note_below_the_success_message(client, world, november, file_event):
    keeper = calendar_maintainer(world, role="centre_staff", region=world.county_a)  # a county centre keeps it
    event = file_event()
    client.force_login(keeper)
    response = client.post(f"/events/{event.pk}/act/accept/", {"accept-note": ""}, follow=True)
    page = response.content.decode()
    assert 'class="calendar-notice" role="note"' in page and 'class="error"' not in page
    assert page.index('class="messages"') < page.index("2027年的法定节假日安排尚未录入")
    assert 'href="/admin/grids/calendarexception/"' in page
    english = client.get("/", headers={"accept-language": "en"}).content.decode()
    assert "2027" in english and "法定节假日" not in english
    client.force_login(world.user_a)
    assert "calendar-notice" not in client.get("/").content.decode()


def test_a_rule_with_its_own_warning_moment_turns_amber_there():
    start, deadline = at(2026, 11, 1, 9, 0), at(2026, 12, 1, 23, 59, 59)  # a case's 30 days, amber from day 20
    warn = at(2026, 11, 21, 23, 59, 59)
    assert clock_state(start, deadline, None, now=at(2026, 11, 21, 12, 0), warn_at=warn) == "ok"
    assert clock_state(start, deadline, None, now=warn, warn_at=warn) == "amber"  # before 80 % (day 24)
    assert clock_state(start, deadline, None, now=at(2026, 12, 2, 0, 0), warn_at=warn) == "red"
    assert clock_state(start, deadline, at(2026, 11, 25, 9, 0), warn_at=warn) == "done"


@pytest.mark.parametrize(
    ("status", "responded", "resolved", "kind"),
    [
        ("reported", False, False, "respond"),
        ("reported", True, False, "resolve"),  # escalated: the next level's clock is the resolution
        ("dispatched", True, False, "resolve"),
        ("resolved", True, True, "feedback"),
        ("verified", True, True, "feedback"),
        ("closed", True, True, "resolve"),  # how the resolution went
        ("returned", False, False, ""),
        ("converted", True, False, ""),
    ],
)
def test_the_clock_that_matters_follows_the_state(status, responded, resolved, kind):
    from types import SimpleNamespace

    from grids.events.sla import current_clock

    moment = at(2026, 11, 23, 9, 0)
    event = SimpleNamespace(
        status=status, responded_at=moment if responded else None, resolved_at=moment if resolved else None
    )
    assert current_clock(event) == kind
