"""Platform plumbing: health check, API schema and offline docs, demo data, Celery, static assets."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from governance.choices import Role
from governance.models import AuditLog, User
from governance.tasks import verify_audit_chain
from grids.models import GridWorker, Region

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.mark.django_db
def test_healthz_reports_each_dependency(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["cache"] == "ok"
    assert body["broker"] == ("eager" if settings.CELERY_TASK_ALWAYS_EAGER else "ok")


@pytest.mark.django_db
def test_healthz_answers_503_when_the_broker_is_unreachable(client, settings):
    from governance.celery import app

    old = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager, app.conf.broker_url = False, "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.task_always_eager, app.conf.broker_url = old
    assert response.status_code == 503 and response.json()["broker"].startswith("error")


@pytest.mark.django_db
def test_the_openapi_schema_lists_the_v1_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/regions/", "/api/v1/departments/", "/api/v1/users/", "/api/v1/auth/token/"):
        assert path in schema["paths"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/", "/accounts/login/"])
def test_pages_load_nothing_from_outside(client, url):
    html = client.get(url).content.decode()
    assert not EXTERNAL.search(html), EXTERNAL.search(html)


def test_templates_and_static_files_reference_no_cdn():
    for path in [*ROOT.joinpath("templates").rglob("*.html"), *ROOT.joinpath("static").rglob("*.css")]:
        text = path.read_text(encoding="utf-8")
        assert not EXTERNAL.search(text), f"{path} loads from outside"
        assert "@import url(http" not in text


@pytest.mark.django_db
def test_the_small_demo_has_every_role_and_is_built_once(capsys):
    call_command("seed_demo", scale="small")
    out = capsys.readouterr().out
    assert "Demo#Grid2026" in out
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert Region.objects.filter(level=6).count() == 108
    worker = User.objects.get(role=Role.GRID_WORKER)
    assert GridWorker.objects.get(user=worker).grid == worker.region
    assert all(u.region_id for u in User.objects.all())
    assert "Assessment demo" in out  # last year's records and all six cycles, computed and published
    from assessment.models import AnnualResult, Cycle

    assert Cycle.objects.filter(status="finalised", published_at__isnull=False).count() == 6
    assert AnnualResult.objects.filter(level=4).count() == 12 and AnnualResult.objects.filter(grade="fail").exists()
    call_command("seed_demo", scale="small")
    assert "already exist" in capsys.readouterr().out
    assert Region.objects.filter(level=6).count() == 108


@pytest.mark.django_db
def test_demo_rollups_add_up(capsys):
    call_command("seed_demo", scale="small")
    province = Region.objects.get(code="62")
    grids = Region.objects.under("62").filter(level=6)
    assert province.population == sum(g.population for g in grids) > 0


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_on_the_worker_against_the_same_database(celery_worker, world):
    """With REDIS_URL set this goes through Redis to a real `celery worker` process."""
    expected = AuditLog.objects.count()
    result = verify_audit_chain.delay().get(timeout=60)
    assert result == {"checked": expected, "broken_at": None}


@pytest.mark.django_db
def test_the_county_scale_demo_builds_with_its_single_county(capsys):
    call_command("seed_demo", scale="county")
    assert Region.objects.filter(level=3).count() == 1
    assert User.objects.filter(role=Role.CENTRE_STAFF, region__level=3).count() == 1
