"""The report travels as JSON (a Celery result, an API answer) and comes back the same."""

import json

import pytest
from django.utils import translation

from rollout.report import ImportReport
from rollout.services import import_org
from tests.rollout.helpers import feature, geojson, square

pytestmark = pytest.mark.django_db


def test_a_refused_report_goes_through_json_and_back():
    data = geojson(feature(square(120, 30), code="G1", name_zh="一格", village="NOPE"))
    with translation.override("en"):
        report = import_org(kind="grids", filename="g.geojson", data=data, dry_run=True)
        as_json = json.dumps(report.as_dict(), ensure_ascii=False)
    loaded = json.loads(as_json)
    assert loaded["ok"] is False and loaded["kind"] == "grids" and loaded["dry_run"] is True
    assert loaded["errors"] == [
        {
            "line": None,
            "column": "village",
            "message": "No village with code NOPE.",
            "feature": 1,
            "name": "一格",
            "text": "feature 1 (一格), column village: No village with code NOPE.",
        }
    ]
    assert ImportReport.from_dict(loaded) == report
