"""Shared fixtures: a small province with two sibling counties, users at several levels,
and — when a broker is configured — a real Celery worker process."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from governance.choices import Role
from governance.codes import Level

from .factories import TEST_PASSWORD, DepartmentFactory, GridWorkerFactory, RegionFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
# The real worker's audit checkpoint (tests that compare it with theirs copy theirs here).
WORKER_AUDIT_CHECKPOINT = ROOT / "test-artifacts" / "audit-checkpoint-worker.json"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """No persistent connections in tests: live-server request threads would otherwise keep
    the PostgreSQL test database open and block its removal at the end of the run."""
    from django.db import connections

    for connection in connections.all():
        connection.settings_dict["CONN_MAX_AGE"] = 0


@pytest.fixture(scope="session", autouse=True)
def close_stray_test_connections(django_db_setup, django_db_blocker):
    """Before the PostgreSQL test database is dropped, end sessions that live-server request
    threads (daemon threads, never joined) may still hold, so the drop cannot fail."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def isolated_cache(settings):
    """A fresh cache namespace per test (rate-limit counters must not leak between tests);
    a key prefix rather than a flush, because in the PostgreSQL run Redis also carries Celery."""
    caches = copy.deepcopy(settings.CACHES)
    namespace = f"t{uuid.uuid4().hex[:12]}"
    caches["default"]["KEY_PREFIX"] = namespace
    if caches["default"]["BACKEND"].endswith("LocMemCache"):
        caches["default"]["LOCATION"] = namespace
    settings.CACHES = caches


@pytest.fixture(autouse=True)
def audit_checkpoint(settings, tmp_path_factory):
    """Each test's database starts a new audit chain, so each gets its own checkpoint file
    (apart from the test's tmp_path, which some tests use as MEDIA_ROOT)."""
    settings.AUDIT_CHECKPOINT_PATH = tmp_path_factory.mktemp("audit") / "checkpoint.json"
    return settings.AUDIT_CHECKPOINT_PATH


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language (zh-Hans): a request in English leaves English active in the
    thread, which would otherwise leak into the next test's messages."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests that are not about hashing use a fast hasher
    (tests/test_login_security.py checks that the real settings hash with Argon2)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    """Province 62 → city 6201 → counties 620102 (A) and 620103 (B), each with one township,
    one village and two grids; a user of each county, one of the province and an outsider."""

    province: object
    city: object
    county_a: object
    county_b: object
    township_a: object
    township_b: object
    village_a: object
    village_b: object
    grid_a: object
    grid_a2: object
    grid_b: object
    dept_a: object
    dept_b: object
    province_user: object
    user_a: object
    user_b: object
    admin_a: object
    admin_province: object
    worker_a: object


def restore_indicator_catalogue() -> None:
    """The default indicator catalogue of migration assessment.0002 (after a flush)."""
    from assessment.catalogue import install_defaults
    from assessment.models import Indicator, IndicatorWeight, WeightProfile

    if not Indicator.objects.exists():
        install_defaults(Indicator, WeightProfile, IndicatorWeight)


@pytest.fixture
def world(db) -> World:
    from grids.events.catalogue import install_defaults
    from grids.events.models import EventCategory, SlaPolicy

    if not EventCategory.objects.exists():  # a transactional test flushed the migration's rows
        install_defaults(EventCategory, SlaPolicy)
    restore_indicator_catalogue()
    province = RegionFactory(code="62", name="甘肃省", level=Level.PROVINCE)
    city = RegionFactory.child(province, 1, name="兰州市")
    county_a = RegionFactory.child(city, 2, name="城关区")
    county_b = RegionFactory.child(city, 3, name="七里河区")
    township_a = RegionFactory.child(county_a, 1, name="甲街道")
    township_b = RegionFactory.child(county_b, 1, name="乙镇")
    village_a = RegionFactory.child(township_a, 1, name="甲社区")
    village_b = RegionFactory.child(township_b, 1, name="乙村")
    grid_a = RegionFactory.child(village_a, 1, name="甲社区第1网格", households=100, population=300)
    grid_a2 = RegionFactory.child(village_a, 2, name="甲社区第2网格", households=100, population=300)
    grid_b = RegionFactory.child(village_b, 1, name="乙村第1网格", households=100, population=300)
    GridWorkerFactory(grid=grid_a)
    GridWorkerFactory(grid=grid_b)
    dept_a = DepartmentFactory(region=county_a, name="城关区公安分局")
    dept_b = DepartmentFactory(region=county_b, name="七里河区公安分局")
    return World(
        province=province,
        city=city,
        county_a=county_a,
        county_b=county_b,
        township_a=township_a,
        township_b=township_b,
        village_a=village_a,
        village_b=village_b,
        grid_a=grid_a,
        grid_a2=grid_a2,
        grid_b=grid_b,
        dept_a=dept_a,
        dept_b=dept_b,
        province_user=UserFactory(username="province", role=Role.COMMITTEE_STAFF, region=province),
        user_a=UserFactory(username="centre_a", role=Role.CENTRE_STAFF, region=county_a),
        user_b=UserFactory(username="centre_b", role=Role.CENTRE_STAFF, region=county_b),
        admin_a=UserFactory(username="admin_a", role=Role.ADMIN, region=county_a),
        admin_province=UserFactory(username="admin_p", role=Role.ADMIN, region=province),
        worker_a=UserFactory(username="worker_a", role=Role.GRID_WORKER, region=grid_a),
    )


@pytest.fixture
def password() -> str:
    return TEST_PASSWORD


@pytest.fixture
def api(client):
    """A DRF test client."""
    from rest_framework.test import APIClient

    return APIClient()


def uses_real_broker() -> bool:
    return not settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real `celery worker` process on the test database when a broker is configured;
    None in eager mode (tasks then run in-process, through the same code)."""
    if not uses_real_broker():
        yield None
        return
    from governance.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    process = start_celery_worker(queue, log_name="celery-worker.log")
    try:
        yield process
    finally:
        stop_celery_worker(process)


def start_celery_worker(queue: str, *, extra_env: dict | None = None, log_name: str) -> subprocess.Popen:
    """A `celery worker` process on the test database, consuming `queue`; returns once it
    answers a ping (or raises, naming its log under test-artifacts/)."""
    from django.db import connection

    from governance.celery import app

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "AUDIT_CHECKPOINT_PATH": str(WORKER_AUDIT_CHECKPOINT),
        **(extra_env or {}),
    }
    log_path = ROOT / "test-artifacts" / log_name
    log_path.parent.mkdir(exist_ok=True)
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "governance", "worker", "--pool=solo", "-Q", queue,
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "--hostname", f"{queue}-{uuid.uuid4().hex[:4]}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    process.log = log
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited early; see {log_path}")
        replies = app.control.ping(timeout=1.0) or []
        if any(queue in name for reply in replies for name in reply):
            return process
    stop_celery_worker(process)
    raise RuntimeError(f"celery worker did not answer within 60 s; see {log_path}")


def stop_celery_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    process.log.close()


@pytest.fixture
def people(world):
    """The other actors of the event lifecycle in county A: a township centre, a grid leader,
    the county police handler, and a county-A handler of another department."""
    from governance.choices import Role

    return {
        "township": UserFactory(username="township_a", role=Role.CENTRE_STAFF, region=world.township_a),
        "leader": UserFactory(username="leader_a", role=Role.GRID_LEADER, region=world.village_a),
        "police": UserFactory(
            username="police_a", role=Role.DEPARTMENT_HANDLER, region=world.county_a, department=world.dept_a
        ),
        "police_b": UserFactory(
            username="police_b", role=Role.DEPARTMENT_HANDLER, region=world.county_b, department=world.dept_b
        ),
    }


@pytest.fixture
def file_event(world):
    """File an event through the service: file_event(**overrides) -> GridEvent."""
    from grids.events.models import EventCategory
    from grids.events.services.events import event_file

    def make(**overrides):
        values = {
            "reporter": world.worker_a,
            "category": EventCategory.objects.get(code="public_order"),
            "title": "小区门口聚集",
            "description": "晚间有人员聚集喧哗",
            "urgency": "normal",
            "source": "patrol",
            "region": world.grid_a,
        }
        values.update(overrides)
        event, _created = event_file(**values)
        return event

    return make


@pytest.fixture
def mediation(world):
    """Mediation organisations in counties A and B (village committee and county centre) and
    their mediators; returns a dict."""
    from disputes.choices import OrgKind
    from disputes.models import MediationOrganisation

    village_org = MediationOrganisation.objects.create(
        region=world.village_a, kind=OrgKind.VILLAGE_COMMITTEE, name="甲社区人民调解委员会"
    )
    county_org = MediationOrganisation.objects.create(
        region=world.county_a, kind=OrgKind.ONE_STOP, name="城关区矛盾纠纷多元化解中心"
    )
    org_b = MediationOrganisation.objects.create(
        region=world.township_b, kind=OrgKind.TOWNSHIP_COMMITTEE, name="乙镇人民调解委员会"
    )
    return {
        "village_org": village_org,
        "county_org": county_org,
        "org_b": org_b,
        "mediator": UserFactory(
            username="mediator_a", role="mediator", region=world.village_a, mediation_org=village_org
        ),
        "county_mediator": UserFactory(
            username="mediator_county", role="mediator", region=world.county_a, mediation_org=county_org
        ),
        "mediator_b": UserFactory(username="mediator_b", role="mediator", region=world.township_b, mediation_org=org_b),
    }
