"""Timer sweep benchmark: the sweep costs what is due, not what is open (docs/benchmarks.md).

    python -m bench.sweep            # or: make bench

Against PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/whistle_bench;
the database is created and migrated when missing, and its case tables are emptied: its name
must contain "bench" unless --force). For each size it seeds that many open cases, each with a
running clock due days ahead and a met one from the past, of which DUE cases have a clock that
is overdue (five kinds of firing in equal parts: screening overdue, village handling -> town,
handling of a dispatched and of an in-progress case -> consultation, town consultation ->
city). It explains the due-deadline query, runs one sweep in this process (the body of the
Celery task) counting time and queries, then a second, idle sweep. The figures replace the
"Timer sweep" section of docs/benchmarks.md.

The sweep's notifications are queued to a throw-away filesystem broker (never to REDIS_URL),
so no worker ever sees the benchmark's messages.
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bench.common import (
    BASE_DIR,
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    DOC,
    VENV_BIN,
    PeakRss,
    QueryCounter,
    Server,
    add_common_arguments,
    bulk_load,
    celery_worker,
    database_bytes,
    load_average,
    machine,
    machine_line,
    percentile,
    purge_queue,
    queue_depth,
    record_results,
    running,
    server_env,
    set_up,
    var_dir,
    wait_for_log,
    write_section,
)

SECTION = "## Timer sweep"
# A megacity's ten years (issue 22): the history of bench.pages the sweep runs over with
# --history, and the pages with `scripts/bench.sh history`.
HISTORY_CASES = 20_000_000

# Open statuses of the seeded cases, the clock each one runs and its level; a due case fires
# the transition of its stage.
STATUSES = [
    ("filed", "screening", "village"),
    ("village_handling", "village_handling", "village"),
    ("dispatched", "handling", "town"),
    ("in_progress", "handling", "town"),
    ("in_consultation", "town_consultation", "town"),
]


def _prepare_environment(broker_dir: str) -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    # This process queues nothing to Redis: only the worker run's processes get REDIS_URL.
    os.environ["BENCH_REDIS_URL"] = os.environ.pop("REDIS_URL", "") or DEFAULT_REDIS_URL
    os.environ["WHISTLE_BROKER_DIR"] = broker_dir
    os.environ.setdefault("LOG_LEVEL", "WARNING")


@dataclass
class Run:
    open_cases: int
    due: int
    seed_seconds: float
    plan: str
    index_used: bool
    read_ms: float
    sweep_seconds: float
    fired: int
    queries: int
    events: int
    idle_ms: float
    idle_queries: int
    python_cpu_ms: float = 0.0
    database_cpu_ms: float | None = None
    load: str = ""
    profile: str = ""

    @property
    def per_second(self) -> float:
        return self.fired / self.sweep_seconds if self.sweep_seconds else 0.0

    @property
    def queries_per_firing(self) -> float:
        return self.queries / self.fired if self.fired else 0.0


def seed(*, open_cases: int, due: int) -> datetime:
    """Empty the case tables and seed `open_cases` open cases, `due` of them overdue."""
    from django.utils import timezone

    from bench.pages import PARTITION_YEARS
    from checklists.models import Item

    if due % len(STATUSES) or open_cases % due:
        raise ValueError(f"due must divide open_cases and be a multiple of {len(STATUSES)}")
    item = Item.objects.get(code="SAN-01")
    now = timezone.now()
    # A group of five consecutive cases (one per status) is overdue every `spacing` groups.
    spacing = open_cases // due
    # The deadlines and the log partitioned by month as a deployment keeping ten years has
    # them (cases.partitions): the sweep's claim reads every month's pending index. The
    # secondary indexes are made again once the rows are in (bench.common.bulk_load).
    with bulk_load(months=(now - timedelta(days=PARTITION_YEARS * 365), now)) as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE bench_grid AS
            SELECT (row_number() OVER (ORDER BY g.id)) - 1 AS n, g.id AS grid_id,
                   g.village_id, v.parent_id AS town_id, t.parent_id AS city_id
            FROM teams_grid g
            JOIN teams_region v ON v.id = g.village_id
            JOIN teams_region t ON t.id = v.parent_id
            WHERE t.parent_id IS NOT NULL
            """
        )
        cursor.execute("SELECT count(*) FROM bench_grid")
        (grids,) = cursor.fetchone()
        cursor.execute(
            "CREATE TEMP TABLE bench_status (n int, status text, stage text, level text)"
        )
        cursor.executemany(
            "INSERT INTO bench_status VALUES (%s, %s, %s, %s)",
            [(n, *row) for n, row in enumerate(STATUSES)],
        )
        cursor.execute(
            """
            INSERT INTO cases_case (
                number, tracking_code, source, address, description, contact_name,
                contact_phone, contact_email, status, level, status_before_suspension,
                priority, rework_count, version, rejection_reason, redirect, resolution_note,
                legal_instrument_number, satisfaction, resolved_level, filed_at, updated_at,
                city_id, grid_id, item_id, town_id, village_id, suspension_requested,
                rejection_code, public)
            SELECT 'BENCH-' || lpad(s::text, 8, '0'), 'BENCH' || lpad(s::text, 11, '0'),
                   'grid_worker', '', 'Benchmark case', '', '', '', st.status, st.level, '',
                   'normal', 0, 1, '', '', '', '', '', '',
                   %(now)s - (s %% 50000) * interval '1 minute', %(now)s,
                   bg.city_id, bg.grid_id, %(item)s, bg.town_id, bg.village_id, false, '', false
            FROM generate_series(1, %(n)s) AS s
            JOIN bench_grid bg ON bg.n = s %% %(grids)s
            JOIN bench_status st ON st.n = (s - 1) %% 5
            ORDER BY s
            """,
            {"now": now, "item": item.pk, "n": open_cases, "grids": grids},
        )
        # Every case's running clock: overdue for the chosen groups, days ahead for the rest.
        cursor.execute(
            """
            INSERT INTO cases_deadline (
                stage, amount, unit, yellow_at_percent, started_at, warn_at, due_at,
                postponed, case_id, case_filed_at)
            SELECT st.stage, 1, 'working_days', 80, c.filed_at,
                   d.due_at - interval '1 hour', d.due_at, false, c.id, c.filed_at
            FROM cases_case c
            JOIN bench_status st ON st.status = c.status
            CROSS JOIN LATERAL (
                SELECT CASE WHEN ((c.id - 1) / 5) %% %(spacing)s = 0
                    THEN %(now)s - (1 + c.id %% 60) * interval '1 minute'
                    ELSE %(now)s + (1 + c.id %% 30) * interval '1 day'
                END AS due_at
            ) d
            """,
            {"now": now, "spacing": spacing},
        )
        # History: the clock each case already met (screening), which the sweep never reads.
        cursor.execute(
            """
            INSERT INTO cases_deadline (
                stage, amount, unit, yellow_at_percent, started_at, warn_at, due_at,
                met_at, postponed, case_id, case_filed_at)
            SELECT 'screening', 30, 'natural_minutes', 80, c.filed_at,
                   c.filed_at + interval '24 minutes', c.filed_at + interval '30 minutes',
                   c.filed_at + interval '10 minutes', false, c.id, c.filed_at
            FROM cases_case c WHERE c.status <> 'filed'
            """
        )
        cursor.execute("DROP TABLE bench_grid, bench_status")
    return now


def _due_query(now: datetime, limit: int = 1000) -> tuple[str, list]:
    from cases.models import Deadline

    queryset = (
        Deadline.objects.filter(
            fired_at__isnull=True, met_at__isnull=True, paused_at__isnull=True, due_at__lte=now
        )
        .order_by("due_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def _explain(now: datetime) -> tuple[str, bool]:
    """The due-deadline query's plan (empty partitions folded) and whether it reads its rows
    through indexes (judged on the plan before folding)."""
    from django.db import connection

    sql, params = _due_query(now)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        lines = [row[0] for row in cursor.fetchall()]
    return _fold_partitions(lines), _reads_indexes(lines)


def _reads_indexes(lines: list[str]) -> bool:
    """Whether the plan reads the rows through indexes: a sequential scan may only pass over
    a partition too small for an index to pay (the planner's choice for an empty or nearly
    empty month), never one that reads as many rows as the claim's limit (1,000)."""
    for n, line in enumerate(lines):
        if "Seq Scan" not in line:
            continue
        read = int(re.search(r"rows=(\d+)", line).group(1))
        for detail in lines[n + 1 :]:
            if "->" in detail:
                break
            removed = re.search(r"Rows Removed by Filter: (\d+)", detail)
            read += int(removed.group(1)) if removed else 0
        if read >= 1000:
            return False
    return any("Index" in line for line in lines)


PARTITION_SCAN = re.compile(r"^(\s*)->  .* on cases_deadline_(\d{4}_\d{2}|default) ")


def _fold_partitions(lines: list[str]) -> str:
    """The plan with the scans of the partitions that gave no row folded into one line: ten
    years of months are 125 scans of an empty index range (cases.partitions)."""
    kept, folded, index = [], 0, 0
    while index < len(lines):
        line = lines[index]
        match = PARTITION_SCAN.match(line)
        if not match:
            kept.append(line)
            index += 1
            continue
        depth = len(match.group(1))
        end = index + 1
        while end < len(lines) and len(lines[end]) - len(lines[end].lstrip()) > depth:
            end += 1
        if "rows=0 " in line:
            folded += 1
        else:
            kept.extend(lines[index:end])
        index = end
        if folded and (index >= len(lines) or not PARTITION_SCAN.match(lines[index])):
            kept.append(
                f"{' ' * depth}->  ({folded} other partitions' index scans, no row in each)"
            )
            folded = 0
    return "\n".join(kept)


def _backend_cpu_seconds() -> float | None:
    """CPU time of the PostgreSQL backend serving this connection (None when the server is
    not on this machine): with the process's own CPU time, what one firing costs the cores."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _due_read() -> tuple[str, bool, float]:
    """The due-deadline read as the sweep makes it now: its plan, whether it reads indexes,
    and the time (ms) of one read of the first 1,000 due ids."""
    from django.utils import timezone

    from cases import sweep

    now = timezone.now()
    plan, index_used = _explain(now)
    started = time.perf_counter()
    sweep.due_deadline_ids(now=now, limit=1000)
    return plan, index_used, (time.perf_counter() - started) * 1000


def _idle_sweep() -> tuple[float, int]:
    """One sweep with nothing due: its time (ms) and statements. It must fire nothing."""
    from django.db import connection

    from cases import sweep

    idle = QueryCounter()
    with connection.execute_wrapper(idle):
        started = time.perf_counter()
        again = sweep.sweep()
        idle_ms = (time.perf_counter() - started) * 1000
    if again:
        raise AssertionError(f"A sweep with nothing due fired {again} deadlines")
    return idle_ms, idle.count


def measure(*, open_cases: int, due: int, profile: bool = False) -> Run:
    from django.db import connection

    from cases import sweep
    from cases.models import Deadline, Event

    print(f"Seeding {open_cases:,} open cases, {due:,} of them due ...", flush=True)
    started = time.perf_counter()
    seed(open_cases=open_cases, due=due)
    seed_seconds = time.perf_counter() - started
    print(f"  seeded in {seed_seconds:.1f} s", flush=True)

    plan, index_used, read_ms = _due_read()

    load_before = load_average()
    counter = QueryCounter()
    profiler = cProfile.Profile() if profile else None
    backend_before = _backend_cpu_seconds()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        cpu_started = time.process_time()
        if profiler:
            profiler.enable()
        fired = sweep.sweep()
        if profiler:
            profiler.disable()
        sweep_seconds = time.perf_counter() - started
        python_cpu = time.process_time() - cpu_started
    backend_after = _backend_cpu_seconds()
    database_cpu_ms = None
    if backend_before is not None and backend_after is not None and fired:
        database_cpu_ms = (backend_after - backend_before) / fired * 1000
    load = f"{load_before} / {load_average()}"
    print(f"  sweep fired {fired:,} in {sweep_seconds:.1f} s (load {load})", flush=True)

    idle_ms, idle_queries = _idle_sweep()

    fired_rows = Deadline.objects.filter(fired_at__isnull=False).count()
    events = Event.objects.count()
    if fired != due or fired_rows != due or events != due:
        raise AssertionError(f"Expected {due} firings and events: {fired}, {fired_rows}, {events}")
    text = ""
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        text = out.getvalue()
    return Run(
        open_cases=open_cases,
        due=due,
        seed_seconds=seed_seconds,
        plan=plan,
        # A partial index of running clocks in every month's partition, never the whole table.
        index_used=index_used,
        read_ms=read_ms,
        sweep_seconds=sweep_seconds,
        fired=fired,
        queries=counter.count,
        events=events,
        idle_ms=idle_ms,
        idle_queries=idle_queries,
        python_cpu_ms=python_cpu / fired * 1000 if fired else 0.0,
        database_cpu_ms=database_cpu_ms,
        load=load,
        profile=text,
    )


# The burst with real workers: the morning after a holiday.


@dataclass
class WorkerRun:
    history: int
    open_cases: int
    due: int
    workers: int
    concurrency: int
    sweep_seconds: float
    seed_seconds: float
    fired: int
    events: int
    duplicates: int
    latencies: list[float]
    all_fired_after: float
    progress: list[tuple[float, int]]
    drained_after: float | None
    rss_mib: dict[str, float] = field(default_factory=dict)
    load: str = ""
    # Blocks PostgreSQL read from outside its shared buffers, and found in them, during the
    # burst (this database's pg_stat_database): how cold the database was.
    blocks: tuple[int, int] | None = None

    @property
    def max_latency(self) -> float:
        return max(self.latencies) if self.latencies else float("inf")


def _rearm(*, due_at: datetime) -> int:
    """Make the overdue clocks of the seed fall due together at `due_at` (already warned, as
    their yellow light turned long before), so the burst starts on a clock, with workers up."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE cases_deadline SET due_at = %(due)s, warn_at = %(due)s - interval '1 hour',
                   warned_at = %(due)s - interval '1 hour'
            WHERE fired_at IS NULL AND met_at IS NULL AND paused_at IS NULL AND due_at <= now()
            """,
            {"due": due_at},
        )
        return cursor.rowcount


# Over a megacity's history (issue 22): the clocks of bench.pages' seed, not an empty log.


def _history(*, cases: int) -> tuple[float, int]:
    """Bench.pages' history of `cases` cases, kept when this database holds exactly that many
    (a pages run before, or --reuse), else seeded here; its clocks settled as a running
    deployment has them. Returns the seeding time (0 when kept) and its open cases."""
    from bench.pages import seed as seed_history
    from cases.models import OPEN_STATUSES, Case

    started = time.perf_counter()
    if Case.objects.count() == cases:
        print(f"Keeping the {cases:,} cases already seeded by bench.pages", flush=True)
        seed_seconds = 0.0
    else:
        print(f"Seeding a history of {cases:,} cases as bench.pages does ...", flush=True)
        seed_history(cases=cases)
        seed_seconds = time.perf_counter() - started
        print(f"  seeded in {seed_seconds:.1f} s", flush=True)
    _settle_history()
    return seed_seconds, Case.objects.filter(status__in=OPEN_STATUSES).count()


def _settle_history() -> None:
    """The seed's clocks as the beat would have left them: a light that turned yellow was
    warned when it turned; the overdue ones the seed fired. A clock that fell due while a
    long seed ran (they are due 2 to 86 hours after it began) moves a day ahead."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE cases_deadline SET warned_at = warn_at
            WHERE fired_at IS NULL AND met_at IS NULL AND paused_at IS NULL
              AND warned_at IS NULL AND warn_at <= now()
            """
        )
        cursor.execute(
            """
            UPDATE cases_deadline SET due_at = now() + interval '1 day',
                   warn_at = now(), warned_at = now()
            WHERE fired_at IS NULL AND met_at IS NULL AND paused_at IS NULL AND due_at <= now()
            """
        )


def _rearm_history(*, due_at: datetime, due: int) -> int:
    """Make `due` running clocks of the history fall due together at `due_at`: the clocks of
    open cases in the five kinds of firing (STATUSES), spread over their months and towns."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH kind AS (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[])
                          AS kind (status, stage, level)),
            chosen AS (
                SELECT d.id, d.case_filed_at FROM cases_deadline d
                JOIN cases_case c ON c.id = d.case_id
                JOIN kind k ON k.status = c.status AND k.stage = d.stage AND k.level = c.level
                WHERE d.fired_at IS NULL AND d.met_at IS NULL AND d.paused_at IS NULL
                  AND d.dispatch_id IS NULL
                ORDER BY d.id %% 97, d.id
                LIMIT %s
            )
            UPDATE cases_deadline d SET due_at = %s, warn_at = %s, warned_at = %s
            FROM chosen WHERE d.id = chosen.id AND d.case_filed_at = chosen.case_filed_at
            """,
            [*map(list, zip(*STATUSES, strict=True)), due, due_at]
            + [due_at - timedelta(hours=1)] * 2,
        )
        return cursor.rowcount


def measure_history_idle(*, cases: int) -> Run:
    """The idle sweep and the due-deadline read over the history: what every sweep costs a
    city with nothing due, which must not grow with the history."""
    from cases import sweep

    seed_seconds, open_cases = _history(cases=cases)
    plan, index_used, read_ms = _due_read()
    load_before = load_average()
    sweep.sweep()  # warm
    idle_ms, idle_queries = _idle_sweep()
    return Run(
        open_cases=open_cases,
        due=0,
        seed_seconds=seed_seconds,
        plan=plan,
        index_used=index_used,
        read_ms=read_ms,
        sweep_seconds=0.0,
        fired=0,
        queries=0,
        events=0,
        idle_ms=idle_ms,
        idle_queries=idle_queries,
        load=f"{load_before} / {load_average()}",
    )


def measure_workers(
    *,
    open_cases: int,
    due: int,
    workers: int,
    concurrency: int,
    history: int = 0,
    history_seed_seconds: float = 0.0,
    timeout: float = 600,
) -> WorkerRun:
    """Seed, start `workers` Celery workers and beat on Redis, make `due` clocks fall due at
    once and time how long after their due time each one fired. With `history`, the clocks are
    running ones of bench.pages' history of that many cases (seeded before, or kept)."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from cases.models import Deadline

    if history:
        seed_seconds = history_seed_seconds  # seeded (or kept) by measure_history_idle
    else:
        print(f"Seeding {open_cases:,} open cases for the worker run ...", flush=True)
        started = time.perf_counter()
        seed(open_cases=open_cases, due=due)
        seed_seconds = time.perf_counter() - started

    redis_url = os.environ["BENCH_REDIS_URL"]
    queue = f"whistle-bench-sweep-{os.getpid()}"
    purge_queue(redis_url, queue)
    env = server_env(
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=redis_url,
        WHISTLE_CELERY_QUEUE=queue,
        WHISTLE_VAR_DIR=str(var_dir()),
        WHISTLE_SWEEP_SECONDS=str(settings.WHISTLE_SWEEP_SECONDS),
        LOG_LEVEL="WARNING",
    )
    env.pop("WHISTLE_BROKER_DIR", None)
    schedule = var_dir() / "bench-beat-schedule"
    for stale in var_dir().glob("bench-beat-schedule*"):
        stale.unlink()
    servers = [
        celery_worker(name=f"bench-worker-{n + 1}", env=env, concurrency=concurrency)
        for n in range(workers)
    ]
    rss = PeakRss()
    with running(servers), rss:
        for server in servers:
            rss.watch("Celery worker", server.pid)
        for server in servers:
            wait_for_log(server, "ready.", timeout=120)
        # The burst's clocks are chosen and parked a day ahead first (choosing them reads the
        # whole history: 10 to 20 s at 20,000,000 cases), the beat is started and takes the
        # lead, and only then are they made due, a few seconds ahead: after a holiday the beat
        # is running when the clocks fall due. (Made due while choosing them, 10 s ahead, they
        # fell due before the beat had started, which the figures then counted.)
        parked = timezone.now() + timedelta(days=1)
        rearmed = _rearm_history(due_at=parked, due=due) if history else _rearm(due_at=parked)
        if rearmed != due:
            raise AssertionError(f"Expected {due} clocks to re-arm, found {rearmed}")
        # The burst's clocks and cases, so that what is read afterwards reads their rows only
        # (a history's log is hundreds of millions of events).
        burst_ids, burst_cases = map(
            list,
            zip(
                *_pending(parked).values_list("id", "case_id"),
                strict=True,
            ),
        )
        beat = Server(
            "bench-beat",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "whistle",
                "beat",
                "--loglevel=WARNING",
                "-s",
                str(schedule),
            ],
            env,
        )
        servers.append(beat)
        wait_for_log(beat, "took the lead", timeout=120)
        due_at = timezone.now() + timedelta(seconds=2)
        warned = due_at - timedelta(hours=1)  # their yellow light turned long before
        made_due = _pending(parked).update(due_at=due_at, warn_at=warned, warned_at=warned)
        if made_due != due:
            raise AssertionError(f"Expected {due} clocks to fall due, made {made_due}")
        load_before = load_average()
        blocks_before = _blocks()
        print(
            f"  {due:,} clocks fall due at {due_at:%H:%M:%S}; "
            f"{workers} workers x {concurrency} processes",
            flush=True,
        )
        pending = _pending(due_at)
        progress: list[tuple[float, int]] = []
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            left = pending.count()
            elapsed = (timezone.now() - due_at).total_seconds()
            progress.append((round(elapsed, 1), due - left))
            if left == 0:
                break
            time.sleep(1)
        all_fired_after = (timezone.now() - due_at).total_seconds()
        load = f"{load_before} / {load_average()}"
        blocks_after = _blocks()
        print(f"  all fired {all_fired_after:.1f} s after the due time (load {load})", flush=True)
        # The notifications and fact refreshes the firings queued: how long until none waits.
        drained_after = None
        while time.monotonic() < limit:
            if queue_depth(redis_url, queue) == 0:
                drained_after = (timezone.now() - due_at).total_seconds()
                break
            time.sleep(1)
        time.sleep(2)  # the last tasks finish; their workers' peak memory is sampled on exit

    with connection.cursor() as cursor:
        # When each firing happened: its event, written in the firing's transaction.
        cursor.execute(
            """
            SELECT extract(epoch FROM e.created_at - %(due_at)s)
            FROM cases_event e
            WHERE e.case_id = ANY(%(cases)s) AND e.actor_label = 'timer'
              AND (e.data->>'deadline')::bigint = ANY(%(ids)s)
            """,
            {"due_at": due_at, "cases": burst_cases, "ids": burst_ids},
        )
        latencies = [float(row[0]) for row in cursor.fetchall()]
        cursor.execute(
            """
            SELECT count(*) FROM (
                SELECT e.data->>'deadline' FROM cases_event e
                WHERE e.case_id = ANY(%(cases)s) AND e.actor_label = 'timer'
                  AND e.data ? 'deadline'
                GROUP BY 1 HAVING count(*) > 1) AS twice
            """,
            {"cases": burst_cases},
        )
        (duplicates,) = cursor.fetchone()
    fired = Deadline.objects.filter(id__in=burst_ids, fired_at__isnull=False).count()
    return WorkerRun(
        history=history,
        open_cases=open_cases,
        due=due,
        workers=workers,
        concurrency=concurrency,
        sweep_seconds=settings.WHISTLE_SWEEP_SECONDS,
        seed_seconds=seed_seconds,
        fired=fired,
        events=len(latencies),
        duplicates=duplicates,
        latencies=latencies,
        all_fired_after=all_fired_after,
        progress=progress,
        drained_after=drained_after,
        rss_mib=rss.mib(),
        load=load,
        blocks=(blocks_after[0] - blocks_before[0], blocks_after[1] - blocks_before[1]),
    )


def _pending(due_at: datetime):
    """The burst's clocks not fired yet, read from the sweep's own partial index of pending
    clocks (`deadline_pending_due`): without `paused_at` it could not be used, and counting
    them each second scanned every clock of the history (2 s a count at 20,000,000 cases, on
    the CPUs the burst is measured on)."""
    from cases.models import Deadline

    return Deadline.objects.filter(
        due_at=due_at, fired_at__isnull=True, met_at__isnull=True, paused_at__isnull=True
    )


def _blocks() -> tuple[int, int]:
    """This database's blocks read from outside PostgreSQL's shared buffers, and hit in them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT blks_read, blks_hit FROM pg_stat_database WHERE datname = current_database()"
        )
        read, hit = cursor.fetchone()
    return int(read), int(hit)


def _worker_section(run: WorkerRun) -> list[str]:
    met = run.fired == run.due == run.events and not run.duplicates and run.max_latency <= 60
    share = {f"{int(p * 100)}%": percentile(run.latencies, p) for p in (0.5, 0.95, 0.99)}
    marks = []
    for target in (0.25, 0.5, 0.75, 1.0):
        reached = next((t for t, n in run.progress if n >= run.due * target), None)
        if reached is not None:
            marks.append(f"{int(target * 100)}% by {reached:.0f} s")
    among = f"{run.open_cases:,} open cases" + (
        f" of a history of {run.history:,}" if run.history else ""
    )
    lines = [
        f"### {run.due:,} clocks due at once among {among}, {run.workers} Celery workers",
        "",
        f"The morning after a holiday: {run.due:,} clocks fall due at the same second among "
        f"{among} (the same five kinds of firing as below). "
        f"{run.workers} `celery worker` processes (`--concurrency={run.concurrency}`, as in "
        f"the Procfile) and `celery beat` (sweep every {run.sweep_seconds:g} s) run on Redis; "
        "the beat's sweep claims what is due and hands it to the workers in batches of "
        "100 deadlines. How long after its due time each clock fired is read from the event "
        "the firing wrote.",
        "",
        "| fired | events | fired twice | after due: p50 | p95 | p99 | max (all fired) "
        "| target | queued side tasks done | load before / after |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
        f"| {run.fired:,} | {run.events:,} | {run.duplicates} | {share['50%']:.1f} s "
        f"| {share['95%']:.1f} s | {share['99%']:.1f} s | {run.max_latency:.1f} s "
        f"| all within 60 s: **{'met' if met else 'MISSED'}** "
        f"({run.max_latency / 60:.2f} of the limit) "
        f"| {f'{run.drained_after:.0f} s' if run.drained_after is not None else 'not drained'} "
        f"| {run.load} |",
        "",
        f"Progress after the due time: {', '.join(marks)}. Peak resident memory of one "
        f"Celery worker process during the burst: "
        f"{run.rss_mib.get('Celery worker', 0):.0f} MiB. "
        + (
            f"Seeding took {run.seed_seconds:.0f} s."
            if run.seed_seconds
            else "The history was kept from the run before (bench.pages or --history)."
        ),
        "",
    ]
    if run.blocks is not None and run.fired:
        read, hit = run.blocks
        lines[-1:-1] = [
            f"Until the last firing PostgreSQL read {read:,} blocks ({read * 8 / 1024:,.0f} MiB) "
            f"from outside its shared buffers, {read / run.fired:,.0f} per firing, and found "
            f"{hit:,} in them ({hit / run.fired:,.0f} per firing; the sweeps, the side tasks "
            "and this benchmark's reads included).",
            "",
        ]
    return lines


def _section(runs: list[Run], burst: WorkerRun | None, info: dict[str, str], command: str) -> str:
    from django.utils import timezone

    largest = max(runs, key=lambda r: r.open_cases)
    lines = [
        SECTION,
        "",
        f"Command: `{command}` (scripts/bench.sh, `python -m bench.sweep`) on "
        f"{timezone.localtime():%Y-%m-%d %H:%M %Z}.",
        "",
        machine_line(info)
        + " The load average (1 min) before and after each run shows how much other work "
        "shared the machine.",
        "",
    ]
    if burst is not None:
        lines += _worker_section(burst)
    lines += [
        "### One sweep in one process: the cost follows what is due",
        "",
        "Each open case has one running clock due 1-30 days ahead and (past screening) one "
        "met clock; the due cases' clocks passed up to an hour ago, in equal parts screening "
        "and village handling (both whistle to the town: two dispatches, report-in and "
        "handling clocks), handling of dispatched and of in-progress cases (consultation "
        "requested) and town consultation (escalation to the city). One sweep runs in this "
        "process, firing batch after batch as one worker does; every firing writes its event "
        "and notifications, and each batch queues their delivery and the fact refresh once "
        "(to a filesystem broker in a temporary folder).",
        "",
        "| open cases | due | sweep | firings/s | queries/firing | CPU/firing: Python + "
        "PostgreSQL | due-rows read (1,000) | idle sweep after | seeding | load before / after |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in sorted(runs, key=lambda r: r.open_cases):
        lines.append(
            f"| {run.open_cases:,} | {run.due:,} | {run.sweep_seconds:.1f} s "
            f"| {run.per_second:,.0f} | {run.queries_per_firing:.1f} "
            f"| {run.python_cpu_ms:.1f} + "
            f"{f'{run.database_cpu_ms:.1f}' if run.database_cpu_ms is not None else '?'} ms "
            f"| {run.read_ms:.1f} ms "
            f"| {run.idle_ms:.1f} ms ({run.idle_queries} queries) | {run.seed_seconds:.0f} s "
            f"| {run.load} |"
        )
    smallest = min(runs, key=lambda r: r.open_cases)
    ratio = largest.sweep_seconds / smallest.sweep_seconds if smallest.sweep_seconds else 0
    lines += [
        "",
        f"With {largest.open_cases // smallest.open_cases}x the open cases and the same number "
        f"due, the sweep took {ratio:.2f}x the time: its cost follows what is due. An idle "
        f"sweep over {largest.open_cases:,} open cases costs {largest.idle_queries} queries.",
        "",
        f"The due-deadline query with {largest.open_cases:,} open cases "
        f"({'reads' if largest.index_used else 'does NOT read'} a partial index of running "
        "clocks in each month's partition, `deadline_pending_due` or "
        "`deadline_running_overdue`):",
        "",
        "```",
        largest.plan,
        "```",
        "",
    ]
    return "\n".join(lines)


HISTORY_SECTION = "## Timer sweep over a megacity's history"


def _history_section(
    idle: Run, burst: WorkerRun | None, info: dict[str, str], command: str, database: str
) -> str:
    from django.utils import timezone

    lines = [
        HISTORY_SECTION,
        "",
        f"Command: `{command}` (scripts/bench.sh, `python -m bench.sweep --history`) on "
        f"{timezone.localtime():%Y-%m-%d %H:%M %Z}.",
        "",
        machine_line(info),
        "",
        f"Over the history the pages are measured on (section \"Pages over a megacity's "
        f'history"): {burst.history if burst else idle.open_cases:,} cases seeded as bench.pages '
        f"seeds them, in the monthly partitions of ten years, of which {idle.open_cases:,} are "
        f"open; the database holds {database}. The clocks are as the beat would have left them "
        "(every yellow light warned, the overdue ones fired). The due clocks are running clocks "
        'of open cases in the five kinds of firing of the section "Timer sweep", spread over '
        "the open cases, made due together.",
        "",
        "| open cases | due-rows read (1,000) | idle sweep | seeding | load before / after |",
        "|---:|---:|---:|---:|---:|",
        f"| {idle.open_cases:,} | {idle.read_ms:.1f} ms "
        f"| {idle.idle_ms:.1f} ms ({idle.idle_queries} queries) "
        f"| {f'{idle.seed_seconds:.0f} s' if idle.seed_seconds else 'kept from the run before'} "
        f"| {idle.load} |",
        "",
    ]
    if burst is not None:
        lines += _worker_section(burst)
    lines += [
        "The due-deadline query over the history "
        f"({'reads' if idle.index_used else 'does NOT read'} a partial index of running clocks "
        "in each month's partition):",
        "",
        "```",
        idle.plan,
        "```",
        "",
    ]
    return "\n".join(lines)


def main_history(args) -> int:
    """--history: the idle sweep and the burst over bench.pages' history."""
    idle = measure_history_idle(cases=args.history)
    print(
        f"  idle sweep over {idle.open_cases:,} open cases: {idle.idle_ms:.1f} ms, "
        f"{idle.idle_queries} queries; due-rows read {idle.read_ms:.1f} ms",
        flush=True,
    )
    burst = measure_workers(
        open_cases=idle.open_cases,
        due=args.due,
        workers=args.workers,
        concurrency=args.concurrency,
        history=args.history,
        history_seed_seconds=idle.seed_seconds,
    )
    database = f"{database_bytes() / 2**30:,.1f} GiB"
    command = f"scripts/bench.sh sweep --history {args.history}" + (
        f" --due {args.due}" if args.due != 10_000 else ""
    )
    text = _history_section(idle, burst, machine(), command, database)
    print()
    print(text)
    met = (
        burst.fired == burst.due == burst.events
        and not burst.duplicates
        and burst.max_latency <= 60
        and idle.index_used
    )
    if not args.no_write:
        write_section(HISTORY_SECTION, text)
        print(f"Written to {DOC.relative_to(BASE_DIR)}")
        record_results(
            "sweep_history",
            {
                "cases": args.history,
                "due": burst.due,
                "workers": burst.workers,
                "max_after_due_s": round(burst.max_latency, 1),
                "fired": burst.fired,
                "duplicates": burst.duplicates,
                "idle_ms": round(idle.idle_ms, 1),
                "idle_queries": idle.idle_queries,
                "database": database,
                "target_met": met,
            },
        )
    return 0 if met else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--open",
        type=int,
        nargs="+",
        default=[1_000_000, 100_000],
        help="open case counts to measure (default: 1000000 100000)",
    )
    parser.add_argument("--due", type=int, default=10_000, help="due deadlines (default 10000)")
    parser.add_argument(
        "--burst-open",
        type=int,
        default=1_000_000,
        help="open cases of the run with real workers (default 1000000; 0 skips it)",
    )
    parser.add_argument("--workers", type=int, default=2, help="Celery workers (default 2)")
    parser.add_argument(
        "--concurrency", type=int, default=2, help="processes per worker (default 2)"
    )
    parser.add_argument("--profile", action="store_true", help="print the sweep's hot spots")
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="instead: the idle sweep and the burst over bench.pages' history of this many "
        f"cases, kept when the database holds it (make bench: {HISTORY_CASES:,})",
    )
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    broker_dir = tempfile.mkdtemp(prefix="whistle-bench-broker-")
    try:
        _prepare_environment(broker_dir)
        set_up(force=args.force)
        if args.history:
            return main_history(args)
        runs = [measure(open_cases=n, due=args.due, profile=args.profile) for n in args.open]
        burst = None
        if args.burst_open:
            burst = measure_workers(
                open_cases=args.burst_open,
                due=args.due,
                workers=args.workers,
                concurrency=args.concurrency,
            )
        info = machine()
    finally:
        shutil.rmtree(broker_dir, ignore_errors=True)

    text = _section(runs, burst, info, "make bench")
    print()
    print(text)
    for run in runs:
        if run.profile:
            print(f"Profile with {run.open_cases:,} open cases:\n{run.profile}")
    if not args.no_write:
        write_section(SECTION, text)
        print(f"Written to {DOC.relative_to(BASE_DIR)}")
    results = {
        "in_process": [
            {
                "open_cases": run.open_cases,
                "due": run.due,
                "seconds": round(run.sweep_seconds, 1),
                "firings_per_s": round(run.per_second, 1),
                "queries_per_firing": round(run.queries_per_firing, 1),
            }
            for run in runs
        ],
    }
    ok = all(run.index_used for run in runs)
    if burst is not None:
        met = (
            burst.fired == burst.due == burst.events
            and not burst.duplicates
            and burst.max_latency <= 60
        )
        results["burst"] = {
            "open_cases": burst.open_cases,
            "due": burst.due,
            "workers": burst.workers,
            "concurrency": burst.concurrency,
            "max_after_due_s": round(burst.max_latency, 1),
            "p95_after_due_s": round(percentile(burst.latencies, 0.95), 1),
            "fired": burst.fired,
            "duplicates": burst.duplicates,
            "celery_rss_mib": round(burst.rss_mib.get("Celery worker", 0)),
            "target_met": met,
        }
        ok = ok and met
    if not args.no_write:
        record_results("sweep", results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
