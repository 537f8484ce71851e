"""Loading a county's organisation from its own files, and writing it back out.

Seven kinds, each keyed by its natural key: "levels" (what the deployment calls its three
tiers), "regions" and "grids" (GeoJSON FeatureCollections), "departments", "teams", "users" and
"memberships" (these five in CSV in UTF-8, with or without a BOM, or GB18030; or XLSX). An
import only creates and updates, never deletes. It checks the whole file first and lists every
refusal with its line (or feature) and column; any refusal and nothing is written. A dry run
checks and writes nothing; a real run writes the file in one transaction.
"""

from pathlib import Path

from django.conf import settings
from django.db import DatabaseError
from django.utils.translation import gettext as _

from rollout import common, files, kinds
from rollout.report import ImportReport, RowError

Progress = common.Progress

KINDS = kinds.KINDS
GEO_KINDS = kinds.GEO_KINDS
TABLE_FORMATS = ("csv", "xlsx")


def _format_of(*, kind: str, filename: str) -> str | None:
    suffix = Path(filename).suffix.lower().lstrip(".")
    if kind in GEO_KINDS:
        return "geojson" if suffix in ("geojson", "json") else None
    return suffix if suffix in TABLE_FORMATS else None


def import_org(
    *,
    kind: str,
    filename: str,
    data: bytes,
    dry_run: bool,
    progress: Progress | None = None,
) -> ImportReport:
    """Check `data` (the file called `filename`) as a file of `kind` and, unless `dry_run` or
    any row is refused, write it in one transaction. The format follows the file's suffix:
    .geojson/.json for regions and grids, .csv or .xlsx for the other kinds."""
    report = ImportReport(kind=kind, dry_run=dry_run)
    if kind not in KINDS:
        report.errors.append(
            RowError(
                line=None,
                column="",
                message=_("Unknown kind %(kind)s; choose among %(kinds)s.")
                % {"kind": kind, "kinds": ", ".join(KINDS)},
            )
        )
        return report
    limit = settings.WHISTLE_IMPORT_MAX_BYTES
    if len(data) > limit:
        report.errors.append(files.too_large(size=len(data), limit=limit))
        return report
    fmt = _format_of(kind=kind, filename=filename)
    if fmt is None:
        expected = ".geojson" if kind in GEO_KINDS else ".csv, .xlsx"
        report.errors.append(
            RowError(
                line=None,
                column="",
                message=_("A %(kind)s file must be %(expected)s; %(file)s is not.")
                % {"kind": kind, "expected": expected, "file": filename},
            )
        )
        return report
    loader = kinds.loader(kind)
    if fmt == "geojson":
        source, errors = files.read_features(data)
    else:
        source, errors = files.read_table(data=data, fmt=fmt, columns=loader.COLUMNS)
    if errors:
        report.errors.extend(errors)
        return report
    try:
        loader.load(source=source, report=report, progress=progress or _no_progress)
    except DatabaseError as error:  # a concurrent edit: the transaction was rolled back
        report.created, report.changed, report.unchanged = [], [], []
        report.errors.append(
            RowError(
                line=None,
                column="",
                message=_("The database refused the import, nothing was written: %(error)s")
                % {"error": error},
            )
        )
    return report


def _no_progress(done: int, total: int) -> None:
    return None


def export_org(*, kind: str, fmt: str) -> tuple[str, bytes]:
    """The current organisation's `kind` as a file that imports back unchanged: GeoJSON for
    regions and grids ("geojson"), CSV (UTF-8 with a BOM, which Excel reads) or XLSX for the
    rest. Returns (filename, content)."""
    loader = kinds.loader(kind)
    fmt = _checked_format(kind=kind, fmt=fmt)
    if fmt == "geojson":
        return f"{kind}.geojson", files.write_features(loader.dump())
    headers = [column.name for column in loader.COLUMNS]
    return f"{kind}.{fmt}", files.write_table(fmt=fmt, headers=headers, rows=loader.dump())


def template_for(*, kind: str, fmt: str, language: str) -> tuple[str, bytes]:
    """An empty file of `kind` to fill in: the header row (in Chinese for a "zh" language,
    else English; the import takes either) and one example row. Returns (filename, content)."""
    loader = kinds.loader(kind)
    fmt = _checked_format(kind=kind, fmt=fmt)
    if fmt == "geojson":
        return f"{kind}-template.geojson", files.write_features(loader.EXAMPLE)
    chinese = language.lower().startswith("zh")
    headers = [column.zh if chinese else column.name for column in loader.COLUMNS]
    return f"{kind}-template.{fmt}", files.write_table(
        fmt=fmt, headers=headers, rows=[loader.EXAMPLE]
    )


def _checked_format(*, kind: str, fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    if kind in GEO_KINDS:
        if fmt not in ("geojson", "json"):
            raise ValueError(_("Regions and grids are GeoJSON files."))
        return "geojson"
    if fmt not in TABLE_FORMATS:
        raise ValueError(_("Choose csv or xlsx."))
    return fmt
