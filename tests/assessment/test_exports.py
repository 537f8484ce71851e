"""Exports: CSV opens in Excel with Chinese intact, XLSX keeps the types, and both carry the
same rows as the table they came from."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from assessment.exports import (
    BOM,
    Table,
    export_format,
    export_response,
    file_name,
    to_csv,
    to_xlsx,
)

TZ = ZoneInfo("Asia/Shanghai")

TABLE = Table(
    headers=["名称 / Name", "Count", "Rate (%)", "Day", "At"],
    rows=[
        ["城关镇", 12, 87.5, date(2025, 6, 1), datetime(2025, 6, 1, 1, 30, tzinfo=ZoneInfo("UTC"))],
        ['=HYPERLINK("x")', 0, None, None, None],
        ["Riverside", 3, Decimal("33.3"), date(2025, 6, 2), None],
    ],
    title="Ranking: towns [June]",
)


def test_csv_starts_with_a_bom_and_decodes_to_the_rows():
    body = to_csv(TABLE)
    assert body.startswith(BOM.encode("utf-8"))
    text = body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["名称 / Name", "Count", "Rate (%)", "Day", "At"]
    # Datetimes in local time (UTC 01:30 is 09:30 in Shanghai), None as an empty cell.
    assert rows[1] == ["城关镇", "12", "87.5", "2025-06-01", "2025-06-01 09:30"]
    # Text a spreadsheet would run as a formula is kept as text.
    assert rows[2] == ['\'=HYPERLINK("x")', "0", "", "", ""]
    assert rows[3] == ["Riverside", "3", "33.3", "2025-06-02", ""]


def test_xlsx_has_a_bold_header_and_typed_cells():
    workbook = load_workbook(io.BytesIO(to_xlsx(TABLE)))
    sheet = workbook.active
    assert sheet.title == "Ranking  towns  June"
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ["名称 / Name", "Count", "Rate (%)", "Day", "At"]
    assert sheet.cell(row=1, column=1).font.bold
    first = values[1]
    assert first[0] == "城关镇"
    assert first[1] == 12 and isinstance(first[1], int)
    assert first[2] == pytest.approx(87.5)
    assert first[3] == datetime(2025, 6, 1)  # dates come back as datetimes at midnight
    assert first[4] == datetime(2025, 6, 1, 9, 30)
    assert values[2] == ['\'=HYPERLINK("x")', 0, None, None, None]
    assert values[3][2] == pytest.approx(33.3)
    assert len(values) == 4


def test_response_has_content_type_and_an_ascii_file_name():
    response = export_response(
        TABLE, fmt="csv", filename=file_name("ranking", "城关", "2025-06", fmt="csv")
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="ranking-2025-06.csv"'
    response = export_response(TABLE, fmt="xlsx", filename="t.xlsx")
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert load_workbook(io.BytesIO(response.content)).active.max_row == 4


def test_export_format_accepts_csv_and_xlsx_only():
    assert export_format({}) is None
    assert export_format({"format": "html"}) is None
    assert export_format({"format": "CSV"}) == "csv"
    assert export_format({"format": "xlsx"}) == "xlsx"
    with pytest.raises(ValueError):
        export_format({"format": "pdf"})


def test_an_empty_table_still_has_its_header():
    table = Table(headers=["A", "B"], rows=[])
    assert to_csv(table).decode("utf-8-sig") == "A,B\r\n"
    sheet = load_workbook(io.BytesIO(to_xlsx(table))).active
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [["A", "B"]]
