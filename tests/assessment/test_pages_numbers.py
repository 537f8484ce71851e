"""The numbers as the pages show them (issue 19, items 1-4 and 7): units that never reported
in are not shown as reported in (case page, /command/); the 70/20/10 table is of who solved
the cases, the level view labelled as such; the response rate says dispatches and its list
names each row's unit; periods without data show empty cells."""

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.assessment.facts_steps import Driver, eager_celery  # noqa: F401
from tests.assessment.test_charges_and_solvers import failed_after_team_alone, second_bureau  # noqa: F401
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0

ROW = re.compile(r'<tr data-testid="table-row">(.*?)</tr>', re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
TAG = re.compile(r"<[^>]+>")
DISPATCH = re.compile(
    r'<article class="dispatch[^"]*" data-testid="dispatch"[^>]*>(.*?)</article>', re.S
)


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def drive(django_capture_on_commit_callbacks, time_machine, eager_celery):  # noqa: F811
    return Driver(django_capture_on_commit_callbacks, time_machine)


def text(fragment: str) -> str:
    return " ".join(unescape(TAG.sub(" ", fragment)).split())


def table_rows(html: str, name: str) -> list[list[str]]:
    start = html.index(f'data-testid="table-{name}"')
    body = html[start : html.index("</table>", start)]
    return [[text(cell) for cell in CELL.findall(row)] for row in ROW.findall(body)]


def table_headers(html: str, name: str) -> list[str]:
    start = html.index(f'data-testid="table-{name}"')
    head = html[start : html.index("</thead>", start)]
    return [text(cell) for cell in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


def get(client, user, url, **params) -> str:
    client.force_login(user)
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def test_units_that_never_reported_in_are_not_shown_as_reported_in(
    client,
    org,  # noqa: F811
    drive,
    second_bureau,  # noqa: F811
):
    case = failed_after_team_alone(drive, org, second_bureau)
    page = get(client, org.town_committee, reverse("cases:detail", args=[case.pk]))
    shown = {}
    for article in DISPATCH.findall(page):
        heading = text(re.search(r"<h3>(.*?)</h3>", article, re.S).group(1))
        shown[heading] = article
    bureaus = [name for name in shown if "bureau" in name.lower()]
    assert len(bureaus) == 2
    for name in bureaus:
        assert "waiting for report-in" in name
        assert "Reported in at" not in shown[name]
    team = next(name for name in shown if name not in bureaus)
    assert "reported in" in team and "Reported in at" in shown[team]

    command = get(client, org.town_committee, reverse("cases:command"))
    items = re.findall(r'<li data-testid="command-dispatch-\d+">(.*?)</li>', command, re.S)
    lines = [text(item) for item in items]
    bureau_lines = [line for line in lines if "bureau" in line.lower()]
    assert len(bureau_lines) == 2
    assert all("waiting for report-in" in line for line in bureau_lines)


def test_the_overview_shows_who_solved_and_the_level_view(client, org, drive, second_bureau):  # noqa: F811
    failed_after_team_alone(drive, org, second_bureau)
    html = get(
        client, org.supervisor, reverse("assessment:overview"), kind="month", anchor="2025-06-01"
    )
    solvers = table_rows(html, "levels")
    assert [row[0] for row in solvers] == [
        "The village itself",
        "The town's teams",
        "A committee consultation",
    ]
    assert [row[-1] for row in solvers] == ["70%", "20%", "10%"]
    assert table_headers(html, "levels")[0] == "Solved by"
    levels = table_rows(html, "closing_levels")
    assert [row[0] for row in levels] == ["Village", "Town", "City"]
    assert "Target (%)" not in table_headers(html, "closing_levels")
    assert "Level view" in html

    tile = re.search(r'data-testid="kpi-response_rate">(.*?)</li>', html, re.S).group(1)
    assert "dispatches reported in on time" in text(tile)
    assert "1 dispatch out of 3" in text(tile)


def test_the_response_rate_list_names_each_unit(client, org, drive, second_bureau):  # noqa: F811
    failed_after_team_alone(drive, org, second_bureau)
    html = get(
        client,
        org.supervisor,
        reverse("assessment:cases"),
        indicator="response_rate",
        part="denominator",
        unit_type="city",
        unit_id=org.city.pk,
        kind="month",
        anchor="2025-06-01",
    )
    assert table_headers(html, "cases")[1] == "Dispatched to"
    rows = table_rows(html, "cases")
    assert len(rows) == 3
    assert len({row[1] for row in rows}) == 3  # one row per unit, each named
    assert 'data-count="3"' in html and "3 dispatches" in html

    # A list of cases keeps its columns.
    cases_html = get(
        client,
        org.supervisor,
        reverse("assessment:cases"),
        indicator="rework_rate",
        part="denominator",
        unit_type="city",
        unit_id=org.city.pk,
        kind="month",
        anchor="2025-06-01",
    )
    assert "Dispatched to" not in table_headers(cases_html, "cases")


def test_periods_without_data_show_empty_cells(client, org, drive, second_bureau):  # noqa: F811
    failed_after_team_alone(drive, org, second_bureau)
    html = get(
        client, org.supervisor, reverse("assessment:overview"), kind="month", anchor="2025-06-01"
    )
    rows = table_rows(html, "trend")
    assert len(rows) == 12
    empty_months, june = rows[:-1], rows[-1]
    for row in empty_months:
        assert all(cell == "" for cell in row[1:]), row
    assert "0/0" not in html.replace(" ", "")
    assert june[0] == "2025-06" and any(cell for cell in june[1:])
