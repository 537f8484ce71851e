"""`manage.py export_org KIND FILE [--format csv|xlsx]`: the current organisation's KIND as a
file that imports back unchanged (GeoJSON for regions and grids; the format of the rest
follows FILE's suffix, or --format)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from rollout.services import GEO_KINDS, KINDS, export_org


class Command(BaseCommand):
    help = _(
        "Write the organisation's level names, regions, grids, departments, teams, users or "
        "memberships."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file", help=_("where to write it (.geojson, .csv or .xlsx)"))
        parser.add_argument("--format", choices=("csv", "xlsx", "geojson"))

    def handle(self, *args, kind: str, file: str, **options) -> None:
        path = Path(file)
        fmt = options["format"] or path.suffix.lstrip(".").lower()
        if kind in GEO_KINDS:
            fmt = "geojson"
        try:
            _name, content = export_org(kind=kind, fmt=fmt or "csv")
        except ValueError as error:
            raise CommandError(str(error)) from error
        try:
            path.write_bytes(content)
        except OSError as error:
            raise CommandError(
                _("cannot write %(file)s: %(error)s") % {"file": file, "error": error}
            ) from error
        self.stdout.write(_("%(kind)s written to %(file)s") % {"kind": kind, "file": file})
