"""Helpers for the browser tests: signing in, screenshots at phone and desktop size, photos."""

import io
import os
import re
from pathlib import Path

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


# --- steps of the flows ------------------------------------------------------------------------


def case_id_from_url(url: str) -> int:
    """The case id of a /cases/<id>/ address."""
    match = re.search(r"/cases/(\d+)/", url)
    if not match:
        raise AssertionError(f"not a case page: {url}")
    return int(match.group(1))


def wait_for_grid_outlines(page: Page) -> None:
    """The whistle map has drawn the grids it loaded from grids.geojson."""
    # Leaflet is loaded when the map comes near the screen (static/js/filing.js).
    page.locator("#whistle-map").scroll_into_view_if_needed()
    # Functions, not expressions: Playwright polls an expression with eval, which the pages'
    # Content-Security-Policy (script-src 'self') refuses.
    page.wait_for_function(
        "() => document.querySelectorAll('#whistle-map .leaflet-interactive').length"
    )


def tap_map_centre(page: Page) -> None:
    """Tap the middle of the whistle map once it has settled on the grids it fitted."""
    whistle_map = page.locator("#whistle-map")
    whistle_map.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => !document.querySelector("
        "'#whistle-map .leaflet-zoom-anim, #whistle-map .leaflet-pan-anim')"
    )
    box = whistle_map.bounding_box()
    whistle_map.click(position={"x": box["width"] / 2, "y": box["height"] / 2})


def fill_whistle_form(
    page: Page,
    *,
    item_search: str,
    description: str,
    photos: list[Path] = (),
    use_location: bool = True,
) -> None:
    """Fill the whistle form: item by search, description, photos and the place (the phone's
    location, or a tap in the middle of the map)."""
    page.goto("/cases/new/")
    wait_for_grid_outlines(page)
    page.get_by_test_id("item-search").fill(item_search)
    page.locator("#id_description").fill(description)
    if photos:
        page.locator("#id_photos").set_input_files([str(path) for path in photos])
        page.locator("#photo-previews img").nth(len(photos) - 1).wait_for()
    if use_location:
        page.get_by_test_id("use-location").click()
    else:
        tap_map_centre(page)
    page.wait_for_function("() => document.getElementById('id_latitude').value !== ''")


def submit_whistle(page: Page) -> int:
    """Submit the whistle form and wait for the new case's page; its id."""
    page.get_by_test_id("submit-whistle").click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    return case_id_from_url(page.url)


def status_badge(page: Page) -> str:
    """The status the case page (or an action page) shows, as its code and its text."""
    badge = page.get_by_test_id("status").first
    return badge.get_attribute("data-status") or ""


def messages_text(page: Page) -> str:
    return " ".join(page.locator(".messages .message").all_inner_texts())


def submit(page: Page, button) -> None:
    """Click a button that posts a form and wait until the page it leads to has loaded (also
    when that page has the same address, as after an inline form that returns to its list)."""
    with page.expect_navigation(wait_until="load"):
        button.click()
