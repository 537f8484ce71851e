"""Replaying a period's history under a scenario's rules (docs/architecture.md, The policy lab).

What people did stays as it happened: every case's facts start as a copy of its live facts
(assessment.facts, computed from the event log), and the clocks keep the moments their stages
really started and ended (Deadline.started_at, met_at). What the rules decide is decided again:
each clock whose rule the scenario changes gets a new due time

    due' = start + the scenario's limit (its units, its calendar) + what was added on top
           of the limit in force (a postponement, the time a suspension stopped the clock)

and is late if its stage ended after due', or never ended and due' has passed (its timer would
have fired at due'). What was added is counted in the clock's own time (working seconds for a
working-time clock, laid again on the scenario's calendar). A clock stopped by a suspension
and not running since is late only if due' came before the suspension. A timer that fired
leaves its row without an end: a dispatch's report-in clock ends at its report-in; a stage
that goes on after its timer (a re-dispatch, the city's or the prefecture's consultation, the
verification) ends at the first later event whose step meets it (the workflow's
declarations); a timer that sent the case up (screening, village handling, the town's
handling and consultation, and the city's consultation where the prefecture's committee is on
the escalation chain, four levels: `Chain`) changed what followed, so its stage counts as
never ended. A consultation's task (a dispatch's handling clock) keeps the due time the
committee set: no limit gives it. A clock whose rule is unchanged keeps its live outcome
exactly, so replaying the rules in force reproduces the live facts, indicators and rankings;
the clocks are counted by the database, and only the cases with a clock whose rule changed
are read and judged again.

From the replayed clocks follow, with the definitions of assessment.facts: a case's overdue,
first limit passed, limits passed, closed on time and parked in time; a dispatch's report-in
due, late and reported on time, its task's due time and overdue. A timer that sends a case up
(screening and village handling: to the town; the town's handling: a consultation; the town's
consultation: to the city; the city's, on four levels with the prefecture's committee on the
chain: to the prefecture) that the scenario fires before its stage really ended means the
case "would have escalated" then: it is counted as whistled or escalated from that moment
(ReplayCaseFact.would_escalate_at), and the report counts those cases. When the scenario
changes the calendar, handling times in working hours are counted again on it (from the
filing to the handling's real end).
"""

import io
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from assessment.facts import LATE_STAGES, missed, parked_in_time
from assessment.models import CaseFact, DispatchFact
from assessment.periods import Period
from cases import calendar
from cases.models import Case, Deadline, Event, Level
from checklists.models import Stage
from policylab.models import Replay, ReplayCaseFact, ReplayDispatchFact
from policylab.rules import WORKING_UNITS, Rules
from policylab.worktime import WorkTime
from teams.levels import CITY, PREFECTURE, on_chain
from teams.models import Region

logger = logging.getLogger(__name__)

CHUNK = 10_000  # cases per transaction (and per progress report)
REGION_COLUMNS = {
    Region.Level.CITY: "city_id",
    Region.Level.TOWN: "town_id",
    Region.Level.VILLAGE: "village_id",
}
# Timers that send a case up when they fire (cases.firing), and where to.
ESCALATING = {
    Stage.SCREENING: "town",
    Stage.VILLAGE_HANDLING: "town",
    Stage.HANDLING: "town_consultation",
    Stage.TOWN_CONSULTATION: "city",
}
# Timers that only record that the limit passed: the stage goes on until someone ends it (the
# prefecture's consultation, four levels, is the last step of the chain where it is on it).
CONTINUING = frozenset(
    {
        Stage.REDISPATCH,
        Stage.CITY_CONSULTATION,
        Stage.PREFECTURE_CONSULTATION,
        Stage.VERIFICATION,
    }
)
LEVEL_ORDER = {Level.VILLAGE: 0, Level.TOWN: 1, Level.CITY: 2, Level.PREFECTURE: 3}
# The level a case sent up by a timer reaches at least (a town consultation keeps its level),
# and the targets that make it escalated: to the city, or on to the prefecture (four levels).
TARGET_LEVELS = {"town": Level.TOWN, "city": Level.CITY, "prefecture": Level.PREFECTURE}
ESCALATED_TARGETS = frozenset({"city", "prefecture"})


@dataclass(frozen=True)
class Chain:
    """Which timers send a case up in this deployment, and which only record that the limit
    passed: with the prefecture's committee on the escalation chain (four levels,
    teams.levels.on_chain) the city's consultation timer sends the case on to the prefecture
    (cases.firing), so that stage counts as never ended once its timer fired, like the town's;
    otherwise it goes on until the city committee ends it. Without the city's committee on the
    chain (two levels) the town's timer only reminds, and its stage goes on likewise."""

    escalating: dict[str, str]
    continuing: frozenset[str]

    @classmethod
    def in_force(cls) -> "Chain":
        escalating, continuing = dict(ESCALATING), set(CONTINUING)
        if not on_chain(CITY):
            # Two levels, or the top committee left off: the town's timer only reminds.
            del escalating[Stage.TOWN_CONSULTATION]
            continuing.add(Stage.TOWN_CONSULTATION)
        if on_chain(PREFECTURE):
            escalating[Stage.CITY_CONSULTATION] = "prefecture"
            continuing.discard(Stage.CITY_CONSULTATION)
        return cls(escalating=escalating, continuing=frozenset(continuing))


# The columns both fact tables share (CaseFactValues, DispatchFactValues), copied as they are.
CASE_COPY = [f.column for f in CaseFact._meta.concrete_fields if f.attname != "case_id"]
DISPATCH_COLUMNS = [
    f.column
    for f in DispatchFact._meta.concrete_fields
    if f.attname not in ("dispatch_id", "case_fact_id")
]
# The replayed columns of a case and a dispatch (the rest is copied as it happened).
CASE_REPLAYED = (
    "overdue",
    "overdue_at",
    "late_count",
    "closed_on_time",
    "suspended",
    "whistled",
    "escalated",
    "max_level",
    "handling_seconds",
)
DISPATCH_REPLAYED = ("report_in_due", "late", "reported_on_time", "task_due_at", "task_overdue")
# What a replay writes of its own besides: whether the verdict changed, and for a case when a
# timer the scenario fires earlier would have sent it up.
CASE_WRITTEN = (*CASE_REPLAYED, "would_escalate_at", "verdict_changed")
DISPATCH_WRITTEN = (*DISPATCH_REPLAYED, "verdict_changed")


class Cancelled(Exception):
    """Someone asked to cancel the replay; its partial rows are removed."""


@dataclass
class Tally:
    """What the report counts besides the indicators."""

    cases: int = 0
    clocks: int = 0
    clocks_replayed: int = 0
    late_clocks_live: int = 0
    late_clocks: int = 0
    warnings_live: int = 0
    warnings: int = 0
    would_escalate: int = 0
    would_escalate_by: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cases_changed: int = 0
    dispatches_changed: int = 0
    # Rows (cases and dispatches) whose replayed values differ from the live ones.
    rows_changed: int = 0

    def add(self, other: "Tally") -> None:
        """Count another process's span in (policylab.helpers)."""
        for name, value in vars(other).items():
            if name == "would_escalate_by":
                for target, count in value.items():
                    self.would_escalate_by[target] += count
            else:
                setattr(self, name, getattr(self, name) + value)

    @classmethod
    def from_json(cls, data: dict) -> "Tally":
        tally = cls(**{k: v for k, v in data.items() if k != "would_escalate_by"})
        tally.would_escalate_by.update(data.get("would_escalate_by", {}))
        return tally

    def as_json(self) -> dict:
        return {
            "cases": self.cases,
            "clocks": self.clocks,
            "clocks_replayed": self.clocks_replayed,
            "late_clocks_live": self.late_clocks_live,
            "late_clocks": self.late_clocks,
            "warnings_live": self.warnings_live,
            "warnings": self.warnings,
            "would_escalate": self.would_escalate,
            "would_escalate_by": dict(self.would_escalate_by),
            "cases_changed": self.cases_changed,
            "dispatches_changed": self.dispatches_changed,
            "rows_changed": self.rows_changed,
        }


@dataclass
class Clock:
    """One deadline row, as read for the replay."""

    case_id: int
    dispatch_id: int | None
    stage: str
    amount: int
    unit: str
    yellow: int
    started_at: datetime
    warn_at: datetime
    due_at: datetime
    warned_at: datetime | None
    met_at: datetime | None
    fired_at: datetime | None
    paused_at: datetime | None
    # Replayed: its due time, late or not, when its timer fires; whether its rule changed.
    due: datetime | None = None
    late: bool = False
    fires_at: datetime | None = None
    replayed: bool = False


CLOCK_FIELDS = (
    "case_id",
    "dispatch_id",
    "stage",
    "amount",
    "unit",
    "yellow_at_percent",
    "started_at",
    "warn_at",
    "due_at",
    "warned_at",
    "met_at",
    "fired_at",
    "paused_at",
)


def cohort(*, region: Region, period: Period) -> QuerySet[CaseFact]:
    """The live facts a replay covers: the place's cases filed in the period, and those with
    a dispatch in the period (the response rate counts dispatches by when they were made)."""
    column = REGION_COLUMNS[region.level]
    dispatched = DispatchFact.objects.filter(
        case_fact_id=OuterRef("pk"),
        dispatched_at__gte=period.start_at,
        dispatched_at__lt=period.end_at,
    )
    return CaseFact.objects.filter(
        Q(filed_at__gte=period.start_at, filed_at__lt=period.end_at) | Exists(dispatched),
        **{column: region.pk},
    )


def replay_period(
    *,
    replay: Replay,
    rules: Rules,
    period: Period,
    now: datetime,
    progress: Callable[[int], None] = lambda done: None,
    started: Callable[[int], None] = lambda total: None,
    processes: int = 1,
) -> Tally:
    """Write the replay's facts, chunk by chunk: `started(total)` once the cases are known,
    `progress(done)` after each chunk of this process (it raises Cancelled to stop). Returns
    the counts of the report.

    With `processes` > 1 on PostgreSQL, outside a transaction, the cases are cut into that
    many spans of ids: this process replays the first, and a helper process each of the
    others (policylab.helpers: the same `replay_span`, its progress counted on the replay's
    row); their counts are added up here once they are done."""
    rows = cohort(region=replay.region, period=period)
    case_ids = list(rows.order_by("case_id").values_list("case_id", flat=True))
    started(len(case_ids))
    changed = _changed_kinds(_judged(case_id__in=rows.values("case_id")), rules=rules)
    from policylab import helpers

    parts = helpers.spans(case_ids, parts=processes if helpers.can_fan_out() else 1)
    running = helpers.start(replay=replay, spans=parts[1:], changed=changed)
    try:
        tally = replay_span(
            replay=replay,
            rules=rules,
            rows=rows,
            case_ids=[i for i in case_ids if parts[0][0] <= i <= parts[0][1]] if parts else [],
            changed=changed,
            now=now,
            progress=progress,
        )
        for other in helpers.join(running):
            tally.add(other)
    finally:
        helpers.stop(running)
    tally.cases = len(case_ids)
    _analyze()
    return tally


def replay_span(
    *,
    replay: Replay,
    rules: Rules,
    rows: QuerySet[CaseFact],
    case_ids: list[int],
    changed: set[tuple],
    now: datetime,
    progress: Callable[[int], None],
) -> Tally:
    """Replay the given cases of the cohort (ordered ids), one transaction per chunk."""
    tally = Tally(cases=len(case_ids))
    for start in range(0, len(case_ids), CHUNK):
        chunk = case_ids[start : start + CHUNK]
        with transaction.atomic():
            _replay_chunk(
                replay=replay,
                rows=rows.filter(case_id__gte=chunk[0], case_id__lte=chunk[-1]),
                span=(chunk[0], chunk[-1]),
                changed=changed,
                rules=rules,
                now=now,
                tally=tally,
            )
        progress(start + len(chunk))
    return tally


def _analyze() -> None:
    """Refresh the planner's statistics of the replay tables once the replay's rows are in:
    the indicators and rankings read them next, and a plan made for the few rows the tables
    held before (nested loops over "1 row") takes minutes over a county's year."""
    if connection.vendor == "postgresql":
        tables = (ReplayCaseFact._meta.db_table, ReplayDispatchFact._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables)}")


def _copy_live(
    *,
    replay: Replay,
    rows: QuerySet[CaseFact],
    low: int,
    high: int,
    case_values: dict[int, dict] | None = None,
    dispatch_values: dict[int, dict] | None = None,
) -> None:
    """Copy the live facts of the chunk's cases and of their dispatches, in two statements
    (the span of ids again outside the cohort's subquery, for the indexes). On PostgreSQL the
    replayed values (`case_values`: case id -> every replayed column; `dispatch_values`:
    dispatch id -> every replayed column) go in with the copy, from a temporary table, instead
    of updating a quarter of a million copied rows afterwards (each update writes the row and
    its index entries again)."""
    chosen, params = (
        rows.filter(case_id__gte=low, case_id__lte=high)
        .values("case_id")
        .order_by()
        .query.sql_with_params()
    )
    case_table = ReplayCaseFact._meta.db_table
    live_case = CaseFact._meta.db_table
    merged = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if merged and connection.in_atomic_block:
            # The chunk's rows are derived and a replay that dies is run again: its commits
            # need not wait for the disk (a crash loses at most the last moments' chunks).
            cursor.execute("SET LOCAL synchronous_commit = off")
            # The chunk's sorts and groupings (tens of thousands of clocks) fit in memory.
            cursor.execute("SET LOCAL work_mem = '64MB'")
        case_columns, case_join = _merged_columns(
            cursor,
            ReplayCaseFact,
            CASE_COPY,
            CASE_WRITTEN,
            "case_id",
            case_values if merged else None,
        )
        cursor.execute(
            f"INSERT INTO {case_table} (replay_id, case_id, {', '.join(case_columns)}) "  # noqa: S608
            f"SELECT %s, c.case_id, {', '.join(case_columns.values())} FROM {live_case} c "
            f"{case_join}WHERE c.case_id BETWEEN %s AND %s AND c.case_id IN ({chosen})",
            [replay.pk, low, high, *params],
        )
        dispatch_columns, dispatch_join = _merged_columns(
            cursor,
            ReplayDispatchFact,
            DISPATCH_COLUMNS,
            DISPATCH_WRITTEN,
            "dispatch_id",
            dispatch_values if merged else None,
        )
        cursor.execute(
            f"INSERT INTO {ReplayDispatchFact._meta.db_table} "  # noqa: S608
            f"(replay_id, dispatch_id, case_fact_id, {', '.join(dispatch_columns)}) "
            f"SELECT %s, c.dispatch_id, r.id, {', '.join(dispatch_columns.values())} "
            f"FROM {DispatchFact._meta.db_table} c JOIN {case_table} r "
            f"ON r.replay_id = %s AND r.case_id = c.case_id "
            f"{dispatch_join}WHERE c.case_id BETWEEN %s AND %s AND c.case_id IN ({chosen})",
            [replay.pk, replay.pk, low, high, *params],
        )


def _merged_columns(
    cursor, model, copied: list[str], written: tuple[str, ...], key: str, values: dict | None
) -> tuple[dict[str, str], str]:
    """The columns of a copy (column -> what it selects from the live row `c`) and the join
    that brings in the replayed values: with `values`, loaded into a temporary table `v`, a
    replayed column takes v's value where the row has one; without, its live value (or the
    column's default for the replay's own columns)."""
    columns = {column: f"c.{column}" for column in copied}
    own = [name for name in written if name not in columns]
    fields = [model._meta.get_field(name) for name in written]
    if not values:
        for name in own:
            columns[name] = _default_sql(model._meta.get_field(name))
        return columns, ""
    table = f"policylab_replayed_{model._meta.model_name}"
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({key} bigint PRIMARY KEY, "
        + ", ".join(f"{f.column} {f.db_type(connection)}" for f in fields)
        + ") ON COMMIT DELETE ROWS"
    )
    cursor.execute(f"TRUNCATE {table}")  # rows left by a replay earlier in this transaction
    _copy_rows(cursor, table, [key, *(f.column for f in fields)], fields, values)
    for spec in fields:
        columns[spec.column] = (
            f"CASE WHEN v.{key} IS NULL THEN "
            f"{columns.get(spec.column) or _default_sql(spec)} ELSE v.{spec.column} END"
        )
    return columns, f"LEFT JOIN {table} v ON v.{key} = c.{key} "


def _default_sql(field) -> str:
    default = field.get_default()
    if default is None:
        return "NULL"
    if isinstance(default, bool):
        return "TRUE" if default else "FALSE"
    raise ValueError(f"no SQL default for {field.name}")


def _copy_rows(cursor, table: str, columns: list[str], fields: list, values: dict) -> None:
    """COPY the rows (key -> {field name: value}) into the table, in PostgreSQL's text format."""
    buffer = io.StringIO()
    for key, row in values.items():
        cells = [str(key)]
        for spec in fields:
            value = spec.get_db_prep_save(row[spec.name], connection)
            if value is None:
                cells.append("\\N")
            elif isinstance(value, bool):
                cells.append("t" if value else "f")
            elif isinstance(value, datetime):
                cells.append(value.isoformat())
            else:
                cells.append(str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " "))
        buffer.write("\t".join(cells) + "\n")
    buffer.seek(0)
    cursor.cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def _chunk_clocks(rows: QuerySet[CaseFact], *, span: tuple[int, int]) -> QuerySet[Deadline]:
    """The clocks of the chunk's cases that a replay judges (`_judged`). The chunk's span of
    case ids lets the database read them from its index instead of scanning every clock for
    each chunk."""
    return _judged(case_id__gte=span[0], case_id__lte=span[1], case_id__in=rows.values("case_id"))


def _judged(*conditions, **lookups) -> QuerySet[Deadline]:
    """The clocks a replay judges: all but a suspension's review (the committee's reminder,
    not a limit of the case)."""
    return Deadline.objects.filter(*conditions, **lookups).exclude(stage=Stage.SUSPENSION_REVIEW)


def _clocks(case_ids: Iterable[int]) -> dict[int, list[Clock]]:
    clocks: dict[int, list[Clock]] = defaultdict(list)
    for values in (
        _judged(_among(Deadline, "case", case_ids))
        .order_by("case_id", "id")
        .values_list(*CLOCK_FIELDS)
    ):
        clock = Clock(*values)
        clocks[clock.case_id].append(clock)
    return clocks


def _among(model, name: str, ids: Iterable[int]) -> Q | RawSQL:
    """`name IN ids`, as one array on PostgreSQL: Django prepares an IN list's ten thousand ids
    (a chunk's cases) one by one, which cost more than reading their rows."""
    ids = list(ids)
    if connection.vendor != "postgresql":
        return Q(**{f"{name}__in": ids})
    quote = connection.ops.quote_name
    column = f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(name).column)}"
    # Names from the model, the ids a parameter.
    return RawSQL(f"{column} = ANY(%s)", (ids,), output_field=BooleanField())  # noqa: S611


def _live_counts(clocks: QuerySet[Deadline], *, now: datetime) -> dict[str, int]:
    """How many clocks, how many passed their limit (assessment.facts.missed) and how many
    turned yellow before they ended (`_warned`, live), counted by the database."""
    return clocks.aggregate(
        clocks=Count("pk"),
        late=Count("pk", filter=Q(fired_at__isnull=False) | Q(met_at__gt=F("due_at"))),
        warned=Count("pk", filter=Q(warn_at__lt=Coalesce("met_at", "fired_at", Value(now)))),
    )


KIND = ("case__item_id", "stage", "amount", "unit")


def _changed_kinds(clocks: QuerySet[Deadline], *, rules: Rules) -> set[tuple]:
    """The kinds of clock (item, stage, limit, a consultation's task or not) among `clocks`
    whose rule the scenario changes (`_rule_changed`), from the kinds grouped by the database:
    read once for the whole cohort, so the rules in force read no clock at all."""
    kinds = clocks.annotate(task=_TASK).values_list(*KIND, "task").distinct().order_by()
    return {
        kind
        for kind in kinds
        if _rule_changed(
            rules, item_id=kind[0], stage=kind[1], amount=kind[2], unit=kind[3], task=kind[4]
        )
    }


def _affected(clocks: QuerySet[Deadline], *, rules: Rules, changed: set[tuple]) -> set[int] | None:
    """The cases with a clock of a `changed` kind; None for every case, when the scenario
    changes the yellow light that every clock's warning follows. Read only from the stages
    changed."""
    if rules.yellow_at_percent is not None:
        return None
    if not changed:
        return set()
    rows = (
        clocks.filter(stage__in={kind[1] for kind in changed})
        .annotate(task=_TASK)
        .values_list("case_id", *KIND, "task")
        .order_by()
    )
    return {case_id for case_id, *kind in rows if tuple(kind) in changed}


# A consultation's task: a dispatch's handling clock (its due time is the committee's).
_TASK = ExpressionWrapper(
    Q(stage=Stage.HANDLING, dispatch_id__isnull=False), output_field=BooleanField()
)


@cache
def _meeting_steps() -> dict[str, tuple[frozenset[str] | None, bool]]:
    """step code -> (the stages whose clocks it meets, None for all; whether only its own
    dispatch's), from the workflow's declarations (cases.workflow, Meet and MeetDispatch)."""
    from cases.workflow import REGISTRY
    from cases.workflow.effects import Meet, MeetDispatch

    steps = {}
    for code, step in REGISTRY.steps.items():
        for effect in step.effects:
            if isinstance(effect, Meet | MeetDispatch):
                stages = frozenset(effect.stages) if effect.stages else None
                steps[code] = (stages, isinstance(effect, MeetDispatch))
    return steps


def _filed_between(live: dict[int, dict], case_ids: Iterable[int]) -> Q:
    """The event log's condition on its partition key (cases.partitions) for these cases: the
    first and last of their filing times, so a chunk's read visits only its months."""
    filed = [live[case_id]["filed_at"] for case_id in case_ids if case_id in live]
    if not filed:
        return Q()
    return Q(case_filed_at__gte=min(filed), case_filed_at__lte=max(filed))


def _stage_ends(
    clocks: dict[int, list[Clock]], live: dict[int, dict], *, chain: Chain
) -> dict[tuple[int, int | None, str], list]:
    """(case, dispatch, stage) -> the moments, in order, of the events that met the stage's
    clocks, for the cases with a fired clock of a stage that goes on after its timer
    (chain.continuing): its row keeps no end, the event log does."""
    continuing = chain.continuing
    case_ids = [
        case_id
        for case_id, own in clocks.items()
        if any(c.fired_at is not None and c.stage in continuing for c in own)
    ]
    if not case_ids:
        return {}
    steps = _meeting_steps()
    ends: dict[tuple[int, int | None, str], list] = defaultdict(list)
    events = (
        Event.objects.filter(
            _among(Event, "case", case_ids), _filed_between(live, case_ids), action__in=list(steps)
        )
        .order_by("created_at", "id")
        .values_list("case_id", "dispatch_id", "action", "created_at")
    )
    for case_id, dispatch_id, action, moment in events:
        stages, own_dispatch = steps[action]
        for stage in continuing if stages is None else stages & continuing:
            ends[(case_id, dispatch_id if own_dispatch else None, stage)].append(moment)
    return ends


def _ended_at(clock: Clock, *, dispatch: dict | None, ends: dict, chain: Chain) -> datetime | None:
    """When the stage of a clock whose timer fired really ended: a dispatch's report-in at
    its report-in; a stage that goes on after its timer at the first event after the firing
    that met it (by the case, or by the clock's own dispatch)."""
    if clock.fired_at is None:
        return None
    if clock.stage == Stage.REPORT_IN:
        return dispatch["reported_in_at"] if dispatch is not None else None
    if clock.stage not in chain.continuing:
        return None
    moments = [
        *ends.get((clock.case_id, None, clock.stage), ()),
        *ends.get((clock.case_id, clock.dispatch_id, clock.stage), ()),
    ]
    return min((moment for moment in moments if moment >= clock.fired_at), default=None)


def _replay_clock(
    clock: Clock,
    *,
    item_id: int,
    rules: Rules,
    now: datetime,
    ended_at: datetime | None = None,
    times: "tuple[WorkTime, WorkTime] | None" = None,
) -> bool:
    """Set the clock's replayed due time and outcome; True when its rule changed.

    `ended_at`: when the stage of a clock whose timer fired really ended (`_ended_at`), which
    a fired clock's own row does not keep (its met_at stays empty). `times`: `_work_times`,
    looked up once per chunk rather than per clock."""
    rule = _limit_of(rules, item_id=item_id, stage=clock.stage)
    working = clock.unit in WORKING_UNITS
    changed = _rule_changed(
        rules,
        item_id=item_id,
        stage=clock.stage,
        task=clock.stage == Stage.HANDLING and clock.dispatch_id is not None,
        amount=clock.amount,
        unit=clock.unit,
    )
    if not changed:
        # Unchanged rule, or a consultation's task (its due time is the committee's choice).
        clock.due = clock.due_at
        clock.late = missed(due_at=clock.due_at, met_at=clock.met_at, fired_at=clock.fired_at)
        clock.fires_at = clock.fired_at
        return False
    # What was added on top of the limit in force (postponement, a suspension's pause), in the
    # clock's own time: working seconds for a working-time clock, counted again on the
    # scenario's calendar.
    live_time, scenario_time = times or _work_times(rules)
    nominal = live_time.add_duration(start=clock.started_at, amount=clock.amount, unit=clock.unit)
    extra_seconds = (
        live_time.seconds_between(start=nominal, end=clock.due_at, working=True)
        if working and clock.due_at > nominal
        else None
    )
    # (The scenario's days are in scenario_time; natural time follows no calendar.)
    due = scenario_time.add_duration(start=clock.started_at, amount=rule[0], unit=rule[1])
    if extra_seconds:
        due = scenario_time.add_seconds(start=due, seconds=extra_seconds, working=True)
    elif extra_seconds is None and clock.due_at != nominal:
        due += clock.due_at - nominal
    clock.due = due
    end = clock.met_at or (ended_at if clock.fired_at is not None else None)
    if end is not None:
        clock.late = end > clock.due
    elif clock.paused_at is not None and clock.fired_at is None:
        # Stopped by a suspension and not running since: late only if its timer would have
        # fired before the suspension.
        clock.late = clock.due <= clock.paused_at
    else:
        # Never met: its timer fires at the due time, if that has come.
        clock.late = clock.due <= now
    clock.fires_at = clock.due if clock.late else None
    clock.replayed = True
    return True


def _limit_of(rules: Rules, *, item_id: int, stage: str) -> tuple[int, str] | None:
    """The scenario's limit of this item and stage. An item with no limit of its own for the
    prefecture's consultation (four levels) ran it under its city consultation's limit
    (cases.timers), so the scenario's city limit judges it again."""
    rule = rules.limits.get((item_id, stage))
    if rule is None and stage == Stage.PREFECTURE_CONSULTATION:
        return rules.limits.get((item_id, Stage.CITY_CONSULTATION))
    return rule


def _rule_changed(
    rules: Rules, *, item_id: int, stage: str, task: bool, amount: int, unit: str
) -> bool:
    """Whether the scenario gives a clock of this item and stage, which ran `amount` `unit`,
    another due time: another limit, or a calendar change that moves working time. A
    consultation's task (`task`) keeps the due time the committee set."""
    rule = _limit_of(rules, item_id=item_id, stage=stage)
    return (
        rule is not None
        and not task
        and (
            rule != (amount, unit)
            or (rules.calendar_changed and (unit in WORKING_UNITS or rule[1] in WORKING_UNITS))
        )
    )


_WORK_TIMES: dict[tuple, tuple] = {}


def _work_times(rules: Rules) -> tuple[WorkTime, WorkTime]:
    """The calendar in force and the scenario's, as constant-time working-time arithmetic
    (policylab.worktime: the same results as cases.calendar's day-by-day walks), kept while
    this process's copy of the calendar in force is the same."""
    stamp = calendar._current().stamp
    key = (rules.holidays, rules.workdays)
    entry = _WORK_TIMES.get(key)
    if entry is None or entry[0] is not stamp:
        _WORK_TIMES.clear()
        entry = _WORK_TIMES[key] = (
            stamp,
            WorkTime(),
            WorkTime(holidays=rules.holidays, workdays=rules.workdays),
        )
    return entry[1], entry[2]


def _warned(clock: Clock, *, rules: Rules, now: datetime, live: bool) -> bool:
    """Whether the clock turned yellow before its stage ended (met, fired, or still running
    now): live from its real yellow time, replayed at the scenario's share of its new limit."""
    if live:
        return clock.warn_at < (clock.met_at or clock.fired_at or now)
    if not clock.replayed and rules.yellow_at_percent is None:
        return _warned(clock, rules=rules, now=now, live=True)
    share = rules.yellow_at_percent or clock.yellow
    warn = clock.started_at + (clock.due - clock.started_at) * share / 100
    return warn < (clock.met_at or clock.fires_at or now)


def _replay_chunk(
    *,
    replay: Replay,
    rows: QuerySet[CaseFact],
    span: tuple[int, int],
    changed: set[tuple],
    rules: Rules,
    now: datetime,
    tally: Tally,
) -> None:
    """Replay one chunk's cases. The clocks are counted by the database; only the cases with
    a clock whose rule changed are read whole and judged again here (with a calendar change,
    the others' handling time is counted again); every other case keeps its live facts."""
    chunk_clocks = _chunk_clocks(rows, span=span)
    counts = _live_counts(chunk_clocks, now=now)
    tally.clocks += counts["clocks"]
    tally.late_clocks_live += counts["late"]
    tally.late_clocks += counts["late"]
    tally.warnings_live += counts["warned"]
    tally.warnings += counts["warned"]
    affected = _affected(chunk_clocks, rules=rules, changed=changed)
    chosen = rows
    if affected is not None and rules.calendar_changed:
        chosen = rows.filter(
            Q(_among(CaseFact, "case", affected)) | Q(handling_seconds__isnull=False)
        )
    elif affected is not None:
        if not affected:
            # The rules in force, or a change no clock of the chunk runs under.
            _write(replay=replay, rows=rows, span=span, case_updates={}, dispatch_updates={})
            return
        chosen = rows.filter(_among(CaseFact, "case", affected))
    live = {
        row["case_id"]: row
        for row in chosen.values(
            "case_id",
            "item_id",
            "filed_at",
            "closed_on_time",
            "first_closed_at",
            "closed_at",
            "resolved_at",
            "was_suspended",
            *CASE_REPLAYED,
        )
    }
    replayed_ids = set(live) if affected is None else affected
    clocks = _clocks(replayed_ids)
    dispatches = {
        row["dispatch_id"]: row
        for row in DispatchFact.objects.filter(
            _among(DispatchFact, "case_fact", replayed_ids)
        ).values("dispatch_id", "case_fact_id", "reported_in_at", *DISPATCH_REPLAYED)
    }
    chain = Chain.in_force()
    ends = _stage_ends(clocks, live, chain=chain)
    suspended_ids = [
        case_id for case_id in replayed_ids if case_id in live and live[case_id]["was_suspended"]
    ]
    events: dict[int, list[Event]] = defaultdict(list)
    if suspended_ids:
        for event in Event.objects.filter(
            _among(Event, "case", suspended_ids), _filed_between(live, suspended_ids)
        ).order_by("created_at", "id"):
            events[event.case_id].append(event)
    case_updates: dict[int, dict] = {}
    dispatch_updates: dict[int, dict] = {}
    times = _work_times(rules)
    for case_id, fact in live.items():
        own = clocks.get(case_id, [])
        changed_any = False
        for clock in own:
            dispatch = dispatches.get(clock.dispatch_id) if clock.dispatch_id else None
            changed = _replay_clock(
                clock,
                item_id=fact["item_id"],
                rules=rules,
                now=now,
                ended_at=_ended_at(clock, dispatch=dispatch, ends=ends, chain=chain),
                times=times,
            )
            changed_any |= changed
            tally.clocks_replayed += changed
            # The database counted every clock as it went live; these ones are judged again.
            tally.late_clocks += clock.late - missed(
                due_at=clock.due_at, met_at=clock.met_at, fired_at=clock.fired_at
            )
            tally.warnings += _warned(clock, rules=rules, now=now, live=False) - _warned(
                clock, rules=rules, now=now, live=True
            )
        if changed_any:
            values = _case_values(
                fact=fact,
                chain=chain,
                clocks=own,
                events=events.get(case_id, ()),
                rules=rules,
                tally=tally,
                times=times,
            )
        elif rules.calendar_changed and fact["handling_seconds"] is not None:
            values = {"handling_seconds": _handling_seconds(fact, rules=rules, times=times)}
        else:
            values = {}
        changes = {name: value for name, value in values.items() if value != fact.get(name)}
        if changes:
            verdict = ("overdue", "closed_on_time")
            changes["verdict_changed"] = any(
                values[name] != fact[name] for name in verdict if name in values
            )
            tally.cases_changed += changes["verdict_changed"]
            case_updates[case_id] = changes
        if changed_any:
            for dispatch_id, changes in _dispatch_changes(own, dispatches).items():
                dispatch_updates[dispatch_id] = changes
                tally.dispatches_changed += changes["verdict_changed"]
    tally.rows_changed += len(case_updates) + len(dispatch_updates)
    _write(
        replay=replay,
        rows=rows,
        span=span,
        case_updates={
            case_id: {**_unchanged(live[case_id], CASE_WRITTEN), **changes}
            for case_id, changes in case_updates.items()
        },
        dispatch_updates={
            dispatch_id: {**_unchanged(dispatches[dispatch_id], DISPATCH_WRITTEN), **changes}
            for dispatch_id, changes in dispatch_updates.items()
        },
    )


def _unchanged(fact: dict, names: tuple[str, ...]) -> dict:
    """A row's replayed columns as they went live (a replay's own columns: not changed, no
    earlier escalation)."""
    return {name: fact.get(name) for name in names} | {"verdict_changed": False}


def _case_values(
    *,
    fact: dict,
    clocks: list[Clock],
    events: Iterable[Event],
    rules: Rules,
    tally: Tally,
    chain: Chain,
    times: "tuple[WorkTime, WorkTime] | None" = None,
) -> dict:
    """The replayed columns of one case (assessment.facts' definitions on the new clocks);
    `chain`: the deployment's escalation chain, read once per chunk."""
    escalating = chain.escalating
    late = sorted(c.due for c in clocks if c.stage in LATE_STAGES and c.late)
    has_closing = fact["first_closed_at"] is not None or fact["closed_on_time"]
    values = {
        "overdue": bool(late),
        "overdue_at": late[0] if late else None,
        "late_count": len(late),
        "closed_on_time": has_closing and not late,
        "suspended": fact["suspended"],
        "whistled": fact["whistled"],
        "escalated": fact["escalated"],
        "max_level": fact["max_level"],
        "handling_seconds": fact["handling_seconds"],
    }
    if fact["was_suspended"]:
        case = Case(filed_at=fact["filed_at"])
        values["suspended"] = parked_in_time(case=case, events=list(events), first_missed=late[:1])
    # A timer the scenario fires before its stage really ended (and the live one did not
    # fire): the case would have been sent up then.
    sooner = sorted(
        (c.due, escalating[c.stage])
        for c in clocks
        if c.stage in escalating
        and c.replayed
        and c.fired_at is None
        and c.late
        and (c.stage != Stage.HANDLING or c.dispatch_id is None)
    )
    if sooner:
        moment, target = sooner[0]
        values["would_escalate_at"] = moment
        tally.would_escalate += 1
        tally.would_escalate_by[target] += 1
        if target == "town":
            values["whistled"] = True
        elif target in ESCALATED_TARGETS:
            values["escalated"] = True
        if target in TARGET_LEVELS:
            values["max_level"] = _higher(fact["max_level"], TARGET_LEVELS[target])
    if rules.calendar_changed and fact["handling_seconds"] is not None:
        values["handling_seconds"] = _handling_seconds(fact, rules=rules, times=times)
    return values


def _handling_seconds(
    fact: dict, *, rules: Rules, times: "tuple[WorkTime, WorkTime] | None" = None
) -> int:
    """A case's handling time in working seconds on the scenario's calendar: from the filing
    to the handling's end (the last resolution, or the committee's close: the moment whose
    working seconds from the filing the live fact holds)."""
    live_time, scenario_time = times or _work_times(rules)
    end = next(
        (
            moment
            for moment in (fact["resolved_at"], fact["closed_at"], fact["first_closed_at"])
            if moment is not None
            and live_time.seconds_between(start=fact["filed_at"], end=moment, working=True)
            == fact["handling_seconds"]
        ),
        None,
    ) or live_time.add_seconds(
        start=fact["filed_at"], seconds=fact["handling_seconds"], working=True
    )
    return scenario_time.seconds_between(start=fact["filed_at"], end=end, working=True)


def _higher(level: str, other: str) -> str:
    return max(level, other, key=lambda value: LEVEL_ORDER.get(value, 0))


def _dispatch_changes(clocks: list[Clock], dispatches: dict[int, dict]) -> dict[int, dict]:
    result: dict[int, dict] = {}
    by_dispatch: dict[int, list[Clock]] = defaultdict(list)
    for clock in clocks:
        if clock.dispatch_id is not None:
            by_dispatch[clock.dispatch_id].append(clock)
    for dispatch_id, own in by_dispatch.items():
        fact = dispatches.get(dispatch_id)
        if fact is None:
            continue
        values = {}
        report_in = [c for c in own if c.stage == Stage.REPORT_IN]
        if report_in and report_in[-1].replayed:
            clock = report_in[-1]
            late = clock.late
            reported = fact["reported_in_at"]
            values["report_in_due"] = clock.due
            values["late"] = late
            values["reported_on_time"] = reported is not None and not late and reported <= clock.due
        tasks = [c for c in own if c.stage == Stage.HANDLING]
        if any(c.replayed for c in tasks):
            values["task_due_at"] = tasks[-1].due
            values["task_overdue"] = any(c.late for c in tasks)
        changes = {name: value for name, value in values.items() if value != fact[name]}
        if changes:
            changes["verdict_changed"] = any(
                values.get(name, fact[name]) != fact[name] for name in ("late", "reported_on_time")
            )
            result[dispatch_id] = changes
    return result


def _write(
    *,
    replay: Replay,
    rows: QuerySet[CaseFact],
    span: tuple[int, int],
    case_updates: dict[int, dict],
    dispatch_updates: dict[int, dict],
) -> None:
    """Copy the chunk's live rows with the replayed values of the rows that differ (every
    replayed column of each: `CASE_WRITTEN`, `DISPATCH_WRITTEN`): in the copy itself on
    PostgreSQL, elsewhere by updating the copied rows."""
    low, high = span
    if connection.vendor == "postgresql":
        _copy_live(
            replay=replay,
            rows=rows,
            low=low,
            high=high,
            case_values=case_updates,
            dispatch_values=dispatch_updates,
        )
        return
    _copy_live(replay=replay, rows=rows, low=low, high=high)
    if case_updates:
        ids = dict(
            ReplayCaseFact.objects.filter(
                replay=replay, case_id__in=list(case_updates)
            ).values_list("case_id", "id")
        )
        _update(ReplayCaseFact, {ids[case_id]: values for case_id, values in case_updates.items()})
    if dispatch_updates:
        ids = dict(
            ReplayDispatchFact.objects.filter(
                replay=replay, dispatch_id__in=list(dispatch_updates)
            ).values_list("dispatch_id", "id")
        )
        _update(
            ReplayDispatchFact,
            {ids[dispatch_id]: values for dispatch_id, values in dispatch_updates.items()},
        )


def _update(model, updates: dict[int, dict]) -> None:
    """Django's bulk_update, one per set of changed columns (rows changed alike go together)."""
    groups: dict[tuple[str, ...], list] = defaultdict(list)
    for pk, values in updates.items():
        groups[tuple(sorted(values))].append((pk, values))
    for names, rows in groups.items():
        objects = [model(pk=pk, **values) for pk, values in rows]
        model.objects.bulk_update(objects, list(names), batch_size=500)
