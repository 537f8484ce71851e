"""Reading and writing the files themselves: size, encoding, CSV/XLSX tables, GeoJSON.

What comes out is plain rows with the line the user sees (header = line 1), so the kinds
(rollout.kinds) check values and never care which format a row came from.
"""

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils import coordinate_to_tuple, get_column_letter

from rollout.report import RowError
from teams.levels import level_words

# Chinese offices' spreadsheets export CSV as UTF-8 (with or without a BOM) or GB18030.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')
# Headers refused with their own reason.
NEVER_IMPORTED = {"password", "密码", "口令"}
# An XLSX is a zip: what it unpacks to may be this many times the upload limit, no more.
XLSX_UNPACKED_FACTOR = 10


@dataclass(frozen=True)
class Column:
    """A column of a kind: its field name (the English header) and its Chinese header."""

    name: str
    zh: str
    required: bool = False


@dataclass
class Row:
    line: int
    values: dict[str, str]


@dataclass
class Table:
    """A file's rows by field name; `headers` maps each field to the header as written."""

    headers: dict[str, str] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)

    def header(self, name: str) -> str:
        return self.headers.get(name, name)


def too_large(*, size: int, limit: int) -> RowError:
    return RowError(
        line=None,
        column="",
        message=_(
            "The file is %(size)s; files over %(limit)s are refused "
            "(WHISTLE_IMPORT_MAX_BYTES). Split it, e.g. one file per %(town)s."
        )
        % {**level_words(), "size": filesizeformat(size), "limit": filesizeformat(limit)},
    )


def _file_error(message: str) -> RowError:
    return RowError(line=None, column="", message=message)


def _looks_binary(data: bytes, text: str) -> bool:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        return True
    return any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text)


def decode_text(data: bytes) -> str:
    """The text of a CSV or GeoJSON file in one of CSV_ENCODINGS; ValueError otherwise.

    GB18030 takes almost any byte, so what is plainly not text (NUL bytes: UTF-16 or a binary
    file; control characters) is refused after decoding."""
    text = None
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or _looks_binary(data, text):
        raise ValueError(
            _(
                "The file is not text in UTF-8 or GB18030 (it may be UTF-16, or not a text "
                'file at all). Save it as "CSV UTF-8" and try again.'
            )
        )
    return text


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _match_headers(
    raw: list[str], columns: list[Column]
) -> tuple[dict[str, str], list[int | None], list[RowError]]:
    """Which field each header is (English name or Chinese header, any case and spacing)."""
    known: dict[str, str] = {}
    for column in columns:
        known[column.name.lower()] = column.name
        known[column.zh] = column.name
    headers: dict[str, str] = {}
    positions: list[str | None] = []
    errors: list[RowError] = []
    for written in raw:
        text = written.strip()
        name = known.get(text.lower()) or known.get(text)
        if not text:
            positions.append(None)
            continue
        if name is None and text.lower() in NEVER_IMPORTED:
            errors.append(
                RowError(
                    line=1,
                    column=text,
                    message=_(
                        "Passwords are never imported: remove this column. New users set "
                        "their own through the password reset."
                    ),
                )
            )
            positions.append(None)
        elif name is None:
            errors.append(
                RowError(
                    line=1,
                    column=text,
                    message=_("Unknown column; the columns are %(columns)s.")
                    % {"columns": ", ".join(c.name for c in columns)},
                )
            )
            positions.append(None)
        elif name in headers:
            errors.append(RowError(line=1, column=text, message=_("This column appears twice.")))
            positions.append(None)
        else:
            headers[name] = text
            positions.append(name)
    for column in columns:
        if column.required and column.name not in headers:
            errors.append(
                RowError(
                    line=1,
                    column=column.name,
                    message=_("The column %(name)s (%(zh)s) is missing.")
                    % {"name": column.name, "zh": column.zh},
                )
            )
    return headers, positions, errors


def _table(
    records: list[tuple[int, list[Any]]], columns: list[Column]
) -> tuple[Table, list[RowError]]:
    if not records:
        return Table(), [_file_error(_("The file is empty: it has no header row."))]
    raw_headers = records[0][1]
    headers, positions, errors = _match_headers([_cell_text(v) for v in raw_headers], columns)
    table = Table(headers=headers)
    if errors:
        return table, errors
    for line, cells in records[1:]:
        texts = [_cell_text(v) for v in cells]
        if not any(texts):
            continue  # blank lines
        values = {column.name: "" for column in columns}
        for index, text in enumerate(texts):
            name = positions[index] if index < len(positions) else None
            if name is not None:
                values[name] = text
            elif text:
                errors.append(
                    RowError(
                        line=line,
                        column=_cell_name(index),
                        message=_("A value in a column without a header."),
                    )
                )
        table.rows.append(Row(line=line, values=values))
    return table, errors


def _cell_name(index: int) -> str:
    return get_column_letter(index + 1)


def _csv_records(data: bytes) -> list[tuple[int, list[Any]]]:
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    records = []
    start = 1
    try:
        for cells in reader:
            records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as error:
        raise ValueError(
            _("line %(line)d: not a CSV row (%(error)s)") % {"line": start, "error": error}
        ) from error
    return records


def _merged_ranges(archive: zipfile.ZipFile, path: str) -> list[str]:
    """The merged ranges of a sheet (the read-only workbook keeps none), found by scanning its
    XML in chunks for <mergeCell ref="..."/>: no XML parser meets the untrusted file here."""
    found: list[str] = []
    tail = b""
    with archive.open(path.lstrip("/")) as stream:
        while chunk := stream.read(1 << 20):
            text = tail + chunk
            # The last 256 bytes wait for the next chunk: a tag cut in two is read whole.
            keep_from = max(0, len(text) - 256)
            for match in MERGE_CELL.finditer(text):
                if match.start() >= keep_from:
                    break
                if match.end() > keep_from:
                    keep_from = match.start()
                    break
                found.append(match.group(1).decode("ascii"))
            tail = text[keep_from:]
    found.extend(match.group(1).decode("ascii") for match in MERGE_CELL.finditer(tail))
    return found


def _merged_error(ref: str) -> RowError:
    first = ref.split(":")[0]
    return RowError(
        line=coordinate_to_tuple(first)[0] if first else None,
        column=ref,
        message=_("Merged cells %(cells)s: unmerge them and give every row its own value.")
        % {"cells": ref},
    )


def _formula_error(row: int, column: int) -> RowError:
    cell = f"{get_column_letter(column)}{row}"
    return RowError(
        line=row,
        column=cell,
        message=_("Cell %(cell)s holds a formula: paste its value instead (Paste special, Values).")
        % {"cell": cell},
    )


def _xlsx_records(data: bytes) -> tuple[list[tuple[int, list[Any]]], list[RowError]]:
    """The first sheet's rows, read in read-only mode (a large workbook is streamed, not held
    as cell objects), with every formula and merged range refused by its cell."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise ValueError(_("The file is not an XLSX workbook.")) from error
    with archive:
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > settings.WHISTLE_IMPORT_MAX_BYTES * XLSX_UNPACKED_FACTOR:
            raise ValueError(_("The workbook unpacks to more than the import allows."))
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            sheet = book.worksheets[0]
            errors = [_merged_error(ref) for ref in _merged_ranges(archive, sheet._worksheet_path)]
            records = []
            for number, row in enumerate(sheet.iter_rows(min_row=1), start=1):
                cells = []
                for column, cell in enumerate(row, start=1):
                    if cell.data_type == "f":  # also array and data-table formulas
                        errors.append(_formula_error(number, column))
                        cells.append(None)
                    else:
                        cells.append(cell.value)
                records.append((number, cells))
            book.close()
        except Exception as error:  # openpyxl and the XML parser raise many kinds
            raise ValueError(
                _("The file is not a readable XLSX workbook: %(error)s") % {"error": error}
            ) from error
    return records, errors


def read_table(*, data: bytes, fmt: str, columns: list[Column]) -> tuple[Table, list[RowError]]:
    """The rows of a CSV or XLSX file by field name, or the reasons the file is refused."""
    try:
        if fmt == "xlsx":
            records, errors = _xlsx_records(data)
            if errors:
                return Table(), errors
        else:
            records = _csv_records(data)
    except ValueError as error:
        return Table(), [_file_error(str(error))]
    return _table(records, columns)


def read_features(data: bytes) -> tuple[list[dict], list[RowError]]:
    """The features of a GeoJSON FeatureCollection, or why it is not one."""
    try:
        document = json.loads(decode_text(data))
    except ValueError as error:
        return [], [_file_error(_("Not a GeoJSON file: %(error)s") % {"error": error})]
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        return [], [_file_error(_("A GeoJSON file here is one FeatureCollection."))]
    features = document.get("features")
    if not isinstance(features, list):
        return [], [_file_error(_("The FeatureCollection has no list of features."))]
    return features, []


def write_features(features: list[dict]) -> bytes:
    document = {"type": "FeatureCollection", "features": features}
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def write_table(*, fmt: str, headers: list[str], rows: list[list[str]]) -> bytes:
    if fmt == "xlsx":
        book = Workbook()
        sheet = book.active
        sheet.append(headers)
        for row in rows:
            # Text cells throughout: a code like 0101 keeps its leading zero.
            sheet.append([str(value) for value in row])
        for cells in sheet.iter_rows():
            for cell in cells:
                cell.number_format = "@"
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    # With a BOM: Excel opens it as UTF-8.
    return out.getvalue().encode("utf-8-sig")
