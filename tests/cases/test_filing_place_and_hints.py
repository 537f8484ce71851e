"""A whistle's place and grid must agree (within WHISTLE_GRID_TOLERANCE_M of the grid's edge)
on the page, the API and Open311; and the duplicate hint of a new whistle names only a case
its filer may open (cases.access), of the same village (the only one it can be merged into)."""

import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse

from cases.errors import InvalidInput
from cases.models import Case, Source
from cases.open311.services import create_api_client
from cases.services import FilingResult, file_whistle
from teams.geo import distance_to_polygon_m
from tests.api.conftest import client_for
from tests.factories import GridFactory, square_polygon

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
# org.grid is the square 120.695..120.705 x 30.495..30.505.
INSIDE = (30.50, 120.70)
EDGE_150M = (30.50, 120.705 + 150 / 95_900)  # ~95.9 km a degree of longitude at 30.5°N
OFF_300M = (30.50, 120.705 + 300 / 95_900)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def test_distance_to_a_polygon(org):
    polygon = square_polygon(120.70, 30.50)
    assert distance_to_polygon_m(polygon, 120.70, 30.50) == 0
    assert distance_to_polygon_m(polygon, EDGE_150M[1], EDGE_150M[0]) == pytest.approx(
        150, rel=0.02
    )
    assert distance_to_polygon_m(polygon, 0, 0) > 10_000_000


@pytest.mark.parametrize("place", [(0.0, 0.0), OFF_300M], ids=["null-island", "300m-off"])
def test_the_service_refuses_a_place_far_from_the_chosen_grid(org, place):
    with pytest.raises(InvalidInput) as refused:
        file_whistle(
            user=org.grid_worker,
            item=org.item,
            description="Garbage",
            grid=org.grid,
            latitude=place[0],
            longitude=place[1],
        )
    assert set(refused.value.fields) == {"location"}
    assert Case.objects.count() == 0


def test_a_place_within_the_tolerance_of_the_edge_is_accepted(org, settings):
    case = file_whistle(
        user=org.grid_worker,
        item=org.item,
        description="Garbage",
        grid=org.grid,
        latitude=EDGE_150M[0],
        longitude=EDGE_150M[1],
    ).case
    assert case.grid == org.grid
    settings.WHISTLE_GRID_TOLERANCE_M = 100
    with pytest.raises(InvalidInput):
        file_whistle(
            user=org.grid_worker,
            item=org.item,
            description="Garbage again",
            grid=org.grid,
            latitude=EDGE_150M[0],
            longitude=EDGE_150M[1],
        )


def test_the_page_shows_a_clear_message_next_to_the_map(client, org):
    client.force_login(org.grid_worker)
    data = {
        "item": str(org.item.pk),
        "description": "Garbage piled beside the bridge",
        "latitude": "0",
        "longitude": "0",
        "grid": str(org.grid.pk),
        "idempotency_key": uuid.uuid4().hex,
    }
    response = client.post(reverse("cases:file"), data, **EN)
    assert response.status_code == 400
    [message] = response.context["form"].errors["location"]
    assert f"outside grid {org.grid.code}" in message and "at most 200 m" in message
    assert Case.objects.count() == 0


def test_the_api_refuses_0_0_with_the_grid(org):
    response = client_for(org.grid_worker).post(
        "/api/cases/",
        {
            "item": org.item.pk,
            "description": "Garbage",
            "grid": org.grid.pk,
            "latitude": 0,
            "longitude": 0,
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "location" in response.json()["fields"]
    assert Case.objects.count() == 0


def test_open311_refuses_0_0_with_a_grid_code(client, org):
    _client, key = create_api_client(name="hotline", jurisdiction_id=org.city.code)
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": key,
            "service_code": "SAN-01",
            "description": "Garbage",
            "address_id": org.grid.code,
            "lat": "0",
            "long": "0",
        },
        headers={"accept-language": "en"},
    )
    assert response.status_code == 400, response.content
    assert Case.objects.count() == 0


# --- the duplicate hint ----------------------------------------------------------------------


def whistled(org, description: str, **place) -> FilingResult:
    """A whistle the grid worker files in their own grid."""
    return file_whistle(user=org.grid_worker, item=org.item, description=description, **place)


def called_in(org, description: str, **place) -> FilingResult:
    """A whistle the 12345 hotline files, for the village's officers (no filer's scope)."""
    return file_whistle(
        user=None,
        source=Source.HOTLINE,
        client="hotline",
        item=org.item,
        description=description,
        **place,
    )


@pytest.fixture
def neighbour_case(org) -> Case:
    """An open case 100 m away, across the border in the other village (filed by the hotline)."""
    GridFactory(village=org.other_village, polygon=square_polygon(120.71, 30.50))
    case = called_in(org, "Garbage by the border", latitude=30.50, longitude=120.7055).case
    assert case.village == org.other_village
    return case


def test_the_hint_never_names_a_case_in_another_village(org, neighbour_case):
    result = whistled(org, "Garbage by the border", latitude=30.50, longitude=120.7045)
    assert result.possible_duplicate is None
    assert result.case.possible_duplicate_of is None
    # The same place in the filer's own village is still found.
    again = whistled(org, "Garbage by the border, again", latitude=30.50, longitude=120.7046)
    assert again.possible_duplicate == result.case


def test_the_api_and_the_case_page_name_no_case_the_user_cannot_open(client, org, neighbour_case):
    response = client_for(org.grid_worker).post(
        "/api/cases/",
        {"item": org.item.pk, "description": "Garbage", "latitude": 30.50, "longitude": 120.7045},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["possible_duplicate_of"] is None
    assert neighbour_case.number not in response.content.decode()
    client.force_login(org.grid_worker)
    page = client.get(f"/cases/{response.json()['id']}/", **EN)
    assert page.status_code == 200
    assert neighbour_case.number not in page.content.decode()


def test_a_grid_worker_is_not_pointed_to_another_grids_case(org):
    """Within one village, a case of a grid the filer does not work in is out of their scope."""
    GridFactory(village=org.village, polygon=square_polygon(120.71, 30.50))
    theirs = called_in(org, "Garbage by the grid line", latitude=30.50, longitude=120.7055).case
    assert theirs.village == org.village and theirs.grid != org.grid
    result = whistled(org, "Garbage by the grid line", latitude=30.50, longitude=120.7045)
    assert result.possible_duplicate is None
    # The hotline, filing for the village's officers, is pointed to it.
    hotline = called_in(
        org, "Garbage by the grid line, called in", latitude=30.50, longitude=120.7056
    )
    assert hotline.possible_duplicate == theirs


def test_a_full_read_of_cases_the_filer_cannot_open_hides_none_they_can(org, monkeypatch):
    """The search reads at most DUPLICATE_CANDIDATES cases before the filer's scope is applied;
    when that many are read, it reads again within the scope, so a case the filer may open is
    still found behind more recent ones they may not."""
    from cases import screening

    monkeypatch.setattr(screening, "DUPLICATE_CANDIDATES", 2)
    own = whistled(org, "Garbage, first", latitude=30.50, longitude=120.7040).case
    GridFactory(village=org.village, polygon=square_polygon(120.71, 30.50))
    for number in range(3):  # more recent, in the other grid of the village
        called_in(
            org,
            f"Garbage by the grid line {number}",
            latitude=30.50,
            longitude=120.7051 + number * 0.0001,
        )
    result = whistled(org, "Garbage, again", latitude=30.50, longitude=120.7045)
    assert result.possible_duplicate == own


def test_without_a_place_the_latest_case_of_the_grid_the_filer_may_open_is_named(org):
    from django.utils import timezone

    from cases.screening import find_possible_duplicate

    own = whistled(org, "Garbage", grid=org.grid).case
    other_grid = GridFactory(village=org.village, polygon=square_polygon(120.71, 30.50))
    called_in(org, "Garbage there", grid=other_grid)

    def search(grid_id: int, user) -> Case | None:
        return find_possible_duplicate(
            item=org.item,
            latitude=None,
            longitude=None,
            now=timezone.now(),
            grid_id=grid_id,
            village_id=org.village.pk,
            filer=user,
        )

    assert search(org.grid.pk, org.grid_worker) == own
    # The other grid's case is not the grid worker's to open.
    assert search(other_grid.pk, org.grid_worker) is None
    assert search(other_grid.pk, org.village_officer) is not None


def test_the_filers_scope_is_queried_only_for_a_candidate_their_places_do_not_decide(org):
    """The scope's query is the costliest part of the search: without a candidate, or with
    candidates in the filer's own grid, it is not sent; a candidate elsewhere in the village is
    checked by it (and not named). The filing's statements are counted by the intake
    benchmark."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def scope_queries(**place: float) -> tuple[int, Case | None]:
        with CaptureQueriesContext(connection) as queries:
            result = whistled(org, "Garbage", **place)
        sent = [q for q in queries.captured_queries if "guardian_userobjectpermission" in q["sql"]]
        return len(sent), result.possible_duplicate

    assert scope_queries(latitude=30.50, longitude=120.7040) == (0, None)
    first = Case.objects.get()
    assert scope_queries(latitude=30.50, longitude=120.7041) == (0, first)
    GridFactory(village=org.village, polygon=square_polygon(120.71, 30.50))
    called_in(org, "Garbage by the grid line", latitude=30.50, longitude=120.7052)
    sent, named = scope_queries(latitude=30.50, longitude=120.7048)
    assert sent == 1 and named in Case.objects.filter(grid=org.grid)
