"""Internationalisation: Chinese is the default UI, English comes from locale/en/LC_MESSAGES/django.po,
and the catalog is complete, compiled and keeps every placeholder of its source strings."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from governance.auth import CharacterClassValidator
from governance.choices import Role
from governance.codes import Level

ROOT = Path(__file__).resolve().parent.parent
PO_PATH = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
# The language switcher names each language in itself ("简体中文"): the one Chinese text an English page keeps.
LANGUAGE_NAME_ZH = "简体中文"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\{\s*\w+\s*\}\}")


def chinese_left(html: str) -> list[str]:
    return CJK.findall(html.replace(LANGUAGE_NAME_ZH, ""))


def test_login_page_is_chinese_by_default(client):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    for label in ("登录", "用户名", "密码", "网格化综治平台"):
        assert label in html
    assert "Log in" not in html


def test_login_page_in_english_from_accept_language(client):
    response = client.get(reverse("login"), headers={"accept-language": "en"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    for label in ("Log in", "Username", "Password", "Grid Governance Platform", "30 minutes of inactivity"):
        assert label in html
    assert chinese_left(html) == []


def test_language_cookie_selects_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("login")).content.decode()
    assert "Log in" in html
    assert chinese_left(html) == []


def test_failed_login_error_in_english(client, world):
    response = client.post(
        reverse("login"),
        {"username": world.user_a.username, "password": "wrong-password"},
        headers={"accept-language": "en"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Incorrect username or password." in html
    assert chinese_left(html) == []


def test_set_language_then_dashboard_in_english(client, world, password):
    assert client.login(username=world.user_a.username, password=password)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"

    html = client.get(reverse("home")).content.decode()
    for label in ("Dashboard", "Governance centre", "Log out", "Resident population", "Households", "Browse regions"):
        assert label in html
    for label in ("工作台", "综治中心", "退出", "常住人口"):
        assert label not in html

    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("home")})
    html = client.get(reverse("home")).content.decode()
    assert "工作台" in html
    assert "Dashboard" not in html


def test_password_policy_message_in_english():
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        CharacterClassValidator(min_classes=3).validate("alllowercaseletters")
    (message,) = excinfo.value.messages
    assert message == (
        "The password must include at least 3 character types from: "
        "upper-case letters, lower-case letters, digits, symbols."
    )
    with translation.override("en"):
        assert "at least 1 character type from" in CharacterClassValidator(min_classes=1).get_help_text()


def test_password_policy_message_in_chinese_by_default():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as excinfo:
        CharacterClassValidator(min_classes=3).validate("alllowercaseletters")
    assert excinfo.value.messages == ["密码须包含大写字母、小写字母、数字、符号中的至少3类。"]


@pytest.mark.parametrize(
    ("value", "english"),
    [
        (Role.GRID_WORKER, "Grid worker"),
        (Role.GRID_LEADER, "Grid leader"),
        (Role.CENTRE_STAFF, "Governance centre"),
        (Role.COMMITTEE_STAFF, "Political-legal committee"),
        (Level.TOWNSHIP, "Township / sub-district"),
        (Level.VILLAGE, "Village / community"),
    ],
)
def test_choice_labels_in_english(value, english):
    with translation.override("en"):
        assert str(value.label) == english
    with translation.override("zh-hans"):
        assert CJK.search(str(value.label))


def test_catalog_is_complete_and_keeps_placeholders():
    po = polib.pofile(str(PO_PATH))
    assert po.metadata["Language"] == "en"
    assert "charset=UTF-8" in po.metadata["Content-Type"]
    assert po.metadata["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    entries = [e for e in po if not e.obsolete]
    assert entries
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    for entry in entries:
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for msgstr in translations:
            assert sorted(PLACEHOLDER.findall(msgstr)) == wanted, entry.msgid
            assert not CJK.search(msgstr), entry.msgid


def test_compiled_catalog_is_up_to_date():
    result = subprocess.run(
        [sys.executable, "scripts/compile_messages.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_the_public_status_page_in_english(client):
    html = client.get(reverse("public:status"), headers={"accept-language": "en"}).content.decode()
    assert "Check progress" in html and "Last four digits of the mobile number" in html
    assert chinese_left(html) == []
