"""The grid worker's filing page and the citizen's tracking page on a 360 px phone: nothing
runs past the screen's edge, the grid tooltip stays inside the map, the map credits Leaflet
without its flag icon, the only grid is already chosen and "use my location" asks for a fresh
position."""

import pytest

from tests.cases.engine_steps import in_progress
from tests.e2e.helpers import login, shot, wait_for_grid_outlines

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# A long grid name, as village grids are often named after the streets they run along.
LONG_NAME_ZH = "东风村第三网格（河东片区沿河路至老桥头一带）"
LONG_NAME_EN = "Dongfeng village grid three (east bank, river road to the old bridge)"

# Records the options of every geolocation request before the page's own scripts run.
RECORD_GEOLOCATION = """
(() => {
  window.__geoOptions = [];
  const original = navigator.geolocation.getCurrentPosition.bind(navigator.geolocation);
  navigator.geolocation.getCurrentPosition = (ok, failed, options) => {
    window.__geoOptions.push(options || {});
    return original(ok, failed, options);
  };
})();
"""


def overflow(page) -> int:
    """How many pixels the page is wider than the screen (0 when nothing runs past its edge)."""
    return page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )


def assert_inside(inner: dict, outer: dict) -> None:
    assert inner["x"] >= outer["x"] - 0.5, (inner, outer)
    assert inner["y"] >= outer["y"] - 0.5, (inner, outer)
    assert inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5, (inner, outer)
    assert inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5, (inner, outer)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_filing_page_fits_a_360px_phone(browsing, org, language):
    org.grid.name_zh, org.grid.name_en = LONG_NAME_ZH, LONG_NAME_EN
    org.grid.save(update_fields=["name_zh", "name_en"])
    context = browsing.context(language=language, geolocation=(30.5001, 120.7002))
    context.add_init_script(RECORD_GEOLOCATION)
    page = context.new_page()
    login(page, "gw")
    page.goto("/cases/new/")
    wait_for_grid_outlines(page)
    assert page.viewport_size["width"] == 360

    # The grid worker has one grid: it is chosen already.
    assert page.locator("#id_grid").input_value() == str(org.grid.pk)

    # The map credits Leaflet without the flag icon.
    attribution = page.locator("#whistle-map .leaflet-control-attribution")
    assert attribution.locator("svg, img").count() == 0
    assert "Leaflet" in attribution.inner_text()

    # The grid's tooltip stays inside the map, wherever the finger rests on the grid.
    whistle_map = page.locator("#whistle-map")
    whistle_map.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => !document.querySelector("
        "'#whistle-map .leaflet-zoom-anim, #whistle-map .leaflet-pan-anim')"
    )
    box = whistle_map.bounding_box()
    for x_share in (0.15, 0.5, 0.85):
        page.mouse.move(box["x"] + box["width"] * x_share, box["y"] + box["height"] / 2)
        tooltip = page.locator("#whistle-map .leaflet-tooltip")
        tooltip.wait_for()
        assert (LONG_NAME_ZH if language == "zh" else LONG_NAME_EN) in tooltip.inner_text()
        assert_inside(tooltip.bounding_box(), box)
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] - 40)
    assert overflow(page) <= 0

    # "Use my location" asks for a position a few seconds old at most.
    page.get_by_test_id("use-location").click()
    page.wait_for_function("() => document.getElementById('id_latitude').value !== ''")
    options = page.evaluate("() => window.__geoOptions")
    assert options and all(0 <= option.get("maximumAge", 0) <= 5000 for option in options)
    assert overflow(page) <= 0
    shot(page, f"{language}-small-screen-filing")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_tracking_page_fits_a_360px_phone(browsing, org, language):
    case = in_progress(org)
    page = browsing.page(language=language)
    page.goto("/track/")
    assert overflow(page) <= 0
    page.locator("#id_code").fill(case.tracking_code)
    page.get_by_test_id("tracking-form").locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert case.number in page.locator("main").inner_text()
    assert overflow(page) <= 0
    shot(page, f"{language}-small-screen-tracking")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_my_alerts_fits_a_360px_phone_and_saves_quiet_hours(browsing, org, settings, language):
    from teams.models import AlertPreference

    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "mail", "sms", "push", "dingtalk", "wecom"]
    org.grid_worker.phone = ""  # the page warns that SMS cannot reach them
    org.grid_worker.save(update_fields=["phone"])
    page = browsing.page("gw", language=language)
    page.goto("/alerts/")
    assert page.viewport_size["width"] == 360
    assert page.get_by_test_id("unreachable-sms").is_visible()
    assert overflow(page) <= 0
    page.locator("#id_quiet_start").fill("22:00")
    page.locator("#id_quiet_end").fill("07:00")
    page.locator("input[name=channels][value=wecom]").check()
    page.get_by_test_id("save-alerts").click()
    page.wait_for_load_state()
    row = AlertPreference.objects.get(user=org.grid_worker)
    assert (row.quiet_start.hour, row.quiet_end.hour) == (22, 7)
    assert row.channels == ["mail", "push", "wecom"]
    assert overflow(page) <= 0
    shot(page, f"{language}-small-screen-my-alerts")
