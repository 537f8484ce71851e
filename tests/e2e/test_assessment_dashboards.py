"""The assessment dashboards in a real browser: the supervisor reads the overview (KPI tiles,
the ECharts trend and level charts), follows a number to the cases behind it, ranks every kind
of unit, looks at the hot spot map, prints the monthly report and exports a table; the town
committee scores a department. In English at desktop size and in Chinese on a phone, with
screenshots at both sizes; a Content-Security-Policy violation fails the test like a JS error."""

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page

from assessment.services import rebuild_all_facts
from cases.sweep import fire_deadline
from checklists.models import Stage
from tests.assessment.dashboards_steps import closed_by_team, closed_on_spot
from tests.cases.engine_steps import accepted, file_case, resolved_by_team
from tests.e2e.helpers import messages_text, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Each chart container has drawn something (ECharts' SVG renderer, or a canvas) of real size.
CHARTS_DRAWN = """() => {
  const charts = [...document.querySelectorAll('[data-chart]')];
  return charts.length > 0 && charts.every((chart) => {
    const drawing = chart.querySelector('svg, canvas');
    if (!drawing) return false;
    const box = drawing.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && drawing.querySelectorAll('*').length > 0;
  });
}"""
# Records CSP violations in the page (the browsing fixture only sees JS errors and 4xx files).
CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__csp.push(
    event.violatedDirective + ' ' + (event.blockedURI || 'inline')
    + ' at ' + event.sourceFile + ':' + event.lineNumber + ':' + event.columnNumber
  );
});
"""


def seed_cases(org) -> dict:
    """One case at each point of the way, through the services; facts rebuilt afterwards."""
    cases = {
        "filed": file_case(org),
        "accepted": accepted(org),
        "closed_on_spot": closed_on_spot(org),
        "closed_by_team": closed_by_team(org),
        "resolved_by_team": resolved_by_team(org),
    }
    overdue = accepted(org)
    deadline = overdue.deadlines.get(stage=Stage.VILLAGE_HANDLING)
    assert fire_deadline(deadline_id=deadline.pk, now=deadline.due_at + timedelta(minutes=1))
    cases["overdue"] = overdue
    assert rebuild_all_facts() == len(cases)
    return cases


def snap(page: Page, name: str) -> None:
    """shot(), then drop the empty style="" that Playwright's screenshot leaves on inputs: htmx
    copies an old element's attributes onto its swapped-in twin, and setting a style attribute
    from script is a CSP (style-src-attr) violation no real visitor would cause."""
    shot(page, name)
    page.evaluate(
        "document.querySelectorAll('[style=\"\"]').forEach((e) => e.removeAttribute('style'))"
    )


def watch_csp(page: Page) -> Page:
    page.context.add_init_script(CSP_WATCH)
    return page


def assert_no_csp_violation(page: Page) -> None:
    violations = page.evaluate("window.__csp || []")
    assert violations == [], f"CSP violations on {page.url}: {violations}"


def number(text: str) -> int:
    match = re.search(r"\d+", text)
    assert match, f"no number in {text!r}"
    return int(match.group())


def check_overview(page: Page, name: str) -> None:
    page.goto("/assessment/")
    tiles = page.locator("[data-testid=kpi-tiles] .kpi-tile")
    assert tiles.count() >= 5
    values = tiles.locator(".kpi-value").all_inner_texts()
    assert all(re.search(r"\d", value) for value in values), values
    page.wait_for_function(CHARTS_DRAWN)
    assert page.locator("[data-chart=levels]").count() == 1
    assert page.locator("[data-chart=levels] svg, [data-chart=levels] canvas").count() == 1
    assert page.get_by_test_id("table-levels").locator("tbody tr").count() >= 3
    assert_no_csp_violation(page)
    snap(page, f"assessment-01-overview-{name}")


def check_drill_down(page: Page, name: str, *, every_link: bool) -> None:
    """A count on the KPI tiles opens a list of exactly that many cases: the first by a click,
    with `every_link` all the others too, by their address."""
    links = page.locator("[data-testid=kpi-tiles] [data-testid=count-link]")
    expected = [
        (link.get_attribute("href"), int(link.get_attribute("data-count"))) for link in links.all()
    ]
    assert expected and any(count > 0 for _href, count in expected)
    first = next(i for i, (_href, count) in enumerate(expected) if count > 0)
    tile_text = links.nth(first).inner_text()
    assert number(tile_text) == expected[first][1]
    links.nth(first).click()
    page.wait_for_url("**/assessment/cases/**")
    snap(page, f"assessment-02-cases-{name}")
    for index, (href, count) in enumerate(expected):
        if index != first and not every_link:
            continue
        if index != first:
            page.goto(href)
        shown = page.get_by_test_id("result-count")
        assert number(shown.inner_text()) == count, href
        assert int(shown.get_attribute("data-count")) == count, href
        rows = page.get_by_test_id("table-cases").locator("tbody tr")
        assert rows.count() == count, href


def check_rankings(page: Page, name: str) -> None:
    page.goto("/assessment/")
    page.get_by_test_id("nav-rankings").click()
    page.wait_for_url("**/assessment/rankings/**")
    tabs = page.locator("[data-testid^=tab-]")
    keys = [tab.get_attribute("data-testid").removeprefix("tab-") for tab in tabs.all()]
    assert set(keys) == {"department", "team", "town", "village"}
    for key in keys:
        page.get_by_test_id(f"tab-{key}").click()
        page.wait_for_url(re.compile(rf"type={key}"))
        page.wait_for_selector(f"[data-testid=tab-{key}][aria-current=page]")
        ranking = page.get_by_test_id("table-ranking")
        assert ranking.locator("thead th").count() >= 3
        assert ranking.locator("tbody tr").count() >= 1, key
        if key == "team":
            snap(page, f"assessment-03-rankings-{key}-{name}")
    assert_no_csp_violation(page)


def check_hot_spots(page: Page, name: str) -> None:
    page.get_by_test_id("nav-hotspots").click()
    page.wait_for_url("**/assessment/hotspots/**")
    page.wait_for_function(
        "document.querySelectorAll('#hotspot-map .leaflet-overlay-pane path').length >= 2"
    )
    paths = page.locator("#hotspot-map .leaflet-overlay-pane path")
    box = paths.first.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0
    # The busiest grid is coloured by the top step of the legend, not left blank.
    assert page.locator("#hotspot-map path[class*='heat-']").count() == paths.count()
    legend = page.get_by_test_id("heat-legend")
    assert legend.is_visible() and legend.locator("li").count() >= 2
    assert page.get_by_test_id("table-hotspots").locator("tbody tr").count() >= 1
    assert_no_csp_violation(page)
    snap(page, f"assessment-04-hotspots-{name}")


def check_report(page: Page, name: str) -> None:
    page.get_by_test_id("nav-report").click()
    page.wait_for_url("**/assessment/report/**")
    report = page.get_by_test_id("report")
    assert report.is_visible()
    assert report.get_by_test_id("table-kpis").locator("tbody tr").count() >= 5
    # The print button calls the browser's print dialog (stubbed: headless has none).
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.get_by_test_id("print").click()
    assert page.evaluate("window.__printed === true")
    page.emulate_media(media="print")
    try:
        assert report.is_visible()
        assert not page.get_by_test_id("period-form").is_visible()
        assert not page.locator(".assessment-nav").is_visible()
        assert not page.get_by_test_id("print").is_visible()
        snap(page, f"assessment-05-report-print-{name}")
    finally:
        page.emulate_media(media="screen")
    assert_no_csp_violation(page)


def check_csv_export(page: Page) -> None:
    page.goto("/assessment/")
    headers = page.get_by_test_id("table-kpis").locator("thead th").all_inner_texts()
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv-kpis").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    first_line = next(csv.reader(io.StringIO(text)))
    assert first_line == [header.strip() for header in headers]
    assert len(text.strip().splitlines()) > 1


@pytest.mark.parametrize(("language", "phone"), [("en", False), ("zh", True)])
def test_the_supervisor_reads_the_dashboards(browsing, org, language, phone):
    seed_cases(org)
    page = watch_csp(browsing.page("sup", language=language, phone=phone))
    name = f"{language}-{'phone' if phone else 'desktop'}"
    check_overview(page, name)
    check_drill_down(page, name, every_link=language == "en")
    check_rankings(page, name)
    check_hot_spots(page, name)
    check_report(page, name)
    check_csv_export(page)


def test_the_town_committee_scores_a_department(browsing, org):
    page = watch_csp(browsing.page("town", language="en", phone=False))
    page.goto("/assessment/")
    page.get_by_test_id("nav-evaluate").click()
    page.wait_for_url("**/assessment/evaluate/**")
    form = page.get_by_test_id("evaluation-form")
    form.locator("#id_department").select_option(str(org.department.pk))
    form.locator("#id_score").fill("85")
    form.locator("#id_note").fill("Quick to report in")
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("save-evaluation").click()
    assert "The evaluation was recorded." in messages_text(page)
    row = page.get_by_test_id("evaluation-row")
    assert row.count() == 1
    assert "Urban management bureau" in row.inner_text() and "85" in row.inner_text()
    snap(page, "assessment-06-evaluation-saved-en")

    page.get_by_test_id("evaluation-form").locator("#id_score").fill("101")
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("save-evaluation").click()
    error = page.locator("#id_score_error")
    assert error.is_visible() and "100" in error.inner_text()
    score_box = page.locator("#id_score").bounding_box()
    error_box = error.bounding_box()
    # Next to the field: just below it, in the same column.
    assert 0 <= error_box["y"] - (score_box["y"] + score_box["height"]) < 60
    assert abs(error_box["x"] - score_box["x"]) < 20
    assert page.locator("#id_score").get_attribute("aria-invalid") == "true"
    assert_no_csp_violation(page)
    snap(page, "assessment-07-evaluation-error-en")
