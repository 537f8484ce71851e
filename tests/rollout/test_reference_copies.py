"""Regions and grids are kept in each process (core.reference): an import's bulk writes drop
those copies as the admin's saves do, once the import commits."""

import pytest

from rollout.services import import_org
from teams.models import Grid
from teams.selectors import grid_with_regions
from tests.rollout.helpers import feature, geojson, load_county, square

EDITED = geojson(
    feature(square(120.00, 30.0), code="G01", name_zh="改名格", name_en="Renamed", village="V01"),
)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_drops_the_kept_grids_after_it_commits():
    load_county()
    pk = Grid.objects.get(code="G01").pk
    assert grid_with_regions(pk=pk).name_en == "Grid 1"  # now kept in this process
    assert grid_with_regions(pk=pk).name_en == "Grid 1"
    report = import_org(kind="grids", filename="g.geojson", data=EDITED, dry_run=False)
    assert report.changed == ["G01"]
    assert grid_with_regions(pk=pk).name_en == "Renamed"


@pytest.mark.django_db
def test_progress_is_told_the_rows_checked_and_written():
    calls = []
    load_county()
    import_org(
        kind="grids",
        filename="g.geojson",
        data=EDITED,
        dry_run=False,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(0, 1), (1, 1)]
