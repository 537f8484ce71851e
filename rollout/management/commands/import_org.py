"""`manage.py import_org KIND FILE [--dry-run] [--format csv|xlsx|geojson]`: a county's file
through rollout.services.import_org. Prints the report; exit code 1 and nothing written when
any row is refused."""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from rollout.files import too_large
from rollout.services import KINDS, import_org


class Command(BaseCommand):
    help = _(
        "Load level names, regions, grids (GeoJSON), departments, teams, users or memberships "
        "(CSV or XLSX) from a county's file; any refused row and nothing is written."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file", help=_("the .geojson, .csv or .xlsx file"))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("check the file and write nothing")
        )
        parser.add_argument(
            "--format",
            choices=("csv", "xlsx", "geojson"),
            help=_("the file's format when its name does not end in it"),
        )

    def handle(self, *args, kind: str, file: str, dry_run: bool, **options) -> None:
        path = Path(file)
        try:
            size = os.stat(path).st_size
        except OSError as error:
            raise CommandError(
                _("cannot read %(file)s: %(error)s") % {"file": file, "error": error}
            ) from error
        limit = settings.WHISTLE_IMPORT_MAX_BYTES
        if size > limit:  # refused before a byte is read
            raise CommandError(str(too_large(size=size, limit=limit)))
        name = path.name if not options["format"] else f"{path.stem}.{options['format']}"
        report = import_org(kind=kind, filename=name, data=path.read_bytes(), dry_run=dry_run)
        for error in report.errors:
            self.stderr.write(str(error))
        if not report.ok:
            raise CommandError(
                _("%(count)d error(s): nothing was written") % {"count": len(report.errors)}
            )
        summary = _("%(created)d created, %(changed)d changed, %(unchanged)d unchanged") % {
            "created": len(report.created),
            "changed": len(report.changed),
            "unchanged": len(report.unchanged),
        }
        if dry_run:
            summary += " " + _("(dry run: nothing was written)")
        self.stdout.write(summary)
