"""The audit trail: every change and login recorded, append-only, tampering detectable."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

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


def test_the_chain_verifies_when_untouched(world):
    checked, broken = audit.verify_chain()
    assert broken is None and checked == AuditLog.objects.count() > 10
    call_command("verify_audit_chain")


def _delete_entry_bypassing_protection(seq: int) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE governance_auditlog DISABLE TRIGGER governance_auditlog_no_change")
            cursor.execute("DELETE FROM governance_auditlog WHERE seq = %s", [seq])
            cursor.execute("ALTER TABLE governance_auditlog ENABLE TRIGGER governance_auditlog_no_change")
        else:
            cursor.execute("DELETE FROM governance_auditlog WHERE seq = %s", [seq])


def _rewrite_entry_bypassing_protection(seq: int) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE governance_auditlog DISABLE TRIGGER governance_auditlog_no_change")
            cursor.execute("UPDATE governance_auditlog SET actor_name = 'x' WHERE seq = %s", [seq])
            cursor.execute("ALTER TABLE governance_auditlog ENABLE TRIGGER governance_auditlog_no_change")
        else:
            cursor.execute("DROP TRIGGER governance_auditlog_no_update")
            cursor.execute("UPDATE governance_auditlog SET actor_name = 'x' WHERE seq = %s", [seq])


def test_a_deleted_entry_breaks_the_chain(world):
    seqs = list(AuditLog.objects.order_by("seq").values_list("seq", flat=True))
    _delete_entry_bypassing_protection(seqs[3])
    checked, broken = audit.verify_chain()
    assert broken == seqs[4] and checked == 3
    with pytest.raises(CommandError, match=f"#{seqs[4]}"):
        call_command("verify_audit_chain")


def test_a_rewritten_entry_breaks_the_chain(world):
    seqs = list(AuditLog.objects.order_by("seq").values_list("seq", flat=True))
    _rewrite_entry_bypassing_protection(seqs[2])
    assert audit.verify_chain() == (2, seqs[2])


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
