"""Where law enforcement units work: their service areas (reads only).

A unit's own area is its `areas` (towns, or a whole city / district), or its home region when
`areas` is empty (a town's team: its town, as before service areas existed). A unit with
brigades also serves what its brigades serve, so a district team's captain oversees them all.
A place lies in an area when its town or its city is one of the area's regions.
"""

from collections.abc import Iterable

from django.db.models import Q

from teams.models import Region, Team


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


def _descendants(team_ids: set[int]) -> set[int]:
    """The given teams and every brigade below them (one query per level of the tree)."""
    seen = set(team_ids)
    frontier = set(team_ids)
    while frontier:
        frontier = (
            set(Team.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - seen
        )
        seen |= frontier
    return seen


def area_ids(*, team_ids: Iterable[int]) -> set[int]:
    """The region ids (towns or whole cities) the teams and their brigades serve."""
    units = _descendants(set(team_ids))
    if not units:
        return set()
    with_areas: set[int] = set()
    ids: set[int] = set()
    for team_id, region_id in Team.areas.through.objects.filter(team_id__in=units).values_list(
        "team_id", "region_id"
    ):
        with_areas.add(team_id)
        ids.add(region_id)
    ids.update(Team.objects.filter(pk__in=units - with_areas).values_list("region_id", flat=True))
    return ids


def in_areas(ids: Iterable[int], *, prefix: str = "") -> Q:
    """A filter on rows with city / town FKs (cases): those lying in the given areas."""
    ids = list(ids)
    if not ids:
        return Q(pk__in=[])
    return Q(**{f"{prefix}town_id__in": ids}) | Q(**{f"{prefix}city_id__in": ids})


def team_serves(*, team: Team, region: Region) -> bool:
    """Whether the place (a village, town or city) lies in the area of the unit or its brigades."""
    places = _place_ids(region)
    if places & own_area_ids(team=team):
        return True
    if not team.pk or not team.brigades.exists():
        return False
    return bool(places & area_ids(team_ids=[team.pk]))


def serving_teams(*, town_id: int | None, city_id: int | None) -> Q:
    """A filter on teams whose own area holds the place of the given town / city."""
    places = [pk for pk in (town_id, city_id) if pk]
    return Q(areas__in=places) | Q(areas__isnull=True, region_id__in=places)
