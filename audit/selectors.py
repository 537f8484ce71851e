"""Reads of the access audit trail: who may read it, and a search."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AccessRecord
from audit.roles import AUDITOR_ROLE


def may_audit(*, user: AbstractBaseUser) -> bool:
    """An active user holding the auditor role (teams.Role.AUDITOR) somewhere. Administrators
    do not read the trail here: the auditor is a separate duty (三权分立)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.memberships.filter(role=AUDITOR_ROLE).exists()


@dataclass(frozen=True)
class AuditFilters:
    username: str = ""
    kind: str = ""
    outcome: str = ""
    case_number: str = ""
    address: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def search_records(*, filters: AuditFilters) -> QuerySet[AccessRecord]:
    """The records matching every given filter, newest first. Dates are local days, both ends
    included; the username, case number and address match exactly, so each is an index lookup."""
    records = AccessRecord.objects.all()
    if filters.username:
        records = records.filter(username=filters.username)
    if filters.kind:
        records = records.filter(kind=filters.kind)
    if filters.outcome:
        records = records.filter(outcome=filters.outcome)
    if filters.case_number:
        records = records.filter(case_number=filters.case_number)
    if filters.address:
        records = records.filter(address=filters.address)
    if filters.date_from:
        records = records.filter(at__gte=_start_of(filters.date_from))
    if filters.date_to:
        records = records.filter(at__lt=_start_of(filters.date_to + timedelta(days=1)))
    return records.order_by("-at", "-pk")
