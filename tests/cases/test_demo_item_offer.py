"""The demo item DEMO-01 belongs to the demo city (issue 19): other cities never see it among
their items nor may file it; in the demo, a fresh DEMO-01 whistle reaches the demo's department
liaison without anyone adding the bureau by hand (issue 20)."""

import pytest
from django.test import Client
from django.urls import reverse

from cases.errors import InvalidInput
from cases.models import Dispatch
from cases.services import file_whistle, whistle_to_town
from checklists.demo import build_demo_item
from checklists.models import Item
from rollout.demo import build_demo_city
from teams.models import Grid, Role, User
from tests.cases.conftest import org
from tests.factories import (
    CityFactory,
    GridFactory,
    MembershipFactory,
    TownFactory,
    UserFactory,
    VillageFactory,
    square_polygon,
)

__all__ = ["org"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def elsewhere(org) -> tuple[User, Grid]:
    """A grid worker of a real city that is not the demo's."""
    city = CityFactory(code="JX")
    grid = GridFactory(
        village=VillageFactory(parent=TownFactory(parent=city)),
        polygon=square_polygon(121.50, 31.20),
    )
    worker = UserFactory(username="grid-jx")
    MembershipFactory(user=worker, role=Role.GRID_WORKER, grid=grid)
    return worker, grid


def test_the_demo_item_is_offered_only_in_the_demo_city(client, org, elsewhere):
    demo = build_demo_item()
    worker, grid = elsewhere
    client.force_login(worker)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(reverse("cases:file")).content.decode()
    assert "SAN-01" in page and "DEMO-01" not in page
    with pytest.raises(InvalidInput) as refusal:
        file_whistle(user=worker, item=demo, grid=grid, description="Not a demo here")
    assert list(refusal.value.fields) == ["item"]
    # Nor does the case list's item filter.
    assert "Demo: fast escalation" not in client.get(reverse("cases:list")).content.decode()
    # The demo city (code HN, as in teams.demo) does offer it.
    client.force_login(org.grid_worker)
    assert "DEMO-01" in client.get(reverse("cases:file")).content.decode()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "Demo: fast escalation" in client.get(reverse("cases:list")).content.decode()
    assert file_whistle(user=org.grid_worker, item=demo, grid=org.grid, description="Demo").case


def test_open311_lists_the_demo_item_only_for_the_demo_city(client, org, elsewhere):
    build_demo_item()
    codes = lambda city: [  # noqa: E731
        row["service_code"]
        for row in client.get("/open311/v2/services.json", {"jurisdiction_id": city}).json()
    ]
    assert "DEMO-01" in codes("HN") and "SAN-01" in codes("HN")
    assert "DEMO-01" not in codes("JX") and "SAN-01" in codes("JX")


def test_a_fresh_demo_whistle_reaches_the_demo_liaison():
    build_demo_city()
    case = file_whistle(
        user=User.objects.get(username="grid1"),
        item=Item.objects.get(code="DEMO-01"),
        grid=Grid.objects.get(code="HN-XS-01-01"),
        description="Watch it reach the bureau",
    ).case
    whistle_to_town(user=None, case_id=case.pk)
    liaison = User.objects.get(username="liaison1")
    bureau = liaison.memberships.get(role=Role.DEPARTMENT_LIAISON).department
    assert bureau.code == "HN-MSB"
    dispatch = Dispatch.objects.get(case=case, department=bureau)
    assert dispatch.state == Dispatch.State.WAITING
    # It is on the liaison's dispatch board.
    client = Client()
    client.force_login(liaison)
    assert f'data-testid="dispatch-{dispatch.pk}"' in client.get("/board/").content.decode()
