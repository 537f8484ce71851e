"""A county loads in a number of queries that does not grow with its rows (bulk writes, one
read per table), and a second load changes nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rollout.services import import_org
from teams.models import DepartmentKind, Grid, Membership
from tests.rollout.county import Size, county_files

pytestmark = pytest.mark.django_db


def _load_all(size: Size) -> dict[str, int]:
    queries = {}
    for kind, (filename, data) in county_files(size).items():
        with CaptureQueriesContext(connection) as captured:
            report = import_org(kind=kind, filename=filename, data=data, dry_run=False)
        assert report.ok, [str(e) for e in report.errors[:5]]
        queries[kind] = len(captured)
    return queries


def test_a_larger_county_loads_and_reloads_unchanged():
    DepartmentKind.objects.create(code="market", name_zh="市场监管", name_en="Market")
    size = Size(towns=4, villages=40, grids=300, users=500)
    queries = _load_all(size)
    # Hundreds of rows per kind, a few dozen queries: reads per table, writes in batches.
    assert all(count < 40 for count in queries.values()), queries
    assert Grid.objects.count() == 300
    assert Membership.objects.filter(stationed_in__isnull=False).count() > 0
    for kind, (filename, data) in county_files(size).items():
        report = import_org(kind=kind, filename=filename, data=data, dry_run=False)
        assert report.ok and not report.created and not report.changed, kind
