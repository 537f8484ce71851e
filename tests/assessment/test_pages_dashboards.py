"""The dashboard pages: both languages for the roles that read them, scope (403/404), every
number linked to a list with exactly that many cases, exports equal to the tables, constant
queries, and clear messages for a bad period."""

import csv
import io
import re
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from assessment.indicators import LABELS
from tests.assessment.dashboards_steps import T0, count_links, month_of_cases
from tests.cases import conftest as cases_conftest
from tests.cases.engine_steps import file_case

org = cases_conftest.org  # the organisation fixture of the case tests

OVERVIEW = reverse("assessment:overview")
RANKINGS = reverse("assessment:rankings")
CASES = reverse("assessment:cases")
REPORT = reverse("assessment:report")
ROW = re.compile(r'<tr data-testid="table-row">(.*?)</tr>', re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
TAG = re.compile(r"<[^>]+>")


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def get(client, user, url, language="en", **params):
    client.force_login(user)
    return client.get(url, params, HTTP_ACCEPT_LANGUAGE=language)


def unit_url(unit_type, unit_id):
    return reverse("assessment:unit", args=[unit_type, unit_id])


def table_rows(html: str, name: str) -> list[list[str]]:
    """The visible text of each cell of one table, as the page shows it."""
    start = html.index(f'data-testid="table-{name}"')
    body = html[start : html.index("</table>", start)]
    rows = []
    for row in ROW.findall(body):
        cells = []
        for cell in CELL.findall(row):
            cells.append(" ".join(unescape(TAG.sub(" ", cell)).split()))
        rows.append(cells)
    return rows


def drill_count(client, url: str) -> int:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, url
    match = re.search(r'data-testid="result-count" data-count="(\d+)"', response.content.decode())
    assert match, url
    return int(match.group(1))


# --- rendering -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("who", ["supervisor", "city_committee", "town_committee"])
def test_pages_render_in_both_languages(client, org, who, language):
    month_of_cases(org)
    user = getattr(org, who)
    home = unit_url("town", org.town.pk)
    pages = [OVERVIEW, RANKINGS, home, REPORT, f"{RANKINGS}?type=village"]
    for url in pages:
        response = get(client, user, url, language)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'<html lang="{language}"' in html
        with translation.override(language):
            assert str(LABELS["closure_rate"]) in html, url
    html = get(client, user, OVERVIEW, language).content.decode()
    assert 'data-chart="line"' in html and 'id="trend-chart-data"' in html
    assert 'data-chart="levels"' in html and 'id="level-chart-data"' in html
    assert "<script>" not in html and "onclick" not in html  # no inline scripts
    assert "js/assessment.js" in html and "vendor/echarts/echarts.min.js" in html


def test_overview_shows_the_rates_of_the_users_unit(client, org):
    month_of_cases(org)
    town = get(client, org.town_committee, OVERVIEW).content.decode()
    city = get(client, org.supervisor, OVERVIEW).content.decode()
    # Five cases are due in June (rejected left out): 3 closed of 5 → 60.0%.
    assert 'data-testid="kpi-closure_rate"' in town
    assert "60.0%" in town and "60.0%" in city
    assert org.town.name in town and org.city.name in city


def test_overview_lists_red_cases(client, org, time_machine):
    case = file_case(org)
    time_machine.move_to(T0.replace(hour=17), tick=False)  # screening limit long past
    html = get(client, org.supervisor, OVERVIEW).content.decode()
    assert [r[0] for r in table_rows(html, "red")] == [case.number]


def test_ranking_tabs_rank_each_unit_type(client, org):
    month_of_cases(org)
    for unit_type, expected in [
        ("town", {org.town.name, org.other_town.name}),
        ("village", {org.village.name, org.other_village.name}),
        ("team", {org.team.name, org.other_team.name}),
        ("department", {org.department.name}),
    ]:
        html = get(client, org.supervisor, RANKINGS, type=unit_type).content.decode()
        names = {row[1] for row in table_rows(html, "ranking")}
        assert expected <= names, unit_type
        assert f'data-testid="tab-{unit_type}" aria-current="page"' in unescape(html) or (
            'aria-current="page" data-testid="tab-' + unit_type in html
        )
    # A town's committee ranks within its own town only.
    html = get(client, org.town_committee, RANKINGS, type="town").content.decode()
    assert [row[1] for row in table_rows(html, "ranking")] == [org.town.name]


# --- scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["grid_worker", "member"])
def test_roles_without_dashboards_get_403(client, org, who):
    user = getattr(org, who)
    for url in [
        OVERVIEW,
        RANKINGS,
        unit_url("town", org.town.pk),
        f"{CASES}?indicator=closure_rate&part=numerator&unit_type=town&unit_id={org.town.pk}",
        reverse("assessment:hotspots"),
        REPORT,
        reverse("assessment:evaluate"),
    ]:
        assert get(client, user, url).status_code == 403, url


def test_units_outside_the_scope_are_404(client, org):
    month_of_cases(org)
    user = org.town_committee
    assert get(client, user, unit_url("town", org.other_town.pk)).status_code == 404
    assert get(client, user, unit_url("team", org.other_team.pk)).status_code == 404
    assert get(client, user, unit_url("city", org.city.pk)).status_code == 404
    assert get(client, user, unit_url("nonsense", 1)).status_code == 404
    drill = {"indicator": "closure_rate", "part": "numerator", "unit_type": "town"}
    assert get(client, user, CASES, unit_id=org.other_town.pk, **drill).status_code == 404
    assert get(client, user, CASES, unit_id=org.town.pk, **drill).status_code == 200
    assert get(client, user, REPORT, unit_type="town", unit_id=org.other_town.pk).status_code == 404
    assert get(client, user, REPORT, unit_type="city").status_code == 403
    # The supervisor reads every unit of the city.
    assert get(client, org.supervisor, unit_url("town", org.other_town.pk)).status_code == 200


def test_login_required(client, org):
    response = client.get(OVERVIEW)
    assert response.status_code == 302 and "login" in response["Location"]


# --- every number opens exactly its cases ----------------------------------------------------


@pytest.mark.parametrize("who", ["supervisor", "town_committee"])
def test_every_number_links_to_exactly_that_many_cases(client, org, who):
    month_of_cases(org)
    user = getattr(org, who)
    client.force_login(user)
    pages = [
        OVERVIEW,
        unit_url("town", org.town.pk),
        unit_url("team", org.team.pk),
        f"{RANKINGS}?type=department",
        f"{RANKINGS}?type=village",
        REPORT,
    ]
    checked = {}
    for page in pages:
        links = count_links(client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode())
        for url, number in links:
            if not url.startswith(CASES):
                continue
            if url not in checked:
                checked[url] = drill_count(client, url)
            assert checked[url] == number, (page, url)
    assert len(checked) > 20
    assert any(count > 0 for count in checked.values())


def test_drill_down_lists_the_cases_with_links_to_them(client, org):
    cases = month_of_cases(org)
    html = get(
        client,
        org.supervisor,
        CASES,
        indicator="level_village_share",
        part="numerator",
        unit_type="city",
        unit_id=org.city.pk,
        kind="month",
        anchor="2025-06-01",
    ).content.decode()
    numbers = {row[0] for row in table_rows(html, "cases")}
    assert numbers == {cases["village_closed"].number, cases["village_closed_2"].number}
    assert reverse("cases:detail", args=[cases["village_closed"].pk]) in html


def test_drill_down_paginates_and_exports_every_case(client, org):
    for _ in range(27):
        file_case(org)
    from assessment.services import rebuild_all_facts

    rebuild_all_facts()
    params = {
        "indicator": "closure_rate",
        "part": "denominator",
        "unit_type": "village",
        "unit_id": org.village.pk,
        "kind": "month",
        "anchor": "2025-06-01",
    }
    html = get(client, org.supervisor, CASES, **params).content.decode()
    assert 'data-count="27"' in html
    assert len(table_rows(html, "cases")) == 25
    second = get(client, org.supervisor, CASES, page=2, **params).content.decode()
    assert len(table_rows(second, "cases")) == 2
    exported = get(client, org.supervisor, CASES, format="csv", **params).content
    assert len(list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))) == 28


def test_a_bad_drill_down_link_gets_a_message(client, org):
    response = get(client, org.supervisor, CASES, indicator="nope", part="half", unit_type="x")
    assert response.status_code == 200
    assert 'data-testid="drill-errors"' in response.content.decode()
    assert "There is no such indicator." in response.content.decode()


# --- exports ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "params", "table"),
    [
        (OVERVIEW, {}, "kpis"),
        (OVERVIEW, {}, "levels"),
        (RANKINGS, {"type": "village"}, "ranking"),
        (REPORT, {}, "kpis"),
    ],
)
def test_exports_have_the_rows_of_the_html_table(client, org, url, params, table):
    month_of_cases(org)
    html = get(client, org.supervisor, url, **params).content.decode()
    shown = table_rows(html, table)
    assert shown
    response = get(client, org.supervisor, url, format="csv", table=table, **params)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == len(shown) + 1
    assert [row[0] for row in rows[1:]] == [row[0] for row in shown]
    response = get(client, org.supervisor, url, format="xlsx", table=table, **params)
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == rows[0]
    assert [str(row[0]) for row in values[1:]] == [row[0] for row in rows[1:]]
    assert len(values) == len(rows)


def test_rank_export_keeps_numbers_typed(client, org):
    month_of_cases(org)
    response = get(client, org.supervisor, RANKINGS, type="village", format="xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Rank"
    assert all(isinstance(row[0], int) for row in rows[1:])
    header = [str(h) for h in rows[0]]
    col = header.index("Closure rate (%)")
    village = next(row for row in rows[1:] if row[1] == org.village.name)
    assert village[col] == 75  # 3 closed of the village's 4 due, as a number, not text


def test_an_unknown_export_format_or_table_is_a_bad_request(client, org):
    assert get(client, org.supervisor, OVERVIEW, format="pdf").status_code == 400
    assert get(client, org.supervisor, OVERVIEW, format="csv", table="nope").status_code == 400


# --- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kind": "fortnight"}, "Select a valid choice."),
        ({"kind": "custom", "start": "2025-06-01", "end": "2035-06-10"}, "at most ten years"),
        ({"kind": "custom", "start": "2025-06-10", "end": "2025-06-01"}, "before its start"),
        ({"kind": "custom", "start": "2025-06-10"}, "Enter the last day"),
        ({"kind": "month", "anchor": "June"}, "Enter a valid date."),
    ],
)
def test_a_bad_period_gets_a_clear_message(client, org, params, message):
    for url in (OVERVIEW, RANKINGS, unit_url("town", org.town.pk), REPORT):
        response = get(client, org.supervisor, url, **params)
        if url == REPORT and params.get("kind") != "month":
            continue  # the report is always a month
        assert response.status_code == 400, url
        html = response.content.decode()
        assert message in html, url
        assert 'data-testid="kpi-tiles"' not in html
    # htmx swaps the body with the same message.
    client.force_login(org.supervisor)
    response = client.get(OVERVIEW, params, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "<html" not in response.content.decode()


@pytest.mark.parametrize(
    ("params", "label"),
    [
        ({"kind": "day", "anchor": "2025-06-10"}, "2025-06-10"),
        ({"kind": "quarter", "anchor": "2025-05-02"}, "2025 Q2"),
        ({"kind": "year", "anchor": "2025-05-02"}, "2025"),
        ({"kind": "custom", "start": "2025-06-01", "end": "2025-06-15"}, "2025-06-01 – 2025-06-15"),
    ],
)
def test_periods_of_every_kind(client, org, params, label):
    month_of_cases(org)
    html = get(client, org.supervisor, OVERVIEW, **params).content.decode()
    assert 'data-testid="kpi-tiles"' in html
    assert label in html


def test_htmx_filter_returns_the_body_only(client, org):
    client.force_login(org.supervisor)
    response = client.get(OVERVIEW, {"kind": "week"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'data-testid="kpi-tiles"' in html
    assert response["Vary"].count("HX-Request") == 1


# --- queries ---------------------------------------------------------------------------------


def queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        OVERVIEW,
        f"{RANKINGS}?type=village",
        "unit",
        "drill",
        REPORT,
    ],
)
def test_queries_do_not_grow_with_the_cases(client, org, url):
    from assessment.services import rebuild_all_facts

    if url == "unit":
        url = unit_url("village", org.village.pk)
    if url == "drill":
        url = (
            f"{CASES}?indicator=closure_rate&part=denominator&unit_type=village"
            f"&unit_id={org.village.pk}"
        )
    client.force_login(org.supervisor)
    for _ in range(2):
        file_case(org)
    rebuild_all_facts()
    cache.clear()  # both requests count (a month whose facts did not change stays cached)
    few = queries(client, url)
    for _ in range(18):
        file_case(org)
    rebuild_all_facts()
    cache.clear()
    many = queries(client, url)
    assert many == few, url
