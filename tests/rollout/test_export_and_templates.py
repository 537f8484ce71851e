"""What export_org writes imports back unchanged; template_for gives a file to fill in whose
example row the import reads (in English or Chinese headers)."""

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from rollout.services import KINDS, export_org, import_org, template_for
from tests.rollout.helpers import load_county

pytestmark = pytest.mark.django_db

TABLE_KINDS = [kind for kind in KINDS if kind not in ("regions", "grids")]
FIRST_HEADER_ZH = {"levels": "层级", "users": "用户名", "memberships": "用户名"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_leaves_everything_unchanged(fmt):
    load_county()
    for kind in KINDS:
        filename, content = export_org(
            kind=kind, fmt="geojson" if kind in ("regions", "grids") else fmt
        )
        report = import_org(kind=kind, filename=filename, data=content, dry_run=False)
        assert report.ok, [str(e) for e in report.errors]
        assert report.created == [] and report.changed == [], kind
        assert report.unchanged, kind


def test_the_exports_carry_the_rows():
    load_county()
    _name, regions = export_org(kind="regions", fmt="geojson")
    features = json.loads(regions)["features"]
    assert [f["properties"]["level"] for f in features][:3] == ["city", "town", "town"]
    _name, grids = export_org(kind="grids", fmt="geojson")
    assert json.loads(grids)["features"][2]["geometry"]["type"] == "MultiPolygon"
    name, teams = export_org(kind="teams", fmt="csv")
    assert name == "teams.csv" and teams.startswith(b"\xef\xbb\xbf")  # a BOM for Excel
    rows = list(csv.reader(io.StringIO(teams.decode("utf-8-sig"))))
    assert rows[2] == [
        "TM2",
        "一中队",
        "Brigade 1",
        "C01",
        "comprehensive",
        "TM1",
        "T01",
        "",
        "",
        "D01;D02",
    ]
    _name, members = export_org(kind="memberships", fmt="xlsx")
    sheet = load_workbook(io.BytesIO(members)).active
    assert [c.value for c in sheet[1]] == ["username", "role", "place", "force", "stationed_in"]


@pytest.mark.parametrize("kind", TABLE_KINDS)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_template_has_localised_headers_and_an_example_the_import_understands(
    kind, language, fmt
):
    filename, content = template_for(kind=kind, fmt=fmt, language=language)
    assert filename == f"{kind}-template.{fmt}"
    if fmt == "csv":
        headers = next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        headers = [c.value for c in load_workbook(io.BytesIO(content)).active[1]]
    assert (headers[0] == FIRST_HEADER_ZH.get(kind, "编码")) == (language == "zh-hans")
    report = import_org(kind=kind, filename=filename, data=content, dry_run=True)
    # The example refers to places that do not exist here: what is refused is the example's
    # values, never its columns.
    assert all(error.line == 2 for error in report.errors), [str(e) for e in report.errors]


@pytest.mark.parametrize("kind", ["regions", "grids"])
def test_a_geojson_template_is_one_example_feature(kind):
    filename, content = template_for(kind=kind, fmt="geojson", language="zh-hans")
    document = json.loads(content)
    assert filename == f"{kind}-template.geojson" and len(document["features"]) == 1
    report = import_org(kind=kind, filename=filename, data=content, dry_run=True)
    assert all(error.feature == 1 for error in report.errors)


def test_the_users_template_imports_as_is():
    _name, content = template_for(kind="users", fmt="xlsx", language="zh-hans")
    report = import_org(kind="users", filename="users.xlsx", data=content, dry_run=True)
    assert report.ok and report.created == ["zhangsan"]


def test_an_unknown_format_is_a_value_error():
    with pytest.raises(ValueError):
        export_org(kind="users", fmt="geojson")
    with pytest.raises(ValueError):
        template_for(kind="grids", fmt="csv", language="en")
