"""Helpers for the browser tests: signing in, screenshots at phone and desktop size, photos."""

import importlib
import io
import os
import re
from pathlib import Path

from django.db import connection
from PIL import Image
from playwright.sync_api import Page

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# The password tests.factories.UserFactory gives every user.
PASSWORD = "correct-horse-battery"

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 768}


def screenshots_dir() -> Path:
    """Where screenshots go: $WHISTLE_SCREENSHOTS, else artifacts/screenshots/ in the repo."""
    folder = Path(os.environ.get("WHISTLE_SCREENSHOTS") or BASE_DIR / "artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot(page: Page, name: str) -> list[Path]:
    """Full-page PNGs of what `page` shows now, at 360x740 and at 1366x768; the page gets its
    own viewport back afterwards."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
    original = page.viewport_size
    paths = []
    try:
        for size in (PHONE, DESKTOP):
            page.set_viewport_size(size)
            path = screenshots_dir() / f"{safe}-{size['width']}x{size['height']}.png"
            page.screenshot(path=str(path), full_page=True, animations="disabled")
            paths.append(path)
    finally:
        if original:
            page.set_viewport_size(original)
    return paths


def login(page: Page, username: str, *, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person would."""
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    if "/accounts/login/" in page.url:
        raise AssertionError(
            f"could not sign in as {username!r}: {page.locator('main').inner_text()}"
        )


def jpeg(path: Path, *, colour: tuple[int, int, int] = (200, 120, 40)) -> Path:
    """A small real JPEG photo on disk, for file inputs."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="JPEG", quality=85)
    path.write_bytes(buffer.getvalue())
    return path


def clear_events_for_flush() -> None:
    """Let the flush after a transactional test empty the append-only event table on SQLite.

    Django flushes SQLite with DELETE, which the append-only trigger refuses (PostgreSQL uses
    TRUNCATE, which it allows): drop the trigger, delete the events, put the trigger back."""
    if connection.vendor != "sqlite":
        return
    trigger = importlib.import_module("cases.migrations.0002_event_append_only_trigger")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS cases_event_no_delete")
        try:
            cursor.execute("DELETE FROM cases_event")
        finally:
            cursor.execute(
                next(sql for sql in trigger.SQLITE_CREATE if "cases_event_no_delete" in sql)
            )
