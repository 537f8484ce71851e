"""`manage.py import_contacts FILE [--dry-run]`: the admin's contact import, for scripted
roll-outs. Exit code 1 and nothing written on any error."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from teams.contacts import import_contacts, read_contacts_file


class Command(BaseCommand):
    help = _(
        "Update existing users' phone, mail, DingTalk and WeCom ids from a CSV (UTF-8 or "
        "GB18030) or XLSX file keyed by username; any error and nothing is written."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help=_("the .csv or .xlsx file"))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("check the file and write nothing")
        )

    def handle(self, *args, file: str, dry_run: bool, **options) -> None:
        path = Path(file)
        try:
            data = path.read_bytes()
            dataset = read_contacts_file(data=data, file_name=path.name)
        except Exception as error:  # missing, or not CSV/XLSX: OSError, decoding, openpyxl
            raise CommandError(
                _("cannot read %(file)s as CSV or XLSX: %(error)s") % {"file": file, "error": error}
            ) from error
        report = import_contacts(dataset=dataset, dry_run=dry_run)
        for message in report.errors:
            self.stderr.write(message)
        if not report.ok:
            raise CommandError(
                _("%(count)d error(s): nothing was written") % {"count": len(report.errors)}
            )
        summary = _("%(updated)d user(s) updated, %(unchanged)d unchanged") % {
            "updated": report.updated,
            "unchanged": report.unchanged,
        }
        if dry_run:
            summary += " " + _("(dry run: nothing was written)")
        self.stdout.write(summary)
