"""Named leases: at most one holder at a time, taken and kept by conditional UPDATEs.

The expiry is computed and compared by the database's clock (Now()), never the caller's, so
machines whose clocks disagree still agree on who holds a lease. One UPDATE decides: the
holder renews, anyone takes an expired lease, nobody else changes it. It works the same on
SQLite (one writer at a time) and PostgreSQL (the row lock, then the condition re-checked
on the row as the other writer left it). celery beat's leader (whistle.beat) uses it.
"""

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import F, Q
from django.db.models.functions import Now

from core.models import Lease

# The expiry a new row is created with: expired, so the UPDATE that follows decides.
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def new_holder() -> str:
    """A holder name no other process has: host, process id and a random part (a pid is
    reused after a restart, and two machines may share a host name)."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(6)}"


def hold_lease(*, name: str, holder: str, seconds: float) -> bool:
    """Take or renew the lease `name` for `seconds` from now (database time). Returns whether
    `holder` holds it now: True if it already did or the last holder's time ran out, False
    while another holder's lease runs."""
    if _take_or_renew(name=name, holder=holder, seconds=seconds):
        return True
    if Lease.objects.filter(name=name).exists():
        return False
    # The first take ever: create the row expired (a racing creator's row wins, no error),
    # then the same conditional UPDATE as always decides who holds it.
    Lease.objects.bulk_create(
        [Lease(name=name, holder="", expires_at=_LONG_AGO)], ignore_conflicts=True
    )
    return _take_or_renew(name=name, holder=holder, seconds=seconds)


@dataclass(frozen=True)
class LeaseState:
    held: bool
    seconds_left: float


def lease_state(*, name: str) -> LeaseState:
    """Whether anyone holds the lease `name` now, and for how much longer unless renewed
    (database time, as the lease itself); for the operations metrics (whistle.health)."""
    left = (
        Lease.objects.filter(name=name)
        .annotate(left=F("expires_at") - Now())
        .values_list("left", flat=True)
        .first()
    )
    seconds = left.total_seconds() if left is not None else 0.0
    return LeaseState(held=seconds > 0, seconds_left=max(seconds, 0.0))


def release_lease(*, name: str, holder: str) -> bool:
    """End `holder`'s lease at once (a clean shutdown), so a standby need not wait for it to
    run out. Returns whether `holder` held it."""
    return bool(
        Lease.objects.filter(name=name, holder=holder, expires_at__gt=Now()).update(
            expires_at=Now()
        )
    )


def _take_or_renew(*, name: str, holder: str, seconds: float) -> bool:
    return bool(
        Lease.objects.filter(Q(holder=holder) | Q(expires_at__lte=Now()), name=name).update(
            holder=holder, expires_at=Now() + timedelta(seconds=seconds)
        )
    )
