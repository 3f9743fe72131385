"""The production deployment files (docker-compose.yml, Dockerfile), checked without a Docker engine."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ["web", "worker", "beat"]


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]


def test_compose_runs_the_five_services(services):
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_postgres_and_redis(services, name):
    depends_on = services[name]["depends_on"]
    for backing in ("postgres", "redis"):
        assert depends_on[backing]["condition"] == "service_healthy"
        assert services[backing]["healthcheck"]["test"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_in_production_and_need_a_secret(services, name):
    environment = services[name]["environment"]
    assert environment["DJANGO_ENV"] == "production"
    assert environment["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")
    assert environment["DJANGO_ALLOWED_HOSTS"].startswith("${DJANGO_ALLOWED_HOSTS:?")
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["REDIS_URL"].startswith("redis://")


def test_worker_and_beat_commands(services):
    assert services["worker"]["command"][:4] == ["celery", "-A", "governance", "worker"]
    beat = services["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "governance", "beat"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat


def test_the_image_serves_governance_wsgi_with_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    command = next(line for line in dockerfile.splitlines() if line.startswith(("CMD", "ENTRYPOINT")))
    assert "gunicorn governance.wsgi" in command
    assert "migrate" in command
    assert "\nUSER " in dockerfile


def test_each_web_worker_freezes_its_start_up_heap():
    """The image's gunicorn loads governance.gunicorn_conf, whose worker hook freezes the start-up heap
    (docs/decisions.md); run in a child process, so that this test process keeps CPython's defaults."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "-c python:governance.gunicorn_conf" in dockerfile
    probe = (
        "import gc, django; django.setup()\n"
        "from governance import gunicorn_conf\n"
        "assert gc.get_freeze_count() == 0\n"
        "gunicorn_conf.post_worker_init(None)\n"
        "assert gc.get_freeze_count() > 0, gc.get_freeze_count()\n"
        "assert gc.get_threshold()[0] == gunicorn_conf.GC_YOUNG_THRESHOLD\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "governance.settings"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
