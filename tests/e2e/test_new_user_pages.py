"""What a new user tripped over in the pages (issue 19, items 8-11 and 13), in Chromium on a
360 px phone: the filing map's pin, photos kept when filing fails, what the citizen reads of a
rejected or merged whistle, and the tracking code with its printable receipt."""

import re

import pytest

from cases.models import Case, Status
from cases.services import merge_case, reject_case
from tests.cases.engine_steps import file_case
from tests.e2e.helpers import (
    case_id_from_url,
    fill_whistle_form,
    messages_text,
    submit_whistle,
    wait_for_grid_outlines,
)


def wait_for_settled_map(page) -> None:
    page.locator("#whistle-map").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => !document.querySelector("
        "'#whistle-map .leaflet-zoom-anim, #whistle-map .leaflet-pan-anim')"
    )


pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_filing_maps_pin_icon_loads(browsing, org, photo):
    worker = browsing.page("gw")
    icons = []
    worker.on(
        "response",
        lambda response: (
            icons.append((response.url, response.status)) if "marker-" in response.url else None
        ),
    )
    fill_whistle_form(
        worker, item_search="SAN-01", description="Pin test", photos=[], use_location=False
    )
    worker.locator("#whistle-map img.leaflet-marker-icon").wait_for()
    # Leaflet guesses the icons' folder from its stylesheet, which fails once the static files
    # carry hashed names (/cases/new/marker-icon.png, a 404): the page must name the folder.
    assert worker.evaluate("() => window.L.Icon.Default.imagePath").endswith(
        "/static/vendor/leaflet/images/"
    )
    worker.wait_for_load_state("networkidle")
    assert icons, "the pin's image was never requested"
    for url, status in icons:
        assert status == 200, f"{status} for {url}"
        assert "/static/vendor/leaflet/images/" in url
    loaded = worker.locator("#whistle-map img.leaflet-marker-icon").evaluate(
        "(image) => image.complete && image.naturalWidth > 0"
    )
    assert loaded


def test_photos_survive_a_filing_that_fails_validation(browsing, org, photo):
    worker = browsing.page("gw", geolocation=(30.5001, 120.7002))
    worker.goto("/cases/new/")
    wait_for_grid_outlines(worker)
    worker.get_by_test_id("item-search").fill("SAN-01")
    worker.locator("#id_description").fill("Broken drain cover by the school")
    worker.locator("#id_photos").set_input_files([str(photo("drain")), str(photo("drain2"))])
    worker.locator("#photo-previews img").nth(1).wait_for()
    # A pin at the map's edge, outside every grid of the city: the server refuses it.
    whistle_map = worker.locator("#whistle-map")
    wait_for_settled_map(worker)
    box = whistle_map.bounding_box()
    whistle_map.click(position={"x": box["width"] - 12, "y": box["height"] / 2})
    worker.wait_for_function("() => document.getElementById('id_latitude').value !== ''")
    worker.get_by_test_id("submit-whistle").click()
    worker.get_by_test_id("location-error").wait_for()
    assert Case.objects.count() == 0
    kept = worker.get_by_test_id("kept-photos")
    assert kept.locator("img").count() == 2
    assert kept.locator("img").first.evaluate("(image) => image.naturalWidth > 0")
    assert worker.locator("#id_description").input_value() == "Broken drain cover by the school"

    worker.get_by_test_id("use-location").click()  # now inside the grid
    worker.wait_for_function(
        "() => document.getElementById('id_latitude').value.indexOf('30.5001') === 0"
    )
    case_id = submit_whistle(worker)
    case = Case.objects.get(pk=case_id)
    assert case.attachments.count() == 2
    assert case.description == "Broken drain cover by the school"


def test_the_citizen_reads_why_a_whistle_was_not_accepted(browsing, org):
    case = file_case(org)
    reject_case(
        user=org.village_officer,
        case_id=case.pk,
        reason="A private dispute between neighbours",
        redirect="The village mediation committee, Mondays 9-11",
    )
    citizen = browsing.page()
    citizen.goto(f"/track/?code={case.tracking_code}")
    shown = citizen.get_by_test_id("tracked-case").inner_text()
    assert "Not accepted" in shown
    assert (
        citizen.get_by_test_id("rejection-reason")
        .inner_text()
        .strip()
        .endswith("A private dispute between neighbours")
    )
    assert "The village mediation committee, Mondays 9-11" in (
        citizen.get_by_test_id("rejection-redirect").inner_text()
    )


def test_a_merged_whistle_shows_as_merged_everywhere(browsing, org):
    first = file_case(org, description="Rubbish by the bridge")
    second = file_case(org, description="Rubbish by the bridge again")
    assert second.possible_duplicate_of_id == first.pk
    merge_case(user=org.village_officer, case_id=second.pk, into_case_id=first.pk)
    second.refresh_from_db()
    assert second.status == Status.REJECTED

    worker = browsing.page("gw")
    worker.goto("/my/cases/")
    card = worker.get_by_test_id(f"case-{second.number}")
    assert "Merged" in card.inner_text()
    assert "rejected" not in card.inner_text().lower()
    worker.goto(f"/cases/{second.pk}/")
    assert worker.get_by_test_id("status").first.inner_text().strip() == "Merged"
    merged_into = worker.get_by_test_id("merged-into")
    assert first.number in merged_into.inner_text()
    merged_into.get_by_role("link").click()
    worker.wait_for_url(re.compile(rf"/cases/{first.pk}/$"))
    assert second.number in worker.get_by_test_id("merged-cases").inner_text()

    citizen = browsing.page()
    citizen.goto(f"/track/?code={second.tracking_code}")
    assert citizen.get_by_test_id("status").inner_text().strip() == "Merged"
    assert "Not accepted" not in citizen.get_by_test_id("tracked-case").inner_text()
    merged_into = citizen.get_by_test_id("merged-into").inner_text()
    assert first.number in merged_into
    assert "Filed" in merged_into or "filed" in merged_into  # the case it joined, in words
    assert citizen.get_by_test_id("refusal").count() == 0


def test_the_tracking_code_and_a_printable_receipt(browsing, org, photo):
    worker = browsing.page("gw", geolocation=(30.5001, 120.7002))
    fill_whistle_form(worker, item_search="SAN-01", description="Streetlight out", photos=[])
    case_id = submit_whistle(worker)
    case = Case.objects.get(pk=case_id)
    assert case.tracking_code in messages_text(worker)
    assert worker.get_by_test_id("tracking-code").inner_text().strip() == case.tracking_code
    worker.get_by_test_id("receipt-link").click()
    worker.wait_for_url(re.compile(rf"/cases/{case.pk}/receipt/$"))
    receipt = worker.get_by_test_id("receipt")
    assert case.tracking_code in receipt.inner_text()
    assert case.number in receipt.inner_text()
    assert receipt.locator("svg").count() == 1
    assert "What happens next" in receipt.inner_text()
    assert worker.get_by_test_id("print-receipt").count() == 1
    # The QR code is drawn inline: no request leaves for a QR service.
    assert case_id_from_url(worker.url) == case.pk
