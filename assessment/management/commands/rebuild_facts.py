"""Rebuild every case's and dispatch's facts from the event log."""

from django.core.management.base import BaseCommand

from assessment.services import rebuild_all_facts


class Command(BaseCommand):
    help = "Recompute the assessment facts of every case from its events, in batches."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--quiet", action="store_true", help="Do not print progress.")

    def handle(self, *args, batch_size: int, quiet: bool, **options) -> None:
        total = rebuild_all_facts(
            batch_size=max(1, batch_size), stdout=None if quiet else self.stdout
        )
        self.stdout.write(self.style.SUCCESS(f"Rebuilt the facts of {total} cases."))
