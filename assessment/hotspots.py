"""Hot spots: how many cases were filed per grid and item in a period, within the user's scope.

Counted straight from the cases table (indexed by item, grid and filing time) with one grouped
query, so the map costs three queries (counts, grids, items) whatever the history holds.
A case counts in the period in which it was filed; rejected whistles (merged duplicates among
them) are left out: they name no problem of the grid (or one already counted).
"""

from datetime import date, datetime, time
from typing import Protocol

from django.db.models import Count, Q
from django.utils import timezone

from cases.access import visible_cases
from cases.models import Status
from cases.selectors_pages.lists import visible_grids
from checklists.models import Item
from teams.models import Grid, User

TOP_ITEMS = 3


class HasRange(Protocol):
    start: date
    end: date  # exclusive


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filed_in(period: HasRange) -> Q:
    """Cases filed on or after the period's first day and before its (exclusive) end."""
    return Q(filed_at__gte=local_midnight(period.start), filed_at__lt=local_midnight(period.end))


def hot_spots(*, user: User, period: HasRange, item_id: int | None = None) -> list[dict]:
    """Every grid the user may look at with its case counts per item, most cases first.

    Each entry: grid_id, code, name, polygon, total, items (list of {item_id, code, name,
    count}, most frequent first). Grids without cases are kept (count 0) so the map shows them.
    """
    cases = visible_cases(user=user).filter(filed_in(period)).exclude(status=Status.REJECTED)
    if item_id:
        cases = cases.filter(item_id=item_id)
    counts = list(cases.order_by().values_list("grid_id", "item_id").annotate(count=Count("id")))
    grid_ids = {grid_id for grid_id, _item, _n in counts}
    grids = (
        Grid.objects.filter(Q(pk__in=visible_grids(user=user).values("pk")) | Q(pk__in=grid_ids))
        .only("id", "code", "name_zh", "name_en", "polygon")
        .order_by("code")
    )
    items = {
        item.pk: item
        for item in Item.objects.filter(pk__in={i for _g, i, _n in counts}).only(
            "id", "code", "name_zh", "name_en"
        )
    }
    per_grid: dict[int, list[dict]] = {}
    for grid_id, item, count in counts:
        per_grid.setdefault(grid_id, []).append(
            {
                "item_id": item,
                "code": items[item].code,
                "name": items[item].name,
                "count": count,
            }
        )
    spots = []
    for grid in grids:
        entries = sorted(per_grid.get(grid.pk, []), key=lambda e: (-e["count"], e["code"]))
        spots.append(
            {
                "grid_id": grid.pk,
                "code": grid.code,
                "name": grid.name,
                "polygon": grid.polygon,
                "total": sum(e["count"] for e in entries),
                "items": entries,
            }
        )
    spots.sort(key=lambda s: (-s["total"], s["code"]))
    return spots


def hot_spot_geojson(spots: list[dict]) -> dict:
    """The grids as a GeoJSON FeatureCollection with their totals and colour levels."""
    top = max((s["total"] for s in spots), default=0)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": spot["polygon"],
                "properties": {
                    "id": spot["grid_id"],
                    "code": spot["code"],
                    "name": spot["name"],
                    "total": spot["total"],
                    "level": heat_level(spot["total"], top),
                    "top": [f"{e['name']} ({e['count']})" for e in spot["items"][:TOP_ITEMS]],
                },
            }
            for spot in spots
        ],
    }


STEPS = 5


def heat_level(count: int, top: int) -> int:
    """0 for no case, else 1..STEPS: the share of the busiest grid's count, in fifths."""
    if count <= 0 or top <= 0:
        return 0
    return min(STEPS, max(1, -(-count * STEPS // top)))


def legend(spots: list[dict]) -> list[dict]:
    """The map's legend: for each colour level, the range of counts it stands for."""
    top = max((s["total"] for s in spots), default=0)
    steps = [{"level": 0, "low": 0, "high": 0}]
    for level in range(1, STEPS + 1):
        low, high = top * (level - 1) // STEPS + 1, top * level // STEPS
        if top and low <= high:
            steps.append({"level": level, "low": low, "high": high})
    return steps
