"""Response headers every page carries: the Content-Security-Policy (no inline script, nothing
from another origin) and a retryable 503 instead of a 500 when the database is busy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import OperationalError

from .browser import browser_page  # noqa: F401
from .test_events_api import event_body

ROOT = Path(__file__).resolve().parent.parent
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:json|ld\+json)\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/report/", "/api/v1/regions/", "/healthz"])
def test_every_response_carries_a_strict_policy(client, url):
    policy = directives(client.get(url)["Content-Security-Policy"])
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    assert policy["style-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_api_documentation_may_inject_styles_but_not_scripts(client, world, url):
    client.force_login(world.user_a)
    policy = directives(client.get(url)["Content-Security-Policy"])
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self' 'unsafe-inline'"


def test_no_template_has_an_inline_script_or_event_handler():
    for path in ROOT.joinpath("templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not INLINE_SCRIPT.search(text), f"{path}: inline <script> (move it to static/)"
        assert not INLINE_HANDLER.search(text), f"{path}: inline event handler (use a data- attribute)"


@pytest.mark.django_db
def test_a_locked_database_is_a_retryable_503_not_a_500(api, world, monkeypatch):
    from grids.events.api import views as event_views

    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(event_views, "event_file", locked)
    api.force_authenticate(world.worker_a)
    response = api.post("/api/v1/events/", event_body(world), format="json")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json()["detail"] == "系统繁忙，请稍后重试（已保存的数据不受影响）。"


@pytest.mark.django_db
def test_other_database_errors_still_surface(api, world, monkeypatch):
    from grids.events.api import views as event_views

    def broken(**kwargs):
        raise OperationalError("no such column: foo")

    monkeypatch.setattr(event_views, "event_file", broken)
    api.force_authenticate(world.worker_a)
    with pytest.raises(OperationalError):
        api.post("/api/v1/events/", event_body(world), format="json")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_api_documentation_renders_under_the_policy(live_server, world, password, browser_page):  # noqa: F811
    """Swagger UI and ReDoc draw the schema with the policy enforced (the fixture fails the
    test on any refused script or style)."""
    browser_page.goto(f"{live_server.url}/accounts/login/")
    browser_page.fill("#id_username", world.user_a.username)
    browser_page.fill("#id_password", password)
    browser_page.locator("form:has(#id_username) button[type=submit]").click()
    browser_page.wait_for_url(re.compile(r".*/$"))
    browser_page.goto(f"{live_server.url}/api/docs/")
    browser_page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    browser_page.goto(f"{live_server.url}/api/redoc/")
    browser_page.wait_for_selector(".api-content h1", timeout=30_000)
    # ReDoc's bundle hard-codes its vendor's logo from the internet; the policy blocking it is
    # the point (nothing leaves the intranet), so that one refusal is expected.
    browser_page.policy_violations[:] = [v for v in browser_page.policy_violations if "cdn.redoc.ly" not in v]
