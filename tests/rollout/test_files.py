"""The files themselves: encodings, XLSX workbooks, headers in either language, size."""

import io

import pytest
from django.utils import translation
from openpyxl import Workbook

from rollout.services import import_org
from teams.models import User
from tests.rollout.helpers import USERS, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

CHINESE_USERS = [
    ["用户名", "姓", "名", "邮箱", "手机号", "钉钉用户ID", "企业微信用户ID", "启用"],
    ["zhou", "周", "杰", "zhou@example.test", "13800000009", "", "", "是"],
]


def _import(filename: str, data: bytes, kind: str = "users", dry_run: bool = False):
    with translation.override("en"):
        report = import_org(kind=kind, filename=filename, data=data, dry_run=dry_run)
        return report, [str(error) for error in report.errors]


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gb18030"], ids=["utf8", "utf8-bom", "gb18030"]
)
def test_utf8_with_or_without_bom_and_gb18030_are_read_with_chinese_headers(encoding):
    report, texts = _import("users.csv", csv_bytes(CHINESE_USERS, encoding))
    assert texts == [] and report.created == ["zhou"]
    zhou = User.objects.get(username="zhou")
    assert (zhou.last_name, zhou.first_name, zhou.is_active) == ("周", "杰", True)


@pytest.mark.parametrize(
    "data",
    [
        csv_bytes(USERS, "utf-16"),
        csv_bytes(USERS, "utf-16-le"),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
    ],
    ids=["utf16-bom", "utf16-no-bom", "binary"],
)
def test_a_file_in_another_encoding_or_binary_is_refused(data):
    _report, texts = _import("users.csv", data)
    assert len(texts) == 1
    assert texts[0].startswith("The file is not text in UTF-8 or GB18030")
    assert not User.objects.filter(username="wang").exists()


def test_xlsx_is_read_like_csv_and_numbers_come_back_as_codes():
    rows = [list(row) for row in USERS]
    rows[1][4] = 13800000001  # typed as a number in Excel
    report, texts = _import("users.xlsx", xlsx_bytes(rows))
    assert texts == [] and report.created == ["wang", "li", "zhao"]
    assert User.objects.get(username="wang").phone == "13800000001"


def test_xlsx_with_formulas_or_merged_cells_is_refused_naming_each_cell():
    book = Workbook()
    sheet = book.active
    for row in USERS:
        sheet.append(row)
    sheet["E2"] = "=1380000000*10+1"
    sheet["D3"] = '=CONCAT("li","@example.test")'
    sheet.merge_cells("B4:C4")
    out = io.BytesIO()
    book.save(out)
    report, texts = _import("users.xlsx", out.getvalue())
    assert {(e.line, e.column) for e in report.errors} == {(4, "B4:C4"), (2, "E2"), (3, "D3")}
    assert any("Merged cells B4:C4" in text for text in texts)
    assert any("Cell E2 holds a formula" in text for text in texts)
    assert not User.objects.filter(username="wang").exists()


def test_a_broken_workbook_is_refused():
    _report, texts = _import("users.xlsx", b"PK\x03\x04 not really a zip")
    assert texts == ["The file is not an XLSX workbook."]


def test_a_50_mb_file_is_refused_before_it_is_parsed():
    data = b"username\r\n" + b"x" * (50 * 1024 * 1024)
    _report, texts = _import("users.csv", data)
    assert len(texts) == 1 and texts[0].startswith("The file is 50.0\xa0MB; files over 20.0\xa0MB")


def test_the_size_limit_is_a_setting(settings):
    settings.WHISTLE_IMPORT_MAX_BYTES = 100
    _report, texts = _import("users.csv", csv_bytes(USERS))
    assert "files over 100\xa0bytes are refused" in texts[0]


def test_unknown_and_missing_columns_are_refused_on_line_1():
    rows = [["login", "first_name", "first_name"], ["wang", "芳", "芳"]]
    report, texts = _import("users.csv", csv_bytes(rows))
    assert [(e.line, e.column) for e in report.errors] == [
        (1, "login"),
        (1, "first_name"),
        (1, "username"),
    ]
    assert texts[2] == "line 1, column username: The column username (用户名) is missing."


def test_a_file_of_the_wrong_kind_of_format_is_refused():
    assert _import("users.geojson", b"{}")[1] == [
        "A users file must be .csv, .xlsx; users.geojson is not."
    ]
    assert _import("regions.csv", b"code\r\n", kind="regions")[1] == [
        "A regions file must be .geojson; regions.csv is not."
    ]
    assert _import("x.csv", b"", kind="villages")[1][0].startswith("Unknown kind villages")


def test_line_numbers_follow_the_file_with_blank_and_multiline_rows():
    data = (
        b"username,first_name,email\r\n"
        b'wang,"two\r\nlines",wang@example.test\r\n'
        b"\r\n"
        b"li,,not-a-mail\r\n"
    )
    report, _texts = _import("users.csv", data)
    assert [(e.line, e.column) for e in report.errors] == [(5, "email")]


def test_a_dry_run_writes_nothing_and_says_what_a_run_would_do():
    report, _texts = _import("users.csv", csv_bytes(USERS), dry_run=True)
    assert report.ok and report.dry_run and report.created == ["wang", "li", "zhao"]
    assert not User.objects.filter(username__in=["wang", "li", "zhao"]).exists()
    data = report.as_dict()
    assert data["ok"] is True and data["created"] == ["wang", "li", "zhao"]


def test_a_password_column_is_refused():
    report, texts = _import("users.csv", csv_bytes([["username", "密码"], ["wang", "secret"]]))
    assert [(e.line, e.column) for e in report.errors] == [(1, "密码")]
    assert texts[0].startswith("line 1, column 密码: Passwords are never imported")
