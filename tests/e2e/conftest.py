"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Every test runs on a transactional database (the live server is another thread with its own
connections, so rows must be committed); serialized_rollback puts back the migrated checklist
and calendar after the flush. Each person signs in through the login form in a browser
context of their own, at phone size (360x740) or desktop size (1366x768), in English or
Simplified Chinese (the browser's Accept-Language picks the language).
"""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.cases.conftest import Org, org
from tests.e2e.helpers import DESKTOP, PHONE, jpeg, login
from whistle.celery import app as celery_app

CHROMIUM = os.environ.get("WHISTLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCALES = {"en": "en-US", "zh": "zh-CN"}
# Playwright waits this long (ms) for an element or a navigation before failing.
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module. Missing Chromium fails the tests, never skips.

    Playwright's sync API leaves its event loop marked as running in this thread while it is
    started. Django then takes the test body for async code: it refuses database access unless
    DJANGO_ALLOW_ASYNC_UNSAFE is set, and it hands out other connection objects (kept per
    context, not per thread), which lack the snapshot that serialized_rollback restores. So
    the snapshot is copied over, and the variable is set only while the browser runs (module
    scope keeps it away from the other test suites)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium "
            "(apt-get install -y chromium, as .ci/run does) or WHISTLE_CHROMIUM=<path>.",
            pytrace=False,
        )
    snapshots = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    saved_flag = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        for alias, contents in snapshots.items():
            connections[alias]._test_serialized_contents = contents
        try:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
        except Exception as error:
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}", pytrace=False)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        # The connections opened while the loop ran belong to this context only: close them,
        # or PostgreSQL would refuse to drop the test database at the end.
        connections.close_all()
        playwright.stop()
        if saved_flag is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved_flag


@pytest.fixture(scope="session")
def _eager_celery() -> Iterator[None]:
    """Notification delivery runs in the request instead of going to a broker that no worker
    of this test run reads (nothing piles up on the shared Redis or the queue folder)."""
    saved = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


@pytest.fixture(autouse=True)
def _e2e_environment(transactional_db, settings, tmp_path, _eager_celery) -> Iterator[None]:
    """Uploads go to the test's own folder (tests/conftest.py lets SQLite flush the events)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WHISTLE_TILE_URL = ""
    yield


@dataclass
class Browsing:
    """Opens signed-in pages, each person in a browser context of their own, and collects
    the JavaScript errors and failed static files of every page."""

    browser: Browser
    base_url: str
    contexts: list[BrowserContext] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def context(
        self,
        *,
        language: str = "en",
        phone: bool = True,
        geolocation: tuple[float, float] | None = None,
        service_workers: bool = False,
    ) -> BrowserContext:
        options: dict = {
            "base_url": self.base_url,
            "viewport": PHONE if phone else DESKTOP,
            "locale": LOCALES[language],
            "extra_http_headers": {"Accept-Language": LOCALES[language]},
            "timezone_id": "Asia/Shanghai",
            # The installable app's tests (test_offline_app.py) let the service worker run.
            "service_workers": "allow" if service_workers else "block",
        }
        if geolocation is not None:
            latitude, longitude = geolocation
            options["geolocation"] = {"latitude": latitude, "longitude": longitude}
            options["permissions"] = ["geolocation"]
        context = self.browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.on("page", self._watch)
        self.contexts.append(context)
        return context

    def page(self, username: str | None = None, **context_options) -> Page:
        """A new page in a new context, signed in as `username` when given."""
        page = self.context(**context_options).new_page()
        if username:
            login(page, username)
        return page

    def _watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: JS error {error}"))
        # Chromium reports a blocked script, style or image (and a bad policy header) on the
        # console: the pages must satisfy the Content-Security-Policy of whistle.security.
        page.on(
            "console",
            lambda message: (
                self.problems.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text or "Permissions-Policy" in message.text
                else None
            ),
        )
        page.on(
            "response",
            lambda response: (
                self.problems.append(f"{response.status} for {response.url}")
                if response.status >= 400 and "/static/" in response.url
                else None
            ),
        )

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


@pytest.fixture
def browsing(browser, live_server) -> Iterator[Browsing]:
    """Pages for the people of a test; the test fails on a JavaScript error, a Content
    Security Policy violation or a static file that did not load."""
    browsing = Browsing(browser=browser, base_url=live_server.url)
    try:
        yield browsing
    finally:
        browsing.close()
    assert browsing.problems == [], "\n".join(browsing.problems)


@pytest.fixture
def photo(tmp_path) -> Callable[[str], Path]:
    """Writes a small JPEG into the test's folder and returns its path."""
    colours = iter([(200, 120, 40), (40, 160, 90), (60, 80, 200), (180, 40, 120)] * 8)

    def make(name: str = "photo") -> Path:
        return jpeg(tmp_path / f"{name}.jpg", colour=next(colours))

    return make


__all__ = ["Org", "org"]
