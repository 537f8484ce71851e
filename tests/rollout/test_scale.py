"""The county of issue 17 (20 towns, 400 villages, 3,000 grids, 5,000 officers and their
memberships) loads well within a minute, in a number of queries that does not grow with its
rows (bulk writes in batches, one read per table), and a second load changes nothing."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rollout.services import import_org
from teams.models import DepartmentKind, Grid, Membership, User
from tests.rollout.county import Size, county_files

pytestmark = pytest.mark.django_db


def test_the_whole_county_loads_in_under_a_minute_and_reloads_unchanged():
    DepartmentKind.objects.get_or_create(
        code="market", defaults={"name_zh": "市场监管", "name_en": "Market"}
    )
    files = county_files(Size())
    queries = {}
    start = time.perf_counter()
    for kind, (filename, data) in files.items():
        with CaptureQueriesContext(connection) as captured:
            report = import_org(kind=kind, filename=filename, data=data, dry_run=False)
        assert report.ok, [str(e) for e in report.errors[:5]]
        queries[kind] = len(captured)
    took = time.perf_counter() - start
    assert took < 60, took  # about 3 s on SQLite and PostgreSQL alike
    # 5,000 rows in batches (500 on PostgreSQL, fewer on SQLite, whose statements take at most
    # 999 parameters) and one read per table: at most one query per 50 rows, never per row.
    assert all(count < 100 for count in queries.values()), queries
    assert Grid.objects.filter(code__startswith="G").count() == 3000
    assert User.objects.filter(username__startswith="u").count() == 5000
    assert Membership.objects.filter(stationed_in__isnull=False).count() > 0
    for kind, (filename, data) in files.items():
        report = import_org(kind=kind, filename=filename, data=data, dry_run=False)
        assert report.ok and not report.created and not report.changed, kind
