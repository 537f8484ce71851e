"""The dashboards' tables as CSV or XLSX files: the one implementation is core.exports, shared
with the case lists' export of selected rows."""

from core.exports import (
    BOM,
    CONTENT_TYPES,
    FORMATS,
    FORMULA_START,
    Table,
    Value,
    export_format,
    export_response,
    file_name,
    to_csv,
    to_xlsx,
)

__all__ = [
    "BOM",
    "CONTENT_TYPES",
    "FORMATS",
    "FORMULA_START",
    "Table",
    "Value",
    "export_format",
    "export_response",
    "file_name",
    "to_csv",
    "to_xlsx",
]
