"""Bounded list counts (governance/counting.py): exact up to LIST_EXACT_COUNT_LIMIT, beyond it an
estimate flagged as such in the API (`count_exact: false`) and on the pages ("约", "超过"); paging
still reaches every row, and the lists' query counts do not grow with the rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from disputes.models import Case
from governance.counting import BoundedPaginator, bounded_counts, list_count
from governance.models import User
from grids.events.models import EventCategory, GridEvent
from grids.events.services import events as svc
from tests.test_disputes_api import service_case

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events/"
CASES = "/api/v1/disputes/cases/"


def as_user(api, user):
    api.force_authenticate(User.objects.get(pk=user.pk))
    return api


@pytest.fixture
def file_events(world, file_event):
    """file_events(n): n more events in county A, every other one dispatched."""
    categories = list(EventCategory.objects.all()[:5])
    made = []

    def make(n: int) -> list[GridEvent]:
        for _i in range(n):
            i = len(made)
            event = file_event(
                title=f"事件{i}", address=f"{i}号楼", category=categories[i % 5], reporter=world.user_a,
                region=world.grid_a2,
            )  # fmt: skip
            if i % 2:
                svc.event_accept(event=event, user=world.user_a)
                svc.event_dispatch(event=event, user=world.user_a, lead=world.dept_a)
            made.append(event)
        return made

    return make


# --- the counting itself -------------------------------------------------------------------------


def test_a_count_up_to_the_limit_is_exact(file_events):
    file_events(3)
    counted = list_count(GridEvent.objects.all(), limit=3)
    assert (counted.value, counted.exact, str(counted)) == (3, True, "3")


def test_a_count_above_the_limit_is_flagged_and_never_below_it(file_events):
    file_events(4)
    counted = list_count(GridEvent.objects.all(), limit=3)
    assert counted.exact is False
    assert counted.value >= 4  # the planner's estimate, or the bound itself where there is none


def test_many_bounded_counts_take_one_query(file_events):
    file_events(5)
    events = GridEvent.objects.all()
    with CaptureQueriesContext(connection) as ctx:
        counts = bounded_counts(
            {"all": events, "dispatched": events.filter(status="dispatched"), "none": events.filter(status="closed")},
            limit=2,
        )
    assert len(ctx.captured_queries) == 1
    assert counts["all"].exact is False and str(counts["all"]) == "超过2"
    assert (counts["dispatched"].value, counts["dispatched"].exact) == (2, True)
    assert (counts["none"].value, bool(counts["none"])) == (0, False)


def test_a_queryset_that_can_match_nothing_counts_zero(file_events):
    file_events(1)
    counts = bounded_counts({"none": GridEvent.objects.none(), "no_ids": GridEvent.objects.filter(pk__in=[])})
    assert {name: (c.value, c.exact) for name, c in counts.items()} == {"none": (0, True), "no_ids": (0, True)}


def test_the_paginator_pages_values_querysets_and_lists_as_they_are(file_events):
    ids = [event.pk for event in file_events(3)]
    values = BoundedPaginator(GridEvent.objects.order_by("pk").values("pk", "title"), 2)
    assert [row["pk"] for row in values.page(1)] == ids[:2] and values.count_exact
    assert list(BoundedPaginator(ids, 2).page(2)) == ids[2:]


def test_the_paginator_reads_every_row_once_past_an_estimated_total(file_events):
    ids = [event.pk for event in file_events(7)]
    paginator = BoundedPaginator(GridEvent.objects.order_by("pk"), 3)
    paginator.bounded = list_count(GridEvent.objects.all(), limit=2)
    seen, number = [], 1
    while True:
        page = paginator.page(number)
        seen += [event.pk for event in page]
        if not page.has_next():
            break
        number = page.next_page_number()
    assert seen == sorted(ids)
    assert list(paginator.page(9)) == []  # past the data: empty, not an error


# --- the API ---------------------------------------------------------------------------------------


def test_the_api_list_counts_exactly_below_the_limit(api, world, file_events, settings):
    settings.LIST_EXACT_COUNT_LIMIT = 5
    file_events(3)
    body = as_user(api, world.user_a).get(EVENTS).json()
    assert (body["count"], body["count_exact"], body["next"]) == (3, True, None)


def test_the_api_list_flags_an_estimate_above_the_limit_and_pages_through_every_row(api, world, file_events, settings):
    settings.LIST_EXACT_COUNT_LIMIT = 2
    expected = {event.pk for event in file_events(5)}
    client = as_user(api, world.user_a)
    body = client.get(f"{EVENTS}?page_size=2").json()
    assert body["count_exact"] is False and body["count"] >= 3
    seen = []
    while True:
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            break
        body = client.get(body["next"]).json()
    assert len(seen) == len(set(seen)) and set(seen) == expected
    # The county B user sees none of them, exactly.
    other = as_user(api, world.user_b).get(EVENTS).json()
    assert (other["count"], other["count_exact"], other["results"]) == (0, True, [])


def test_the_api_list_filtered_by_status_is_exact_when_few_match(api, world, file_events, settings):
    settings.LIST_EXACT_COUNT_LIMIT = 2
    file_events(5)  # two of them dispatched
    body = as_user(api, world.user_a).get(f"{EVENTS}?status=dispatched").json()
    assert (body["count"], body["count_exact"]) == (2, True)
    assert {row["status"] for row in body["results"]} == {"dispatched"}


def _api_queries(api, user, url) -> int:
    client = as_user(api, user)
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_event_list_query_count_does_not_grow_past_the_limit(api, world, file_events, settings):
    settings.LIST_EXACT_COUNT_LIMIT = 2
    file_events(4)
    above = {url: _api_queries(api, world.user_a, url) for url in (EVENTS, f"{EVENTS}?page=2&page_size=2")}
    file_events(10)
    assert {url: _api_queries(api, world.user_a, url) for url in above} == above
    # the bounded count, the estimate (PostgreSQL), the page's ids and its rows
    assert above[EVENTS] <= 6


def test_the_case_list_query_count_does_not_grow_past_the_limit(api, world, mediation, settings):
    settings.LIST_EXACT_COUNT_LIMIT = 2

    def register(n):
        for i in range(n):
            service_case(world, mediation, title=f"纠纷{i}")

    register(3)
    above = _api_queries(api, world.user_a, CASES)
    first = as_user(api, world.user_a).get(CASES).json()
    assert first["count_exact"] is False and len(first["results"]) == 3
    register(6)
    assert _api_queries(api, world.user_a, CASES) == above


def test_the_schema_documents_the_flag(api, world):
    schema = as_user(api, world.user_a).get("/api/schema/?format=json").json()
    page = schema["components"]["schemas"]["PaginatedEventList"]
    assert "count_exact" in page["required"] and page["properties"]["count_exact"]["type"] == "boolean"


# --- the pages -------------------------------------------------------------------------------------


def _page(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_queue_says_about_and_more_than_past_the_limit(client, world, file_events, settings, monkeypatch, password):
    monkeypatch.setattr("grids.events.views.queues.PAGE_SIZE", 2)
    settings.LIST_EXACT_COUNT_LIMIT = 3
    file_events(5)
    assert client.login(username=world.user_a.username, password=password)
    queries, html = _page(client, reverse("events:queue"))
    assert "超过3" in html  # the "all" chip
    assert "第 1 / 约" in html and "下一页" in html
    dispatched = _page(client, reverse("events:queue") + "?status=dispatched")[1]
    assert "第 1 / 1 页" in dispatched or "下一页" not in dispatched  # two dispatched: exact, one page
    file_events(6)
    assert _page(client, reverse("events:queue"))[0] == queries
    assert _page(client, reverse("events:queue") + "?page=4")[0] == queries


def test_the_home_card_counts_are_bounded(client, world, file_events, settings, password):
    settings.LIST_EXACT_COUNT_LIMIT = 3
    file_events(5)
    assert client.login(username=world.user_a.username, password=password)
    html = client.get(reverse("home")).content.decode()
    assert "超过3" in html
    settings.LIST_EXACT_COUNT_LIMIT = 100
    card = client.get(reverse("home")).context["event_card"]
    assert (card["open"].value, card["open"].exact) == (5, True)


def test_the_queue_lists_the_departments_and_keeps_the_chosen_one_selected(client, world, password):
    assert client.login(username=world.user_a.username, password=password)
    html = client.get(reverse("events:queue"), {"department": world.dept_a.pk}).content.decode()
    assert f'<option value="{world.dept_a.pk}" selected>{world.dept_a.name}</option>' in html
    assert world.dept_b.name not in html  # county B's department is outside the jurisdiction


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_lists_show_each_choice_label_in_the_callers_language(api, world, file_events, mediation, language):
    file_events(2)  # one reported, one dispatched
    service_case(world, mediation)
    client = as_user(api, world.user_a)
    events = client.get(EVENTS, HTTP_ACCEPT_LANGUAGE=language).json()["results"]
    cases = client.get(CASES, HTTP_ACCEPT_LANGUAGE=language).json()["results"]
    with translation.override(language):
        for row in events:
            event = GridEvent.objects.get(pk=row["id"])
            assert (row["status_display"], row["urgency_display"]) == (
                event.get_status_display(),
                event.get_urgency_display(),
            )
        for row in cases:
            case = Case.objects.get(pk=row["id"])
            assert (row["status_display"], row["risk_level_display"], row["dispute_type_display"]) == (
                case.get_status_display(),
                case.get_risk_level_display(),
                case.get_dispute_type_display(),
            )
    assert {row["status_display"] for row in events} == (
        {"已上报", "已分派"} if language == "zh-hans" else {"Reported", "Dispatched"}
    )
