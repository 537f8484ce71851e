"""Screening of a new whistle: is it for whistling at all, and is it a duplicate nearby?"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from cases.models import OPEN_STATUSES, Case
from checklists.models import Item
from checklists.selectors import active_screening_rules
from teams.geo import distance_m


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
    among: QuerySet[Case] | None = None,
) -> QuerySet[Case]:
    """Open cases of the item filed within the window inside the radius' bounding box, at most
    DUPLICATE_CANDIDATES of them: the index case_duplicate_nearby bounds the read by item and
    time and checks the box on its own entries (the exact distance is checked in Python)."""
    radius = duplicate_radius_m()
    dlat = radius / 111_320.0
    dlng = radius / (111_320.0 * max(math.cos(math.radians(latitude)), 0.01))
    candidates = Case.objects.filter(
        item=item,
        status__in=OPEN_STATUSES,
        filed_at__gte=now - duplicate_window(),
        merged_into__isnull=True,
        latitude__range=(latitude - dlat, latitude + dlat),
        longitude__range=(longitude - dlng, longitude + dlng),
    )
    if exclude_pk:
        candidates = candidates.exclude(pk=exclude_pk)
    if among is not None:
        candidates = candidates.filter(pk__in=among.values("pk"))
    # The most recent first, as the index (item, filed_at, latitude, longitude) runs.
    return candidates.only("pk", "number", "latitude", "longitude", "filed_at").order_by(
        "-filed_at"
    )[:DUPLICATE_CANDIDATES]


def find_possible_duplicate(
    *,
    item: Item,
    latitude: float | None,
    longitude: float | None,
    now: datetime,
    grid_id: int | None = None,
    exclude_pk: int | None = None,
    among: QuerySet[Case] | None = None,
) -> Case | None:
    """The nearest open case of the same item filed within the window and radius, among the
    cases `among` (the filer's scope, cases.access: a hint never names a case its reader
    cannot open).

    Without a location, an open case of the same item in the same grid counts."""
    if latitude is None or longitude is None:
        if grid_id is None:
            return None
        candidates = Case.objects.filter(
            item=item,
            status__in=OPEN_STATUSES,
            filed_at__gte=now - duplicate_window(),
            merged_into__isnull=True,
            grid_id=grid_id,
        )
        if exclude_pk:
            candidates = candidates.exclude(pk=exclude_pk)
        if among is not None:
            candidates = candidates.filter(pk__in=among.values("pk"))
        return candidates.order_by("-filed_at").first()
    best, best_distance = None, duplicate_radius_m()
    nearby = nearby_candidates(
        item=item,
        latitude=latitude,
        longitude=longitude,
        now=now,
        exclude_pk=exclude_pk,
        among=among,
    )
    for case in nearby:
        distance = distance_m(latitude, longitude, case.latitude, case.longitude)
        if distance <= best_distance:
            best, best_distance = case, distance
    return best
