"""Reads for the grid worker's pages: what may be whistled, where, what is open nearby, and
the cases the grid worker filed or must verify."""

import math
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from cases import timers
from cases.access import scope_of, visible_cases
from cases.models import OPEN_STATUSES, Case, Deadline, Status
from cases.screening import duplicate_radius_m, duplicate_window
from checklists.demo import items_for_cities
from checklists.models import Aspect, Item
from teams.geo import distance_m
from teams.models import Grid, Role, User


def grid_worker_grid_ids(*, user: User) -> frozenset[int]:
    """The grids where the user holds the grid worker role."""
    return scope_of(user).grids.get(Role.GRID_WORKER, frozenset())


def is_grid_worker(*, user: User) -> bool:
    return bool(grid_worker_grid_ids(user=user))


def grid_worker_grids(*, user: User) -> QuerySet[Grid]:
    """The user's own grids: the fallback choice when the phone gives no location."""
    return Grid.objects.filter(pk__in=grid_worker_grid_ids(user=user)).select_related("village")


def whistle_grids(*, user: User) -> QuerySet[Grid]:
    """Every grid of the villages where the user is a grid worker: file_whistle accepts a
    whistle anywhere in those villages."""
    villages = Grid.objects.filter(pk__in=grid_worker_grid_ids(user=user)).values("village_id")
    return Grid.objects.filter(village_id__in=villages).select_related("village").order_by("code")


def grids_feature_collection(*, user: User) -> dict:
    """The whistle grids as GeoJSON, names in the active language, for the filing map."""
    own = grid_worker_grid_ids(user=user)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": grid.pk,
                "geometry": grid.polygon,
                "properties": {
                    "id": grid.pk,
                    "code": grid.code,
                    "name": grid.name,
                    "village": grid.village.name,
                    "own": grid.pk in own,
                },
            }
            for grid in whistle_grids(user=user)
        ],
    }


@dataclass(frozen=True)
class AspectItems:
    aspect: Aspect
    items: list[Item]


def whistleable_items(*, user: User | None = None) -> list[AspectItems]:
    """Active, whistleable items grouped by aspect, in list order; for a user, the demo item
    only if they whistle in the demo city (checklists.demo)."""
    items = Item.objects.filter(active=True, whistleable=True)
    if user is not None:
        cities = Grid.objects.filter(pk__in=grid_worker_grid_ids(user=user)).values_list(
            "village__parent__parent_id", flat=True
        )
        items = items_for_cities(items, city_ids=set(cities))
    items = items.select_related("aspect").order_by(
        "aspect__order", "aspect__code", "order", "code"
    )
    groups: list[AspectItems] = []
    for item in items:
        if not groups or groups[-1].aspect.pk != item.aspect_id:
            groups.append(AspectItems(aspect=item.aspect, items=[]))
        groups[-1].items.append(item)
    return groups


@dataclass(frozen=True)
class NearbyCase:
    case: Case
    distance_m: float


def nearby_open_cases(
    *, user: User, item_id: int, latitude: float, longitude: float, limit: int = 5
) -> list[NearbyCase]:
    """Open cases of the same item near the point, filed within the duplicate window, that
    the user may see; nearest first. Screening flags the same cases as possible duplicates."""
    radius = duplicate_radius_m()
    dlat = radius / 111_320.0
    dlng = radius / (111_320.0 * max(math.cos(math.radians(latitude)), 0.01))
    candidates = (
        visible_cases(user=user)
        .filter(
            item_id=item_id,
            status__in=OPEN_STATUSES,
            merged_into__isnull=True,
            filed_at__gte=timezone.now() - duplicate_window(),
            latitude__range=(latitude - dlat, latitude + dlat),
            longitude__range=(longitude - dlng, longitude + dlng),
        )
        .select_related("item")[:50]
    )
    found = []
    for case in candidates:
        distance = distance_m(latitude, longitude, case.latitude, case.longitude)
        if distance <= radius:
            found.append(NearbyCase(case=case, distance_m=distance))
    found.sort(key=lambda row: row.distance_m)
    return found[:limit]


def _with_running_deadline(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """Cases with what a list row shows: item, grid and the clocks still running (earliest
    due first), in a fixed number of queries. Only an open case's clocks run: they are read
    from the months from the oldest open case's on (timers.running_since)."""
    since = timers.running_since()
    running = Deadline.objects.filter(met_at__isnull=True, fired_at__isnull=True).order_by(
        "due_at", "id"
    )
    running = running.none() if since is None else running.filter(case_filed_at__gte=since)
    return queryset.select_related("item", "grid").prefetch_related(
        Prefetch("deadlines", queryset=running, to_attr="running_deadlines")
    )


def filed_by(*, user: User) -> QuerySet[Case]:
    """The cases the user filed, newest first."""
    return _with_running_deadline(Case.objects.filter(reporter=user)).order_by("-filed_at", "-id")


def to_verify(*, user: User) -> QuerySet[Case]:
    """Resolved cases in the user's grids, waiting for the on-site check; oldest first."""
    grids = grid_worker_grid_ids(user=user)
    return _with_running_deadline(
        Case.objects.filter(Q(status=Status.RESOLVED) & Q(grid_id__in=grids))
    ).order_by("resolved_at", "id")
