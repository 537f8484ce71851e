"""Bring the working calendar up to the installed chinesecalendar release (idempotent)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from cases.calendar_services import seed_calendar


class Command(BaseCommand):
    help = (
        "Seed office hours, holidays and make-up working days from the chinesecalendar "
        "library. Safe to run again after upgrading the library; years an administrator "
        "entered and confirmed are left alone."
    )

    def handle(self, *args, **options):
        report = seed_calendar()

        def years(values: list[int]) -> str:
            return ", ".join(str(year) for year in values) or "-"

        self.stdout.write(_("Seeded or updated: %(years)s") % {"years": years(report.seeded)})
        self.stdout.write(_("Already up to date: %(years)s") % {"years": years(report.unchanged)})
        if report.skipped_manual:
            self.stdout.write(
                self.style.WARNING(
                    _("Left alone (confirmed by an administrator): %(years)s")
                    % {"years": years(report.skipped_manual)}
                )
            )
        self.stdout.write(self.style.SUCCESS(_("Calendar seeded.")))
