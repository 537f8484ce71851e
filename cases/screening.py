"""Screening of a new whistle: is it for whistling at all, and is it a duplicate nearby?"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from cases.access import visible_among, visible_cases
from cases.models import OPEN_STATUSES, Case
from checklists.models import Item
from checklists.selectors import active_screening_rules
from teams.geo import distance_m
from teams.models import User


@dataclass(frozen=True)
class Refusal:
    reason: str
    redirect: str


def refusal_for(*, item: Item, description: str) -> Refusal | None:
    """Why this whistle must be refused, with where to go instead; None when it may proceed."""
    from django.utils.translation import gettext as _

    if not item.whistleable or not item.active:
        return Refusal(
            reason=_("“%(item)s” is not a matter for whistling.") % {"item": item.name},
            redirect=item.redirect,
        )
    text = description.lower()
    for rule in active_screening_rules():
        if any(keyword in text for keyword in rule.keyword_list()):
            return Refusal(reason=rule.reason, redirect=rule.redirect)
    return None


# The most open cases nearby read for one new whistle.
DUPLICATE_CANDIDATES = 50
# What the search reads of a candidate: its place, and what visible_among decides by.
_READ = (
    "pk",
    "number",
    "latitude",
    "longitude",
    "filed_at",
    "reporter_id",
    "grid_id",
    "village_id",
    "town_id",
    "city_id",
)


def duplicate_radius_m() -> float:
    return float(settings.WHISTLE_DUPLICATE_RADIUS_M)


def duplicate_window() -> timedelta:
    return timedelta(hours=float(settings.WHISTLE_DUPLICATE_WINDOW_HOURS))


def nearby_candidates(
    *,
    item: Item,
    latitude: float,
    longitude: float,
    now: datetime,
    exclude_pk: int | None = None,
    village_id: int | None = None,
) -> QuerySet[Case]:
    """Open cases of the item filed within the window inside the radius' bounding box, at most
    DUPLICATE_CANDIDATES of them: the index case_duplicate_nearby bounds the read by item and
    time and checks the box on its own entries (the exact distance is checked in Python)."""
    return _nearby(
        item=item,
        latitude=latitude,
        longitude=longitude,
        now=now,
        exclude_pk=exclude_pk,
        village_id=village_id,
    )[:DUPLICATE_CANDIDATES]


def _nearby(
    *,
    item: Item,
    latitude: float,
    longitude: float,
    now: datetime,
    exclude_pk: int | None,
    village_id: int | None,
) -> QuerySet[Case]:
    """The open cases of the item inside the radius' bounding box, the most recent first (as
    the index case_duplicate_nearby, on item, filed_at, latitude and longitude, runs)."""
    radius = duplicate_radius_m()
    dlat = radius / 111_320.0
    dlng = radius / (111_320.0 * max(math.cos(math.radians(latitude)), 0.01))
    return (
        _open_of_item(item=item, now=now, exclude_pk=exclude_pk, village_id=village_id)
        .filter(
            latitude__range=(latitude - dlat, latitude + dlat),
            longitude__range=(longitude - dlng, longitude + dlng),
        )
        .only(*_READ)
        .order_by("-filed_at")
    )


def _open_of_item(
    *, item: Item, now: datetime, exclude_pk: int | None, village_id: int | None
) -> QuerySet[Case]:
    candidates = Case.objects.filter(
        item=item,
        status__in=OPEN_STATUSES,
        filed_at__gte=now - duplicate_window(),
        merged_into__isnull=True,
    )
    if village_id is not None:
        candidates = candidates.filter(village_id=village_id)
    if exclude_pk:
        candidates = candidates.exclude(pk=exclude_pk)
    return candidates


def _nameable(cases: list[Case], filer: User | None) -> list[Case]:
    return cases if filer is None else visible_among(user=filer, cases=cases)


def find_possible_duplicate(
    *,
    item: Item,
    latitude: float | None,
    longitude: float | None,
    now: datetime,
    grid_id: int | None = None,
    exclude_pk: int | None = None,
    village_id: int | None = None,
    filer: User | None = None,
) -> Case | None:
    """The nearest open case of the same item filed within the window and radius (in the
    village `village_id` when given) that the filer may open (cases.access: a hint never
    names a case its reader cannot open); without a filer (the hotline, filing for the
    village's officers), any.

    The filer's scope is applied to the candidates read (cases.access.visible_among), never
    as a subquery of the search: most candidates are decided by their place alone, and the
    scope's query cost more than the search itself. Without a location, an open case of the
    same item in the same grid counts."""
    if latitude is None or longitude is None:
        if grid_id is None:
            return None
        in_grid = (
            _open_of_item(item=item, now=now, exclude_pk=exclude_pk, village_id=village_id)
            .filter(grid_id=grid_id)
            .only(*_READ)
            .order_by("-filed_at")
        )
        latest = in_grid.first()
        if latest is None or filer is None or _nameable([latest], filer):
            return latest
        return _visible(in_grid, filer).first()
    box = _nearby(
        item=item,
        latitude=latitude,
        longitude=longitude,
        now=now,
        exclude_pk=exclude_pk,
        village_id=village_id,
    )
    nearby = list(box[:DUPLICATE_CANDIDATES])
    if len(nearby) < DUPLICATE_CANDIDATES:
        nearby = _nameable(nearby, filer)
    elif filer is not None:  # as many as read: the nameable ones may lie beyond them
        nearby = list(_visible(box, filer)[:DUPLICATE_CANDIDATES])
    best, best_distance = None, duplicate_radius_m()
    for case in nearby:
        distance = distance_m(latitude, longitude, case.latitude, case.longitude)
        if distance <= best_distance:
            best, best_distance = case, distance
    return best


def _visible(cases: QuerySet[Case], filer: User) -> QuerySet[Case]:
    return cases.filter(pk__in=visible_cases(user=filer).values("pk"))
