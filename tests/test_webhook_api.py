"""Registering department webhooks over the API: scoped to the department and the jurisdiction."""

import pytest

from governance.models import AuditLog
from grids.events.models import Webhook

from .factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def system_a(world):
    return UserFactory(username="police_system", role="api_client", region=world.county_a, department=world.dept_a)


def test_a_department_system_registers_its_url_and_gets_the_secret_once(api, world, system_a):
    api.force_authenticate(system_a)
    response = api.post(
        "/api/v1/webhooks/", {"department": world.dept_a.pk, "url": "https://police.example/hook"}, format="json"
    )
    assert response.status_code == 201, response.content
    secret = response.json()["secret"]
    assert len(secret) >= 32 and Webhook.objects.get().secret == secret
    listed = api.get("/api/v1/webhooks/").json()["results"]
    assert "secret" not in listed[0]
    entry = AuditLog.objects.filter(model="grids.webhook").get()
    assert secret not in str(entry.changes)


def test_a_system_cannot_register_for_another_department(api, world, system_a):
    from .factories import DepartmentFactory

    other = DepartmentFactory(region=world.county_a, kind="司法", name="城关区司法局")
    api.force_authenticate(system_a)
    response = api.post("/api/v1/webhooks/", {"department": other.pk, "url": "https://x.example/h"}, format="json")
    assert response.status_code == 400 and "department" in response.json()["fields"]


def test_foreign_departments_and_webhooks_are_out_of_reach(api, world):
    Webhook.objects.create(department=world.dept_b, url="https://b.example/h", secret="s" * 20)
    api.force_authenticate(world.user_a)
    assert api.get("/api/v1/webhooks/").json()["count"] == 0
    response = api.post(
        "/api/v1/webhooks/", {"department": world.dept_b.pk, "url": "https://a.example/h"}, format="json"
    )
    assert response.status_code == 400 and "department" in response.json()["fields"]
    hook_b = Webhook.objects.get()
    assert api.get(f"/api/v1/webhooks/{hook_b.pk}/deliveries/").status_code == 404


def test_grid_workers_cannot_register_webhooks(api, world):
    api.force_authenticate(world.worker_a)
    assert api.get("/api/v1/webhooks/").status_code == 403


def test_a_non_http_url_is_refused_with_a_field_error(api, world):
    api.force_authenticate(world.user_a)
    response = api.post("/api/v1/webhooks/", {"department": world.dept_a.pk, "url": "ftp://x.example/h"}, format="json")
    assert response.status_code == 400 and "url" in response.json()["fields"]
