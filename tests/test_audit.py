"""The audit trail: every change and login recorded, append-only, tampering detectable."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import TestCase

from governance import audit
from governance.models import AuditLog
from grids.models import Region

from .factories import RegionFactory

pytestmark = pytest.mark.django_db


def entries_for(instance):
    return AuditLog.objects.filter(model=instance._meta.label_lower, object_id=str(instance.pk)).order_by("seq")


def test_a_change_through_the_api_records_who_what_and_where(api, world):
    api.force_authenticate(world.user_a)
    response = api.patch(
        f"/api/v1/regions/{world.township_a.code}/", {"population": 12345}, format="json", REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 200
    entry = entries_for(world.township_a).last()
    assert entry.action == "update"
    assert entry.actor_id == world.user_a.pk and entry.actor_name == "centre_a"
    assert entry.ip == "10.1.2.3"
    assert entry.changes == {"population": [0, 12345]}
    assert entry.region_code == world.township_a.code


def test_token_callers_are_named_in_the_trail(api, world, password):
    token = api.post("/api/v1/auth/token/", {"username": "centre_a", "password": password}, format="json").json()[
        "token"
    ]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    api.patch(f"/api/v1/departments/{world.dept_a.pk}/", {"name": "城关区公安局"}, format="json")
    entry = entries_for(world.dept_a).last()
    assert entry.actor_name == "centre_a" and entry.changes == {"name": ["城关区公安分局", "城关区公安局"]}


def test_creation_and_deletion_are_recorded(world):
    region = RegionFactory.child(world.village_a, 7, name="临时网格")
    pk = region.pk
    region.delete()
    actions = list(AuditLog.objects.filter(model="grids.region", object_id=str(pk)).values_list("action", flat=True))
    assert actions == ["delete", "create"]  # newest first
    deleted = AuditLog.objects.filter(model="grids.region", object_id=str(pk), action="delete").get()
    assert deleted.changes["deleted"]["name"] == "临时网格"


def test_an_unchanged_save_records_nothing(world):
    before = AuditLog.objects.count()
    region = Region.objects.get(pk=world.grid_a.pk)
    region.save()
    assert AuditLog.objects.count() == before


def test_passwords_never_reach_the_trail(world):
    world.user_a.set_password("An0ther$ecret!!")
    world.user_a.save()
    entry = entries_for(world.user_a).last()
    assert entry.changes["password"] == ["******", "******"]
    assert "An0ther" not in str(AuditLog.objects.values_list("changes", flat=True))


def test_logins_and_failures_are_recorded_with_the_address(client, world, password):
    client.post("/accounts/login/", {"username": "centre_a", "password": "bad"}, REMOTE_ADDR="10.9.9.9")
    client.post("/accounts/login/", {"username": "centre_a", "password": password}, REMOTE_ADDR="10.9.9.9")
    failed, ok = AuditLog.objects.filter(action__in=["login_failed", "login"]).order_by("seq")
    assert failed.action == "login_failed" and failed.changes == {"username": "centre_a"} and failed.ip == "10.9.9.9"
    assert ok.action == "login" and ok.actor_name == "centre_a"


def test_the_orm_refuses_to_change_or_delete_entries(world):
    entry = AuditLog.objects.first()
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditLog.objects.filter(pk=entry.pk).update(action="create")
    with pytest.raises(TypeError):
        AuditLog.objects.all().delete()


def test_the_database_refuses_to_rewrite_entries(world):
    entry = AuditLog.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE governance_auditlog SET actor_name = 'someone else' WHERE seq = %s", [entry.seq])


def _sealed_positions() -> list[int]:
    """Seal everything pending as the sealer would after commit (the checkpoint is written
    only once the sealing transaction has committed)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        audit.seal_pending()
    return list(AuditLog.objects.order_by("chain_seq").values_list("chain_seq", flat=True))


def test_entries_are_sealed_into_the_chain_after_their_transaction_commits(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        region = RegionFactory.child(world.village_a, 8, name="新网格")
        entry = entries_for(region).get()
        assert entry.chain_seq is None and entry.hash == ""
    entry = entries_for(region).get()
    assert entry.chain_seq is not None and len(entry.hash) == 64 and entry.key_id == "demo"
    assert not AuditLog.objects.filter(chain_seq__isnull=True).exists()


def test_the_chain_verifies_when_untouched(world, audit_checkpoint):
    positions = _sealed_positions()
    assert positions == list(range(1, len(positions) + 1)) and len(positions) > 10
    report = audit.verify_chain()
    assert report.intact and report.checked == len(positions) and report.unsealed == 0
    assert f'"position":{len(positions)}' in audit_checkpoint.read_text()
    call_command("verify_audit_chain")


def _delete_entry_bypassing_protection(seq: int) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE governance_auditlog DISABLE TRIGGER governance_auditlog_no_change")
            cursor.execute("DELETE FROM governance_auditlog WHERE chain_seq = %s", [seq])
            cursor.execute("ALTER TABLE governance_auditlog ENABLE TRIGGER governance_auditlog_no_change")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS governance_auditlog_no_delete")
            cursor.execute("DELETE FROM governance_auditlog WHERE chain_seq = %s", [seq])


def _rewrite_entry_bypassing_protection(seq: int, **values) -> None:
    assignments = ", ".join(f"{name} = %s" for name in values)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE governance_auditlog DISABLE TRIGGER governance_auditlog_no_change")
            cursor.execute(
                f"UPDATE governance_auditlog SET {assignments} WHERE chain_seq = %s", [*values.values(), seq]
            )
            cursor.execute("ALTER TABLE governance_auditlog ENABLE TRIGGER governance_auditlog_no_change")
        else:
            cursor.execute("DROP TRIGGER governance_auditlog_no_update")
            cursor.execute(
                f"UPDATE governance_auditlog SET {assignments} WHERE chain_seq = %s", [*values.values(), seq]
            )


def test_the_database_refuses_to_delete_entries_on_every_backend(world):
    audit.seal_pending()
    entry = AuditLog.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM governance_auditlog WHERE seq = %s", [entry.seq])
    assert AuditLog.objects.filter(seq=entry.seq).exists()


def test_the_database_lets_a_seal_be_written_once_and_never_changed(world):
    audit.seal_pending()
    entry = AuditLog.objects.order_by("chain_seq").last()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE governance_auditlog SET hash = %s WHERE seq = %s", ["f" * 64, entry.seq])
    assert AuditLog.objects.get(seq=entry.seq).hash == entry.hash


def test_a_deleted_entry_is_named_by_its_missing_position(world):
    positions = _sealed_positions()
    _delete_entry_bypassing_protection(positions[3])
    report = audit.verify_chain()
    assert (report.reason, report.broken_at, report.checked) == ("missing", positions[3], 3)
    with pytest.raises(CommandError, match=f"#{positions[3]} is missing"):
        call_command("verify_audit_chain")


def test_a_rewritten_entry_is_named_by_its_position(world):
    positions = _sealed_positions()
    _rewrite_entry_bypassing_protection(positions[2], actor_name="someone else")
    report = audit.verify_chain()
    assert (report.reason, report.broken_at, report.checked) == ("altered", positions[2], 2)


def test_a_chain_recomputed_without_the_key_does_not_verify(world):
    """An attacker with database access but not the key re-hashes the entry they changed."""
    positions = _sealed_positions()
    target = AuditLog.objects.get(chain_seq=positions[-1])
    forged = audit.seal_hash(b"a guessed key", target.chain_seq, target.prev_hash, target.content_json())
    _rewrite_entry_bypassing_protection(target.chain_seq, hash=forged)
    assert audit.verify_chain().reason == "altered"


def test_a_cut_tail_is_detected_from_the_checkpoint(world):
    positions = _sealed_positions()
    for position in positions[-2:]:
        _delete_entry_bypassing_protection(position)
    report = audit.verify_chain()
    assert (report.reason, report.broken_at, report.checked) == ("truncated", positions[-2], len(positions) - 2)
    with pytest.raises(CommandError, match=f"from #{positions[-2]} on are missing"):
        call_command("verify_audit_chain")


def test_a_forged_or_missing_checkpoint_is_reported(world, audit_checkpoint):
    _sealed_positions()
    document = json.loads(audit_checkpoint.read_text())
    audit_checkpoint.write_text(json.dumps({**document, "position": document["position"] - 1}))
    assert audit.verify_chain().reason == "checkpoint_forged"
    audit_checkpoint.unlink()
    assert audit.verify_chain().reason == "checkpoint_missing"


def test_a_rotated_key_seals_new_entries_and_old_ones_still_verify(world, settings):
    _sealed_positions()
    settings.AUDIT_CHAIN_KEYS = ["k2026:a-new-secret", *settings.AUDIT_CHAIN_KEYS]
    RegionFactory.child(world.village_a, 9, name="轮换后网格")
    positions = _sealed_positions()
    assert AuditLog.objects.get(chain_seq=positions[-1]).key_id == "k2026"
    assert audit.verify_chain().intact
    settings.AUDIT_CHAIN_KEYS = ["k2026:a-new-secret"]  # the old key dropped too early
    report = audit.verify_chain()
    assert (report.reason, report.broken_at) == ("unknown_key", 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_appending_does_not_wait_for_another_open_transaction(world):
    """Filing must not serialise on a global lock: while another transaction that appended an
    entry is still open, this one appends and commits without waiting for it."""
    import threading

    from django.db import connections

    appended, release = threading.Event(), threading.Event()

    def other_writer():
        try:
            with transaction.atomic():
                audit.record("update", model_label="grids.region", object_id="other")
                appended.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_writer)
    thread.start()
    try:
        assert appended.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '2s'")
        entry = audit.record("update", model_label="grids.region", object_id="mine")  # sealed on commit
        assert AuditLog.objects.get(seq=entry.seq).chain_seq is not None
        assert not AuditLog.objects.filter(object_id="other").exists()  # still uncommitted
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
        release.set()
        thread.join()
    audit.seal_pending()
    assert AuditLog.objects.get(object_id="other").chain_seq > AuditLog.objects.get(object_id="mine").chain_seq


def test_the_trail_is_scoped_like_everything_else(api, world):
    api.force_authenticate(world.admin_a)
    rows = api.get("/api/v1/audit-log/", {"page_size": 500}).json()["results"]
    assert rows and all(row["region_code"].startswith(world.county_a.code) for row in rows)
    api.force_authenticate(world.user_a)  # centre staff: no audit capability
    assert api.get("/api/v1/audit-log/").status_code == 403


def test_the_audit_page_is_hidden_from_roles_without_access(client, world):
    client.force_login(world.worker_a)
    assert client.get("/org/audit/").status_code == 404
    client.force_login(world.admin_a)
    assert client.get("/org/audit/").status_code == 200


def test_the_trail_page_names_record_types_in_chinese_and_objects_by_their_own_label(client, world):
    from assessment.models import RectificationItem
    from tests.factories import UserFactory

    UserFactory(username="new_clerk", role="centre_staff", region=world.county_a)
    audit.record("update", model_label="assessment.rectificationitem", object_repr="RectificationItem object (17)",
                 region_code=world.county_a.code)  # fmt: skip
    client.force_login(world.admin_a)
    page = client.get("/org/audit/").content.decode()
    assert "<title>审计日志 · " in page
    assert "用户 new_clerk" in page and "governance.user" not in page
    assert "整改事项 #17" in page and "RectificationItem object" not in page
    assert str(RectificationItem(region_code="620102001", indicator="C06")) == "620102001 C06"


def test_the_department_page_has_a_title(client, world):
    client.force_login(world.user_a)
    assert "<title>职能部门 · " in client.get("/org/departments/").content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second connection needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_with_background_sealing_the_writer_answers_first_and_a_sealer_thread_seals_soon_after(
    world, settings, audit_checkpoint
):
    """As the web servers run: the committing request runs no sealing statement; its entries, and
    those of writers committing at the same moment, are in the chain a moment later."""
    import threading
    import time

    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    settings.AUDIT_SEAL_IN_BACKGROUND = True
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        mine = audit.record("update", model_label="grids.region", object_id="mine")
    statements = [q["sql"].split()[0] for q in ctx.captured_queries]
    assert [s for s in statements if s not in ("BEGIN", "COMMIT")] == ["INSERT"]  # the entry, no sealing

    def writer(n: int) -> None:
        try:
            for i in range(5):
                with transaction.atomic():
                    audit.record("update", model_label="grids.region", object_id=f"w{n}-{i}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 10
    while AuditLog.objects.filter(chain_seq__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert AuditLog.objects.get(seq=mine.seq).chain_seq is not None
    assert not AuditLog.objects.filter(chain_seq__isnull=True).exists()
    positions = sorted(AuditLog.objects.values_list("chain_seq", flat=True))
    assert positions == list(range(1, len(positions) + 1))  # no gap, no position twice
    assert audit.verify_chain().intact
