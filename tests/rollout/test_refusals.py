"""Each bad file of issue 17 is refused with every error listed (line or feature, column,
why) and nothing written."""

import pytest
from django.utils import translation

from rollout.services import import_org
from teams.models import Grid, Membership, Region, User
from tests.rollout.helpers import (
    GRIDS,
    USERS,
    csv_bytes,
    feature,
    geojson,
    load,
    load_county,
    ring,
    square,
)

pytestmark = pytest.mark.django_db


def _refused(kind: str, filename: str, data: bytes):
    with translation.override("en"):
        report = import_org(kind=kind, filename=filename, data=data, dry_run=False)
        texts = [str(error) for error in report.errors]
    assert not report.ok
    assert report.created == report.changed == report.unchanged == []
    return report, texts


def test_broken_geojson_is_refused():
    texts = _refused("regions", "r.geojson", b'{"type": "FeatureCollection", "feat')[1]
    assert len(texts) == 1 and texts[0].startswith("Not a GeoJSON file")
    texts = _refused("regions", "r.geojson", b'{"type": "Feature"}')[1]
    assert texts == ["A GeoJSON file here is one FeatureCollection."]
    assert not Region.objects.exists()


def test_an_invalid_outline_is_explained_with_the_feature_and_its_name():
    load(
        "regions",
        "r.geojson",
        geojson(
            feature(code="C01", name_zh="区", level="city"),
            feature(code="T01", name_zh="镇", level="town", parent="C01"),
            feature(code="V01", name_zh="村", level="village", parent="T01"),
        ),
    )
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    open_ring = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}
    report, texts = _refused(
        "grids",
        "g.geojson",
        geojson(
            feature(square(120, 30), code="G1", name_zh="好格", village="V01"),
            feature(bow_tie, code="G2", name_zh="蝴蝶格", village="V01"),
            feature(open_ring, code="G3", name_zh="开口格", village="V01"),
            feature(
                {"type": "Point", "coordinates": [0, 0]}, code="G4", name_zh="点", village="V01"
            ),
        ),
    )
    assert [(e.feature, e.name, e.column) for e in report.errors] == [
        (2, "蝴蝶格", "geometry"),
        (3, "开口格", "geometry"),
        (4, "点", "geometry"),
    ]
    assert "Self-intersection" in texts[0] and texts[0].startswith("feature 2 (蝴蝶格)")
    assert not Grid.objects.exists()


def test_unknown_parents_and_wrong_levels_are_all_listed():
    data = geojson(
        feature(code="C01", name_zh="区", level="city"),
        feature(code="T01", name_zh="一镇", level="town", parent="C01"),
        feature(code="V01", name_zh="一村", level="village", parent="NOPE"),
        feature(code="V02", name_zh="二村", level="village", parent="C01"),
        feature(code="V03", name_zh="三村", level="hamlet", parent="T01"),
        # a parent further down the same file is fine
        feature(code="V04", name_zh="四村", level="village", parent="T09"),
        feature(code="T09", name_zh="九镇", level="town", parent="C01"),
    )
    report, texts = _refused("regions", "r.geojson", data)
    assert [(e.feature, e.column) for e in report.errors] == [
        (3, "parent"),
        (4, "parent"),
        (5, "level"),
    ]
    assert "No region with code NOPE" in texts[0]
    assert "The parent of a village must be a town; C01 is a city." in texts[1]
    assert not Region.objects.exists()


def test_duplicate_usernames_are_refused_with_both_lines():
    rows = [
        *USERS,
        ["li", "", "", "", "", "", "", ""],
        ["wang", "", "", "bad-mail", "", "", "", ""],
    ]
    report, texts = _refused("users", "u.csv", csv_bytes(rows))
    assert [(e.line, e.column) for e in report.errors] == [
        (5, "username"),
        (6, "username"),
        (6, "email"),
    ]
    assert texts[0] == "line 5, column username: li appears twice: already on line 3."
    assert not User.objects.filter(username__in=["wang", "li", "zhao"]).exists()


def test_a_role_the_level_does_not_have_and_unknown_places_are_refused():
    load_county()
    before = Membership.objects.count()
    rows = [
        ["username", "role", "place", "force", "stationed_in"],
        ["wang", "village_officer", "T01", "", ""],  # a town, not a village
        ["wang", "city_committee", "T01", "", ""],
        ["wang", "grid_worker", "G99", "", ""],
        ["nobody", "team_member", "TM1", "", ""],
        ["li", "mayor", "C01", "", ""],
        ["zhao", "town_committee", "T02", "", "V01"],  # stationed: team roles only
        ["li", "team_member", "TM3", "", "V01"],  # V01 lies outside TM3's town
    ]
    report, texts = _refused("memberships", "m.csv", csv_bytes(rows))
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "place"),
        (3, "place"),
        (4, "place"),
        (5, "username"),
        (6, "role"),
        (7, "stationed_in"),
        (8, "stationed_in"),
    ]
    assert texts[0] == (
        "line 2, column place: A village officer is held at a village; T01 is a town."
    )
    assert "No grid with code G99" in texts[2]
    assert Membership.objects.count() == before


def test_a_grid_in_two_villages_is_refused():
    load_county()
    report, texts = _refused(
        "grids",
        "g.geojson",
        geojson(
            feature(square(121.0, 31.0), code="G77", name_zh="七七", village="V01"),
            feature(square(121.0, 31.0), code="G77", name_zh="七七", village="V02"),
            feature(square(120.00, 30.0), code="G01", name_zh="一格", village="V03"),
        ),
    )
    assert [(e.feature, e.column) for e in report.errors] == [(2, "village"), (3, "village")]
    assert texts[0].startswith("feature 2 (七七), column village: A grid in two villages")
    assert "G01 is already in V01" in texts[1]
    assert not Grid.objects.filter(code="G77").exists()
    assert Grid.objects.get(code="G01").village.code == "V01"


def test_overlapping_grids_are_refused_in_the_file_and_against_the_database():
    load_county()
    report, texts = _refused(
        "grids",
        "g.geojson",
        geojson(
            feature(square(121.0, 31.0), code="N1", name_zh="新一", village="V01"),
            feature(square(121.005, 31.0), code="N2", name_zh="新二", village="V01"),
            feature(square(120.005, 30.005), code="N3", name_zh="新三", village="V01"),
            # in the hole of G03: no overlap
            feature(square(120.106, 30.006, 0.003), code="N4", name_zh="洞里", village="V03"),
            # sharing G02's border exactly: no overlap
            feature(square(120.02, 30.0), code="N5", name_zh="邻居", village="V02"),
        ),
    )
    assert [(e.feature, e.column) for e in report.errors] == [(1, "geometry")] + [
        (3, "geometry")
    ] * 2
    assert "overlaps grid N2 (feature 2)" in texts[0]
    assert "overlaps grid G01 (in the database)" in texts[1]
    assert "overlaps grid G02 (in the database)" in texts[2]
    assert not Grid.objects.filter(code__startswith="N").exists()


def test_the_overlap_tolerance_is_a_setting(settings):
    load_county()
    settings.WHISTLE_IMPORT_GRID_OVERLAP_M2 = 10**9
    report = import_org(
        kind="grids",
        filename="g.geojson",
        dry_run=True,
        data=geojson(
            feature(square(120.005, 30.005), code="N3", name_zh="新三", village="V01"),
        ),
    )
    assert report.ok and report.created == ["N3"]


def test_a_grid_may_replace_its_own_outline_without_overlapping_itself():
    load_county()
    moved = geojson(
        feature(
            square(120.0, 30.0, 0.011), code="G01", name_zh="一格", name_en="Grid 1", village="V01"
        ),
        feature(
            square(120.011, 30.0, 0.009),
            code="G02",
            name_zh="二格",
            name_en="Grid 2",
            village="V02",
        ),
    )
    report = load("grids", "g.geojson", moved)
    assert sorted(report.changed) == ["G01", "G02"]
    assert Grid.objects.get(code="G01").max_lng == pytest.approx(120.011)
    assert GRIDS  # the county's own file is left as it was


def test_a_multipolygon_hole_and_pieces_are_kept():
    load_county()
    grid = Grid.objects.get(code="G03")
    assert grid.polygon["coordinates"][0][1] == ring(120.105, 30.005, 120.11, 30.01)


def test_a_region_keeps_its_level_and_a_city_has_no_parent():
    load_county()
    report, texts = _refused(
        "regions",
        "r.geojson",
        geojson(
            feature(code="T01", name_zh="一号镇", level="village", parent="T02"),
            feature(code="C02", name_zh="二号区", level="city", parent="C01"),
        ),
    )
    assert [(e.feature, e.column) for e in report.errors] == [(1, "level"), (2, "parent")]
    assert "T01 is a town in the database" in texts[0]
    assert Region.objects.get(code="T01").level == "town"


def test_a_grid_saved_before_outlines_were_checked_does_not_stop_an_import():
    load_county()
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[121, 31], [122, 32], [122, 31], [121, 32], [121, 31]]],
    }
    Grid.objects.filter(code="G02").update(polygon=bow_tie)
    report = import_org(
        kind="grids",
        filename="g.geojson",
        dry_run=True,
        data=geojson(
            feature(square(121.6, 31.6, 0.1), code="N1", name_zh="新", village="V01"),
            feature(square(130, 40), code="N2", name_zh="远", village="V01"),
        ),
    )
    assert [e.feature for e in report.errors] == [1]
    assert report.created == []
