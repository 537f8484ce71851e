"""CSV and XLSX exports never hand a spreadsheet a formula: text that starts with = + - @, or
with a tab or carriage return, and also such text behind leading blanks (spaces, tabs, line
breaks, the full-width space), which spreadsheets skip, is kept as text (core.exports)."""

import csv
import io

import pytest
from openpyxl import load_workbook

from core.exports import Table, to_csv, to_xlsx

DANGEROUS = [
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    ' =HYPERLINK("http://x")',
    "   +1",
    "\n-1+1",
    " \t@SUM(A1)",
    "\u3000=1+1",
]
HARMLESS = ["Garbage by the bridge", "a = b", "5-3", "城关镇"]


def _table(values: list[str]) -> Table:
    return Table(headers=["text"], rows=[[value] for value in values], title="t")


@pytest.mark.parametrize("value", DANGEROUS)
def test_csv_keeps_formula_like_text_as_text(value):
    rows = list(csv.reader(io.StringIO(to_csv(_table([value])).decode("utf-8-sig"))))
    assert rows[1] == ["'" + value]


@pytest.mark.parametrize("value", DANGEROUS)
def test_xlsx_keeps_formula_like_text_as_text(value):
    sheet = load_workbook(io.BytesIO(to_xlsx(_table([value])))).active
    cell = sheet.cell(row=2, column=1)
    assert cell.data_type == "s"
    # XML reads a carriage return back as a line feed; the apostrophe is what matters.
    assert cell.value.replace("\n", "\r") == ("'" + value).replace("\n", "\r")


def test_harmless_text_is_left_alone():
    rows = list(csv.reader(io.StringIO(to_csv(_table(HARMLESS)).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == HARMLESS
    sheet = load_workbook(io.BytesIO(to_xlsx(_table(HARMLESS)))).active
    assert [sheet.cell(row=n, column=1).value for n in range(2, 6)] == HARMLESS
