"""The event log's monthly partitions (cases.partitions): list them, create months ahead,
archive a past month by detaching its partition, or attach an archived month again."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cases import partitions


def _month(text: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise CommandError(
            _("%(text)s is not a month: write it as YYYY-MM.") % {"text": text}
        ) from None


class Command(BaseCommand):
    help = (
        "The monthly partitions of the event log, the deadlines and the assessment facts on "
        "PostgreSQL: list them "
        "(default), create this month's and the next ones (--create), archive the months "
        "before a month whose cases are all over by detaching their partitions "
        "(--archive-before YYYY-MM, with --dry-run to see what it would do), or attach an "
        "archived month again (--restore YYYY-MM). Run as the owner of the tables, like "
        "migrate."
    )

    def add_arguments(self, parser):
        actions = parser.add_mutually_exclusive_group()
        actions.add_argument(
            "--create",
            action="store_true",
            help=_("create this month's partition and the next ones"),
        )
        actions.add_argument(
            "--archive-before",
            type=_month,
            metavar="YYYY-MM",
            help=_("detach the partitions of the months before this one"),
        )
        actions.add_argument(
            "--restore", type=_month, metavar="YYYY-MM", help=_("attach this archived month again")
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=_("say what would be archived, change nothing")
        )

    def handle(
        self, *args, create=False, archive_before=None, restore=None, dry_run=False, **options
    ):
        if not partitions.is_partitioned():
            self.stdout.write(
                _("The event log is one table here: it is partitioned on PostgreSQL only.")
            )
            return
        try:
            if create:
                made = partitions.create_ahead()
                self.stdout.write(_("Partitions created: %(count)d.") % {"count": made})
            elif archive_before is not None:
                self._archive(before=archive_before, dry_run=dry_run)
            elif restore is not None:
                table = partitions.restore_month(month=restore)
                self.stdout.write(_("Attached again: %(table)s.") % {"table": table})
        except partitions.PartitionError as error:
            raise CommandError(str(error)) from error
        self._list()

    def _archive(self, *, before: datetime.date, dry_run: bool) -> None:
        months = [month for month in partitions.state().months if month < before]
        if not months:
            self.stdout.write(_("No partition before %(month)s.") % {"month": f"{before:%Y-%m}"})
        for month in months:
            archive = partitions.archive_month(month=month, dry_run=dry_run)
            line = (
                _("Would detach %(table)s: %(events)d events of %(cases)d cases.")
                if dry_run
                else _(
                    "Detached %(table)s: %(events)d events of %(cases)d cases. Keep it with "
                    "pg_dump -t %(table)s, then DROP TABLE %(table)s."
                )
            )
            self.stdout.write(
                line % {"table": archive.table, "events": archive.events, "cases": archive.cases}
            )
            if archive.deadline_table:
                clocks = (
                    _("Would detach %(table)s: %(deadlines)d deadlines.")
                    if dry_run
                    else _(
                        "Detached %(table)s: %(deadlines)d deadlines. Keep it with "
                        "pg_dump -t %(table)s, then DROP TABLE %(table)s."
                    )
                )
                self.stdout.write(
                    clocks % {"table": archive.deadline_table, "deadlines": archive.deadlines}
                )

    def _list(self) -> None:
        state = partitions.state()
        months = ", ".join(f"{month:%Y-%m}" for month in state.months) or "-"
        self.stdout.write(_("Months in the log: %(months)s.") % {"months": months})
        self.stdout.write(_("Months ready ahead of this one: %(count)d.") % {"count": state.ahead})
        self.stdout.write(
            _("Events in the default partition: %(count)d.") % {"count": state.default_rows}
        )
        if state.detached:
            detached = ", ".join(f"{month:%Y-%m}" for month in state.detached)
            self.stdout.write(_("Archived (detached) months: %(months)s.") % {"months": detached})
        caught = (
            (partitions.DEADLINES, _("Deadlines in the default partition: %(count)d.")),
            (partitions.CASE_FACTS, _("Case facts in the default partition: %(count)d.")),
            (partitions.DISPATCH_FACTS, _("Dispatch facts in the default partition: %(count)d.")),
        )
        for table, line in caught:
            other = partitions.state(table=table)
            if other is not None:
                self.stdout.write(line % {"count": other.default_rows})
