"""Any table of a page (a dashboard, the selected rows of a list) as a CSV or XLSX file.

A table is headers plus rows of typed values (str, int, float, Decimal, date, datetime, None).
CSV starts with a UTF-8 byte order mark so that Excel opens Chinese text correctly; XLSX keeps
the types (numbers stay numbers, dates stay dates). Text that a spreadsheet would take for a
formula is prefixed with an apostrophe, so an exported description can never run as one.
"""

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import slugify
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

Value = str | int | float | Decimal | date | datetime | None

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _looks_like_formula(text: str) -> bool:
    """A spreadsheet skips leading blanks (spaces, tabs, line breaks, the full-width space)
    before a formula: "  =1+1" and "\n=HYPERLINK(...)" run as formulas too."""
    return text.startswith(FORMULA_START) or text.lstrip().startswith(FORMULA_START[:4])


@dataclass(frozen=True)
class Table:
    """What a page shows as one table: column headers and rows of typed values."""

    headers: Sequence[str]
    rows: Sequence[Sequence[Value]] = field(default_factory=list)
    title: str = ""


def export_format(query: dict) -> str | None:
    """The requested file format, None for the HTML page; ValueError for an unknown one."""
    wanted = (query.get("format") or "").strip().lower()
    if not wanted or wanted == "html":
        return None
    if wanted not in FORMATS:
        raise ValueError(wanted)
    return wanted


def _plain(value: Value) -> Value:
    """Strings as strings, local naive datetimes (spreadsheets know no time zones)."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None)
    if value is None or isinstance(value, int | float | Decimal | date):
        return value
    text = str(value)
    if _looks_like_formula(text):
        return "'" + text
    return text


def _csv_text(value: Value) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_text(h) for h in table.headers])
    for row in table.rows:
        writer.writerow([_csv_text(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip()
    return (cleaned or "Sheet")[:31]


def to_xlsx(table: Table) -> bytes:
    return to_xlsx_book([table])


def to_xlsx_book(tables: list[Table]) -> bytes:
    """Each table on its own sheet: bold headers, typed values, dates and times as such."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title))
        header = []
        for text in table.headers:
            cell = WriteOnlyCell(sheet, value=str(text))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            cells = []
            for value in row:
                value = _plain(value)
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
                cells.append(cell)
            sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def file_name(*parts: str, fmt: str) -> str:
    """An ASCII file name built from the parts (Chinese names are left out, codes kept)."""
    stem = "-".join(filter(None, (slugify(p) for p in parts))) or "export"
    return f"{stem}.{fmt}"


def export_response(table: Table, *, fmt: str, filename: str) -> HttpResponse:
    """The table as a download in `fmt` ("csv" or "xlsx")."""
    body = to_csv(table) if fmt == "csv" else to_xlsx(table)
    return download_response(body, fmt=fmt, filename=filename)


def download_response(body: bytes, *, fmt: str, filename: str) -> HttpResponse:
    """An export's file as a download, marked for the access audit."""
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    # Marks the answer as an export, which the access audit records (whistle.audit).
    response.export_file_name = filename
    return response
