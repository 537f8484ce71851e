"""Timer sweep benchmark: the sweep costs what is due, not what is open (DESIGN.md section 10).

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
import platform
import pstats
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/whistle_bench"
BASE_DIR = Path(__file__).resolve().parent.parent
DOC = BASE_DIR / "docs" / "benchmarks.md"
SECTION = "## Timer sweep"

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
    os.environ.pop("REDIS_URL", None)
    os.environ["WHISTLE_BROKER_DIR"] = broker_dir
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def _ensure_database(url: str, *, force: bool) -> None:
    """Create the benchmark database when it does not exist yet."""
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    options = dj_database_url.parse(url)
    if "postgresql" not in options["ENGINE"]:
        sys.exit(f"The sweep benchmark needs PostgreSQL; DATABASE_URL is {url!r}.")
    if "bench" not in options["NAME"] and not force:
        sys.exit(
            f"The benchmark empties the case tables of {options['NAME']!r}. Name a database "
            "with 'bench' in its name, or pass --force if that is really what you want."
        )
    connection = psycopg2.connect(
        dbname="postgres",
        user=options.get("USER") or None,
        password=options.get("PASSWORD") or None,
        host=options.get("HOST") or None,
        port=options.get("PORT") or None,
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [options["NAME"]])
            if cursor.fetchone() is None:
                print(f"Creating database {options['NAME']}")
                cursor.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(options["NAME"]))
                )
    finally:
        connection.close()


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
    load: str = ""
    profile: str = ""

    @property
    def per_second(self) -> float:
        return self.fired / self.sweep_seconds if self.sweep_seconds else 0.0

    @property
    def queries_per_firing(self) -> float:
        return self.queries / self.fired if self.fired else 0.0


def _load_average() -> str:
    """The 1-minute load average: other work on the machine slows every figure down."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


class QueryCounter:
    """Counts the statements Django sends, without keeping them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def seed(*, open_cases: int, due: int) -> datetime:
    """Empty the case tables and seed `open_cases` open cases, `due` of them overdue."""
    from django.db import connection, transaction
    from django.utils import timezone

    from checklists.models import Item

    if due % len(STATUSES) or open_cases % due:
        raise ValueError(f"due must divide open_cases and be a multiple of {len(STATUSES)}")
    item = Item.objects.get(code="SAN-01")
    now = timezone.now()
    # A group of five consecutive cases (one per status) is overdue every `spacing` groups.
    spacing = open_cases // due
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(
            "TRUNCATE cases_case, cases_deadline, cases_event, cases_dispatch, "
            "cases_notification, cases_casesequence RESTART IDENTITY CASCADE"
        )
        # Building an index once over all rows is much faster than growing it row by row:
        # the secondary indexes are dropped and made again after the load (same transaction).
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename IN ('cases_case', 'cases_deadline')
              AND NOT EXISTS (
                SELECT 1 FROM pg_constraint c
                WHERE c.conindid = (quote_ident(i.schemaname) || '.' ||
                                    quote_ident(i.indexname))::regclass)
            """
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
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
                city_id, grid_id, item_id, town_id, village_id)
            SELECT 'BENCH-' || lpad(s::text, 8, '0'), 'BENCH' || lpad(s::text, 11, '0'),
                   'grid_worker', '', 'Benchmark case', '', '', '', st.status, st.level, '',
                   'normal', 0, 1, '', '', '', '', '', '',
                   %(now)s - (s %% 50000) * interval '1 minute', %(now)s,
                   bg.city_id, bg.grid_id, %(item)s, bg.town_id, bg.village_id
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
                postponed, case_id)
            SELECT st.stage, 1, 'working_days', 80, c.filed_at,
                   d.due_at - interval '1 hour', d.due_at, false, c.id
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
                met_at, postponed, case_id)
            SELECT 'screening', 30, 'natural_minutes', 80, c.filed_at,
                   c.filed_at + interval '24 minutes', c.filed_at + interval '30 minutes',
                   c.filed_at + interval '10 minutes', false, c.id
            FROM cases_case c WHERE c.status <> 'filed'
            """
        )
        cursor.execute("DROP TABLE bench_grid, bench_status")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the deferred foreign keys now
        for _name, definition in indexes:
            cursor.execute(definition)
    # SET LOCAL ended with the transaction: the sweep commits as in production.
    with connection.cursor() as cursor:
        for table in ("cases_case", "cases_deadline", "cases_event", "cases_notification"):
            cursor.execute(f"VACUUM ANALYZE {table}")
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


def _explain(now: datetime) -> str:
    from django.db import connection

    sql, params = _due_query(now)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def measure(*, open_cases: int, due: int, profile: bool = False) -> Run:
    from django.db import connection
    from django.utils import timezone

    from cases import timers
    from cases.models import Deadline, Event

    print(f"Seeding {open_cases:,} open cases, {due:,} of them due ...", flush=True)
    started = time.perf_counter()
    seed(open_cases=open_cases, due=due)
    seed_seconds = time.perf_counter() - started
    print(f"  seeded in {seed_seconds:.1f} s", flush=True)

    now = timezone.now()
    plan = _explain(now)
    started = time.perf_counter()
    timers.due_deadline_ids(now=now, limit=1000)
    read_ms = (time.perf_counter() - started) * 1000

    load_before = _load_average()
    counter = QueryCounter()
    profiler = cProfile.Profile() if profile else None
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        fired = timers.sweep()
        if profiler:
            profiler.disable()
        sweep_seconds = time.perf_counter() - started
    load = f"{load_before} / {_load_average()}"
    print(f"  sweep fired {fired:,} in {sweep_seconds:.1f} s (load {load})", flush=True)

    idle = QueryCounter()
    with connection.execute_wrapper(idle):
        started = time.perf_counter()
        again = timers.sweep()
        idle_ms = (time.perf_counter() - started) * 1000
    if again:
        raise AssertionError(f"The second sweep fired {again} deadlines")

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
        index_used="deadline_pending_due" in plan,
        read_ms=read_ms,
        sweep_seconds=sweep_seconds,
        fired=fired,
        queries=counter.count,
        events=events,
        idle_ms=idle_ms,
        idle_queries=idle.count,
        load=load,
        profile=text,
    )


def _machine() -> dict[str, str]:
    from django.db import connection

    cpu = "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg_version,) = cursor.fetchone()
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "postgresql": pg_version,
        "python": platform.python_version(),
    }


def _section(runs: list[Run], machine: dict[str, str], command: str) -> str:
    from django.utils import timezone

    largest = max(runs, key=lambda r: r.open_cases)
    lines = [
        SECTION,
        "",
        f"Command: `{command}` (scripts/bench.sh, `python -m bench.sweep`) on "
        f"{timezone.localtime():%Y-%m-%d %H:%M %Z}.",
        "",
        f"Machine: {machine['cpus']} CPUs ({machine['cpu']}), {machine['memory']} memory, "
        f"PostgreSQL {machine['postgresql']}, Python {machine['python']}; the database on "
        "the same machine. The load average (1 min) before and after each sweep shows how "
        "much other work shared the machine.",
        "",
        "Each open case has one running clock due 1-30 days ahead and (past screening) one "
        "met clock; the due cases' clocks passed up to an hour ago, in equal parts screening "
        "(overdue event), village handling (whistle to the town: dispatches, report-in and "
        "handling clocks), handling of dispatched and of in-progress cases (consultation "
        "requested) and town consultation (escalation to the city). One sweep runs in one "
        "process, as the Celery task does; every firing writes its event and notifications "
        "and queues their delivery (to a filesystem broker in a temporary folder).",
        "",
        "| open cases | due | sweep | firings/s | queries/firing | due-rows read (1,000) "
        "| idle sweep after | seeding | load before / after |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in sorted(runs, key=lambda r: r.open_cases):
        lines.append(
            f"| {run.open_cases:,} | {run.due:,} | {run.sweep_seconds:.1f} s "
            f"| {run.per_second:,.0f} | {run.queries_per_firing:.1f} | {run.read_ms:.1f} ms "
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
        f"({'reads' if largest.index_used else 'does NOT read'} the partial index "
        "`deadline_pending_due`):",
        "",
        "```",
        largest.plan,
        "```",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str, path: Path = DOC) -> None:
    """Replace the "Timer sweep" section of the benchmarks page, or add it."""
    if path.exists():
        current = path.read_text()
    else:
        current = "# Benchmarks\n\nFigures written by `make bench`; see DESIGN.md section 10.\n\n"
    # The section runs from its own heading line to the next "## " heading or the end.
    section = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if section.search(current):
        current = section.sub(lambda _match: text.rstrip("\n") + "\n\n", current, count=1)
    else:
        current = current.rstrip("\n") + "\n\n" + text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(current.rstrip("\n") + "\n")


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
    parser.add_argument("--profile", action="store_true", help="print the sweep's hot spots")
    parser.add_argument("--no-write", action="store_true", help="do not touch the docs")
    parser.add_argument(
        "--force", action="store_true", help="run on a database without 'bench' in its name"
    )
    args = parser.parse_args(argv)

    broker_dir = tempfile.mkdtemp(prefix="whistle-bench-broker-")
    try:
        _prepare_environment(broker_dir)
        _ensure_database(os.environ["DATABASE_URL"], force=args.force)
        import django

        django.setup()
        from django.core.management import call_command

        from teams.demo import build_demo_city

        call_command("migrate", verbosity=0)
        build_demo_city()
        runs = [measure(open_cases=n, due=args.due, profile=args.profile) for n in args.open]
        machine = _machine()
    finally:
        shutil.rmtree(broker_dir, ignore_errors=True)

    text = _section(runs, machine, "make bench")
    print()
    print(text)
    for run in runs:
        if run.profile:
            print(f"Profile with {run.open_cases:,} open cases:\n{run.profile}")
    if not args.no_write:
        write_section(text)
        print(f"Written to {DOC.relative_to(BASE_DIR)}")
    return 0 if all(run.index_used for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
