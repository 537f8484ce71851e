"""Grids: a GeoJSON FeatureCollection of (Multi)Polygons, holes allowed. Properties: code,
name_zh, name_en and village (a village's code). Refused: an invalid outline (shapely says
why), a grid overlapping another, in the file or in the database, by more than
WHISTLE_IMPORT_GRID_OVERLAP_M2, a grid outside its village's outline (teams.RegionOutline, when
the regions file gave one) by more than the same tolerance, and a grid in two villages (a code
given twice with two villages, or already in another village)."""

import math

from django.conf import settings
from django.utils.translation import gettext as _
from shapely import STRtree, make_valid
from shapely.errors import GEOSException
from shapely.geometry import shape as make_shape

from rollout.common import Plan, Progress, finish
from rollout.features import Feature, FeatureProblems, features_of, geometry_of
from rollout.report import ImportReport
from teams.geo import EARTH_RADIUS_M
from teams.levels import level_name, level_words
from teams.models import Grid, Region, RegionOutline

COLUMNS: list = []  # GeoJSON: the properties below
PROPERTIES = ["code", "name_zh", "name_en", "village"]
FIELDS = ["name_zh", "name_en", "polygon", "min_lat", "max_lat", "min_lng", "max_lng"]
EXAMPLE = [
    {
        "type": "Feature",
        "properties": {
            "code": "G0001",
            "name_zh": "一号网格",
            "name_en": "Grid 1",
            "village": "V0001",
        },
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[120.0, 30.0], [120.01, 30.0], [120.01, 30.01], [120.0, 30.01], [120.0, 30.0]]
            ],
        },
    }
]
# Square metres in a square degree at the equator; times cos(latitude) elsewhere.
M2_PER_DEGREE2 = (math.pi / 180 * EARTH_RADIUS_M) ** 2


def area_m2(geometry) -> float:
    """Area on a local flat projection around the shape (exact enough for a tolerance)."""
    if geometry.is_empty:
        return 0.0
    return geometry.area * M2_PER_DEGREE2 * math.cos(math.radians(geometry.centroid.y))


def _stored_shape(polygon: object):
    """A grid of the database as a shape to compare with; one saved before outlines were
    checked is mended (make_valid), and one that is not GeoJSON at all is left out."""
    try:
        shape = make_shape(polygon)
    except (AttributeError, KeyError, TypeError, ValueError, GEOSException):
        return None
    return shape if shape.is_valid else make_valid(shape)


def dump() -> list[dict]:
    return [
        {
            "type": "Feature",
            "properties": {"code": code, "name_zh": zh, "name_en": en, "village": village},
            "geometry": polygon,
        }
        for code, zh, en, village, polygon in Grid.objects.order_by("code").values_list(
            "code", "name_zh", "name_en", "village__code", "polygon"
        )
    ]


def _overlaps(
    problems: FeatureProblems,
    shapes: list[tuple[Feature, str, object]],
    others: list[tuple[str, object]],
) -> None:
    """Grids of the file overlapping each other or a grid of the database (not in the file)."""
    tolerance = settings.WHISTLE_IMPORT_GRID_OVERLAP_M2
    geometries = [shape for _f, _c, shape in shapes] + [shape for _c, shape in others]
    tree = STRtree(geometries)
    count = len(shapes)
    for i, (feature, code, shape) in enumerate(shapes):
        for j in tree.query(shape, predicate="intersects"):
            j = int(j)
            if j == i or (j < count and j < i):
                continue  # itself, or a pair already compared
            overlap = area_m2(shape.intersection(geometries[j]))
            if overlap <= tolerance:
                continue
            if j < count:
                other, where = shapes[j][1], _("feature %(index)d") % {"index": shapes[j][0].index}
            else:
                other, where = others[j - count][0], _("in the database")
            problems.add(
                feature,
                "geometry",
                _(
                    "Grid %(code)s overlaps grid %(other)s (%(where)s) by %(area)s m²; "
                    "at most %(tolerance)s m² is allowed."
                )
                % {
                    "code": code,
                    "other": other,
                    "where": where,
                    "area": f"{overlap:.0f}",
                    "tolerance": f"{tolerance:g}",
                },
            )


def _outside(
    problems: FeatureProblems, feature: Feature, code: str, village: str, shape, outline
) -> None:
    """A grid must lie inside its village's outline, when the village has one, up to the same
    tolerance as an overlap (drawing error along a shared border)."""
    outside = area_m2(shape.difference(outline))
    if outside > settings.WHISTLE_IMPORT_GRID_OVERLAP_M2:
        problems.add(
            feature,
            "geometry",
            _(
                "Grid %(code)s lies outside its %(village)s %(place)s by %(area)s m²; up to "
                "%(tolerance)s m² is tolerated."
            )
            % {
                **level_words(),
                "code": code,
                "place": village,
                "area": f"{outside:.0f}",
                "tolerance": f"{settings.WHISTLE_IMPORT_GRID_OVERLAP_M2:g}",
            },
        )


def load(*, source: list, report: ImportReport, progress: Progress) -> None:
    problems = FeatureProblems()
    features = features_of(source, problems)
    regions = {
        code: (pk, level) for code, pk, level in Region.objects.values_list("code", "pk", "level")
    }
    existing = {g.code: g for g in Grid.objects.select_related("village")}
    outlines: dict[int, object] = {}
    for region_id, polygon in RegionOutline.objects.filter(
        region__level=Region.Level.VILLAGE
    ).values_list("region_id", "polygon"):
        outline = _stored_shape(polygon)
        if outline is not None:
            outlines[region_id] = outline
    first: dict[str, tuple[Feature, str]] = {}
    rows: list[tuple[Feature, str, dict, int]] = []
    shapes: list[tuple[Feature, str, object]] = []
    for feature in features:
        code = problems.text(feature, "code", max_length=32, required=True)
        values = {
            "name_zh": problems.text(feature, "name_zh", max_length=200, required=True),
            "name_en": problems.text(feature, "name_en", max_length=200),
        }
        village = problems.text(feature, "village", max_length=32, required=True)
        village_id = None
        if village and village not in regions:
            problems.add(
                feature,
                "village",
                _("No %(village)s with code %(code)s.") % {**level_words(), "code": village},
            )
        elif village and regions[village][1] != Region.Level.VILLAGE:
            problems.add(
                feature,
                "village",
                _("A grid lies in a %(village)s; %(code)s is a %(level)s.")
                % {
                    **level_words(),
                    "code": village,
                    "level": level_name(regions[village][1]),
                },
            )
        elif village:
            village_id = regions[village][0]
        if code in first:
            earlier, earlier_village = first[code]
            if village and earlier_village and village != earlier_village:
                problems.add(
                    feature,
                    "village",
                    _(
                        "A grid in two %(villages)s: %(code)s is in %(place)s here and in "
                        "%(other)s at feature %(index)d."
                    )
                    % {
                        **level_words(),
                        "code": code,
                        "place": village,
                        "other": earlier_village,
                        "index": earlier.index,
                    },
                )
            else:
                problems.add(
                    feature,
                    "code",
                    _("%(code)s appears twice: already feature %(index)d.")
                    % {"code": code, "index": earlier.index},
                )
        elif code:
            first[code] = (feature, village)
        current = existing.get(code)
        if current is not None and village and current.village.code != village:
            problems.add(
                feature,
                "village",
                _(
                    "A grid in two %(villages)s: %(code)s is already in %(other)s; "
                    "move it in the admin, not by import."
                )
                % {**level_words(), "code": code, "other": current.village.code},
            )
        shape = problems.shape(feature, required=True)
        if shape is not None and code and first[code][0] is feature:
            shapes.append((feature, code, shape))
        if village_id in outlines and shape is not None:
            _outside(problems, feature, code, village, shape, outlines[village_id])
        if village_id and shape is not None:
            values["polygon"] = geometry_of(feature.geometry)
            rows.append((feature, code, values, village_id))
    in_file = {code for _f, code, _s in shapes}
    others = [
        (code, shape)
        for code, g in existing.items()
        if code not in in_file and (shape := _stored_shape(g.polygon)) is not None
    ]
    _overlaps(problems, shapes, others)
    plan = Plan()
    new: list[Grid] = []
    updates: list[Grid] = []
    if not problems.errors:
        for _feature, code, values, village_id in rows:
            current = existing.get(code)
            if current is None:
                grid = Grid(code=code, village_id=village_id, **values)
                grid.refresh_bbox()
                new.append(grid)
                plan.created.append(code)
            elif any(getattr(current, k) != v for k, v in values.items()):
                for name, value in values.items():
                    setattr(current, name, value)
                current.refresh_bbox()
                updates.append(current)
                plan.changed.append(code)
            else:
                plan.unchanged.append(code)

    def write() -> None:
        # Grid.objects is a ReferenceQuerySet: its bulk writes drop the kept copies.
        Grid.objects.bulk_create(new, batch_size=500)
        Grid.objects.bulk_update(updates, FIELDS, batch_size=500)

    finish(report=report, errors=problems.errors, plan=plan, write=write, progress=progress)
