"""Platform plumbing: health check, API schema and offline docs, demo data, Celery, static assets."""

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from governance.choices import Role
from governance.models import AuditLog, User
from governance.tasks import verify_audit_chain
from grids.models import GridWorker, Region

from .conftest import WORKER_AUDIT_CHECKPOINT

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
def test_the_schema_is_generated_once_per_language_not_per_request(client, monkeypatch):
    from drf_spectacular.generators import SchemaGenerator

    from governance.api.views import CachedSchemaView

    monkeypatch.setattr(CachedSchemaView, "_schemas", {})
    calls = []
    original = SchemaGenerator.get_schema
    monkeypatch.setattr(SchemaGenerator, "get_schema", lambda self, **kw: calls.append(1) or original(self, **kw))
    first = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert client.get("/api/schema/", HTTP_ACCEPT="application/json").json() == first and len(calls) == 1
    english = client.get("/api/schema/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert len(calls) == 2 and english["paths"].keys() == first["paths"].keys()


@pytest.mark.django_db
def test_the_api_docs_and_schema_answer_in_a_few_queries(client, world, django_assert_max_num_queries):
    client.force_login(world.user_a)
    client.get("/api/schema/")  # the first request generates the schema
    for url in ("/api/docs/", "/api/schema/"):
        with django_assert_max_num_queries(6):  # session, user, unread notifications, the session save (3)
            assert client.get(url).status_code == 200


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
    from assessment.periods import period_for

    today = timezone.localdate()
    assert Cycle.objects.filter(year=today.year - 1, status="finalised", published_at__isnull=False).count() == 6
    finished = [(k, q) for k, q in [("spot_check", n) for n in (1, 2, 3, 4)] + [("half_year", None), ("year_end", None)]
                if period_for(k, today.year, q).last < today]  # fmt: skip
    assert Cycle.objects.filter(year=today.year, status="finalised", published_at__isnull=False).count() == len(
        finished
    )
    assert AnnualResult.objects.filter(level=4).count() == 12
    grades = set(AnnualResult.objects.filter(level=4, cycle__year=today.year - 1).values_list("grade", flat=True))
    assert grades == {"excellent", "good", "pass", "fail"}  # a spread the dashboard can show
    assert AnnualResult.objects.filter(grade="excellent", fiscal_tilt__gte=5).exists()
    call_command("seed_demo", scale="small")
    assert "already exist" in capsys.readouterr().out
    assert Region.objects.filter(level=6).count() == 108


def test_the_demo_steps_run_in_their_places_and_only_at_their_scales():
    from governance import demo

    assert [s.name for s in demo.seeders("small")] == [
        "regions", "departments", "mediation-organisations", "accounts", "events", "cases", "resident-report",
        "assessment", "dashboard-activity",
    ]  # fmt: skip
    assert [s.name for s in demo.seeders("county")] == [
        "regions", "departments", "mediation-organisations", "accounts", "dashboard-activity",
    ]  # fmt: skip
    assert demo.scales() == ["small", "county", "province"]
    with pytest.raises(ValueError, match="taken by 'regions'"):
        demo.register_seeder("another", place=10, run="grids.demo.seed_regions")


@pytest.mark.django_db
def test_the_small_demo_leaves_work_below_the_county_and_on_the_assessors_desk(client, capsys):
    """What a new user meets on `make demo`: a township dispatching to its own stations, and an
    assessor of the current cycle with units assigned, some scored and some to do."""
    from assessment.models import AssessorGroup, Cycle, Indicator
    from governance.codes import Level
    from governance.models import Department
    from grids.events.models import GridEvent

    call_command("seed_demo", scale="small")
    township_centre = User.objects.get(role=Role.CENTRE_STAFF, region__level=Level.TOWNSHIP)
    station = User.objects.get(role=Role.DEPARTMENT_HANDLER, region__level=Level.TOWNSHIP).department
    assert station.name.endswith("派出所") and station.region == township_centre.region
    townships = Region.objects.filter(level=Level.TOWNSHIP).count()
    assert Department.objects.filter(region__level=Level.TOWNSHIP).count() == 5 * townships
    assert GridEvent.objects.filter(lead_department=station).exists()
    client.force_login(township_centre)
    assert station.name in client.get("/org/departments/").content.decode()

    # The mediator's home is their board, with open cases — one against a company, as an organisation.
    mediator = User.objects.get(role=Role.MEDIATOR)
    client.force_login(mediator)
    board = client.get("/", follow=True).content.decode()
    assert "小区电梯长期故障维修费用分摊纠纷" in board and "楼上漏水引发的邻里纠纷" in board
    from disputes.models import Party

    company = Party.objects.get(name="兰州某物业服务有限公司", case__status__in=["accepted", "mediating"])
    assert company.kind == "organisation" and company.legal_representative == "钱八"
    # A resident follows the demo's 随手拍 report with its number and the phone's last four digits.
    report = GridEvent.objects.get(source="resident", contact_phone_index__gt="")
    status = client.post("/report/status/", {"number": report.pk, "phone_last4": "1234"}).content.decode()
    assert "等待受理" in status

    assessor = User.objects.get(role=Role.ASSESSOR)
    client.force_login(assessor)
    desk = client.get("/assessment/scoring/").content.decode()
    assert "本组没有分配单位" not in desk
    assessed = Indicator.objects.filter(rule="assessed").count()
    assert f"0 / {assessed}" in desk and f"{assessed} / {assessed}" in desk  # work done, and work to do
    current = Cycle.objects.get(year=timezone.localdate().year, root=assessor.region)
    group = AssessorGroup.objects.get(cycle=current)
    assert group.members.get() == assessor and group.units.count() == 4  # the county and its 3 townships
    assert 0 < group.scores.count() < 4 * assessed
    committee = User.objects.get(role=Role.COMMITTEE_STAFF, region=assessor.region)
    client.force_login(committee)
    groups_page = client.get("/assessment/groups/").content.decode()
    assert f"/assessment/groups/{group.pk}/" in groups_page  # the organiser manages its own groups
    assert 'href="/assessment/groups/"' in client.get(f"/assessment/{current.pk}/").content.decode()
    client.force_login(assessor)
    assert "管理本周期的考核组" not in client.get(f"/assessment/{current.pk}/").content.decode()


@pytest.mark.django_db
def test_demo_rollups_add_up(capsys):
    call_command("seed_demo", scale="small")
    province = Region.objects.get(code="62")
    grids = Region.objects.under("62").filter(level=6)
    assert province.population == sum(g.population for g in grids) > 0


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_on_the_worker_against_the_same_database(celery_worker, world):
    """With REDIS_URL set this goes through Redis to a real `celery worker` process, which
    seals and verifies the chain the test process wrote (sharing its checkpoint, as the
    services of one deployment do)."""
    expected = AuditLog.objects.count()
    if settings.AUDIT_CHECKPOINT_PATH.exists():
        WORKER_AUDIT_CHECKPOINT.parent.mkdir(exist_ok=True)
        shutil.copy(settings.AUDIT_CHECKPOINT_PATH, WORKER_AUDIT_CHECKPOINT)
    result = verify_audit_chain.delay().get(timeout=60)
    assert result == {"checked": expected, "broken_at": None, "reason": ""}


@pytest.mark.django_db
def test_the_county_scale_demo_builds_with_its_single_county(capsys):
    call_command("seed_demo", scale="county")
    assert Region.objects.filter(level=3).count() == 1
    assert User.objects.filter(role=Role.CENTRE_STAFF, region__level=3).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["scoreappeal", "credibilityflag", "reportbundle"])
def test_after_scores_records_are_readable_but_not_editable_in_the_admin(client, model):
    admin = User.objects.create_superuser("root_admin", password="Root#Passw0rd-2026")
    client.force_login(admin)
    assert client.get(f"/admin/assessment/{model}/").status_code == 200
    assert client.get(f"/admin/assessment/{model}/add/").status_code == 403


def test_a_sqlite_file_database_runs_in_wal_mode_so_long_reads_never_block_writers(tmp_path, django_db_blocker):
    """The demo's SQLite: while a cycle computes (long reads), a grid worker can still file."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the demo's database engine only")
    from governance.sqlite_backend.base import DatabaseWrapper

    path = tmp_path / "demo.sqlite3"
    reader = DatabaseWrapper({**connection.settings_dict, "NAME": str(path)}, alias="wal-reader")
    writer = DatabaseWrapper({**connection.settings_dict, "NAME": str(path)}, alias="wal-writer")
    with django_db_blocker.unblock():
        _read_while_writing(reader, writer)


def _read_while_writing(reader, writer) -> None:
    try:
        with writer.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("CREATE TABLE t (n integer)")
        reader.set_autocommit(False)
        with reader.cursor() as cursor:  # a read transaction stays open, as a long aggregate does
            cursor.execute("SELECT count(*) FROM t")
        with writer.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 0")  # would fail at once if the reader blocked it
            cursor.execute("INSERT INTO t VALUES (1)")
    finally:
        reader.close()
        writer.close()
