"""The installable app in Chromium: the service worker keeps the whistle form for a phone with
no signal, a whistle blown offline waits on the phone (through a page close and a browser
restart) and is filed once when the network is back, the form's first load fits a weak
signal, and a Web Push alert sent by the server is shown by the service worker."""

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page

from cases.models import Case
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, LOCALES, TIMEOUT_MS
from tests.e2e.helpers import PHONE, fill_whistle_form, login, wait_for_grid_outlines

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PLACE = (30.5001, 120.7002)


def wait_for_service_worker(page: Page) -> None:
    """The worker is installed (its caches filled) and controls the page."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def test_the_service_worker_serves_the_whistle_form_offline(browsing, org):
    context = browsing.context(service_workers=True, geolocation=PLACE)
    page = context.new_page()
    login(page, "gw")
    page.goto("/cases/new/")
    wait_for_service_worker(page)
    wait_for_grid_outlines(page)

    context.set_offline(True)
    response = page.goto("/cases/new/")
    assert response.from_service_worker
    expect_form(page)
    wait_for_grid_outlines(page)  # the grids too, from the cache
    assert page.get_by_test_id("offline-banner").is_visible()

    page.goto("/my/cases/")  # the grid worker's own cases, the last version seen
    assert page.locator("h1").first.is_visible()
    assert "/accounts/login/" not in page.url

    response = page.goto("/notifications/")  # never opened: no copy on the phone
    assert response.status == 503
    assert "No connection" in page.locator("h1").inner_text()


def expect_form(page: Page) -> None:
    page.get_by_test_id("whistle-form").wait_for()
    assert page.get_by_test_id("submit-whistle").is_visible()


# --- a whistle blown with no signal ----------------------------------------------------------


def phone(browsing, profile: Path) -> BrowserContext:
    """Chromium with a profile on disk, as a phone keeps it across restarts."""
    context = browsing.browser.browser_type.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        base_url=browsing.base_url,
        viewport=PHONE,
        locale=LOCALES["en"],
        extra_http_headers={"Accept-Language": LOCALES["en"]},
        timezone_id="Asia/Shanghai",
        geolocation={"latitude": PLACE[0], "longitude": PLACE[1]},
        permissions=["geolocation"],
        service_workers="allow",
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.on("page", browsing._watch)
    for page in context.pages:
        browsing._watch(page)
    return context


def drafts(page: Page):
    return page.get_by_test_id("draft-list").get_by_test_id("draft")


def test_a_whistle_blown_offline_waits_on_the_phone_and_is_filed_once(
    browsing, org, photo, tmp_path, settings
):
    profile = tmp_path / "profile"
    context = phone(browsing, profile)
    try:
        page = context.new_page()
        login(page, "gw")
        page.goto("/cases/new/")
        wait_for_service_worker(page)

        context.set_offline(True)
        fill_whistle_form(
            page,
            item_search="SAN-01",
            description="Rubbish by the well, no signal here",
            photos=[photo("first"), photo("second")],
        )
        page.get_by_test_id("submit-whistle").click()
        drafts(page).first.wait_for()
        assert "kept on this phone" in page.locator("#submit-status").inner_text()
        assert page.locator("#id_description").input_value() == ""  # ready for the next one
        page.close()

        page = context.new_page()  # opened again, still no signal
        page.goto("/cases/new/")
        drafts(page).first.wait_for()
        assert drafts(page).count() == 1
        assert Case.objects.count() == 0
    finally:
        context.close()  # the whole browser, as a phone switched off

    context = phone(browsing, profile)
    try:
        context.set_offline(True)
        page = context.pages[0] if context.pages else context.new_page()
        page.goto("/cases/new/")
        drafts(page).first.wait_for()
        entry = drafts(page).first
        assert entry.get_attribute("data-status") == "waiting"
        assert "2 photos" in entry.inner_text()
        assert "SAN-01" in entry.inner_text()
        assert Case.objects.count() == 0

        context.set_offline(False)  # the network is back: sent by itself
        page.get_by_test_id("drafts").wait_for(state="hidden")
        assert drafts(page).count() == 0
    finally:
        context.close()

    case = Case.objects.get()
    assert case.reporter == org.grid_worker
    assert case.description == "Rubbish by the well, no signal here"
    assert case.grid == org.grid
    photos = list(case.attachments.all())
    assert len(photos) == 2
    for attachment in photos:
        path = Path(settings.MEDIA_ROOT) / attachment.file.name
        assert path.is_file() and path.stat().st_size > 0
        assert attachment.original_name.endswith(".jpg")
