"""The hot spot map: counts per grid and item from the cases table within scope, a legend,
the map's data without tiles, counts that open the case list with as many cases."""

import json
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessment.hotspots import heat_level, legend
from checklists.models import Item
from tests.assessment.dashboards_steps import OTHER, T0, count_links
from tests.cases import conftest as cases_conftest
from tests.cases.engine_steps import file_case

org = cases_conftest.org  # the organisation fixture of the case tests

URL = reverse("assessment:hotspots")


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def map_data(html: str) -> dict:
    match = re.search(r'<script id="hotspot-data" type="application/json">(.*?)</script>', html)
    return json.loads(match.group(1))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_map_colours_grids_by_count(client, org, language):
    for _ in range(3):
        file_case(org)
    file_case(org, user=org.other_grid_worker, **OTHER)
    client.force_login(org.supervisor)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    assert "vendor/leaflet/leaflet.js" in html and 'data-tile-url=""' in html
    features = {f["properties"]["code"]: f["properties"] for f in map_data(html)["features"]}
    assert features[org.grid.code]["total"] == 3 and features[org.grid.code]["level"] == 5
    assert features[org.other_grid.code]["total"] == 1
    assert 'data-testid="heat-legend"' in html and "heat-5" in html
    assert (org.item.name_zh if language == "zh-hans" else org.item.name_en) in html


def test_counts_link_to_a_case_list_with_as_many_cases(client, org):
    for _ in range(2):
        file_case(org)
    client.force_login(org.supervisor)
    links = count_links(client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert tuple({n for url, n in links if org.grid.code in url}) == (2,)
    for url, number in links:
        listing = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert len(re.findall(r'data-testid="case-row"', listing)) == number, unescape(url)


def test_item_filter_and_scope(client, org):
    file_case(org)
    file_case(org, user=org.other_grid_worker, **OTHER)
    other_item = Item.objects.exclude(pk=org.item.pk).filter(whistleable=True).first()
    client.force_login(org.supervisor)
    html = client.get(URL, {"item": other_item.pk}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert all(f["properties"]["total"] == 0 for f in map_data(html)["features"])
    # The other town's committee sees none of these grids.
    from tests.factories import MembershipFactory, UserFactory

    stranger = UserFactory(username="town2")
    MembershipFactory(user=stranger, role="town_committee", region=org.other_town)
    client.force_login(stranger)
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert map_data(html)["features"] == []
    client.force_login(org.grid_worker)
    assert client.get(URL).status_code == 403


def test_export_and_constant_queries(client, org):
    client.force_login(org.supervisor)
    file_case(org)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for _ in range(10):
        file_case(org)
        file_case(org, user=org.other_grid_worker, **OTHER)
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL, {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="en")
    assert len(many.captured_queries) <= len(few.captured_queries)
    text = response.content.decode("utf-8-sig").splitlines()
    assert text[0].startswith("Grid code,Grid,Cases")
    assert text[1].startswith(f"{org.grid.code},") and ",11," in text[1]


def test_legend_and_levels():
    spots = [{"total": 10}, {"total": 3}, {"total": 0}]
    assert [heat_level(s["total"], 10) for s in spots] == [5, 2, 0]
    steps = legend(spots)
    assert steps[0] == {"level": 0, "low": 0, "high": 0}
    assert steps[-1] == {"level": 5, "low": 9, "high": 10}
    assert legend([{"total": 0}]) == [{"level": 0, "low": 0, "high": 0}]
