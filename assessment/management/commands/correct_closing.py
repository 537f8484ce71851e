"""Record a correction of when a closed case counts as closed, with its reason: the one way a
closed period's figures change after the fact (assessment.services.correct_closing)."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from assessment.services import correct_closing
from cases.models import Case
from core.errors import ServiceError
from teams.models import User


class Command(BaseCommand):
    help = (
        "A supervisor corrects from when a closed case counts as closed, with the reason "
        "(the period's page lists it)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("number", help="The case number, e.g. HN-2025-000123.")
        parser.add_argument("--counts-from", required=True, help="Local time, YYYY-MM-DD HH:MM.")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--user", required=True, help="The supervisor's username.")

    def handle(self, *args, number: str, counts_from: str, reason: str, user: str, **options):
        case = Case.objects.filter(number=number).first()
        supervisor = User.objects.filter(username=user, is_active=True).first()
        if case is None or supervisor is None:
            raise CommandError("No such case or user.")
        try:
            moment = datetime.fromisoformat(counts_from)
        except ValueError as error:
            raise CommandError(str(error)) from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        try:
            correction = correct_closing(
                user=supervisor, case_id=case.pk, counts_from=moment, reason=reason
            )
        except ServiceError as error:
            details = [str(m) for ms in (error.fields or {}).values() for m in ms]
            raise CommandError(" ".join([str(error.message), *details])) from None
        self.stdout.write(self.style.SUCCESS(f"Correction {correction.pk} recorded."))
