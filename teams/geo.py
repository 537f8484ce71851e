"""Plain geometry on WGS-84 GeoJSON: enough to validate grids and find the grid of a point."""

import math
from typing import Any

import shapely.geometry
import shapely.validation
from django.utils.translation import gettext as _

EARTH_RADIUS_M = 6_371_000.0


def parts(polygon: dict) -> list[list]:
    """The polygons of a GeoJSON Polygon or MultiPolygon, each a list of rings (outer first,
    then holes): a grid may be in several pieces (an enclave, an island)."""
    if polygon.get("type") == "MultiPolygon":
        return list(polygon["coordinates"])
    return [polygon["coordinates"]]


def _rings_errors(rings: Any) -> str:
    if not isinstance(rings, list) or not rings:
        return _("The polygon has no coordinates.")
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4:
            return _("Each ring needs at least four positions.")
        for position in ring:
            if (
                not isinstance(position, list | tuple)
                or len(position) < 2
                or not all(isinstance(v, int | float) for v in position[:2])
            ):
                return _("Each position is [longitude, latitude].")
            lng, lat = position[0], position[1]
            if not (-180 <= lng <= 180 and -90 <= lat <= 90):
                return _("A position lies outside longitude -180..180 or latitude -90..90.")
        if list(ring[0][:2]) != list(ring[-1][:2]):
            return _("Each ring must end where it starts.")
    return ""


def polygon_errors(polygon: Any) -> str:
    """An explanation of what is wrong with a GeoJSON Polygon or MultiPolygon, or "" when it
    is fine: its structure, then its validity (no self-intersection, holes inside)."""
    if not isinstance(polygon, dict) or polygon.get("type") not in ("Polygon", "MultiPolygon"):
        return _("Enter a GeoJSON object of type Polygon or MultiPolygon.")
    coordinates = polygon.get("coordinates")
    if polygon["type"] == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            return _("The polygon has no coordinates.")
        for rings in coordinates:
            problem = _rings_errors(rings)
            if problem:
                return problem
    else:
        problem = _rings_errors(coordinates)
        if problem:
            return problem
    geometry = shapely.geometry.shape(polygon)
    if not geometry.is_valid:
        return _("The polygon is not valid: %(reason)s.") % {
            "reason": shapely.validation.explain_validity(geometry)
        }
    return ""


def bbox(polygon: dict) -> tuple[float, float, float, float]:
    """(min_lng, min_lat, max_lng, max_lat) of the outer rings."""
    points = [point for rings in parts(polygon) for point in rings[0]]
    lngs = [p[0] for p in points]
    lats = [p[1] for p in points]
    return min(lngs), min(lats), max(lngs), max(lats)


def _in_ring(lng: float, lat: float, ring: list) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lng < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def contains(polygon: dict, lng: float, lat: float) -> bool:
    """Whether the point lies in the polygon (in one of its parts: outer ring minus holes)."""
    for rings in parts(polygon):
        if _in_ring(lng, lat, rings[0]) and not any(_in_ring(lng, lat, hole) for hole in rings[1:]):
            return True
    return False


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _segment_distance_m(lng: float, lat: float, a: list, b: list) -> float:
    """Metres from the point to the segment a-b, on a local flat projection around the point
    (exact enough for the few hundred metres a tolerance is about)."""
    scale_x = math.radians(1) * EARTH_RADIUS_M * math.cos(math.radians(lat))
    scale_y = math.radians(1) * EARTH_RADIUS_M
    ax, ay = (a[0] - lng) * scale_x, (a[1] - lat) * scale_y
    bx, by = (b[0] - lng) * scale_x, (b[1] - lat) * scale_y
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length))
    return math.hypot(ax + t * dx, ay + t * dy)


def distance_to_polygon_m(polygon: dict, lng: float, lat: float) -> float:
    """0 for a point in the polygon, else metres to its nearest edge (outer ring or hole)."""
    if contains(polygon, lng, lat):
        return 0.0
    return min(
        _segment_distance_m(lng, lat, ring[i], ring[i + 1])
        for rings in parts(polygon)
        for ring in rings
        for i in range(len(ring) - 1)
    )
