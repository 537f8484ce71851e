"""Who may use the policy lab: the city committee's staff, the supervisors and the
administrators of a city, for that city's scenarios and replays (its towns included). On four
levels, those held at a prefecture and the prefecture committee's staff (where its committee
is on the escalation chain) use it for every city below the prefecture, as they see them
(cases.access.scope_of): the lab's places stay the cities and their towns.

Every page, API view and task fetches scenarios and replays through these functions, so they
cannot disagree: outside the user's cities a scenario does not exist (404); a user with no lab
role anywhere is refused the lab (403).
"""

from django.db.models import Q, QuerySet

from cases.access import scope_of
from policylab.errors import LabNotAllowed, NotInLab
from policylab.models import Replay, Scenario
from teams.models import Region, Role, User

LAB_ROLES = (Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE, Role.SUPERVISOR, Role.ADMIN)


def lab_cities(user: User) -> frozenset[int]:
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    return scope_of(user).regions_of(*LAB_ROLES)


def require_lab(user: User) -> frozenset[int]:
    """The user's lab cities; LabNotAllowed (403) when there are none."""
    cities = lab_cities(user)
    if not cities:
        raise LabNotAllowed()
    return cities


def scenarios_of(user: User) -> QuerySet[Scenario]:
    return Scenario.objects.filter(city_id__in=lab_cities(user))


def replays_of(user: User) -> QuerySet[Replay]:
    return Replay.objects.filter(scenario__city_id__in=lab_cities(user))


def access_scenario(*, user: User, pk: int, for_update: bool = False) -> Scenario:
    require_lab(user)
    rows = scenarios_of(user)
    if for_update:
        rows = rows.select_for_update()
    scenario = rows.filter(pk=pk).first()
    if scenario is None:
        raise NotInLab()
    return scenario


def access_replay(*, user: User, pk: int, for_update: bool = False) -> Replay:
    require_lab(user)
    rows = replays_of(user).select_related("scenario", "region")
    if for_update:
        rows = rows.select_for_update(of=("self",))
    replay = rows.filter(pk=pk).first()
    if replay is None:
        raise NotInLab()
    return replay


def places_of(user: User) -> QuerySet[Region]:
    """The places a replay may cover: the user's lab cities and their towns."""
    cities = lab_cities(user)
    return Region.objects.filter(
        Q(pk__in=cities, level=Region.Level.CITY) | Q(parent_id__in=cities, level=Region.Level.TOWN)
    ).order_by("level", "code")


def access_place(*, user: User, pk: int) -> Region:
    place = places_of(user).filter(pk=pk).first()
    if place is None:
        raise NotInLab()
    return place


def city_of(place: Region) -> int:
    return place.pk if place.level == Region.Level.CITY else place.parent_id
