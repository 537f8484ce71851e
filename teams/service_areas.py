"""Where law enforcement units work: their service areas (reads only).

A unit's own area is its `areas` (towns, or a whole city / district), or its home region when
`areas` is empty (a town's team: its town, as before service areas existed). A unit with
brigades also serves what its brigades serve, so a district team's captain oversees them all.
A place lies in an area when its town or its city is one of the area's regions.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet

from teams.models import Region, Team

TeamAreas = Team.areas.through


@dataclass(frozen=True)
class Places:
    """Town ids and whole-city ids: the places a set of units serves."""

    towns: frozenset[int] = field(default_factory=frozenset)
    cities: frozenset[int] = field(default_factory=frozenset)

    def __or__(self, other: "Places") -> "Places":
        return Places(towns=self.towns | other.towns, cities=self.cities | other.cities)

    def __bool__(self) -> bool:
        return bool(self.towns or self.cities)

    def cases(self, prefix: str = "") -> Q:
        """A filter on rows with town / city FKs (cases) that lie in these places."""
        condition = Q(pk__in=[])
        if self.towns:
            condition |= Q(**{f"{prefix}town_id__in": self.towns})
        if self.cities:
            condition |= Q(**{f"{prefix}city_id__in": self.cities})
        return condition


def _split(pairs: Iterable[tuple[int, str]]) -> Places:
    towns, cities = set(), set()
    for region_id, level in pairs:
        if level == Region.Level.CITY:
            cities.add(region_id)
        elif level == Region.Level.TOWN:
            towns.add(region_id)
    return Places(towns=frozenset(towns), cities=frozenset(cities))


def home_places(*, region_id: int, level: str) -> Places:
    """The places of a unit with no areas and no brigades: its home region."""
    return _split([(region_id, level)])


def has_own_layout() -> tuple[Exists, Exists]:
    """Annotations on rows with a `team_id`: whether the team has areas, whether it has
    brigades (without either its area is its home region, read in the same query)."""
    return (
        Exists(TeamAreas.objects.filter(team_id=OuterRef("team_id"))),
        Exists(Team.objects.filter(parent_id=OuterRef("team_id"))),
    )


def with_brigades(team_ids: Iterable[int]) -> set[int]:
    """The given teams and every brigade below them (one query per level of the tree)."""
    seen = set(team_ids)
    frontier = set(seen)
    while frontier:
        frontier = (
            set(Team.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - seen
        )
        seen |= frontier
    return seen


def served_places(*, team_ids: Iterable[int]) -> Places:
    """The places the teams and their brigades serve."""
    units = with_brigades(team_ids)
    if not units:
        return Places()
    rows = list(
        TeamAreas.objects.filter(team_id__in=units).values_list(
            "team_id", "region_id", "region__level"
        )
    )
    with_areas = {team_id for team_id, _, _ in rows}
    homes = Team.objects.filter(pk__in=units - with_areas).values_list("region_id", "region__level")
    return _split([(region, level) for _, region, level in rows]) | _split(homes)


def _place_ids(region: Region) -> set[int]:
    """The town and city ids a place lies in (itself included when it is one)."""
    ids: set[int] = set()
    node: Region | None = region
    while node is not None:
        if node.level in (Region.Level.TOWN, Region.Level.CITY):
            ids.add(node.pk)
        node = node.parent if node.parent_id else None
    return ids


def own_area_ids(*, team: Team) -> set[int]:
    """The region ids (towns or cities) of the unit's own area, brigades left out."""
    ids = {region.pk for region in team.areas.all()} if team.pk else set()
    return ids or {team.region_id}


def team_serves(*, team: Team, region: Region) -> bool:
    """Whether the place (a village, town or city) lies in the area of the unit or its brigades."""
    places = _place_ids(region)
    if places & own_area_ids(team=team):
        return True
    if not team.pk or not team.brigades.exists():
        return False
    served = served_places(team_ids=[team.pk])
    return bool(places & (served.towns | served.cities))


def covering(region_ids: Iterable[int]) -> Q:
    """A filter on units whose OWN area holds any of the given towns / cities."""
    region_ids = list(region_ids)
    with_areas = Exists(TeamAreas.objects.filter(team_id=OuterRef("pk")))
    return Q(pk__in=TeamAreas.objects.filter(region_id__in=region_ids).values("team_id")) | (
        ~with_areas & Q(region_id__in=region_ids)
    )


def _town_and_city_ids(towns: Iterable[int]) -> set[int]:
    towns = set(towns)
    return towns | set(
        Region.objects.filter(pk__in=towns, parent__isnull=False).values_list(
            "parent_id", flat=True
        )
    )


def leaf_units_serving(*, town_id: int, city_id: int | None) -> QuerySet[Team]:
    """Units without brigades whose own area holds the place (the ones dispatch reaches)."""
    places = [pk for pk in (town_id, city_id) if pk]
    return Team.objects.filter(covering(places), brigades__isnull=True)


def teams_serving(*, towns: Iterable[int]) -> QuerySet[Team]:
    """Every unit serving somewhere in these towns: those whose own area holds a town (or its
    city), and the teams above them. For a town of Haining's shape: the town's teams."""
    towns = list(towns)
    if not towns:
        return Team.objects.none()
    ids = set(Team.objects.filter(covering(_town_and_city_ids(towns))).values_list("pk", flat=True))
    frontier = ids
    while frontier:
        frontier = (
            set(
                Team.objects.filter(pk__in=frontier, parent__isnull=False).values_list(
                    "parent_id", flat=True
                )
            )
            - ids
        )
        ids |= frontier
    return Team.objects.filter(pk__in=ids)


def teams_within(*, cities: Iterable[int]) -> QuerySet[Team]:
    """Every unit of these cities: at home in the city or one of its towns."""
    cities = list(cities)
    return Team.objects.filter(Q(region_id__in=cities) | Q(region__parent_id__in=cities))


def teams_of_place(*, region: Region) -> QuerySet[Team]:
    """The units a committee of this town or city works with: those serving the town, or every
    unit of the city."""
    if region.level == Region.Level.CITY:
        return teams_within(cities=[region.pk])
    return teams_serving(towns=[region.pk])
