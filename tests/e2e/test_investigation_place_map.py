"""An investigation's place chosen on a map in Chromium (issue 19): a tap on the map fills the
latitude and longitude (WGS-84, as stored) and picks the grid the place lies in, also with
GCJ-02 tiles (the filing map's setting and coordinates, static/js/geo.js); the typed fields
stay as the fallback, and the planned investigation keeps the place."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consultation.models import Investigation
from teams.geo import contains
from teams.models import Grid

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def tap_the_first_grid(page) -> None:
    """Tap the middle of the first grid outline as drawn."""
    page.get_by_test_id("place-map").scroll_into_view_if_needed()
    outline = page.locator(".leaflet-overlay-pane path").first
    outline.wait_for()
    # The map fits the town's outlines with an animation: tap once the outline stands still.
    box, previous = outline.bounding_box(), None
    while box != previous:
        page.wait_for_timeout(150)
        box, previous = outline.bounding_box(), box
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => document.querySelector('#id_grid').value !== ''")


@pytest.mark.parametrize("crs", ["wgs84", "gcj02"])
def test_the_place_is_tapped_on_the_map(browsing, org, settings, crs):
    settings.WHISTLE_TILE_CRS = crs
    page = browsing.page("town", language="en", phone=True)
    page.goto("/consultation/investigations/new/")
    assert page.get_by_test_id("place-map").is_visible()
    tap_the_first_grid(page)
    latitude = float(page.locator("#id_latitude").input_value())
    longitude = float(page.locator("#id_longitude").input_value())
    grid = Grid.objects.get(pk=int(page.locator("#id_grid").input_value()))
    assert contains(grid.polygon, longitude, latitude)  # stored WGS-84 lies in the picked grid
    assert "In grid:" in page.get_by_test_id("place-map-status").inner_text()

    page.locator("#id_place_name").fill("Market street")
    tomorrow = timezone.localtime() + timedelta(days=1)
    page.locator("#id_planned_for").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_team").select_option(str(org.team.pk))
    page.get_by_test_id("aspects").locator("input[type=checkbox]").first.check()
    page.get_by_test_id("submit-plan").click()
    page.wait_for_url("**/consultation/investigations/*/")
    investigation = Investigation.objects.get()
    assert investigation.grid == grid
    assert (round(investigation.latitude, 6), round(investigation.longitude, 6)) == (
        round(latitude, 6),
        round(longitude, 6),
    )


def test_typed_coordinates_still_work_and_move_the_pin(browsing, org):
    page = browsing.page("town", language="en", phone=False)
    page.goto("/consultation/investigations/new/")
    page.locator("#id_latitude").fill("30.5")
    page.locator("#id_longitude").fill("120.7")
    page.locator("#id_longitude").dispatch_event("change")
    assert page.locator(".leaflet-marker-pane img").count() == 1
    assert page.get_by_test_id("place-map-status").inner_text().startswith("30.500000, 120.700000")
