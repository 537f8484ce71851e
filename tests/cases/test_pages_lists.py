"""The case list page: scope, every filter, sorting, pagination, bad filters, htmx, queries."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from cases.models import Deadline, Source, Status
from cases.services import accept_case, file_whistle, reject_case, whistle_to_town
from checklists.models import Item, Stage
from tests.factories import GridFactory, VillageFactory, square_polygon

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 6, 10, 9, 0, tzinfo=TZ)  # a Tuesday, in office hours
URL = reverse("cases:list")
ROW = re.compile(r'data-testid="case-row" data-case="([^"]+)"')


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def file(org, *, grid=None, user=None, item=None, description="Garbage piled by the bridge"):
    """File through the real service; the grid worker of `org.grid` by default."""
    grid = grid or org.grid
    if grid == org.other_grid:
        user = user or org.other_grid_worker
    return file_whistle(
        user=user or org.grid_worker,
        item=item or org.item,
        description=description,
        grid=grid,
    ).case


def hotline(grid, description="Rubbish at the market"):
    """A whistle from the 12345 hotline, which needs no user: for places without one."""
    item = Item.objects.get(code="SAN-01")
    return file_whistle(
        user=None, item=item, description=description, grid=grid, source=Source.HOTLINE
    ).case


def numbers(response) -> list[str]:
    assert response.status_code == 200
    return ROW.findall(response.content.decode())


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")


# --- rendering, scope ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_list_renders_in_both_languages(client, org, language):
    case = file(org)
    client.force_login(org.grid_worker)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    assert case.number in html
    with translation.override(language):
        assert str(Status.FILED.label) in html
        assert org.item.name in html
        assert org.grid.name in html
    assert (org.item.name_zh if language == "zh-hans" else org.item.name_en) in html
    assert f'<html lang="{language}"' in html
    # The running screening clock shows as a light with its text label and due time.
    assert 'data-light="green"' in html
    assert "2025-06-10 09:30" in html  # due in local time (30 minutes of screening)


def test_anonymous_is_sent_to_login(client, org):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_grid_worker_sees_only_their_grid(client, org):
    mine = file(org)
    theirs = file(org, grid=org.other_grid)
    assert numbers(get(client, org.grid_worker)) == [mine.number]
    assert numbers(get(client, org.other_grid_worker)) == [theirs.number]


def test_other_towns_captain_sees_none_of_this_town(client, org):
    file(org)
    file(org, grid=org.other_grid)
    response = get(client, org.other_captain)
    assert numbers(response) == []
    assert "0 cases" in response.content.decode()


def test_city_staff_and_supervisors_see_the_whole_city(client, org):
    far_grid = GridFactory(
        village=VillageFactory(parent=org.other_town), polygon=square_polygon(121.0, 30.6)
    )
    cases = [file(org), file(org, grid=org.other_grid), hotline(far_grid)]
    expected = sorted(case.number for case in cases)
    for user in (org.supervisor, org.city_committee):
        response = get(client, user)
        assert sorted(numbers(response)) == expected
        assert "3 cases" in response.content.decode()
    # The town committee sees its own town only.
    assert sorted(numbers(get(client, org.town_committee))) == expected[:2]


# --- filters ---------------------------------------------------------------------------------


def test_status_and_level_filters(client, org):
    filed = file(org)
    accepted = file(org, description="Bins overflowing at the school")
    accept_case(user=org.village_officer, case_id=accepted.pk)
    whistled = file(org, description="Construction waste dumped in the field")
    whistle_to_town(user=org.village_officer, case_id=whistled.pk, note="Too big")
    user = org.town_committee

    assert numbers(get(client, user, status="filed")) == [filed.number]
    assert numbers(get(client, user, status="village_handling")) == [accepted.number]
    assert numbers(get(client, user, status="dispatched")) == [whistled.number]
    assert numbers(get(client, user, level="town")) == [whistled.number]
    assert sorted(numbers(get(client, user, level="village"))) == sorted(
        [filed.number, accepted.number]
    )
    assert numbers(get(client, user, status="filed", level="town")) == []


def test_item_filter_offers_items_grouped_by_aspect(client, org):
    other_item = Item.objects.filter(whistleable=True, active=True).exclude(pk=org.item.pk).first()
    garbage = file(org)
    other = file(org, item=other_item, description="Something else entirely")

    response = get(client, org.grid_worker, item=other_item.pk)
    assert numbers(response) == [other.number]
    assert numbers(get(client, org.grid_worker, item=org.item.pk)) == [garbage.number]
    html = response.content.decode()
    assert f'<optgroup label="{org.item.aspect.name_en}">' in html

    client.force_login(org.grid_worker)
    zh = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f'<optgroup label="{org.item.aspect.name_zh}">' in zh
    assert org.item.name_zh in zh


def test_grid_filter_offers_only_visible_grids(client, org):
    here = file(org)
    there = file(org, grid=org.other_grid)
    user = org.town_committee

    assert numbers(get(client, user, grid=org.grid.code)) == [here.number]
    assert numbers(get(client, user, grid=org.other_grid.code)) == [there.number]

    # A grid worker is offered their own grid only; another grid is refused, not applied.
    html = get(client, org.grid_worker).content.decode()
    assert f'value="{org.grid.code}"' in html
    assert f'value="{org.other_grid.code}"' not in html
    response = get(client, org.grid_worker, grid=org.other_grid.code)
    assert 'data-testid="filter-errors"' in response.content.decode()
    assert numbers(response) == [here.number]


def test_light_filter_follows_the_running_deadline(client, org, time_machine):
    first = file(org)
    deadline = Deadline.objects.get(case=first, stage=Stage.SCREENING)
    time_machine.move_to(T0 + timedelta(minutes=10), tick=False)
    second = file(org, description="More garbage by the road")
    rejected = file(org, description="Old sofa on the pavement")
    reject_case(user=org.village_officer, case_id=rejected.pk, reason="Not ours")
    user = org.village_officer

    assert sorted(numbers(get(client, user, light="green"))) == sorted(
        [first.number, second.number]
    )
    assert numbers(get(client, user, light="yellow")) == []

    time_machine.move_to(deadline.warn_at + timedelta(seconds=1), tick=False)
    assert numbers(get(client, user, light="yellow")) == [first.number]
    assert numbers(get(client, user, light="green")) == [second.number]
    assert numbers(get(client, user, light="red")) == []

    time_machine.move_to(deadline.due_at + timedelta(seconds=1), tick=False)
    response = get(client, user, light="red")
    assert numbers(response) == [first.number]
    html = response.content.decode()
    assert 'data-light="red"' in html
    assert re.search(r'data-light="red">.*?Warning light:</span>\s*red\s*</span>', html, re.S)
    assert "overdue by" in html
    # A rejected case has no running clock and never matches a light.
    for light in ("red", "yellow", "green"):
        assert rejected.number not in numbers(get(client, user, light=light))


def test_filed_date_range_uses_local_days(client, org, time_machine):
    time_machine.move_to(datetime(2025, 6, 9, 23, 30, tzinfo=TZ), tick=False)
    monday = file(org, description="Monday night garbage")
    time_machine.move_to(datetime(2025, 6, 10, 0, 30, tzinfo=TZ), tick=False)
    tuesday = file(org, description="Tuesday garbage")
    time_machine.move_to(datetime(2025, 6, 12, 10, 0, tzinfo=TZ), tick=False)
    thursday = file(org, description="Thursday garbage")
    user = org.grid_worker

    assert numbers(get(client, user, filed_from="2025-06-10", filed_to="2025-06-10")) == [
        tuesday.number
    ]
    assert numbers(get(client, user, filed_to="2025-06-09")) == [monday.number]
    assert numbers(get(client, user, filed_from="2025-06-11")) == [thursday.number]


def test_text_search_on_number_and_description(client, org):
    bridge = file(org, description="Garbage under the BRIDGE")
    school = file(org, description="Bins overflowing at the school")
    user = org.grid_worker

    assert numbers(get(client, user, q="bridge")) == [bridge.number]
    assert numbers(get(client, user, q=school.number)) == [school.number]
    assert numbers(get(client, user, q="nothing like this")) == []


# --- sorting and pagination ------------------------------------------------------------------


def test_sorting_by_filed_at_number_and_due(client, org, time_machine):
    early = file(org, description="first")
    time_machine.move_to(T0 + timedelta(minutes=5), tick=False)
    late = file(org, description="second")
    # Accepting the early case replaces its 30-minute screening clock with a working day.
    accept_case(user=org.village_officer, case_id=early.pk)
    user = org.grid_worker

    assert numbers(get(client, user)) == [late.number, early.number]
    assert numbers(get(client, user, sort="filed_at")) == [early.number, late.number]
    assert numbers(get(client, user, sort="number")) == [early.number, late.number]
    assert numbers(get(client, user, sort="-number")) == [late.number, early.number]
    assert numbers(get(client, user, sort="due")) == [late.number, early.number]
    assert numbers(get(client, user, sort="-due")) == [early.number, late.number]


def test_pagination_keeps_the_filters(client, org, time_machine):
    for index in range(30):
        time_machine.move_to(T0 + timedelta(minutes=index), tick=False)
        file(org, description=f"Garbage heap {index}")
    file(org, grid=org.other_grid, description="Garbage heap elsewhere")
    user = org.town_committee

    first = get(client, user, q="heap", grid=org.grid.code)
    html = first.content.decode()
    assert len(numbers(first)) == 25
    assert "30 cases" in html
    assert "Page 1 of 2" in html
    link = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "q=heap" in link
    assert f"grid={org.grid.code}" in link
    assert "page=2" in link

    second = client.get(URL + link, HTTP_ACCEPT_LANGUAGE="en")
    assert len(numbers(second)) == 5
    assert "Page 2 of 2" in second.content.decode()
    assert set(numbers(first)).isdisjoint(numbers(second))


def test_a_page_out_of_range_shows_the_last_page(client, org):
    case = file(org)
    assert numbers(get(client, org.grid_worker, page="99")) == [case.number]
    assert numbers(get(client, org.grid_worker, page="abc")) == [case.number]


# --- bad filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"level": "planet"}, "level"),
        ({"item": "abc"}, "item"),
        ({"item": "999999"}, "item"),
        ({"grid": "NO-SUCH-GRID"}, "grid"),
        ({"light": "purple"}, "light"),
        ({"filed_from": "notadate"}, "filed_from"),
        ({"filed_from": "2025-06-12", "filed_to": "2025-06-01"}, "filed_to"),
        ({"sort": "password"}, "sort"),
        ({"q": "x" * 101, "status": "filed"}, "q"),
    ],
)
def test_invalid_filters_show_an_error_and_the_unfiltered_list(client, org, params, field):
    case = file(org)
    other = file(org, description="Bins overflowing at the school")
    # A valid filter next to the bad one is not applied either: the list is unfiltered.
    response = get(client, org.grid_worker, **{"q": "school", **params})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="filter-errors"' in html
    assert "Some filters are not valid" in html
    assert f'href="#id_{field}"' in html
    assert f'id="id_{field}_error"' in html  # the error next to the field too
    assert sorted(numbers(response)) == sorted([case.number, other.number])


def test_invalid_filter_message_is_translated(client, org):
    client.force_login(org.grid_worker)
    response = client.get(URL, {"filed_from": "notadate"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    with translation.override("zh-hans"):
        from django import forms

        assert str(forms.DateField().error_messages["invalid"]) in response.content.decode()


# --- htmx ------------------------------------------------------------------------------------


def test_htmx_filter_request_gets_only_the_results(client, org):
    case = file(org)
    client.force_login(org.grid_worker)
    response = client.get(URL, {"status": "filed"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="case-filters"' not in html
    assert ROW.findall(html) == [case.number]
    assert "HX-Request" in response["Vary"]

    full = client.get(URL, {"status": "filed"})
    page = full.content.decode()
    assert "<html" in page
    assert 'hx-target="#case-results"' in page
    assert 'hx-push-url="true"' in page

    # A history restore needs the whole page.
    restore = client.get(
        URL, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    ).content.decode()
    assert "<html" in restore


# --- queries ---------------------------------------------------------------------------------


def count_queries(client) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(URL, {"sort": "due"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return len(context.captured_queries)


def test_query_count_does_not_grow_with_the_page(client, org, time_machine):
    for index in range(3):
        file(org, description=f"Garbage heap {index}")
    client.force_login(org.supervisor)
    count_queries(client)  # warm the per-process caches (calendar, content types)
    few = count_queries(client)

    for index in range(3, 30):
        time_machine.move_to(T0 + timedelta(minutes=index), tick=False)
        file(org, grid=org.other_grid if index % 2 else org.grid, description=f"Heap {index}")
    accept_case(user=org.village_officer, case_id=file(org).pk)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert len(numbers(response)) == 25
    many = count_queries(client)
    assert many == few
