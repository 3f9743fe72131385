"""Login security: Argon2, the password policy, lockout, idle timeout and deploy checks."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token

from governance import ratelimit
from governance.auth import character_classes
from governance.models import AuditLog, User

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_passwords_are_hashed_with_argon2(world, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    world.user_a.set_password("Str0ng&Secret!")
    assert world.user_a.password.startswith("argon2$")
    assert world.user_a.check_password("Str0ng&Secret!")


def test_the_real_settings_hash_with_argon2_first():
    from governance import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Short1!", False),  # under 12 characters
        ("alllowercaseletters", False),  # one class
        ("lowercase12345678", False),  # two classes
        ("Lowercase12345678", True),  # three classes
        ("lower-case-words-9", True),  # lower, symbol, digit
        ("Gr1d!Worker#2026", True),
    ],
)
def test_the_password_policy_wants_12_characters_of_3_classes(password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_character_classes_are_counted():
    assert character_classes("aA1!") == 4
    assert character_classes("中文密码abc") == 2  # Chinese characters count as symbols


def test_a_policy_failure_is_explained_in_chinese_by_default():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        validate_password("alllowercaseletters")
    assert any("至少3类" in message for message in exc.value.messages)


def test_successful_login_lands_on_home_and_is_audited(client, world, password):
    response = login(client, "centre_a", password)
    assert response.status_code == 302 and response.url == "/"
    entry = AuditLog.objects.filter(action="login").first()
    assert entry.actor_name == "centre_a" and entry.ip == "127.0.0.1"
    assert entry.region_code == world.county_a.code


def test_five_failures_lock_the_account_for_30_minutes(client, world, password):
    for _ in range(4):
        response = login(client, "centre_a", "wrong-password")
        assert "锁定" not in response.content.decode().split("连续失败5次")[0]
    response = login(client, "centre_a", "wrong-password")
    assert "账户已锁定" in response.content.decode()
    world.user_a.refresh_from_db()
    remaining = world.user_a.locked_until - timezone.now()
    assert dt.timedelta(minutes=29) < remaining <= dt.timedelta(minutes=30)
    # The right password no longer opens the account...
    response = login(client, "centre_a", password)
    assert response.status_code == 200 and "账户已锁定" in response.content.decode()
    assert AuditLog.objects.filter(action="lockout", object_id=str(world.user_a.pk)).count() == 1
    assert AuditLog.objects.filter(action="login_failed").count() == 6


def test_the_lock_expires_after_30_minutes(client, world, password):
    User.objects.filter(pk=world.user_a.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert login(client, "centre_a", password).status_code == 302


def test_a_success_resets_the_failure_count(client, world, password):
    for _ in range(4):
        login(client, "centre_a", "wrong-password")
    assert login(client, "centre_a", password).status_code == 302
    client.logout()
    for _ in range(4):
        login(client, "centre_a", "wrong-password")
    world.user_a.refresh_from_db()
    assert world.user_a.locked_until is None and world.user_a.failed_logins == 4


def test_the_token_endpoint_shares_the_lockout(api, world, password):
    for _ in range(5):
        api.post("/api/v1/auth/token/", {"username": "centre_b", "password": "nope"}, format="json")
    response = api.post("/api/v1/auth/token/", {"username": "centre_b", "password": password}, format="json")
    assert response.status_code == 400
    assert "锁定" in response.json()["detail"]


def _token(api, username, password) -> str:
    response = api.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    return response.json()["token"]


def test_a_locked_accounts_token_and_session_stop_working(api, client, world, password):
    token = _token(api, "centre_a", password)
    client.force_login(world.user_a)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/regions/").status_code == 200
    User.objects.filter(pk=world.user_a.pk).update(locked_until=timezone.now() + dt.timedelta(minutes=20))
    response = api.get("/api/v1/regions/")
    assert response.status_code == 401 and "锁定" in response.json()["detail"]
    assert client.get("/regions/").status_code == 302  # back to the login page
    User.objects.filter(pk=world.user_a.pk).update(locked_until=None)
    assert api.get("/api/v1/regions/").status_code == 200


def test_a_deactivated_accounts_token_and_session_stop_working(api, client, world, password):
    token = _token(api, "centre_a", password)
    client.force_login(world.user_a)
    world.user_a.is_active = False
    world.user_a.save(update_fields=["is_active"])
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/regions/").status_code == 401
    assert client.get("/regions/").status_code == 302


def test_a_password_change_ends_tokens_and_sessions(api, client, world, password):
    token = _token(api, "centre_a", password)
    client.force_login(world.user_a)
    world.user_a.set_password("N3w-passw0rd!x")
    world.user_a.save()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/regions/").status_code == 401
    assert client.get("/regions/").status_code == 302
    api.credentials()
    assert _token(api, "centre_a", "N3w-passw0rd!x") != token


def test_an_administrator_can_lift_a_lock(api, world):
    User.objects.filter(pk=world.user_a.pk).update(locked_until=timezone.now() + dt.timedelta(minutes=20))
    api.force_authenticate(world.admin_a)
    response = api.post(f"/api/v1/users/{world.user_a.pk}/unlock/")
    assert response.status_code == 200 and response.json()["is_locked"] is False


def test_sessions_expire_after_30_idle_minutes(client, world):
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    assert django_settings.SESSION_SAVE_EVERY_REQUEST is True
    client.force_login(world.user_a)
    client.get("/")
    first = client.session.get_expiry_date()
    client.get("/")
    assert client.session.get_expiry_date() >= first  # each request pushes the expiry ahead
    assert first - timezone.now() <= dt.timedelta(minutes=30)


def test_an_expired_session_sends_the_user_back_to_login(client, world):
    client.force_login(world.user_a)
    session = client.session
    session.set_expiry(-1)
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_no_account_exists_before_the_demo_command_runs(db):
    assert not User.objects.exists()


def test_a_weak_password_is_refused_with_a_field_error(api, world):
    api.force_authenticate(world.admin_a)
    response = api.post(
        "/api/v1/users/",
        {"username": "new", "password": "short", "role": "grid_worker", "region": world.grid_a.code},
        format="json",
    )
    assert response.status_code == 400
    assert "password" in response.json()["fields"]
    assert not User.objects.filter(username="new").exists()


def test_an_administrator_creates_a_user_in_the_jurisdiction(api, world):
    api.force_authenticate(world.admin_a)
    response = api.post(
        "/api/v1/users/",
        {"username": "new", "password": "Gr1d!Worker#2026", "role": "grid_worker", "region": world.grid_a.code},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert User.objects.get(username="new").check_password("Gr1d!Worker#2026")
    assert "password" not in response.json()


def test_check_deploy_is_clean_under_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": "x9!Kp2#vL7@qR4$wZ8^mN3&bT6*yH1(cF5)jD0-gS-prod-only-test-key",
        "DJANGO_ALLOWED_HOSTS": "zongzhi.example.gov.cn",
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "PERSONAL_DATA_KEYS": "q0rXQpJ5YtN0rY2pW3dXl7gA1vH5cF8kB6mZ4sT9uE0=",
        "PERSONAL_DATA_INDEX_KEY": "prod-only-test-index-key-1f2e3d",
        "AUDIT_CHAIN_KEYS": "k1:prod-only-test-audit-chain-key-7c9a",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}, "DJANGO_ENV": "production"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_one_address_may_try_only_so_often_a_minute(client, world, settings, password, one_minute):
    settings.LOGIN_RATE_PER_MINUTE = 3
    for _ in range(3):
        assert login(client, "centre_a", "wrong").status_code == 200
    response = login(client, "centre_a", password)
    assert response.status_code == 429 and "过于频繁" in response.content.decode()
    assert (
        login(
            client,
            "centre_b",
            password,
        ).status_code
        == 429
    )  # across accounts too


@pytest.fixture
def one_minute(monkeypatch):
    """The rate window does not roll over in the middle of a test."""
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))


def _token_attempt(api, username, password):
    return api.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_the_login_page_and_the_token_endpoint_share_one_limit(client, api, world, settings, password, one_minute):
    """LOGIN_RATE_PER_MINUTE counts the attempts of both ways in together: 2 on the page and
    2 on the token endpoint use up a limit of 4, after which both answer 429."""
    settings.LOGIN_RATE_PER_MINUTE = 4
    for _ in range(2):
        assert login(client, "centre_a", "wrong").status_code == 200
    for _ in range(2):
        assert _token_attempt(api, "centre_b", "wrong").status_code == 400
    assert _token_attempt(api, "centre_b", password).status_code == 429
    assert login(client, "centre_b", password).status_code == 429
    assert not Token.objects.filter(user__username="centre_b").exists()


def test_the_token_endpoint_follows_the_login_setting(api, world, settings, password, one_minute):
    settings.LOGIN_RATE_PER_MINUTE = 2
    assert _token_attempt(api, "centre_a", "wrong").status_code == 400
    assert _token_attempt(api, "centre_a", password).status_code == 200
    assert _token_attempt(api, "centre_a", password).status_code == 429
    settings.LOGIN_RATE_PER_MINUTE = 5
    assert _token_attempt(api, "centre_a", password).status_code == 200


def test_forwarded_addresses_are_trusted_only_behind_a_configured_proxy(client, world, settings):
    login(
        client,
        "centre_a",
        "bad",
    )
    client.post("/accounts/login/", {"username": "x", "password": "y"}, HTTP_X_FORWARDED_FOR="203.0.113.9")
    settings.TRUST_X_FORWARDED_FOR = True
    client.post("/accounts/login/", {"username": "x", "password": "y"}, HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1")
    ips = list(AuditLog.objects.filter(action="login_failed").order_by("seq").values_list("ip", flat=True))
    assert ips == ["127.0.0.1", "127.0.0.1", "203.0.113.9"]


def test_an_administrator_creates_a_mediator_bound_to_an_organisation(api, world, mediation):
    api.force_authenticate(world.admin_a)
    body = {"username": "m2", "password": "Gr1d!Worker#2026", "role": "mediator", "region": world.village_a.code}
    response = api.post("/api/v1/users/", body, format="json")
    assert response.status_code == 400 and "mediation_org" in response.json()["fields"]
    foreign = api.post("/api/v1/users/", {**body, "mediation_org": mediation["org_b"].pk}, format="json")
    assert foreign.status_code == 400 and "mediation_org" in foreign.json()["fields"]
    response = api.post("/api/v1/users/", {**body, "mediation_org": mediation["village_org"].pk}, format="json")
    assert response.status_code == 201, response.content
    assert User.objects.get(username="m2").mediation_org == mediation["village_org"]
