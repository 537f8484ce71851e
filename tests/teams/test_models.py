"""The organisation's rules held by the models and the database: the region tree, grids in one
village, teams serving their own town, and roles held at the right place."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from teams.models import Grid, Membership, Region, Role, Team
from tests.factories import (
    CityFactory,
    DepartmentFactory,
    GridFactory,
    MembershipFactory,
    TeamFactory,
    TownFactory,
    UserFactory,
    VillageFactory,
    square_polygon,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Test users need no strong hashes; the default hasher makes every user cost ~0.3 s."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def region(code: str, level: str, parent: Region | None) -> Region:
    return Region(code=code, level=level, parent=parent, name_zh=code, name_en=code)


# --- the region tree -------------------------------------------------------------------------


def test_a_prefecture_with_a_parent_is_refused_by_the_database():
    """A city may sit under a prefecture (four levels, checked by clean); a prefecture is a
    root."""
    city = CityFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        region("X1", Region.Level.PREFECTURE, city).save()


def test_a_city_under_anything_but_a_prefecture_in_use_is_refused():
    town = TownFactory()
    with pytest.raises(ValidationError, match="parent"):
        region("X1", Region.Level.CITY, town).full_clean()


def test_a_town_without_a_parent_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        region("X2", Region.Level.TOWN, None).save()
    assert not Region.objects.filter(code="X2").exists()


def test_the_tree_city_town_village_is_valid():
    city = CityFactory()
    town = region("T-ok", Region.Level.TOWN, city)
    town.full_clean()
    town.save()
    village = region("V-ok", Region.Level.VILLAGE, town)
    village.full_clean()
    village.save()
    assert village.town == town
    assert village.city == city
    assert town.town == town
    assert city.town is None


@pytest.mark.parametrize(
    ("level", "parent_level"),
    [
        (Region.Level.TOWN, Region.Level.TOWN),
        (Region.Level.TOWN, Region.Level.VILLAGE),
        (Region.Level.VILLAGE, Region.Level.CITY),
        (Region.Level.VILLAGE, Region.Level.VILLAGE),
    ],
)
def test_clean_refuses_a_parent_of_the_wrong_level(level, parent_level):
    village = VillageFactory()
    parents = {
        Region.Level.CITY: village.parent.parent,
        Region.Level.TOWN: village.parent,
        Region.Level.VILLAGE: village,
    }
    with pytest.raises(ValidationError) as error:
        region("BAD", level, parents[parent_level]).clean()
    assert "parent" in error.value.message_dict


def test_clean_refuses_a_city_with_a_parent_and_a_town_without_one():
    town = TownFactory()
    with pytest.raises(ValidationError) as error:
        region("C-bad", Region.Level.CITY, town).clean()
    assert "parent" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        region("T-bad", Region.Level.TOWN, None).clean()
    assert "parent" in error.value.message_dict


# --- grids ------------------------------------------------------------------------------------


def test_a_grid_needs_a_village():
    grid = Grid(code="G-none", name_zh="网格", name_en="Grid", polygon=square_polygon(120, 30))
    with pytest.raises(ValidationError) as error:
        grid.full_clean()
    assert "village" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        grid.save()


def test_a_grid_under_a_town_fails_clean():
    town = TownFactory()
    grid = Grid(
        code="G-town", village=town, name_zh="网格", name_en="Grid", polygon=square_polygon(120, 30)
    )
    with pytest.raises(ValidationError) as error:
        grid.clean()
    assert "village" in error.value.message_dict


def test_a_grid_belongs_to_exactly_one_village():
    grid = GridFactory()
    assert grid.village.level == Region.Level.VILLAGE
    assert list(grid.village.grids.all()) == [grid]
    assert not Grid.objects.filter(village=grid.village.parent).exists()


@pytest.mark.parametrize(
    "polygon",
    [
        None,
        {"type": "Point", "coordinates": [120, 30]},
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [120, 30]]]},
        {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 31], [120, 31]]]},
        {"type": "Polygon", "coordinates": [[[200, 30], [201, 30], [201, 31], [200, 30]]]},
        {"type": "Polygon", "coordinates": [[["a", 30], [121, 30], [121, 31], ["a", 30]]]},
    ],
    ids=["none", "point", "empty", "short", "open", "out-of-range", "not-numbers"],
)
def test_clean_refuses_a_bad_polygon(polygon):
    grid = Grid(code="G-bad", village=VillageFactory(), name_zh="网", name_en="G", polygon=polygon)
    with pytest.raises(ValidationError) as error:
        grid.clean()
    assert "polygon" in error.value.message_dict


def test_a_good_polygon_passes_and_refresh_bbox_follows_it():
    grid = Grid(
        code="G-good",
        village=VillageFactory(),
        name_zh="网格",
        name_en="Grid",
        polygon=square_polygon(120.5, 30.25, half_side=0.01),
    )
    grid.full_clean()
    grid.refresh_bbox()
    assert (grid.min_lng, grid.min_lat, grid.max_lng, grid.max_lat) == pytest.approx(
        (120.49, 30.24, 120.51, 30.26)
    )
    grid.polygon = square_polygon(121.0, 31.0, half_side=0.5)
    grid.refresh_bbox()
    assert (grid.min_lng, grid.max_lat) == pytest.approx((120.5, 31.5))


# --- teams ------------------------------------------------------------------------------------


def test_a_town_team_serves_its_own_town_and_not_another():
    team = TeamFactory()
    own_village = VillageFactory(parent=team.region)
    other_village = VillageFactory(parent=TownFactory(parent=team.region.parent))
    assert team.serves(own_village)
    assert team.serves(team.region)
    assert not team.serves(other_village)
    assert not team.serves(other_village.parent)
    assert not team.serves(team.region.parent)  # the city is not the team's to serve


def test_team_clean_refuses_a_village_as_home_region():
    village = VillageFactory()
    team = Team(code="TM-bad", region=village, kind=Team.Kind.COMPREHENSIVE, name_zh="队")
    with pytest.raises(ValidationError) as error:
        team.clean()
    assert "region" in error.value.message_dict
    for place in (village.parent, village.parent.parent):  # a town, or a city / district
        Team(code="TM-ok", region=place, kind=Team.Kind.PROFESSIONAL, name_zh="队").clean()


# --- memberships ------------------------------------------------------------------------------


def test_a_grid_worker_without_a_grid_is_refused_by_the_database():
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, role=Role.GRID_WORKER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, role=Role.GRID_WORKER, region=VillageFactory())
    assert not Membership.objects.filter(user=user).exists()


def test_a_village_officer_with_a_team_is_refused_by_the_database():
    team = TeamFactory()
    village = VillageFactory(parent=team.region)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=UserFactory(), role=Role.VILLAGE_OFFICER, region=village, team=team
        )
    assert not Membership.objects.exists()


def test_clean_refuses_a_town_committee_membership_at_a_village():
    membership = Membership(user=UserFactory(), role=Role.TOWN_COMMITTEE, region=VillageFactory())
    with pytest.raises(ValidationError) as error:
        membership.clean()
    assert "region" in error.value.message_dict


def test_clean_refuses_a_role_held_at_the_wrong_kind_of_place():
    grid = GridFactory()
    membership = Membership(user=UserFactory(), role=Role.TEAM_CAPTAIN, grid=grid)
    with pytest.raises(ValidationError) as error:
        membership.clean()
    assert "grid" in error.value.message_dict
    missing = Membership(user=UserFactory(), role=Role.DEPARTMENT_LIAISON)
    with pytest.raises(ValidationError) as error:
        missing.clean()
    assert "department" in error.value.message_dict


def test_a_user_may_hold_several_memberships():
    user = UserFactory()
    first = MembershipFactory(user=user)
    second = MembershipFactory(user=user, grid=GridFactory(village=first.grid.village))
    team = TeamFactory(region=first.grid.village.parent)
    officer = MembershipFactory(user=user, role=Role.VILLAGE_OFFICER, region=first.grid.village)
    member = MembershipFactory(user=user, role=Role.TEAM_MEMBER, team=team, force="grid")
    liaison = MembershipFactory(
        user=user, role=Role.DEPARTMENT_LIAISON, department=DepartmentFactory()
    )
    for membership in (first, second, officer, member, liaison):
        membership.full_clean()
    assert user.memberships.count() == 5
    assert {m.place for m in user.memberships.all()} == {
        first.grid,
        second.grid,
        first.grid.village,
        team,
        liaison.department,
    }


def test_the_same_role_at_the_same_place_twice_is_refused():
    membership = MembershipFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=membership.user, role=Role.GRID_WORKER, grid=membership.grid)
    town = membership.grid.village.parent
    Membership.objects.create(user=membership.user, role=Role.TOWN_COMMITTEE, region=town)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=membership.user, role=Role.TOWN_COMMITTEE, region=town)
    # Another user may hold the same role at the same place.
    Membership.objects.create(user=UserFactory(), role=Role.GRID_WORKER, grid=membership.grid)
    assert Membership.objects.filter(grid=membership.grid).count() == 2
