"""The sweep: fires the stage deadlines (cases.timers) that fell due, and sends the yellow
warnings of those about to.

The sweep takes due rows, and fires each exactly once by re-checking it under the case's row
lock, so several workers and overlapping sweeps can run at once. What a firing means for the
case is decided by cases.firing. Nothing waits in the broker: a broker that is down only
delays the next sweep.
"""

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from cases import batching, firing, notifications, trace
from cases.models import Case, Deadline
from checklists.models import Item
from teams.models import Region

logger = logging.getLogger(__name__)

# A sweep hands due deadlines to the workers in batches of this size.
FIRE_BATCH = 100
# A batch handed out and not begun within this time (lost with its worker) is handed out again.
CLAIM_SECONDS = 120
# A worker that begins a batch holds it this much longer at most: a batch of FIRE_BATCH firings
# takes a second or two, so what a worker killed mid-batch left is handed out again this soon.
FIRING_CLAIM_SECONDS = 15


def _due(*, now: datetime) -> QuerySet[Deadline]:
    """Due, pending deadlines, oldest first; reads the partial index only."""
    return Deadline.objects.filter(
        fired_at__isnull=True, met_at__isnull=True, paused_at__isnull=True, due_at__lte=now
    ).order_by("due_at", "id")


def overdue_summary(*, now: datetime, grace_seconds: float) -> tuple[int, datetime | None]:
    """How many deadlines are more than `grace_seconds` past due and not fired, and the due
    time of the oldest (the operations metrics, whistle.health); reads the partial index."""
    figures = (
        _due(now=now - timedelta(seconds=grace_seconds))
        .order_by()
        .aggregate(count=Count("id"), oldest=Min("due_at"))
    )
    return figures["count"], figures["oldest"]


def due_deadline_ids(*, now: datetime, limit: int) -> list[int]:
    """Ids of due, pending deadlines, oldest first."""
    return list(_due(now=now).values_list("id", flat=True)[:limit])


def claim_due_deadlines(*, now: datetime, limit: int) -> list[tuple[int, datetime]]:
    """Claim up to `limit` due deadlines that no live claim holds, oldest first, in one
    transaction (read them locked, then mark them): overlapping sweeps never hand out the same
    deadline twice while a worker may still be firing it, and a claim left by a dead worker
    lapses after CLAIM_SECONDS. Returns their ids with their cases' filing times."""
    with transaction.atomic():
        rows = list(
            _due(now=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .select_for_update(skip_locked=True)
            .values_list("id", "case_filed_at")[:limit]
        )
        if rows:
            ids, filed = _months(rows)
            Deadline.objects.by_ids(ids, filed=filed).update(
                claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
            )
    return rows


def _months(rows: list[tuple[int, datetime]]) -> tuple[list[int], set[datetime]]:
    """(ids, the set of their filing times) of (id, filing time) rows."""
    return [pk for pk, _filed in rows], {filed for _pk, filed in rows}


def fire_handed_out(
    *,
    deadline_ids: list[int],
    filed: Iterable[datetime] | None = None,
    now: datetime | None = None,
) -> int:
    """Fire a batch the sweep handed out (the workers' task): begin it, then fire it. `filed`:
    the filing times of its cases, which the sweep hands out with it, so that every statement
    reads and writes only those months (cases.partitions); without them (a batch queued by an
    older sweep) they are read first, by id across every month."""
    now = now or timezone.now()
    if filed is None:
        filed = (
            Deadline.objects.filter(pk__in=deadline_ids)
            .order_by()
            .values_list("case_filed_at", flat=True)
            .distinct()
        )
    filed = set(filed)
    begin_batch(deadline_ids=deadline_ids, now=now, filed=filed)
    return fire_deadlines(deadline_ids=deadline_ids, now=now, filed=filed)


def begin_batch(
    *, deadline_ids: list[int], now: datetime, filed: set[datetime] | None = None
) -> None:
    """Cut the claim of a batch a worker begins to FIRING_CLAIM_SECONDS (committed at once):
    the claim had to outlast the wait in the queue, but a batch whose worker dies mid-way is
    handed out again within seconds, not after CLAIM_SECONDS. A firing that overruns the cut
    claim is still safe: every firing is re-checked under its case's lock (fire_deadlines)."""
    Deadline.objects.by_ids(deadline_ids, filed=filed).filter(fired_at__isnull=True).update(
        claimed_until=now + timedelta(seconds=FIRING_CLAIM_SECONDS)
    )


def fire_deadline(*, deadline_id: int, now: datetime | None = None) -> bool:
    """Fire one deadline exactly once. Returns whether this call fired it."""
    return fire_deadlines(deadline_ids=[deadline_id], now=now) == 1


def fire_deadlines(
    *,
    deadline_ids: Iterable[int],
    now: datetime | None = None,
    filed: set[datetime] | None = None,
) -> int:
    """Fire a batch of deadlines, each exactly once. Returns how many this call fired.

    The batch reads its deadlines in one query, shares its reference reads and queued tasks
    (cases.batching), and fires in one transaction: its cases are locked in one statement
    (skipping any case someone is changing right now: the next sweep takes it), and each
    deadline is claimed with one conditional UPDATE under that lock, so one fired, met, paused
    or postponed meanwhile (also by an earlier firing of the batch) is left alone. If a firing
    fails, the batch is rolled back and fired again one deadline per transaction, so one broken
    case holds up nothing but itself. `filed`: the batch's filing times, when known, so its
    read opens only their months' partitions."""
    now = now or timezone.now()
    ids = list(deadline_ids)
    with batching.batch_scope():
        try:
            return _fire_together(deadline_ids=ids, now=now, filed=filed)
        except Exception:
            logger.exception("A batch of %s firings failed; firing them one at a time", len(ids))
        fired = 0
        for deadline_id in ids:
            try:
                fired += _fire_together(deadline_ids=[deadline_id], now=now, filed=filed)
            except Exception:
                # It stays due and is tried again by the next sweep; the error is in the log.
                logger.exception("Firing deadline %s failed", deadline_id)
        return fired


def _fire_together(
    *, deadline_ids: list[int], now: datetime, filed: set[datetime] | None = None
) -> int:
    deadlines = [
        deadline
        for deadline in Deadline.objects.by_ids(deadline_ids, filed=filed).order_by("due_at", "id")
        if not (deadline.fired_at or deadline.met_at or deadline.paused_at)
        and deadline.due_at <= now
    ]
    if not deadlines:
        return 0
    fired = 0
    # The batch's notices (and their deliveries, with one read of the recipients' alert
    # preferences) are stored in one insert at its end, inside its transaction.
    with transaction.atomic(), notifications.stored_together():
        cases = {
            case.pk: case
            for case in Case.objects.select_for_update(skip_locked=True)
            .filter(pk__in={deadline.case_id for deadline in deadlines})
            .order_by("pk")
        }
        deadlines = [deadline for deadline in deadlines if deadline.case_id in cases]
        # A firing changes its own case's clocks alone, so the deadlines of cases with one in
        # the batch are claimed together; a case with several has each claimed at its turn,
        # after the firings before it.
        per_case = Counter(deadline.case_id for deadline in deadlines)
        claimed = _claim([d for d in deadlines if per_case[d.case_id] == 1], now=now)
        with trace.last_links_read_together(cases.values()):
            for deadline in deadlines:
                if per_case[deadline.case_id] > 1:
                    claimed |= _claim([deadline], now=now)
                if deadline.pk in claimed:
                    _act(deadline, case=cases[deadline.case_id], now=now)
                    fired += 1
    return fired


def _claim(deadlines: list[Deadline], *, now: datetime) -> set[int]:
    """Mark fired, in one conditional UPDATE under their cases' locks, those of these deadlines
    still pending at the due time they were read with (one fired, met, paused or postponed
    meanwhile is left alone); returns their ids. It names their months' partitions alone
    (cases.partitions)."""
    if not deadlines:
        return set()
    adapt = connection.ops.adapt_datetimefield_value
    months = sorted({deadline.case_filed_at for deadline in deadlines})
    rows = [value for d in deadlines for value in (d.pk, adapt(d.due_at))]
    table = connection.ops.quote_name(Deadline._meta.db_table)
    sql = (
        f"UPDATE {table} SET fired_at = %s, claimed_until = NULL "  # noqa: S608
        f"WHERE case_filed_at IN ({', '.join(['%s'] * len(months))}) "
        f"AND (id, due_at) IN (VALUES {', '.join(['(%s, %s)'] * len(deadlines))}) "
        "AND fired_at IS NULL AND met_at IS NULL AND paused_at IS NULL RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(now), *map(adapt, months), *rows])
        return {pk for (pk,) in cursor.fetchall()}


def _act(deadline: Deadline, *, case: Case, now: datetime) -> None:
    """What a claimed deadline does to its locked case (cases.firing)."""
    deadline.fired_at = now
    deadline.claimed_until = None
    deadline.case = case
    _share_references(case)
    firing.act_on_deadline(case=case, deadline=deadline)


def _share_references(case: Case) -> None:
    """Give the case the batch's copies of its item and regions (read once per batch)."""

    def region(pk: int | None) -> Region | None:
        if pk is None:
            return None
        return batching.remember(("region", pk), lambda: Region.objects.get(pk=pk))

    case.item = batching.remember(("item", case.item_id), lambda: Item.objects.get(pk=case.item_id))
    case.town = region(case.town_id)
    case.city = region(case.city_id)
    village = region(case.village_id)
    if village is not None and village.parent_id == case.town_id:
        village.parent = case.town
    case.village = village


def warn_deadline(
    *, deadline_id: int, case_filed_at: datetime | None = None, now: datetime | None = None
) -> bool:
    """Turn a deadline's light yellow once: notify the people concerned. Given its case's
    filing time, it reads and writes that month's partition alone (cases.partitions)."""
    now = now or timezone.now()
    rows = Deadline.objects.filter(pk=deadline_id)
    if case_filed_at is not None:
        rows = rows.filter(case_filed_at=case_filed_at)
    with transaction.atomic():
        updated = rows.filter(
            warned_at__isnull=True,
            fired_at__isnull=True,
            met_at__isnull=True,
            paused_at__isnull=True,
            warn_at__lte=now,
        ).update(warned_at=now)
        if not updated:
            return False
        deadline = rows.select_related("case", "dispatch").get()
        firing.warn_on_deadline(deadline=deadline)
        return True


def warn_due(*, now: datetime, limit: int) -> int:
    """Send the yellow warnings that are due (a light turning yellow before its limit)."""
    warn = list(
        Deadline.objects.filter(
            warned_at__isnull=True,
            fired_at__isnull=True,
            met_at__isnull=True,
            paused_at__isnull=True,
            warn_at__lte=now,
            due_at__gt=now,
        )
        .order_by("warn_at")
        .values_list("id", "case_filed_at")[:limit]
    )
    with batching.batch_scope():
        return sum(
            warn_deadline(deadline_id=pk, case_filed_at=filed, now=now) for pk, filed in warn
        )


def sweep(*, now: datetime | None = None, batch: int = 1000, max_rounds: int = 100) -> int:
    """Fire every due deadline in this process (and send yellow warnings). Returns how many
    this call fired. Its cost follows the number of due rows, not the number of open cases."""
    now = now or timezone.now()
    fired = 0
    for _round in range(max_rounds):
        ids = due_deadline_ids(now=now, limit=batch)
        if not ids:
            break
        fired_now = 0
        for start in range(0, len(ids), FIRE_BATCH):
            fired_now += fire_deadlines(deadline_ids=ids[start : start + FIRE_BATCH], now=now)
        fired += fired_now
        if fired_now == 0:
            break  # what is left is locked by another sweep or by a user right now
    warn_due(now=now, limit=batch)
    return fired


def hand_out(
    *,
    send: Callable[[list[int], list[datetime]], None],
    now: datetime | None = None,
    limit: int = 20_000,
) -> int:
    """The beat's sweep: claim what is due and hand it to the workers, FIRE_BATCH deadlines a
    task with their cases' filing times, so every worker fires in parallel. A few due
    deadlines are fired here at once rather than queued. A batch the broker refuses is
    released and fired here. Returns how many deadlines were handed out or fired."""
    now = now or timezone.now()
    rows = claim_due_deadlines(now=now, limit=limit)
    done = 0
    if len(rows) <= FIRE_BATCH:
        ids, filed = _months(rows)
        done += fire_deadlines(deadline_ids=ids, now=now, filed=filed) if ids else 0
    else:
        for start in range(0, len(rows), FIRE_BATCH):
            ids, filed = _months(rows[start : start + FIRE_BATCH])
            try:
                send(ids, sorted(filed))
                done += len(ids)
            except Exception as error:
                logger.warning("Could not queue %s deadlines; firing here: %s", len(ids), error)
                Deadline.objects.by_ids(ids, filed=filed).update(claimed_until=None)
                done += fire_deadlines(deadline_ids=ids, now=now, filed=filed)
    warn_due(now=now, limit=1000)
    return done
