"""Regions: a GeoJSON FeatureCollection of cities, towns and villages (and, in a deployment of four
levels, the prefectures above the cities). Properties: code, name_zh, name_en, level (prefecture
/ city / town / village) and parent (the code of the region above, in the database or anywhere
in the same file; a city's is a prefecture's, or empty). A geometry, if any, is checked and kept
as the region's outline (teams.RegionOutline): the grids of a village must then lie inside it
(rollout.load_grids). A feature without one leaves the stored outline as it is."""

from django.utils.translation import gettext as _

from rollout.common import Plan, Progress, finish, tier_values
from rollout.features import Feature, FeatureProblems, features_of, geometry_of
from rollout.report import ImportReport
from teams.levels import PREFECTURE, level_name, parent_level, parent_required, shape
from teams.models import PREFECTURE_OUT_OF_USE, Region, RegionOutline

COLUMNS: list = []  # GeoJSON: the properties below
PROPERTIES = ["code", "name_zh", "name_en", "level", "parent"]
LEVEL_ORDER = [
    Region.Level.PREFECTURE,
    Region.Level.CITY,
    Region.Level.TOWN,
    Region.Level.VILLAGE,
]
FIELDS = ["name_zh", "name_en", "parent_id"]
EXAMPLE = [
    {
        "type": "Feature",
        "properties": {
            "code": "T01",
            "name_zh": "一号镇",
            "name_en": "Town 1",
            "level": "town",
            "parent": "C01",
        },
        "geometry": None,
    }
]


def dump() -> list[dict]:
    outlines = dict(RegionOutline.objects.values_list("region_id", "polygon"))
    regions = list(
        Region.objects.values_list("pk", "code", "name_zh", "name_en", "level", "parent_id")
    )
    codes = {pk: code for pk, code, *_rest in regions}
    order = {level: index for index, level in enumerate(LEVEL_ORDER)}
    regions.sort(key=lambda r: (order[r[4]], r[1]))
    return [
        {
            "type": "Feature",
            "properties": {
                "code": code,
                "name_zh": zh,
                "name_en": en,
                "level": level,
                "parent": codes.get(parent, ""),
            },
            "geometry": outlines.get(pk),
        }
        for pk, code, zh, en, level, parent in regions
    ]


def load(*, source: list, report: ImportReport, progress: Progress) -> None:
    problems = FeatureProblems()
    features = features_of(source, problems)
    existing = {r.code: r for r in Region.objects.all()}
    codes = {r.pk: r.code for r in existing.values()}
    first: dict[str, Feature] = {}
    levels = {code: r.level for code, r in existing.items()}
    rows: list[tuple[Feature, str, dict, str, str]] = []
    outlines: dict[str, dict] = {}
    for feature in features:
        code = problems.text(feature, "code", max_length=32, required=True)
        level = problems.text(feature, "level", max_length=10, required=True)
        if level and level not in Region.Level.values:
            problems.add(
                feature,
                "level",
                _("Unknown level %(level)s; choose among %(levels)s.")
                % {
                    "level": level,
                    "levels": tier_values(with_prefecture=shape().prefecture_in_use),
                },
            )
            level = ""
        if level == PREFECTURE and not shape().prefecture_in_use:
            problems.add(feature, "level", str(PREFECTURE_OUT_OF_USE))
            level = ""
        if code in first:
            problems.add(
                feature,
                "code",
                _("%(code)s appears twice: already feature %(index)d.")
                % {"code": code, "index": first[code].index},
            )
            continue
        if code:
            first[code] = feature
        if code and level:
            current = existing.get(code)
            if current is not None and current.level != level:
                problems.add(
                    feature,
                    "level",
                    _("%(code)s is a %(was)s in the database; a region's level does not change.")
                    % {"code": code, "was": level_name(current.level)},
                )
            levels[code] = level
        values = {
            "name_zh": problems.text(feature, "name_zh", max_length=200, required=True),
            "name_en": problems.text(feature, "name_en", max_length=200),
        }
        parent = problems.text(feature, "parent", max_length=32)
        if problems.shape(feature, required=False) is not None and code:
            outlines[code] = geometry_of(feature.geometry)
        rows.append((feature, code, values, level, parent))
    for feature, _code, _values, level, parent in rows:
        if not level:
            continue
        expected = parent_level(level)
        if expected is None:
            if parent:
                problems.add(
                    feature,
                    "parent",
                    _("A %(level)s has no parent region.") % {"level": level_name(level)},
                )
        elif not parent:
            if not parent_required(level):
                continue  # a county standing alone beside the prefecture's
            problems.add(
                feature,
                "parent",
                _("A %(level)s needs its parent: the code of a %(expected)s.")
                % {"level": level_name(level), "expected": level_name(expected)},
            )
        elif parent not in levels:
            problems.add(
                feature,
                "parent",
                _("No region with code %(code)s, in the database or in this file.")
                % {"code": parent},
            )
        elif levels[parent] != expected:
            problems.add(
                feature,
                "parent",
                _("The parent of a %(level)s must be a %(expected)s; %(code)s is a %(actual)s.")
                % {
                    "level": level_name(level),
                    "expected": level_name(expected),
                    "code": parent,
                    "actual": level_name(levels[parent]),
                },
            )
    plan = Plan()
    if problems.errors:
        finish(
            report=report, errors=problems.errors, plan=plan, write=lambda: None, progress=progress
        )
        return
    new: list[Region] = []
    updates: list[Region] = []
    stored = dict(RegionOutline.objects.values_list("region__code", "polygon"))
    outlined = {code for code, polygon in outlines.items() if stored.get(code) != polygon}
    for _feature, code, values, level, parent in rows:
        current = existing.get(code)
        if current is None:
            new.append(Region(code=code, level=level, **values))
            plan.created.append(code)
        elif codes.get(current.parent_id, "") != parent or any(
            getattr(current, k) != v for k, v in values.items()
        ):
            for name, value in values.items():
                setattr(current, name, value)
            updates.append(current)
            plan.changed.append(code)
        elif code in outlined:
            plan.changed.append(code)  # its outline alone
        else:
            plan.unchanged.append(code)
    parents = {code: parent for _f, code, _v, _l, parent in rows}

    def write() -> None:
        # Level by level, so that a town's new city has its id when the town is created.
        # Region.objects is a ReferenceQuerySet: its bulk writes drop the kept copies.
        ids = {code: r.pk for code, r in existing.items()}
        for level in LEVEL_ORDER:
            batch = [r for r in new if r.level == level]
            for region in batch:
                region.parent_id = ids[parents[region.code]] if parents[region.code] else None
            Region.objects.bulk_create(batch, batch_size=500)
            ids.update({r.code: r.pk for r in batch})
        for region in updates:
            region.parent_id = ids[parents[region.code]] if parents[region.code] else None
        Region.objects.bulk_update(updates, FIELDS, batch_size=500)
        RegionOutline.objects.bulk_create(
            [RegionOutline(region_id=ids[code], polygon=outlines[code]) for code in outlined],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["region"],
            update_fields=["polygon"],
        )

    finish(report=report, errors=problems.errors, plan=plan, write=write, progress=progress)
