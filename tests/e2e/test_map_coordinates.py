"""One coordinate rule for every map (static/js/geo.js; issue 20, Maps), in Chromium: places are
stored in WGS-84 and drawn in GCJ-02 when the tiles are (WHISTLE_TILE_CRS=gcj02), and a tap is
turned back into WGS-84. The conversion against published reference points; the hot-spot map,
the filing map and the case map each draw the grids and the pin where the tiles put them (the
investigation's map: tests/e2e/test_investigation_place_map.py)."""

import pytest
from playwright.sync_api import Page

from cases.models import Case
from teams.geo import contains
from teams.models import Grid
from tests.e2e.helpers import fill_whistle_form, submit_whistle
from tests.e2e.test_assessment_dashboards import seed_cases

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# (latitude, longitude) pairs published with the gcoord library's tests (hujiulong/gcoord,
# test/unit/crs: WGS84.spec and GCJ02.spec, to 8 decimals), checked to 5e-6 degrees as there.
WGS_TO_GCJ = [((45.0, 123.0), (45.00197815, 123.00607541))]
GCJ_TO_WGS = [((45.0, 123.0), (44.99804071, 122.99395597))]
OUTSIDE_CHINA = (45.0, -177.0)

# Keeps every Leaflet map a page makes, through Leaflet's own init hook. Leaflet's bundle sets
# window.L to an empty object and fills it while it runs: the hook is added once it has run,
# before the next (deferred) script makes a map.
MAPS_WATCH = """
window.__maps = [];
let leaflet;
Object.defineProperty(window, 'L', {
  configurable: true,
  get() { return leaflet; },
  set(value) {
    leaflet = value;
    queueMicrotask(() => value.Map.addInitHook(function () { window.__maps.push(this); }));
  },
});
"""

# What the page's maps draw: every polygon's outer ring (with its grid's id when it is a hot
# spot's feature) and every pin, as [lat, lng].
DRAWN = """() => {
  const rings = [];
  const pins = [];
  window.__maps.forEach((map) => map.eachLayer((layer) => {
    if (layer instanceof L.Polygon) {
      let ring = layer.getLatLngs();
      while (Array.isArray(ring[0])) ring = ring[0];
      const id = layer.feature ? layer.feature.properties.id : null;
      rings.push({ id, points: ring.map((p) => [p.lat, p.lng]) });
    } else if (layer instanceof L.Marker) {
      const p = layer.getLatLng();
      pins.push([p.lat, p.lng]);
    }
  }));
  return { rings, pins };
}"""


def watching(page: Page) -> Page:
    page.context.add_init_script(MAPS_WATCH)
    return page


def shown(page: Page, crs: str, points: list[list[float]]) -> list[list[float]]:
    """Where geo.js draws the stored (WGS-84) [lat, lng] points on tiles of `crs`."""
    return page.evaluate(
        "([crs, points]) => points.map(([lat, lng]) => "
        "window.WhistleGeo.projection(crs).toDisplay(lat, lng))",
        [crs, points],
    )


def outer_ring(grid: Grid) -> list[list[float]]:
    """The grid's stored outer ring as [lat, lng], without GeoJSON's closing point."""
    return [[lat, lng] for lng, lat in grid.polygon["coordinates"][0][:-1]]


def assert_same_points(drawn, expected, *, within: float = 1e-9) -> None:
    assert len(drawn) == len(expected)
    for (lat, lng), (want_lat, want_lng) in zip(drawn, expected, strict=True):
        assert abs(lat - want_lat) <= within and abs(lng - want_lng) <= within, (
            (lat, lng),
            (want_lat, want_lng),
        )


def shift(a: list[float], b: list[float]) -> float:
    return max(abs(a[0] - b[0]), abs(a[1] - b[1]))


def assert_the_conversion_matches_published_reference_points(page: Page) -> None:
    for (lat, lng), (want_lat, want_lng) in WGS_TO_GCJ:
        got = page.evaluate("([lat, lng]) => window.WhistleGeo.wgsToGcj(lat, lng)", [lat, lng])
        assert abs(got[0] - want_lat) < 5e-6 and abs(got[1] - want_lng) < 5e-6, got
    for (lat, lng), (want_lat, want_lng) in GCJ_TO_WGS:
        got = page.evaluate("([lat, lng]) => window.WhistleGeo.gcjToWgs(lat, lng)", [lat, lng])
        assert abs(got[0] - want_lat) < 5e-6 and abs(got[1] - want_lng) < 5e-6, got
    # Outside China both ways are the identity, and so is everything on WGS-84 tiles; inside,
    # back and forth lands within a centimetre.
    assert page.evaluate(
        "([lat, lng]) => window.WhistleGeo.wgsToGcj(lat, lng)", list(OUTSIDE_CHINA)
    ) == list(OUTSIDE_CHINA)
    assert shown(page, "wgs84", [[30.5, 120.7]]) == [[30.5, 120.7]]
    back = page.evaluate(
        "() => [[30.5, 120.7], [39.9, 116.4], [22.5, 114.05]].map(([lat, lng]) => {"
        " const g = window.WhistleGeo.wgsToGcj(lat, lng);"
        " return [lat, lng, ...window.WhistleGeo.gcjToWgs(g[0], g[1])]; })"
    )
    for lat, lng, again_lat, again_lng in back:
        assert abs(again_lat - lat) < 1e-7 and abs(again_lng - lng) < 1e-7


def test_the_hot_spot_map_draws_the_grids_where_gcj02_tiles_are(browsing, org, settings):
    settings.WHISTLE_TILE_CRS = "gcj02"
    seed_cases(org)
    page = watching(browsing.page("sup", language="en", phone=False))
    page.goto("/assessment/hotspots/")
    page.wait_for_function(
        "() => document.querySelectorAll('#hotspot-map .leaflet-overlay-pane path').length >= 2"
    )
    assert_the_conversion_matches_published_reference_points(page)
    rings = page.evaluate(DRAWN)["rings"]
    grids = Grid.objects.in_bulk([ring["id"] for ring in rings])
    assert len(rings) >= 2 and len(grids) == len(rings)
    for ring in rings:
        stored = outer_ring(grids[ring["id"]])
        assert_same_points(ring["points"], shown(page, "gcj02", stored))
        # GCJ-02 moves a point near Haining by a few hundred metres.
        assert shift(ring["points"][0], stored[0]) > 1e-3


def test_a_whistle_tapped_on_gcj02_tiles_is_stored_in_wgs84_and_drawn_back_on_them(
    browsing, org, settings, photo
):
    settings.WHISTLE_TILE_CRS = "gcj02"
    worker = watching(browsing.page("gw", language="en"))
    fill_whistle_form(
        worker,
        item_search="SAN-01",
        description="Rubbish by the canal",
        photos=[photo()],
        use_location=False,
    )
    latitude = float(worker.locator("#id_latitude").input_value())
    longitude = float(worker.locator("#id_longitude").input_value())
    # The pin stands where the finger was, on the GCJ-02 tiles: the stored place shifted.
    pins = worker.evaluate(DRAWN)["pins"]
    assert_same_points(pins, shown(worker, "gcj02", [[latitude, longitude]]), within=1e-6)
    assert shift(pins[0], [latitude, longitude]) > 1e-3
    # The grid found is the one the WGS-84 place lies in (the grids are stored in WGS-84).
    case_id = submit_whistle(worker)
    case = Case.objects.get(pk=case_id)
    assert case.grid_id is not None and contains(case.grid.polygon, longitude, latitude)
    assert (round(case.latitude, 6), round(case.longitude, 6)) == (
        round(latitude, 6),
        round(longitude, 6),
    )

    # The case's map draws its grid and its pin on the same tiles, shifted alike.
    worker.goto(f"/cases/{case_id}/")
    worker.wait_for_function("() => window.__maps.length > 0 && !!window.WhistleGeo")
    worker.locator("#case-map .leaflet-marker-icon").wait_for()
    drawn = worker.evaluate(DRAWN)
    assert_same_points(drawn["pins"], shown(worker, "gcj02", [[case.latitude, case.longitude]]))
    assert len(drawn["rings"]) == 1
    assert_same_points(drawn["rings"][0]["points"], shown(worker, "gcj02", outer_ring(case.grid)))
