"""Playwright fixtures for browser tests: headless Debian Chromium, never a downloaded browser.

Import into a test module with ``from .browser import browser_page, phone_page  # noqa: F401``
and mark the tests ``@pytest.mark.browser``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse
# the ORM calls made by fixtures (`world`, `live_server`) from that thread as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Never let Playwright fetch a browser of its own.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


def screenshot_path(name: str) -> Path:
    """Where to save a screenshot called `name` (the folder is created on demand)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / (name if name.endswith(".png") else f"{name}.png")


def _page(viewport: dict, **context_options) -> Iterator:
    # `make test` installs Debian's Chromium first (scripts/ensure_chromium.sh); a missing
    # browser is a broken setup, not a reason to skip the pages that matter.
    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}: run `make browser`"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=viewport, locale="zh-CN", **context_options)
            context.set_default_timeout(15_000)
            violations: list[str] = []
            try:
                page = context.new_page()
                page.on("console", lambda message: _note_policy_violation(message.text, violations))
                page.policy_violations = violations  # a test may drop one it expects, naming why
                yield page
            finally:
                context.close()
            # Every page must work under the site's Content-Security-Policy, which the live
            # server sends: a refused script, style or request fails the test that met it.
            assert not violations, violations
        finally:
            browser.close()


def _note_policy_violation(text: str, violations: list[str]) -> None:
    if "Content Security Policy" in text:
        violations.append(text)


@pytest.fixture
def browser_page() -> Iterator:
    """A Playwright Page in a fresh desktop-sized (1280×800) browser context."""
    yield from _page(DESKTOP)


@pytest.fixture
def phone_page() -> Iterator:
    """A Playwright Page in a fresh phone-sized (375×740) touch context."""
    yield from _page(PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
