"""A small organisation to run cases through: one town with two villages, another town, the
teams and a department, and a user for each role."""

from dataclasses import dataclass

import pytest

from checklists.models import Item
from teams.models import Department, DepartmentKind, Grid, Region, Role, Team, User
from tests.factories import (
    CityFactory,
    GridFactory,
    MembershipFactory,
    TeamFactory,
    TownFactory,
    UserFactory,
    VillageFactory,
    square_polygon,
)


@dataclass
class Org:
    city: Region
    town: Region
    village: Region
    other_village: Region
    other_town: Region
    grid: Grid
    other_grid: Grid
    team: Team
    other_team: Team
    department: Department
    item: Item
    grid_worker: User
    other_grid_worker: User
    village_officer: User
    captain: User
    member: User
    liaison: User
    town_committee: User
    city_committee: User
    supervisor: User
    other_captain: User


@pytest.fixture
def org(db) -> Org:
    return build_org()


def build_org() -> Org:
    """The organisation of the `org` fixture (also built once per module by
    tests/policylab/conftest.py)."""
    city = CityFactory(code="HN")
    town = TownFactory(parent=city)
    other_town = TownFactory(parent=city)
    village = VillageFactory(parent=town)
    other_village = VillageFactory(parent=town)
    grid = GridFactory(village=village, polygon=square_polygon(120.70, 30.50))
    other_grid = GridFactory(village=other_village, polygon=square_polygon(120.80, 30.50))
    team = TeamFactory(region=town, kind=Team.Kind.COMPREHENSIVE)
    other_team = TeamFactory(region=other_town, kind=Team.Kind.COMPREHENSIVE)
    department = Department.objects.create(
        code="HN-UM",
        kind=DepartmentKind.objects.get(code="urban_management"),
        region=city,
        name_zh="综合行政执法局",
        name_en="Urban management bureau",
    )

    def holder(username: str, role: str, **place: object) -> User:
        user = UserFactory(username=username)
        MembershipFactory(user=user, role=role, **place)
        return user

    return Org(
        city=city,
        town=town,
        village=village,
        other_village=other_village,
        other_town=other_town,
        grid=grid,
        other_grid=other_grid,
        team=team,
        other_team=other_team,
        department=department,
        item=Item.objects.get(code="SAN-01"),
        grid_worker=holder("gw", Role.GRID_WORKER, grid=grid),
        other_grid_worker=holder("gw2", Role.GRID_WORKER, grid=other_grid),
        village_officer=holder("vo", Role.VILLAGE_OFFICER, region=village),
        captain=holder("cap", Role.TEAM_CAPTAIN, team=team),
        member=holder("mem", Role.TEAM_MEMBER, team=team),
        liaison=holder("lia", Role.DEPARTMENT_LIAISON, department=department),
        town_committee=holder("town", Role.TOWN_COMMITTEE, region=town),
        city_committee=holder("city", Role.CITY_COMMITTEE, region=city),
        supervisor=holder("sup", Role.SUPERVISOR, region=city),
        other_captain=holder("cap2", Role.TEAM_CAPTAIN, team=other_team),
    )
