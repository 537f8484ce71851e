"""Stage deadlines: started and met by the case services, fired by the periodic sweep.

A deadline is a row (case, stage, dispatch, due, warned, fired). The sweep takes due rows, and
fires each exactly once by re-checking it under the case's row lock, so several workers and
overlapping sweeps can run at once. Nothing waits in the broker: a broker that is down only
delays the next sweep.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import IntegerField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from cases import batching, calendar, notifications
from cases.models import OPEN_STATUSES, Case, Deadline, Dispatch
from checklists.models import Stage, TimeLimit, TimeUnit
from checklists.selectors import time_limit

logger = logging.getLogger(__name__)

WORKING_UNITS = {TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS}

# The stages whose time runs on the case as a whole (not per dispatch).
CASE_STAGES = {
    Stage.SCREENING,
    Stage.VILLAGE_HANDLING,
    Stage.HANDLING,
    Stage.TOWN_CONSULTATION,
    Stage.CITY_CONSULTATION,
    Stage.VERIFICATION,
}


def _limit(*, item_id: int, stage: str) -> TimeLimit | None:
    return batching.remember(
        ("time_limit", item_id, stage), lambda: time_limit(item_id=item_id, stage=stage)
    )


def plan_deadline(
    *,
    case: Case,
    stage: str,
    dispatch: Dispatch | None = None,
    start: datetime | None = None,
    due: datetime | None = None,
) -> Deadline | None:
    """The unsaved clock of a stage from the item's time limit (or an explicit due time), for
    a caller that needs its due time before the rows it belongs to exist."""
    start = start or timezone.now()
    limit = _limit(item_id=case.item_id, stage=stage)
    if limit is None and due is None:
        logger.warning("No time limit for item %s stage %s", case.item_id, stage)
        return None
    amount = limit.amount if limit else 1
    unit = limit.unit if limit else TimeUnit.NATURAL_MINUTES
    yellow = limit.yellow_at_percent if limit else 80
    working = unit in WORKING_UNITS
    if due is None:
        due = calendar.add_duration(start=start, amount=amount, unit=unit)
    total = calendar.seconds_between(start=start, end=due, working=working)
    warn_at = calendar.add_seconds(start=start, seconds=total * yellow // 100, working=working)
    return Deadline(
        case=case,
        dispatch=dispatch,
        stage=stage,
        amount=amount,
        unit=unit,
        yellow_at_percent=yellow,
        started_at=start,
        warn_at=warn_at,
        due_at=due,
    )


def start_deadline(
    *,
    case: Case,
    stage: str,
    dispatch: Dispatch | None = None,
    start: datetime | None = None,
    due: datetime | None = None,
) -> Deadline | None:
    """Start the clock of a stage from the item's time limit (or an explicit due time)."""
    deadline = plan_deadline(case=case, stage=stage, dispatch=dispatch, start=start, due=due)
    if deadline is not None:
        deadline.save(force_insert=True)
    return deadline


def pending_deadlines(*, case: Case) -> "Iterable[Deadline]":
    return case.deadlines.filter(fired_at__isnull=True, met_at__isnull=True)


def meet_deadlines(
    *, case: Case, stages: Iterable[str] | None = None, dispatch: Dispatch | None = None
) -> int:
    """Stop the clocks of stages that are done, so their timers have nothing left to do."""
    rows = case.deadlines.filter(met_at__isnull=True, fired_at__isnull=True)
    if stages is not None:
        rows = rows.filter(stage__in=list(stages))
    if dispatch is not None:
        rows = rows.filter(dispatch=dispatch)
    return rows.update(met_at=timezone.now())


def pause_deadlines(*, case: Case) -> int:
    """Suspension (挂账): keep the time left on every running clock and stop it."""
    now = timezone.now()
    count = 0
    for deadline in case.deadlines.filter(
        fired_at__isnull=True, met_at__isnull=True, paused_at__isnull=True
    ):
        working = deadline.unit in WORKING_UNITS
        deadline.remaining_seconds = calendar.seconds_between(
            start=now, end=deadline.due_at, working=working
        )
        deadline.paused_at = now
        deadline.save(update_fields=["remaining_seconds", "paused_at"])
        count += 1
    return count


def resume_deadlines(*, case: Case) -> int:
    """On resume the time left is counted again from now, in working time where it was."""
    now = timezone.now()
    count = 0
    for deadline in case.deadlines.filter(paused_at__isnull=False):
        working = deadline.unit in WORKING_UNITS
        remaining = deadline.remaining_seconds or 0
        left_to_warn = max(
            0,
            calendar.seconds_between(
                start=deadline.paused_at, end=deadline.warn_at, working=working
            ),
        )
        deadline.due_at = calendar.add_seconds(start=now, seconds=remaining, working=working)
        deadline.warn_at = calendar.add_seconds(start=now, seconds=left_to_warn, working=working)
        deadline.paused_at = None
        deadline.remaining_seconds = None
        deadline.save(update_fields=["due_at", "warn_at", "paused_at", "remaining_seconds"])
        _sync_dispatch(deadline)
        count += 1
    return count


def postpone_deadline(*, deadline: Deadline, amount: int, unit: str) -> Deadline:
    """Move a deadline once by the approved extra time; the yellow light moves with it (the
    same share of the longer limit), so it is not yellow, nor warned again, at once."""
    if deadline.paused_at is not None:
        # Suspended since it was asked: the extra time joins what is left, counted on resume.
        extra = calendar.duration_seconds(amount=amount, unit=unit)
        deadline.remaining_seconds = (deadline.remaining_seconds or 0) + extra
        deadline.postponed = True
        deadline.save(update_fields=["remaining_seconds", "postponed"])
        return deadline
    deadline.due_at = calendar.add_duration(start=deadline.due_at, amount=amount, unit=unit)
    working = deadline.unit in WORKING_UNITS
    total = calendar.seconds_between(
        start=deadline.started_at, end=deadline.due_at, working=working
    )
    deadline.warn_at = calendar.add_seconds(
        start=deadline.started_at,
        seconds=total * deadline.yellow_at_percent // 100,
        working=working,
    )
    if deadline.warn_at > timezone.now():
        deadline.warned_at = None
    deadline.postponed = True
    deadline.save(update_fields=["due_at", "warn_at", "postponed", "warned_at"])
    _sync_dispatch(deadline)
    return deadline


def _sync_dispatch(deadline: Deadline) -> None:
    """Keep the dispatch's copy of its limits (report-in due, task due) with its clock, so a
    report-in after a postponement or a suspension is not judged by the old limit."""
    if deadline.dispatch_id is None:
        return
    if deadline.stage == Stage.REPORT_IN:
        Dispatch.objects.filter(pk=deadline.dispatch_id).update(report_in_due=deadline.due_at)
    elif deadline.stage == Stage.HANDLING:
        Dispatch.objects.filter(pk=deadline.dispatch_id, due_at__isnull=False).update(
            due_at=deadline.due_at
        )


# The clock each dispatch shows on the board.

# The id of the clock a dispatch shows: while it waits, its report-in clock; once reported in,
# a task clock of its own (a consultation decision) or else the case's running clock; none once
# resolved or cancelled. Each branch is the latest-started clock not yet met, read from a
# partial index of running clocks. Parameters: CURRENT_CLOCK_PARAMS.
CURRENT_CLOCK_SQL = """
CASE cases_dispatch.state
  WHEN %s THEN (
    SELECT k.id FROM cases_deadline k
    WHERE k.dispatch_id = cases_dispatch.id AND k.met_at IS NULL AND k.stage = %s
    ORDER BY k.started_at DESC, k.id DESC LIMIT 1)
  WHEN %s THEN COALESCE(
    (SELECT k.id FROM cases_deadline k
     WHERE k.dispatch_id = cases_dispatch.id AND k.met_at IS NULL AND k.stage <> %s
     ORDER BY k.started_at DESC, k.id DESC LIMIT 1),
    (SELECT k.id FROM cases_deadline k
     WHERE k.case_id = cases_dispatch.case_id AND k.dispatch_id IS NULL AND k.met_at IS NULL
     ORDER BY k.started_at DESC, k.id DESC LIMIT 1))
END"""
CURRENT_CLOCK_PARAMS = (
    Dispatch.State.WAITING.value,
    Stage.REPORT_IN.value,
    Dispatch.State.REPORTED.value,
    Stage.REPORT_IN.value,
)


def current_clock() -> RawSQL:
    """CURRENT_CLOCK_SQL as an annotation of a dispatch queryset (constant SQL, values bound)."""
    return RawSQL(  # noqa: S611
        CURRENT_CLOCK_SQL, CURRENT_CLOCK_PARAMS, output_field=IntegerField()
    )


def sync_dispatch_board(*, case: Case | None = None) -> int:
    """Copy onto each dispatch of the case what the boards read: whether it is on them
    (waiting or reported in, on an open case) and the times of the clock it shows, in one
    statement. Every service that changes a case's status, clocks or dispatches calls this
    last, under the case's lock. Without a case: every active dispatch (after a migration or a
    bulk load). Returns how many dispatches it wrote."""
    active = list(Dispatch.ACTIVE_STATES)
    active_states = ", ".join(["%s"] * len(active))
    if case is None:
        where, params = f"cases_dispatch.state IN ({active_states})", active
    else:
        where, params = "cases_dispatch.case_id = %s", [case.pk]
    open_statuses = ", ".join(["%s"] * len(OPEN_STATUSES))
    # Constant SQL: only the chosen WHERE clause varies, and every value is bound.
    sql = f"""
        UPDATE cases_dispatch
        SET (clock_due_at, clock_warn_at, clock_paused_at) = (
                SELECT clock.due_at, clock.warn_at, clock.paused_at FROM cases_deadline clock
                WHERE clock.id = ({CURRENT_CLOCK_SQL})),
            on_board = (
                cases_dispatch.state IN ({active_states}) AND EXISTS (
                    SELECT 1 FROM cases_case c
                    WHERE c.id = cases_dispatch.case_id AND c.status IN ({open_statuses})))
        WHERE {where}"""  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*CURRENT_CLOCK_PARAMS, *active, *OPEN_STATUSES, *params])
        return cursor.rowcount


# Lights: green below the yellow share of a limit, yellow from it, red when overdue.

GREEN, YELLOW, RED = "green", "yellow", "red"


def light(deadline: Deadline, *, now: datetime | None = None) -> str:
    if deadline.met_at is not None:
        return RED if deadline.met_at > deadline.due_at else GREEN
    now = now or timezone.now()
    if deadline.paused_at is not None:
        now = deadline.paused_at
    if now >= deadline.due_at:
        return RED
    if now >= deadline.warn_at:
        return YELLOW
    return GREEN


def time_left_seconds(deadline: Deadline, *, now: datetime | None = None) -> int:
    """Time left before the deadline, in the limit's own (working or natural) time; negative
    when overdue."""
    now = now or timezone.now()
    if deadline.paused_at is not None:
        return deadline.remaining_seconds or 0
    working = deadline.unit in WORKING_UNITS
    if now <= deadline.due_at:
        return calendar.seconds_between(start=now, end=deadline.due_at, working=working)
    return -calendar.seconds_between(start=deadline.due_at, end=now, working=working)


# The sweep.

# A sweep hands due deadlines to the workers in batches of this size.
FIRE_BATCH = 100
# A batch handed out and not fired within this time (its worker died) is handed out again.
CLAIM_SECONDS = 120


def _due(*, now: datetime) -> QuerySet[Deadline]:
    """Due, pending deadlines, oldest first; reads the partial index only."""
    return Deadline.objects.filter(
        fired_at__isnull=True, met_at__isnull=True, paused_at__isnull=True, due_at__lte=now
    ).order_by("due_at", "id")


def due_deadline_ids(*, now: datetime, limit: int) -> list[int]:
    """Ids of due, pending deadlines, oldest first."""
    return list(_due(now=now).values_list("id", flat=True)[:limit])


def claim_due_deadlines(*, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` due deadlines that no live claim holds, oldest first, in one
    transaction (read them locked, then mark them): overlapping sweeps never hand out the same
    deadline twice while a worker may still be firing it, and a claim left by a dead worker
    lapses after CLAIM_SECONDS."""
    with transaction.atomic():
        ids = list(
            _due(now=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            Deadline.objects.filter(pk__in=ids).update(
                claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
            )
    return ids


def fire_deadline(*, deadline_id: int, now: datetime | None = None) -> bool:
    """Fire one deadline exactly once. Returns whether this call fired it."""
    return fire_deadlines(deadline_ids=[deadline_id], now=now) == 1


def fire_deadlines(*, deadline_ids: Iterable[int], now: datetime | None = None) -> int:
    """Fire a batch of deadlines, each exactly once. Returns how many this call fired.

    The batch reads its deadlines in one query, shares its reference reads and queued tasks
    (cases.batching), and fires in one transaction: its cases are locked in one statement
    (skipping any case someone is changing right now: the next sweep takes it), and each
    deadline is claimed with one conditional UPDATE under that lock, so one fired, met, paused
    or postponed meanwhile (also by an earlier firing of the batch) is left alone. If a firing
    fails, the batch is rolled back and fired again one deadline per transaction, so one broken
    case holds up nothing but itself."""
    now = now or timezone.now()
    ids = list(deadline_ids)
    with batching.batch_scope():
        try:
            return _fire_together(deadline_ids=ids, now=now)
        except Exception:
            logger.exception("A batch of %s firings failed; firing them one at a time", len(ids))
        fired = 0
        for deadline_id in ids:
            try:
                fired += _fire_together(deadline_ids=[deadline_id], now=now)
            except Exception:
                # It stays due and is tried again by the next sweep; the error is in the log.
                logger.exception("Firing deadline %s failed", deadline_id)
        return fired


def _fire_together(*, deadline_ids: list[int], now: datetime) -> int:
    from cases import firing

    deadlines = [
        deadline
        for deadline in Deadline.objects.filter(pk__in=deadline_ids).order_by("due_at", "id")
        if not (deadline.fired_at or deadline.met_at or deadline.paused_at)
        and deadline.due_at <= now
    ]
    if not deadlines:
        return 0
    fired = 0
    with transaction.atomic():
        cases = {
            case.pk: case
            for case in Case.objects.select_for_update(skip_locked=True)
            .filter(pk__in={deadline.case_id for deadline in deadlines})
            .order_by("pk")
        }
        for deadline in deadlines:
            case = cases.get(deadline.case_id)
            if case is None:
                continue
            claimed = Deadline.objects.filter(
                pk=deadline.pk,
                fired_at__isnull=True,
                met_at__isnull=True,
                paused_at__isnull=True,
                due_at=deadline.due_at,
            ).update(fired_at=now, claimed_until=None)
            if not claimed:
                continue
            deadline.fired_at = now
            deadline.claimed_until = None
            deadline.case = case
            _share_references(case)
            with notifications.stored_together():
                firing.act_on_deadline(case=case, deadline=deadline)
            fired += 1
    return fired


def _share_references(case: Case) -> None:
    """Give the case the batch's copies of its item and regions (read once per batch)."""
    from checklists.models import Item
    from teams.models import Region

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


def warn_deadline(*, deadline_id: int, now: datetime | None = None) -> bool:
    """Turn a deadline's light yellow once: notify the people concerned."""
    from cases import firing

    now = now or timezone.now()
    with transaction.atomic():
        updated = Deadline.objects.filter(
            pk=deadline_id,
            warned_at__isnull=True,
            fired_at__isnull=True,
            met_at__isnull=True,
            paused_at__isnull=True,
            warn_at__lte=now,
        ).update(warned_at=now)
        if not updated:
            return False
        deadline = Deadline.objects.select_related("case", "dispatch").get(pk=deadline_id)
        firing.warn_on_deadline(deadline=deadline)
        return True


def warn_due(*, now: datetime, limit: int) -> int:
    """Send the yellow warnings that are due (a light turning yellow before its limit)."""
    warn_ids = list(
        Deadline.objects.filter(
            warned_at__isnull=True,
            fired_at__isnull=True,
            met_at__isnull=True,
            paused_at__isnull=True,
            warn_at__lte=now,
            due_at__gt=now,
        )
        .order_by("warn_at")
        .values_list("id", flat=True)[:limit]
    )
    with batching.batch_scope():
        return sum(warn_deadline(deadline_id=pk, now=now) for pk in warn_ids)


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
    send: Callable[[list[int]], None],
    now: datetime | None = None,
    limit: int = 20_000,
) -> int:
    """The beat's sweep: claim what is due and hand it to the workers, FIRE_BATCH deadlines a
    task, so every worker fires in parallel. A few due deadlines are fired here at once rather
    than queued. A batch the broker refuses is released and fired here. Returns how many
    deadlines were handed out or fired."""
    now = now or timezone.now()
    ids = claim_due_deadlines(now=now, limit=limit)
    done = 0
    if len(ids) <= FIRE_BATCH:
        done += fire_deadlines(deadline_ids=ids, now=now) if ids else 0
    else:
        for start in range(0, len(ids), FIRE_BATCH):
            chunk = ids[start : start + FIRE_BATCH]
            try:
                send(chunk)
                done += len(chunk)
            except Exception as error:
                logger.warning("Could not queue %s deadlines; firing here: %s", len(chunk), error)
                Deadline.objects.filter(pk__in=chunk).update(claimed_until=None)
                done += fire_deadlines(deadline_ids=chunk, now=now)
    warn_due(now=now, limit=1000)
    return done
