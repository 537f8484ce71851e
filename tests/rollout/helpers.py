"""Files for the roll-out tests: GeoJSON, CSV and XLSX bytes built the way a county's tools
write them, and a small county loaded through the import itself."""

import csv
import io
import json

from openpyxl import Workbook

from rollout.services import import_org


def ring(x0: float, y0: float, x1: float, y1: float) -> list:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def square(x: float, y: float, side: float = 0.01) -> dict:
    return {"type": "Polygon", "coordinates": [ring(x, y, x + side, y + side)]}


def feature(geometry: dict | None = None, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def geojson(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


REGIONS = geojson(
    feature(code="C01", name_zh="一号区", name_en="District 1", level="city"),
    feature(code="T01", name_zh="一号镇", name_en="Town 1", level="town", parent="C01"),
    feature(code="T02", name_zh="二号镇", name_en="Town 2", level="town", parent="C01"),
    feature(code="V01", name_zh="一村", name_en="Village 1", level="village", parent="T01"),
    feature(code="V02", name_zh="二村", name_en="Village 2", level="village", parent="T01"),
    feature(code="V03", name_zh="三村", name_en="Village 3", level="village", parent="T02"),
)
GRIDS = geojson(
    feature(square(120.00, 30.0), code="G01", name_zh="一格", name_en="Grid 1", village="V01"),
    feature(square(120.01, 30.0), code="G02", name_zh="二格", name_en="Grid 2", village="V02"),
    feature(
        {
            "type": "MultiPolygon",
            "coordinates": [
                [ring(120.1, 30.0, 120.12, 30.02), ring(120.105, 30.005, 120.11, 30.01)],
                [ring(120.2, 30.0, 120.21, 30.01)],
            ],
        },
        code="G03",
        name_zh="三格",
        name_en="Grid 3",
        village="V03",
    ),
)
LEVELS = [
    ["level", "name_en", "plural_en", "name_zh"],
    ["city", "city", "cities", "市"],
    ["town", "town", "towns", "镇"],
    ["village", "village", "villages", "村"],
]
DEPARTMENTS = [
    ["code", "name_zh", "name_en", "kind", "region"],
    ["D01", "市场监管局", "Market Bureau", "market", "C01"],
    ["D02", "一号镇市场所", "Town 1 Market Office", "market", "T01"],
]
TEAMS = [
    [
        "code",
        "name_zh",
        "name_en",
        "region",
        "kind",
        "parent",
        "areas",
        "aspects",
        "items",
        "departments",
    ],
    ["TM1", "区执法大队", "District Team", "C01", "comprehensive", "", "C01", "", "", "D01"],
    ["TM2", "一中队", "Brigade 1", "C01", "comprehensive", "TM1", "T01", "", "", "D01;D02"],
    ["TM3", "二号镇执法队", "Town 2 Team", "T02", "professional", "", "", "", "", ""],
]
USERS = [
    [
        "username",
        "first_name",
        "last_name",
        "email",
        "phone",
        "dingtalk_userid",
        "wecom_userid",
        "is_active",
    ],
    ["wang", "芳", "王", "wang@example.test", "13800000001", "dt-wang", "", "true"],
    ["li", "强", "李", "", "", "", "wc-li", "true"],
    ["zhao", "敏", "赵", "zhao@example.test", "", "", "", "false"],
]
MEMBERSHIPS = [
    ["username", "role", "place", "force", "stationed_in"],
    ["wang", "grid_worker", "G01", "", ""],
    ["wang", "village_officer", "V01", "", ""],
    ["li", "team_member", "TM2", "law_enforcement", "V01"],
    ["li", "team_captain", "TM3", "", ""],
    ["zhao", "town_committee", "T01", "", ""],
    ["zhao", "department_liaison", "D01", "", ""],
]


def load(kind: str, filename: str, data: bytes, *, dry_run: bool = False):
    report = import_org(kind=kind, filename=filename, data=data, dry_run=dry_run)
    assert report.ok, [str(error) for error in report.errors]
    return report


def load_county() -> None:
    """The small county above, every kind, through the import."""
    from teams.models import DepartmentKind

    DepartmentKind.objects.get_or_create(
        code="market", defaults={"name_zh": "市场监管", "name_en": "Market supervision"}
    )
    load("levels", "levels.csv", csv_bytes(LEVELS))
    load("regions", "regions.geojson", REGIONS)
    load("grids", "grids.geojson", GRIDS)
    load("departments", "departments.csv", csv_bytes(DEPARTMENTS))
    load("teams", "teams.csv", csv_bytes(TEAMS))
    load("users", "users.csv", csv_bytes(USERS))
    load("memberships", "memberships.csv", csv_bytes(MEMBERSHIPS))
