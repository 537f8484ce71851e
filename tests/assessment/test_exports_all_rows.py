"""Every export exports all the rows of its list, not the page shown (issue 19, item 5): the
unit page's cases, the overview's red list, the case list, and the hot spot counts open a
list with as many cases as they say."""

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse

from assessment.services import refresh_case_facts
from assessment.views import PAGE_SIZE, RED_LIMIT
from cases.models import Case, Deadline
from cases.services import merge_case, reject_case
from checklists.models import Stage
from tests.assessment.dashboards_steps import count_links
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0, file_case


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def many_cases(org, count: int) -> list[Case]:  # noqa: F811
    cases = [file_case(org) for _ in range(count)]
    for case in cases:
        refresh_case_facts(case_id=case.pk)
    return cases


def test_the_unit_page_exports_all_its_cases(client, org):  # noqa: F811
    cases = many_cases(org, PAGE_SIZE + 3)
    client.force_login(org.supervisor)
    url = reverse("assessment:unit", args=["village", org.village.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    table = page.split('data-testid="table-cases"', 1)[1].split("</table>", 1)[0]
    assert table.count('data-testid="table-row"') == PAGE_SIZE  # the page shows one page
    rows = csv_rows(client.get(url, {"format": "csv", "table": "cases"}))
    assert len(rows) - 1 == len(cases)
    assert {row[0] for row in rows[1:]} == {case.number for case in cases}
    # The second page's export is the same file.
    again = csv_rows(client.get(url, {"format": "csv", "table": "cases", "page": 2}))
    assert again == rows


def test_the_red_list_exports_every_red_case(client, org, time_machine):  # noqa: F811
    cases = many_cases(org, RED_LIMIT + 2)
    late = max(Deadline.objects.filter(stage=Stage.SCREENING).values_list("due_at", flat=True))
    moment = late + timedelta(minutes=1)
    time_machine.move_to(moment, tick=False)
    # The village officer never screens them: red, but not swept yet (still filed, still red).
    client.force_login(org.town_committee)
    url = reverse("assessment:overview")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    table = page.split('data-testid="table-red"', 1)[1].split("</table>", 1)[0]
    assert table.count('data-testid="table-row"') == RED_LIMIT
    rows = csv_rows(client.get(url, {"format": "csv", "table": "red"}))
    assert len(rows) - 1 == len(cases)


def test_the_case_list_exports_all_its_rows(client, org):  # noqa: F811
    cases = many_cases(org, 27)
    client.force_login(org.town_committee)
    url = reverse("cases:list")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="export-all-csv"' in page
    rows = csv_rows(client.get(url, {"format": "csv", "sort": "-filed_at"}))
    assert len(rows) - 1 == len(cases)
    assert [row[0] for row in rows[1:]] == [case.number for case in reversed(cases)]
    filtered = csv_rows(client.get(url, {"format": "csv", "q": cases[0].number}))
    assert [row[0] for row in filtered[1:]] == [cases[0].number]
    assert client.get(url, {"format": "pdf"}).status_code == 400


def test_hot_spot_counts_open_lists_without_rejected_or_merged_whistles(client, org):  # noqa: F811
    kept = file_case(org)
    file_case(org)
    rejected = file_case(org)
    reject_case(user=org.village_officer, case_id=rejected.pk, reason="Private matter")
    duplicate = file_case(org)
    merge_case(user=org.village_officer, case_id=duplicate.pk, into_case_id=kept.pk)
    client.force_login(org.supervisor)
    links = count_links(
        client.get(reverse("assessment:hotspots"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    assert tuple({n for url, n in links if org.grid.code in url}) == (2,)
    for url, number in links:
        listing = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert len(re.findall(r'data-testid="case-row"', listing)) == number, unescape(url)
