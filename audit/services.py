"""Writes of the access audit trail: one INSERT per access, and the retention purge."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone

from audit.models import FAILURES, MINIMUM_RETENTION_DAYS, AccessKind, AccessRecord, Outcome
from core.clientaddr import client_address


def _clip(value: str | None, field: str) -> str:
    limit = AccessRecord._meta.get_field(field).max_length
    return (value or "")[:limit]


def record_access(
    *,
    request: HttpRequest | None,
    kind: AccessKind | str,
    user: AbstractBaseUser | None = None,
    username: str = "",
    case_number: str = "",
    target: str | None = None,
    detail: str = "",
    outcome: Outcome | str | None = None,
) -> AccessRecord:
    """Record one access: one INSERT, in the caller's transaction (autocommit in a request).

    The user is the request's signed-in user unless given; `username` is kept as typed when
    there is no account (a failed sign-in). The address is core.clientaddr's, the target the
    request's path with its query unless given. The outcome follows from the kind."""
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        if candidate is not None and candidate.is_authenticated:
            user = candidate
    if user is not None and not username:
        username = user.get_username()
    if target is None:
        target = request.get_full_path() if request is not None else ""
    if outcome is None:
        outcome = Outcome.FAILURE if kind in FAILURES else Outcome.SUCCESS
    return AccessRecord.objects.create(
        user=user,
        username=_clip(username, "username"),
        address=_clip(client_address(request) if request is not None else "", "address"),
        kind=str(kind),
        outcome=str(outcome),
        case_number=_clip(case_number, "case_number"),
        target=_clip(target, "target"),
        detail=_clip(detail, "detail"),
    )


def retention_days() -> int:
    """WHISTLE_AUDIT_RETENTION_DAYS, never below the legal floor (audit.checks warns)."""
    return max(int(settings.WHISTLE_AUDIT_RETENTION_DAYS), MINIMUM_RETENTION_DAYS)


def purge_access_records(*, now: datetime | None = None) -> int:
    """Delete the records older than the retention; the number deleted.

    The only DELETE the database allows on the trail, and only of rows older than
    MINIMUM_RETENTION_DAYS: a younger row makes the trigger refuse the whole statement."""
    cutoff = (now or timezone.now()) - timedelta(days=retention_days())
    deleted, _ = AccessRecord.objects.filter(at__lt=cutoff).delete()
    return deleted
