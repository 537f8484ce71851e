"""Organisation shapes beyond Haining's "one team per town", built through the real models.

Longgang's shape: a district (level city) with streets (level town) and communities (level
village); one district team with two area brigades covering different streets and a
professional brigade taking one item across the whole district; a brigade member stationed in
a community.
"""

from dataclasses import dataclass

from checklists.models import Item
from teams.models import Grid, Region, Role, Team, User
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

# Every community's grid is a square of 0.01° around (LNG0 + 0.02 * n, LAT).
LAT, LNG0 = 22.70, 114.10


@dataclass
class Longgang:
    district: Region
    streets: dict[str, Region]  # "S1", "S2", "S3"
    communities: dict[str, Region]  # "S1-a", "S1-b", "S2-a", "S3-a"
    grids: dict[str, Grid]  # by community
    workers: dict[str, User]  # a grid worker per community
    officers: dict[str, User]  # a village officer per community
    district_team: Team
    brigade_a: Team  # comprehensive, street S1
    brigade_b: Team  # comprehensive, streets S2 and S3
    professional: Team  # professional, the whole district, takes `special_item` only
    special_item: Item  # dispatched to comprehensive and professional units
    plain_item: Item  # the same kinds, outside the professional brigade's speciality
    district_captain: User
    captain_a: User
    captain_b: User
    stationed_member: User  # a member of brigade A stationed in community S1-a

    def point(self, community: str) -> dict[str, float]:
        """The coordinates of a point inside the community's grid."""
        return {"latitude": LAT, "longitude": LNG0 + 0.02 * list(self.grids).index(community)}


def build_longgang() -> Longgang:
    district = CityFactory(code="LG", name_zh="龙岗区", name_en="Longgang District")
    streets = {code: TownFactory(code=f"LG-{code}", parent=district) for code in ("S1", "S2", "S3")}
    communities = {
        code: VillageFactory(code=f"LG-{code}", parent=streets[code.split("-")[0]])
        for code in ("S1-a", "S1-b", "S2-a", "S3-a")
    }
    grids, workers, officers = {}, {}, {}
    for n, (code, community) in enumerate(communities.items()):
        grids[code] = GridFactory(
            code=f"LG-{code}-G1", village=community, polygon=square_polygon(LNG0 + 0.02 * n, LAT)
        )
        workers[code] = holder(f"lg-grid-{code}", Role.GRID_WORKER, grid=grids[code])
        officers[code] = holder(f"lg-village-{code}", Role.VILLAGE_OFFICER, region=community)

    district_team = TeamFactory(code="LG-T", region=district, kind=Team.Kind.COMPREHENSIVE)
    brigade_a = TeamFactory(
        code="LG-T-A", region=district, parent=district_team, kind=Team.Kind.COMPREHENSIVE
    )
    brigade_a.areas.set([streets["S1"]])
    brigade_b = TeamFactory(
        code="LG-T-B", region=district, parent=district_team, kind=Team.Kind.COMPREHENSIVE
    )
    brigade_b.areas.set([streets["S2"], streets["S3"]])
    professional = TeamFactory(
        code="LG-T-P", region=district, parent=district_team, kind=Team.Kind.PROFESSIONAL
    )
    kinds = [Team.Kind.COMPREHENSIVE.value, Team.Kind.PROFESSIONAL.value]
    special_item, plain_item = Item.objects.get(code="SAN-01"), Item.objects.get(code="SAN-02")
    Item.objects.filter(pk__in=[special_item.pk, plain_item.pk]).update(default_team_kinds=kinds)
    special_item.refresh_from_db()
    plain_item.refresh_from_db()
    special_item.teams.add(professional)

    stationed_member = holder("lg-member-a", Role.TEAM_MEMBER, team=brigade_a)
    stationed_member.memberships.update(stationed_in=communities["S1-a"])
    return Longgang(
        district=district,
        streets=streets,
        communities=communities,
        grids=grids,
        workers=workers,
        officers=officers,
        district_team=district_team,
        brigade_a=brigade_a,
        brigade_b=brigade_b,
        professional=professional,
        special_item=special_item,
        plain_item=plain_item,
        district_captain=holder("lg-captain", Role.TEAM_CAPTAIN, team=district_team),
        captain_a=holder("lg-captain-a", Role.TEAM_CAPTAIN, team=brigade_a),
        captain_b=holder("lg-captain-b", Role.TEAM_CAPTAIN, team=brigade_b),
        stationed_member=stationed_member,
    )


def holder(username: str, role: str, **place: object) -> User:
    user = UserFactory(username=username)
    MembershipFactory(user=user, role=role, **place)
    return user
