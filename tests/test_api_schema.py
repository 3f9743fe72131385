"""The OpenAPI schema describes the API: every operation, called with generated input by a
committee member's token and by a grid worker's, answers no 5xx, and every status code, content
type and body it answers is the one the schema documents (schemathesis, bounded and seeded)."""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from governance.choices import Role
from governance.wsgi import application

from .factories import UserFactory

ALTERNATE = itertools.count()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = application


@pytest.fixture
def in_test_transaction():
    """The WSGI app closes the database connection when a request ends; inside a test that would
    close the test's own transaction (on PostgreSQL). Django's test client lifts that the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(world, in_test_transaction) -> dict[str, str]:
    committee = UserFactory(username="committee_schema", role=Role.COMMITTEE_STAFF, region=world.county_a)
    return {
        "committee": Token.objects.create(user=committee).key,
        "grid worker": Token.objects.create(user=world.worker_a).key,
    }


@pytest.mark.schema
@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, tokens):
    # The examples of each operation alternate between the two tokens (deterministically: the
    # examples are derandomised), so both roles meet every operation at half the cost.
    key = list(tokens.values())[next(ALTERNATE) % len(tokens)]
    # identity: the in-process WSGI client does not unpack gzip as an HTTP client would
    headers = {"Authorization": f"Token {key}", "Accept-Encoding": "identity"}
    case.call_and_validate(headers=headers, checks=CHECKS)


def test_nested_errors_are_flat_field_names():
    from governance.api.errors import flatten_fields

    nested = {
        "items": {0: ["请填写合法的整数值。"]},
        "parties": [{}, {"phone": ["号码有误"]}],
        "x": {"non_field_errors": ["错"]},
    }
    assert flatten_fields(nested) == {
        "items[0]": ["请填写合法的整数值。"],
        "parties[1].phone": ["号码有误"],
        "x": ["错"],
    }


@pytest.mark.django_db
def test_an_unknown_api_address_answers_json_404_and_a_page_address_html(api, client, world):
    api.force_authenticate(world.user_a)
    response = api.get("/api/v1/no-such-resource/")
    assert response.status_code == 404 and response.json() == {"detail": "不存在或不在您的管辖范围内。", "fields": {}}
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_body_that_is_not_an_object_is_a_field_error(api, world):
    api.force_authenticate(world.worker_a)
    response = api.post("/api/v1/events/", [None, None], format="json")
    assert response.status_code == 400 and response.json()["detail"] == "请求体应为一个JSON对象（键值对）。"


@pytest.mark.django_db
@pytest.mark.parametrize("moment", ["1153-07-13T11:57:20+23:25", "2026-01-01T00:00:00-16:00", "1899-12-31T00:00:00Z"])
def test_a_moment_with_an_impossible_offset_or_year_is_a_field_error(api, world, moment):
    """PostgreSQL refuses a UTC offset of 16 h and more with an error; the filter refuses it first."""
    api.force_authenticate(world.province_user)
    for url in ("/api/v1/assessment/surveys/", "/api/v1/audit-log/"):
        response = api.get(url, {"since": moment})
        assert response.status_code == 400, (url, response.content)
        assert response.json()["fields"]["since"] == ["请输入1900至2100年之间、时区偏移不超过±14:00的时间。"]
    assert api.get("/api/v1/audit-log/", {"since": "2026-01-01T00:00:00+14:00"}).status_code == 200
