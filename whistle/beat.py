"""celery beat with a leader: any number of beats may run, on one machine or several, and
only the one holding the database lease "celery-beat" (core.leases) sends the schedule.

Each beat renews or takes the lease before it sends anything; a beat that does not hold it
sends nothing and asks again about every second. A leader that dies (SIGKILL, its machine
gone) stops renewing, and a standby takes over once the lease runs out:
WHISTLE_BEAT_LEASE_SECONDS plus at most a second. A beat that cannot reach the database
counts itself no leader (it cannot renew, so another may have taken over). The new leader's
overdue entries are sent at once; every scheduled task is safe to run twice or overlapping
(docs/architecture.md, Timers).
"""

import contextlib
import logging
import time

from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

LEASE_NAME = "celery-beat"


class LeaderScheduler(PersistentScheduler):
    """A PersistentScheduler whose tick sends only while this beat holds the lease."""

    def __init__(self, *args, **kwargs):
        from core.leases import new_holder

        self.holder = new_holder()
        self.lease_seconds = settings.WHISTLE_BEAT_LEASE_SECONDS
        # The leader renews three times per lease, so one slow renewal does not lose it.
        self.renew_every = self.lease_seconds / 3
        # A standby asks this often, so it takes over at most this long after the lease ends.
        self.standby_every = min(1.0, self.lease_seconds / 4)
        self.leading = False
        self._renewed_at = 0.0  # time.monotonic() before the last renewal that held
        self._standby_reason = ""  # why it stands by, logged once per reason
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs) -> float:
        if not self._hold():
            return self.standby_every
        interval = super().tick(*args, **kwargs)
        # Wake up in time to renew, however far the next entry is.
        renew_in = self._renewed_at + self.renew_every - time.monotonic()
        return max(min(interval, renew_in), 0.0)

    def _hold(self) -> bool:
        """Whether this beat leads now; asks the database at most every `renew_every` while
        leading (the lease runs `lease_seconds` from the ask, so it still holds between)."""
        started = time.monotonic()
        if self.leading and started - self._renewed_at < self.renew_every:
            return True
        from core.leases import hold_lease

        try:
            held = hold_lease(name=LEASE_NAME, holder=self.holder, seconds=self.lease_seconds)
        except DatabaseError as error:
            # Fail safe: without the database this beat cannot know it still leads. Drop the
            # connection so that the next tick opens a new one.
            self._drop_connection()
            self._set_leading(False, reason=type(error).__name__, detail=f"database error: {error}")
            return False
        if held:
            self._renewed_at = started
        self._set_leading(held, reason="held", detail="another beat holds the lease")
        return held

    def _set_leading(self, leading: bool, *, reason: str = "", detail: str = "") -> None:
        """Log once when this beat takes the lead, and once when it loses it or stands by
        (again only when the reason changes, so a database down for an hour is one line)."""
        if leading and not self.leading:
            logger.warning("beat %s: took the lead; sending the schedule", self.holder)
            # Read every entry afresh: what fell due while standing by is sent now.
            self._heap = None
        elif not leading and (self.leading or self._standby_reason != reason):
            logger.warning("beat %s: standing by (%s)", self.holder, detail)
        self.leading = leading
        self._standby_reason = "" if leading else reason

    @staticmethod
    def _drop_connection() -> None:
        # A broken connection may fail to close; it is dropped either way.
        with contextlib.suppress(DatabaseError):
            connection.close()

    def close(self) -> None:
        """On a clean shutdown, hand the lease back at once: a standby need not wait it out."""
        try:
            super().close()
        finally:
            if self.leading:
                from core.leases import release_lease

                with contextlib.suppress(DatabaseError):  # else it runs out by itself
                    release_lease(name=LEASE_NAME, holder=self.holder)
                self.leading = False
