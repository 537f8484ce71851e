"""Stage deadlines: planned, started, met, paused, resumed and postponed by the case services,
copied onto the dispatches for the boards, shown as lights; fired by the sweep (cases.sweep).

A deadline is a row (case, stage, dispatch, due, warned, fired).
"""

import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import connection, models
from django.db.models import Exists, Min, OuterRef, Q, Subquery, Value, When
from django.db.models.lookups import Exact
from django.utils import timezone

from cases import batching, calendar
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
    Stage.PREFECTURE_CONSULTATION,
    Stage.VERIFICATION,
}


def _limit(*, item_id: int, stage: str) -> TimeLimit | None:
    limit = batching.remember(
        ("time_limit", item_id, stage), lambda: time_limit(item_id=item_id, stage=stage)
    )
    if limit is None and stage == Stage.PREFECTURE_CONSULTATION:
        # An item that names no limit of its own for the prefecture (four levels) gives it the
        # city consultation's: the checklists predate that level.
        return _limit(item_id=item_id, stage=Stage.CITY_CONSULTATION)
    return limit


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
        case_filed_at=case.filed_at,
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
    return Deadline.objects.of_case(case).filter(fired_at__isnull=True, met_at__isnull=True)


def meet_deadlines(
    *, case: Case, stages: Iterable[str] | None = None, dispatch: Dispatch | None = None
) -> int:
    """Stop the clocks of stages that are done, so their timers have nothing left to do."""
    rows = Deadline.objects.of_case(case).filter(met_at__isnull=True, fired_at__isnull=True)
    if stages is not None:
        rows = rows.filter(stage__in=list(stages))
    if dispatch is not None:
        rows = rows.filter(dispatch=dispatch)
    return rows.update(met_at=timezone.now())


def pause_deadlines(*, case: Case) -> int:
    """Suspension (挂账): keep the time left on every running clock and stop it."""
    now = timezone.now()
    count = 0
    for deadline in Deadline.objects.of_case(case).filter(
        fired_at__isnull=True, met_at__isnull=True, paused_at__isnull=True
    ):
        working = deadline.unit in WORKING_UNITS
        deadline.remaining_seconds = calendar.seconds_between(
            start=now, end=deadline.due_at, working=working
        )
        deadline.paused_at = now
        _save(deadline, "remaining_seconds", "paused_at")
        count += 1
    return count


def resume_deadlines(*, case: Case) -> int:
    """On resume the time left is counted again from now, in working time where it was."""
    now = timezone.now()
    count = 0
    for deadline in Deadline.objects.of_case(case).filter(paused_at__isnull=False):
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
        _save(deadline, "due_at", "warn_at", "paused_at", "remaining_seconds")
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
        _save(deadline, "remaining_seconds", "postponed")
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
    _save(deadline, "due_at", "warn_at", "postponed", "warned_at")
    _sync_dispatch(deadline)
    return deadline


def _save(deadline: Deadline, *fields: str) -> None:
    """Write these fields of one deadline, naming its partition (cases.partitions): a save()
    by id alone would look for it in every month's."""
    Deadline.objects.filter(pk=deadline.pk, case_filed_at=deadline.case_filed_at).update(
        **{name: getattr(deadline, name) for name in fields}
    )


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


def running_since() -> datetime | None:
    """The filing time of the oldest open case; None when no case is open. Only an open case's
    clocks run, so a read of running clocks across cases (the board, the red list) starts its
    months there: on PostgreSQL the older months' partitions are left out when the statement
    is planned, which a condition naming each row's own month cannot do (cases.partitions).
    One read of the partial index `case_open_filed`."""
    return Case.objects.filter(status__in=OPEN_STATUSES).aggregate(first=Min("filed_at"))["first"]


# The id of the clock a dispatch shows: while it waits, its report-in clock; once reported in,
# a task clock of its own (a consultation decision) or else the case's running clock (not the
# committee's review of a suspended case: the unit's clocks stand still); none once resolved or
# cancelled. Each branch is the latest-started clock not yet met, read from a partial index of
# running clocks in the case's filing month's partition alone: `{filed}` is the case's filing
# time (cases.partitions). Parameters: current_clock_params.
CURRENT_CLOCK_SQL = """
CASE cases_dispatch.state
  WHEN %s THEN (
    SELECT k.id FROM cases_deadline k
    WHERE k.dispatch_id = cases_dispatch.id AND k.case_filed_at = {filed}
      AND k.met_at IS NULL AND k.stage = %s
    ORDER BY k.started_at DESC, k.id DESC LIMIT 1)
  WHEN %s THEN COALESCE(
    (SELECT k.id FROM cases_deadline k
     WHERE k.dispatch_id = cases_dispatch.id AND k.case_filed_at = {filed}
       AND k.met_at IS NULL AND k.stage <> %s
     ORDER BY k.started_at DESC, k.id DESC LIMIT 1),
    (SELECT k.id FROM cases_deadline k
     WHERE k.case_id = cases_dispatch.case_id AND k.case_filed_at = {filed}
       AND k.dispatch_id IS NULL AND k.met_at IS NULL AND k.stage <> %s
     ORDER BY k.started_at DESC, k.id DESC LIMIT 1))
END"""


def current_clock_sql(*, filed: str) -> str:
    """CURRENT_CLOCK_SQL with the case's filing time taken from `filed`: a column of the outer
    query (PostgreSQL then opens one partition a row) or `%s` (one partition, chosen when the
    statement is planned)."""
    return CURRENT_CLOCK_SQL.replace("{filed}", filed)


def current_clock_params(*, filed: datetime | str | None = None) -> list:
    """The values of current_clock_sql, in order; `filed` where it was given as `%s`."""
    at = [] if filed is None else [filed]
    return [
        Dispatch.State.WAITING.value,
        *at,
        Stage.REPORT_IN.value,
        Dispatch.State.REPORTED.value,
        *at,
        Stage.REPORT_IN.value,
        *at,
        Stage.SUSPENSION_REVIEW.value,
    ]


def sync_dispatch_board(*, case: Case | None = None) -> int:
    """Copy onto each dispatch of the case what the boards read: whether it is on them
    (waiting or reported in, on an open case), the clock it shows and its times, in one
    statement. Every service that changes a case's status, clocks or dispatches calls this
    last, under the case's lock. Without a case: every active dispatch (after a migration or a
    bulk load). Returns how many dispatches it wrote."""
    active = list(Dispatch.ACTIVE_STATES)
    active_states = ", ".join(["%s"] * len(active))
    open_statuses = ", ".join(["%s"] * len(OPEN_STATUSES))
    if case is None:
        where, params = f"cases_dispatch.state IN ({active_states})", active
        filed, filed_params = "owner.filed_at", []
        clock_params = current_clock_params()
    else:
        where, params = "cases_dispatch.case_id = %s", [case.pk]
        # As the database stores it (SQLite keeps a text in UTC).
        filed_at = connection.ops.adapt_datetimefield_value(case.filed_at)
        filed, filed_params = "%s", [filed_at]
        clock_params = current_clock_params(filed=filed_at)
    clock = current_clock_sql(filed=filed)
    # Constant SQL: only the chosen WHERE clause varies, and every value is bound.
    sql = f"""
        UPDATE cases_dispatch
        SET (clock_deadline_id, clock_due_at, clock_warn_at, clock_paused_at) = (
                SELECT clock.id, clock.due_at, clock.warn_at, clock.paused_at
                FROM cases_deadline clock
                WHERE clock.case_filed_at = {filed} AND clock.id = ({clock})),
            on_board = (
                cases_dispatch.state IN ({active_states})
                AND owner.status IN ({open_statuses}))
        FROM cases_case owner
        WHERE owner.id = cases_dispatch.case_id AND {where}"""  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*filed_params, *clock_params, *active, *OPEN_STATUSES, *params])
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


# Current or past: a limit that fired (or was left unmet) before the case moved on is past, not
# a red light of now. A clock is current while nothing later took its place in its own scope
# (the case's own clocks, or one dispatch's) and its dispatch is still in the state it times:
# waiting for the report-in clock, returned for the committee's re-dispatch clock, reported in
# for a task clock. A suspended case's review clock never takes the place of the clock it
# paused.

DISPATCH_STATE_OF_STAGE = {
    Stage.REPORT_IN.value: Dispatch.State.WAITING.value,
    Stage.REDISPATCH.value: Dispatch.State.RETURNED.value,
}


def is_current_clock(deadline: Deadline, *, clocks: Iterable[Deadline]) -> bool:
    """Whether `deadline` is still a clock of now, among `clocks` (all the case's clocks, its
    dispatch loaded): the case page shows the others as past."""
    if deadline.met_at is not None:
        return False
    if deadline.dispatch_id is not None:
        wanted = DISPATCH_STATE_OF_STAGE.get(deadline.stage, Dispatch.State.REPORTED.value)
        if deadline.dispatch.state != wanted:
            return False
    return not any(
        other.dispatch_id == deadline.dispatch_id
        and other.stage != Stage.SUSPENSION_REVIEW
        and other.started_at > deadline.started_at
        for other in clocks
    )


def current_clock_condition(*, since: datetime | None = None) -> Q:
    """is_current_clock as a condition on a Deadline queryset, for lists over many cases;
    `since`: no clock of a case filed before it is asked about (running_since)."""
    later = Deadline.objects.filter(
        case_id=OuterRef("case_id"),
        case_filed_at=OuterRef("case_filed_at"),  # its partition alone (cases.partitions)
        started_at__gt=OuterRef("started_at"),
    ).exclude(stage=Stage.SUSPENSION_REVIEW)
    if since is not None:
        later = later.filter(case_filed_at__gte=since)
    own_case = Q(dispatch__isnull=True) & ~Exists(later.filter(dispatch__isnull=True))
    later_on_dispatch = ~Exists(later.filter(dispatch_id=OuterRef("dispatch_id")))
    on_dispatch = Q(dispatch__isnull=False) & later_on_dispatch

    # The state its dispatch must be in for the clock to run, its dispatch's state read by key
    # for each clock read: as EXISTS by state, PostgreSQL hashed every dispatch of the history
    # in that state before the first clock (a sequential scan of the dispatches, 1.1 s of the
    # red list at 20,000,000 cases); a scalar subquery is never hashed.
    dispatch_state = Subquery(
        Dispatch.objects.filter(pk=OuterRef("dispatch_id")).values("state")[:1]
    )
    wanted = models.Case(
        *(When(stage=stage, then=Value(state)) for stage, state in DISPATCH_STATE_OF_STAGE.items()),
        default=Value(Dispatch.State.REPORTED.value),
    )
    by_state = Exact(dispatch_state, wanted)
    return Q(met_at__isnull=True) & (own_case | (on_dispatch & by_state))
