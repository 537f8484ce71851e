"""Region outlines: a regions file may draw its villages (and towns); the outline is kept
(teams.RegionOutline) and exported, and a grid outside its village's outline is refused with
its feature and by how much, nothing written."""

import json

import pytest
from django.utils import translation

from rollout.services import export_org, import_org
from teams.models import Grid, RegionOutline
from tests.rollout.helpers import feature, geojson, load, square

pytestmark = pytest.mark.django_db


def regions(village_outline: dict | None) -> bytes:
    return geojson(
        feature(code="C01", name_zh="一号区", name_en="District 1", level="city"),
        feature(code="T01", name_zh="一号镇", name_en="Town 1", level="town", parent="C01"),
        feature(
            village_outline,
            code="V01",
            name_zh="一村",
            name_en="Village 1",
            level="village",
            parent="T01",
        ),
    )


VILLAGE = square(120.00, 30.00, side=0.02)  # about 1.9 km by 2.2 km


def grids(*corners: tuple[float, float]) -> bytes:
    return geojson(
        *(
            feature(
                square(x, y), code=f"G0{n}", name_zh=f"{n}格", name_en=f"Grid {n}", village="V01"
            )
            for n, (x, y) in enumerate(corners, start=1)
        )
    )


def test_the_outline_is_kept_exported_and_a_grid_inside_it_imports():
    report = load("regions", "regions.geojson", regions(VILLAGE))
    assert report.created == ["C01", "T01", "V01"]
    assert RegionOutline.objects.get(region__code="V01").polygon == VILLAGE
    load("grids", "grids.geojson", grids((120.00, 30.00), (120.01, 30.01)))
    assert Grid.objects.count() == 2
    _name, content = export_org(kind="regions", fmt="geojson")
    exported = {f["properties"]["code"]: f["geometry"] for f in json.loads(content)["features"]}
    assert exported == {"C01": None, "T01": None, "V01": VILLAGE}
    again = load("regions", "regions.geojson", content)
    assert again.unchanged == ["C01", "T01", "V01"] and again.changed == []


def test_a_new_outline_alone_is_a_change_and_no_geometry_leaves_it():
    load("regions", "regions.geojson", regions(None))
    assert not RegionOutline.objects.exists()
    assert load("regions", "regions.geojson", regions(VILLAGE)).changed == ["V01"]
    report = load("regions", "regions.geojson", regions(None))
    assert report.unchanged == ["C01", "T01", "V01"]
    assert RegionOutline.objects.get(region__code="V01").polygon == VILLAGE


def test_a_grid_outside_its_village_is_refused_with_its_feature_and_nothing_written():
    load("regions", "regions.geojson", regions(VILLAGE))
    # The second grid sticks out to the east by half its width: about 0.5 km².
    with translation.override("en"):
        report = import_org(
            kind="grids",
            filename="grids.geojson",
            data=grids((120.00, 30.00), (120.015, 30.00)),
            dry_run=False,
        )
        errors = [str(error) for error in report.errors]
    assert not report.ok
    assert len(errors) == 1
    assert errors[0].startswith(
        "feature 2 (2格), column geometry: Grid G02 lies outside its village V01 by "
    )
    assert "m²; up to 1 m² is tolerated." in errors[0]
    assert not Grid.objects.exists()


def test_without_an_outline_a_grid_is_not_checked_against_its_village():
    load("regions", "regions.geojson", regions(None))
    load("grids", "grids.geojson", grids((121.0, 31.0)))
    assert Grid.objects.get().code == "G01"
