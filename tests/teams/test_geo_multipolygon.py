"""Grids in several pieces (a MultiPolygon, holes included): checked, boxed and located."""

import pytest

from cases.selectors import locate_grid
from teams import geo
from teams.models import Grid
from tests.factories import GridFactory, VillageFactory


def _ring(x0: float, y0: float, x1: float, y1: float) -> list:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


# Two squares 0.1 degree apart; the first has a square hole in its middle.
TWO_PIECES = {
    "type": "MultiPolygon",
    "coordinates": [
        [_ring(120.00, 30.00, 120.02, 30.02), _ring(120.008, 30.008, 120.012, 30.012)],
        [_ring(120.10, 30.00, 120.12, 30.02)],
    ],
}


def test_a_multipolygon_with_a_hole_is_valid_and_boxed_around_every_piece():
    assert geo.polygon_errors(TWO_PIECES) == ""
    assert geo.bbox(TWO_PIECES) == (120.00, 30.00, 120.12, 30.02)


def test_contains_finds_each_piece_and_not_the_hole_nor_between():
    assert geo.contains(TWO_PIECES, 120.002, 30.002)
    assert geo.contains(TWO_PIECES, 120.11, 30.01)
    assert not geo.contains(TWO_PIECES, 120.01, 30.01)  # the hole
    assert not geo.contains(TWO_PIECES, 120.05, 30.01)  # between the pieces
    assert geo.distance_to_polygon_m(TWO_PIECES, 120.11, 30.01) == 0.0
    assert geo.distance_to_polygon_m(TWO_PIECES, 120.01, 30.01) > 100


def test_a_self_intersecting_polygon_is_explained():
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    assert "Self-intersection" in geo.polygon_errors(bow_tie)


@pytest.mark.django_db
def test_locate_grid_finds_a_multipolygon_grid_in_each_piece_and_not_in_its_hole():
    village = VillageFactory()
    grid = Grid(code="G-MULTI", name_zh="两块", name_en="Two pieces", village=village)
    grid.polygon = TWO_PIECES
    grid.full_clean()
    grid.refresh_bbox()
    grid.save()
    assert locate_grid(latitude=30.002, longitude=120.002) == grid
    assert locate_grid(latitude=30.01, longitude=120.11) == grid
    assert locate_grid(latitude=30.01, longitude=120.01) is None
    assert locate_grid(latitude=30.01, longitude=120.05) is None
    assert GridFactory(village=village).polygon["type"] == "Polygon"
