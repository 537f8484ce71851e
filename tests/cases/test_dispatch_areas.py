"""Dispatch and scope with service areas, on Longgang's shape (tests/org_shapes.py): area
brigades by coverage, the professional brigade by item, captains by the places their team
serves, a stationed member by their community."""

import pytest
from django.urls import reverse

from cases.access import access_case, scope_of, visible_cases
from cases.errors import NotInScope
from cases.models import Case, Dispatch, Status
from cases.selectors import default_handlers
from cases.selectors_pages.lists import visible_grids
from cases.services import file_whistle, whistle_to_town
from tests.cases.engine_steps import T0
from tests.org_shapes import Longgang, build_longgang

pytestmark = pytest.mark.django_db


@pytest.fixture
def lg(time_machine) -> Longgang:
    time_machine.move_to(T0, tick=False)
    return build_longgang()


def file_in(lg: Longgang, community: str, *, special: bool = False) -> Case:
    item = lg.special_item if special else lg.plain_item
    return file_whistle(
        user=lg.workers[community],
        item=item,
        description=f"Rubbish in {community}",
        **lg.point(community),
    ).case


def test_dispatch_picks_the_area_brigade_by_coverage(lg):
    for community, brigade in (("S1-a", lg.brigade_a), ("S2-a", lg.brigade_b)):
        case = file_in(lg, community)
        assert case.village == lg.communities[community]
        teams, _departments = default_handlers(case=case)
        assert teams == [brigade]  # never the district team: it has brigades


def test_dispatch_adds_the_professional_brigade_for_its_item(lg):
    teams, _ = default_handlers(case=file_in(lg, "S3-a", special=True))
    assert teams == [lg.brigade_b, lg.professional]
    teams, _ = default_handlers(case=file_in(lg, "S1-b", special=True))
    assert teams == [lg.brigade_a, lg.professional]


def test_an_item_of_the_professional_aspect_reaches_it(lg):
    lg.special_item.teams.clear()
    lg.special_item.aspect.teams.add(lg.professional)
    teams, _ = default_handlers(case=file_in(lg, "S2-a"))  # the plain item, same aspect
    assert teams == [lg.brigade_b, lg.professional]


def test_whistle_dispatches_the_serving_units(lg):
    case = file_in(lg, "S2-a", special=True)
    whistle_to_town(user=lg.officers["S2-a"], case_id=case.pk, note="Too big")
    case = Case.objects.get(pk=case.pk)
    assert case.status == Status.DISPATCHED
    assert set(
        Dispatch.objects.filter(case=case, team__isnull=False).values_list("team__code", flat=True)
    ) == {
        "LG-T-B",
        "LG-T-P",
    }
    event = case.events.get(action="whistle")
    assert event.data["teams"] == ["LG-T-B", "LG-T-P"]


# --- scope --------------------------------------------------------------------------------------


def test_a_brigade_captain_sees_their_streets_only(lg, client):
    in_a, in_b = file_in(lg, "S1-a"), file_in(lg, "S2-a")
    assert access_case(user=lg.captain_a, pk=in_a.pk) == in_a
    with pytest.raises(NotInScope):
        access_case(user=lg.captain_a, pk=in_b.pk)
    with pytest.raises(NotInScope):
        access_case(user=lg.captain_b, pk=in_a.pk)
    client.force_login(lg.captain_a)
    assert client.get(reverse("cases:detail", args=[in_b.pk])).status_code == 404
    assert client.get(reverse("cases:detail", args=[in_a.pk])).status_code == 200


def test_the_district_captain_sees_every_street(lg):
    cases = [file_in(lg, community) for community in lg.communities]
    assert set(visible_cases(user=lg.district_captain)) == set(cases)
    scope = scope_of(lg.district_captain)
    assert scope.served("team_captain").cities == frozenset({lg.district.pk})


def test_a_stationed_member_sees_their_community_only(lg):
    own, neighbour = file_in(lg, "S1-a"), file_in(lg, "S1-b")
    assert set(visible_cases(user=lg.stationed_member)) == {own}
    assert access_case(user=lg.stationed_member, pk=own.pk) == own
    with pytest.raises(NotInScope):
        access_case(user=lg.stationed_member, pk=neighbour.pk)
    assert lg.grids["S1-a"] in set(visible_grids(user=lg.stationed_member))


def test_a_captain_scope_costs_one_query_for_a_town_team(lg, django_assert_num_queries):
    """Haining's shape (a team without areas or brigades) reads its scope in one query, as
    before service areas; a team with areas or brigades reads its area after."""
    from tests.factories import TeamFactory
    from tests.org_shapes import holder

    town_team = TeamFactory(region=lg.streets["S1"])
    captain = holder("town-captain", "team_captain", team=town_team)
    with django_assert_num_queries(1):
        scope = scope_of(captain)
    assert scope.served("team_captain").towns == frozenset({lg.streets["S1"].pk})
    assert scope.served("team_captain").cities == frozenset()
