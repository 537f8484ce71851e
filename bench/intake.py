"""Whistle intake benchmark: whistles filed through the API per second, against a ceiling.

    python -m bench.intake                       # steps 2 4 8 16 32 64, 25 s each
    python -m bench.intake --steps 8 16 --seconds 10 --no-write

Against PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/whistle_bench;
created and migrated when missing; its case tables are emptied, so its name must contain
"bench" unless --force) and Redis (REDIS_URL, default redis://127.0.0.1:6379/14) with its own
Celery queue (WHISTLE_CELERY_QUEUE, default whistle-bench-intake). It builds the demo city,
gives every grid worker an API token, starts real gunicorn (settings bench.settings) and one
Celery worker, and runs the load generator (bench.loadgen, an asyncio process) at each
concurrency step against

- the whistle API, POST /api/cases/: valid whistles of every grid worker in their own grid,
  at random places and items, each with a fresh Idempotency-Key, and
- the ceiling, POST /bench/ceiling/: one row into a one-table model through the same server,
  middleware, token authentication and permission (bench.ceiling; only bench.settings has it),
- django-helpdesk's ticket creation, POST /api/tickets/ (issue 22's comparison; --no-helpdesk
  leaves it out): django-helpdesk in the benchmark's own virtualenv (var/bench/helpdesk-venv,
  made by bench.helpdesk, never the product's), its own database (DATABASE_URL's name plus
  "_helpdesk") on the same server, its own gunicorn with the same settings, as many staff
  members with tokens as there are grid workers.

Before timing it waits for a quiet machine: a 1-minute load average below 1.5, polled every
10 s for at most --quiet-wait seconds (15 minutes by default).

Afterwards it checks that nothing was lost or doubled: the cases in the database are exactly
the ids of the 2xx answers, each with its filing event, screening clock, notifications and
idempotency claim; the Celery worker consumed every queued delivery (queue empty, every mail
sent); the ceiling's rows and django-helpdesk's tickets (each with its follow-up and mail) are
exactly the ids of their 2xx answers. The figures replace the "Whistle intake" section of
docs/benchmarks.md, with the best rates side by side and the ratios issue 22 sets goals for.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import helpdesk
from bench.common import (
    BASE_DIR,
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    DOC,
    PeakRss,
    add_common_arguments,
    celery_worker,
    ensure_database,
    gunicorn,
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
    wait_for_http,
    wait_for_log,
    write_section,
)
from bench.loadgen import whistle_body

SECTION = "## Whistle intake"
SETTINGS = "bench.settings"
DEFAULT_QUEUE = "whistle-bench-intake"
WHISTLE_PATH = "/api/cases/"
CEILING_PATH = "/bench/ceiling/"
PATHS = {"whistle": WHISTLE_PATH, "ceiling": CEILING_PATH, "helpdesk": helpdesk.PATH}
# Which server's processes a step's endpoint runs in: its "web CPU".
WEB = {"whistle": "gunicorn", "ceiling": "gunicorn", "helpdesk": "helpdesk"}
TARGET_PER_SECOND = 300
TARGET_RATIO = 0.6
# Issue 22: whistles/s at least 2.5 times django-helpdesk's tickets/s, and 35% of the ceiling.
GOAL_VS_HELPDESK = 2.5
GOAL_VS_CEILING = 0.35
QUIET_LOAD = 1.5
# Not counted as statements of a request.
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


@dataclass
class Step:
    kind: str  # "whistle", "ceiling" or "helpdesk"
    concurrency: int
    seconds: float
    ok: int
    errors: int
    elapsed: float
    p50: float
    p95: float
    p99: float
    load: str
    ids: list[int] = field(default_factory=list, repr=False)
    error_samples: list[str] = field(default_factory=list, repr=False)
    # CPU milliseconds per successful request of each server process tree.
    cpu_ms: dict[str, float] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return self.ok + self.errors

    @property
    def per_second(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0


def _prepare_environment() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.setdefault("WHISTLE_CELERY_QUEUE", DEFAULT_QUEUE)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def reset() -> None:
    """Empty the case tables, the idempotency claims and the ceiling's table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE cases_case, cases_deadline, cases_event, cases_dispatch, "
            "cases_notification, cases_casesequence, cases_idempotencykey, "
            "bench_ceiling_ping RESTART IDENTITY CASCADE"
        )


def filers() -> list[dict[str, Any]]:
    """Every grid worker of the demo city with an API token and the box of their grid."""
    from datetime import timedelta

    from knox.models import AuthToken

    from teams.models import Membership, Role

    rows = []
    memberships = Membership.objects.filter(
        role=Role.GRID_WORKER, grid__isnull=False, user__is_active=True
    ).select_related("grid", "user")
    for membership in memberships.order_by("pk"):
        # a day is enough for a run; expired tokens are cleaned up by knox
        _instance, token = AuthToken.objects.create(user=membership.user, expiry=timedelta(days=1))
        grid = membership.grid
        rows.append(
            {
                "token": token,
                "grid": grid.pk,
                # A margin inside the box: a point on an edge may belong to the neighbour.
                "box": [
                    grid.min_lat + (grid.max_lat - grid.min_lat) * 0.02,
                    grid.max_lat - (grid.max_lat - grid.min_lat) * 0.02,
                    grid.min_lng + (grid.max_lng - grid.min_lng) * 0.02,
                    grid.max_lng - (grid.max_lng - grid.min_lng) * 0.02,
                ],
            }
        )
    if not rows:
        raise RuntimeError("The demo city has no grid workers")
    return rows


def item_ids() -> list[int]:
    from checklists.models import Item

    return list(Item.objects.filter(active=True, whistleable=True).values_list("pk", flat=True))


def _post_in_process(client: Any, path: str, body: dict[str, Any]) -> int:
    """POST through the whole stack in this process; the id of what was created."""
    response = client.post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    if response.status_code != 201:
        raise RuntimeError(f"{path}: {response.status_code} {response.content[:500]!r}")
    return response.json()["id"]


def statements_per_request(*, filer: dict[str, Any], items: list[int]) -> dict[str, Any]:
    """Statements sent by one whistle and one ceiling request through the whole stack (the
    test client in this process, after one warm-up request each), not counting BEGIN and
    COMMIT; returns what they created."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {filer['token']}")
    counts: dict[str, int] = {}
    ids: dict[str, list[int]] = {"whistle": [], "ceiling": []}
    for kind, path in (("whistle", WHISTLE_PATH), ("ceiling", CEILING_PATH)):
        for attempt in range(2):
            if kind == "whistle":
                min_lat, max_lat, min_lng, max_lng = filer["box"]
                body = {
                    # The same item twice: the second finds it in the process's copy.
                    "item": items[0],
                    "description": f"Rubbish piled up beside the road (count {attempt})",
                    "grid": filer["grid"],
                    "latitude": (min_lat + max_lat) / 2,
                    "longitude": (min_lng + max_lng) / 2 + attempt * 0.001,
                    "address": "",
                }
            else:
                body = {"note": f"count {attempt}"}
            with CaptureQueriesContext(connection) as queries:
                ids[kind].append(_post_in_process(client, path, body))
            counts[kind] = sum(
                1
                for query in queries.captured_queries
                if query["sql"].split(None, 1)[0].upper() not in TRANSACTION_CONTROL
            )
    return {"counts": counts, "ids": ids}


def _process_cpu_seconds(pid: int, *, reaped: bool = False) -> float | None:
    """User + system CPU of one process so far, or None where /proc does not show it (a
    process that ended, or a database on another machine); with `reaped`, plus the CPU of its
    children that ended and that it waited for."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _least_statement_ms(count: int) -> float:
    """The Python CPU of the cheapest ORM write here: one row into the ceiling's table, `count`
    times in a transaction rolled back afterwards (the ceiling's rows are checked later)."""
    from django.db import transaction

    from bench.ceiling.models import Ping

    with transaction.atomic():
        started = time.process_time()
        for number in range(count):
            Ping.objects.create(note=f"least {number}")
        spent = time.process_time() - started
        transaction.set_rollback(True)
    return round(spent * 1000 / count, 3)


def cost_per_request(
    *, people: list[dict[str, Any]], items: list[int], requests: int
) -> dict[str, Any]:
    """The CPU each request needs at the least: one after the other in this process (no HTTP
    server, no load generator), the Python time of this process and the time of its PostgreSQL
    backend, per request of each endpoint, and the Python of the cheapest ORM statement.
    Returns the figures and the ids it created."""
    from django.db import connection
    from django.test import Client

    clients = [(person, Client(HTTP_AUTHORIZATION=f"Token {person['token']}")) for person in people]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    figures: dict[str, Any] = {"requests": requests}
    ids: dict[str, list[int]] = {"whistle": [], "ceiling": []}
    for kind, path in (("ceiling", CEILING_PATH), ("whistle", WHISTLE_PATH)):
        python_start = time.process_time()
        database_start = _process_cpu_seconds(backend)
        for number in range(requests):
            person, client = clients[number % len(clients)]
            serial = f"alone-{uuid.uuid4().hex}"
            # The bodies the load generator sends.
            body = whistle_body(person, items, serial) if kind == "whistle" else {"note": serial}
            ids[kind].append(_post_in_process(client, path, body))
        python_ms = (time.process_time() - python_start) * 1000 / requests
        database_end = _process_cpu_seconds(backend)
        database_ms = (
            (database_end - database_start) * 1000 / requests
            if database_start is not None and database_end is not None
            else None
        )
        figures[kind] = {"python_ms": round(python_ms, 2), "postgres_ms": database_ms}
    figures["statement_python_ms"] = _least_statement_ms(requests)
    return {"figures": figures, "ids": ids}


def budget_line(
    *, cost: dict[str, Any], statements: dict[str, int], best_ceiling: float, cpus: int
) -> str:
    """What the targets leave per whistle on this machine, against what a whistle needs."""
    whistle = cost["whistle"]
    ceiling = cost["ceiling"]
    if whistle["postgres_ms"] is None or not best_ceiling:
        return (
            f"CPU a request needs at the least (one process, no HTTP, {cost['requests']:,} "
            f"each): whistle {whistle['python_ms']:.2f} ms of Python, ceiling "
            f"{ceiling['python_ms']:.2f} ms (PostgreSQL's share could not be read)."
        )
    needs = whistle["python_ms"] + whistle["postgres_ms"]
    ratio_budget = cpus * 1000 / (TARGET_RATIO * best_ceiling)
    rate_budget = cpus * 1000 / TARGET_PER_SECOND
    ceiling_alone = ceiling["python_ms"] + ceiling["postgres_ms"]
    overhead = max(cpus * 1000 / best_ceiling - ceiling_alone, 0.0)
    python_left = ratio_budget - whistle["postgres_ms"] - overhead
    extra = statements["whistle"] - statements["ceiling"]
    return (
        f"CPU a request needs at the least, one after the other in one process without HTTP "
        f"server or load generator ({cost['requests']:,} each; the process's Python and its "
        f"PostgreSQL backend): whistle {whistle['python_ms']:.2f} + "
        f"{whistle['postgres_ms']:.2f} = **{needs:.2f} ms**, ceiling "
        f"{ceiling['python_ms']:.2f} + {ceiling['postgres_ms']:.2f} = "
        f"{ceiling_alone:.2f} ms. On {cpus} CPUs, "
        f"{TARGET_RATIO:.0%} of the ceiling ({TARGET_RATIO * best_ceiling:,.0f} whistles/s) "
        f"leaves at most **{ratio_budget:.2f} ms** of CPU per whistle for everything (server, "
        f"database, load generator), and {TARGET_PER_SECOND} whistles/s at most "
        f"**{rate_budget:.2f} ms**: a whistle needs {needs / ratio_budget:.1f}x and "
        f"{needs / rate_budget:.1f}x what they leave before any HTTP is served; PostgreSQL's "
        f"share alone is {whistle['postgres_ms'] / ratio_budget:.0%} of the first. With that "
        f"share and the share of HTTP and the load generator seen on the ceiling "
        f"({overhead:.2f} ms: {cpus} CPUs over its best rate, minus what it needs alone), the "
        f"first leaves **{python_left:.2f} ms** for all of a whistle's Python, against "
        f"{ceiling['python_ms']:.2f} ms for the one-row insert's and "
        f"{whistle['python_ms']:.2f} ms measured. The cheapest ORM statement costs "
        f"{cost['statement_python_ms']:.3f} ms of Python here (one row into the ceiling's table, "
        f"{cost['requests']:,} times), so the {extra} statements a whistle sends beyond the "
        f"ceiling's need about {extra * cost['statement_python_ms']:.2f} ms more Python on "
        "their own."
    )


def wait_for_drain(redis_url: str, queue: str, *, timeout: float) -> float:
    """Wait until the worker has consumed the queue; returns the seconds it took."""
    started = time.monotonic()
    while queue_depth(redis_url, queue):
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"The Celery queue {queue} still holds messages after {timeout} s")
        time.sleep(0.2)
    return time.monotonic() - started


def wait_for_quiet(
    *, below: float, timeout: float, interval: float = 10, what: str = "measuring"
) -> dict[str, Any]:
    """Wait until the 1-minute load average is below `below` (other engineers' work on the
    machine slows every figure down), polling every `interval` s for at most `timeout` s.
    Returns the load seen at the end, the seconds waited and whether it was quiet."""
    started = time.monotonic()
    while True:
        load = load_average()
        waited = time.monotonic() - started
        try:
            quiet = float(load) < below
        except ValueError:
            quiet = True  # no /proc/loadavg: nothing to wait for
        if quiet or waited >= timeout:
            state = "quiet" if quiet else f"NOT quiet after {waited:.0f} s, going on"
            print(f"Load {load} before {what} ({state}; waited {waited:.0f} s)", flush=True)
            return {"load": load, "waited": round(waited), "quiet": quiet}
        print(f"  load {load} >= {below}, waiting before {what} ({waited:.0f} s)", flush=True)
        time.sleep(interval)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants so far: the live ones and those
    that ended. gunicorn replaces a worker after max_requests (gunicorn.conf.py), and the CPU of
    the one it replaced moves to the master's reaped children's time, so it is not lost (only
    counting live processes made a step with a replacement look cheaper, even negative)."""
    from bench.common import _tree

    return sum(_process_cpu_seconds(member, reaped=True) or 0.0 for member in _tree(pid))


def run_step(
    *,
    kind: str,
    concurrency: int,
    seconds: float,
    base_url: str,
    spec_extra: dict[str, Any],
    label: str,
    workdir: str,
    watched: dict[str, int],
) -> Step:
    """One load generator process at `concurrency` for `seconds` against one endpoint."""
    spec = {
        "kind": kind,
        "base_url": base_url,
        "path": PATHS[kind],
        "concurrency": concurrency,
        "seconds": seconds,
        "label": label,
        "seed": label,
        **spec_extra,
    }
    spec_path = os.path.join(workdir, f"{label}.spec.json")
    result_path = os.path.join(workdir, f"{label}.result.json")
    with open(spec_path, "w") as handle:
        json.dump(spec, handle)
    load = load_average()
    cpu_before = {name: cpu_seconds(pid) for name, pid in watched.items()}
    subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "bench.loadgen", spec_path, result_path],
        cwd=BASE_DIR,
        check=True,
        timeout=seconds + 180,
    )
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in watched.items()}
    with open(result_path) as handle:
        result = json.load(handle)
    latencies = result["latencies_ms"]
    errors = sum(result["statuses"].values()) + result["transport_errors"] + result["bad_bodies"]
    step = Step(
        kind=kind,
        concurrency=concurrency,
        seconds=seconds,
        ok=len(latencies),
        errors=errors,
        elapsed=result["elapsed"],
        p50=percentile(latencies, 0.50),
        p95=percentile(latencies, 0.95),
        p99=percentile(latencies, 0.99),
        load=f"{load} / {load_average()}",
        ids=result["ids"],
        error_samples=result["error_samples"],
        cpu_ms={name: seconds * 1000 / max(len(latencies), 1) for name, seconds in cpu.items()},
    )
    print(
        f"  {kind:7} c={concurrency:3}: {step.ok:6,} ok, {step.errors} errors, "
        f"{step.per_second:6.0f}/s, p50 {step.p50:.0f} ms, p95 {step.p95:.0f} ms, "
        f"p99 {step.p99:.0f} ms (load {step.load}); CPU ms/request "
        + ", ".join(f"{name} {ms:.1f}" for name, ms in step.cpu_ms.items()),
        flush=True,
    )
    for sample in step.error_samples[:5]:
        print(f"    {sample}", flush=True)
    return step


def verify(
    *, whistle_ids: list[int], ceiling_ids: list[int], celery_log: str
) -> tuple[list[str], dict[str, Any]]:
    """What the database and the worker hold after the runs, against the 2xx answers.
    Returns the problems (none when all is well) and the counts."""
    from django.db.models import Q

    from bench.ceiling.models import Ping
    from cases.models import Case, Deadline, Delivery, Event, IdempotencyKey, Notification

    problems = []
    case_ids = set(Case.objects.values_list("pk", flat=True))
    answered = set(whistle_ids)
    if len(answered) != len(whistle_ids):
        problems.append(f"{len(whistle_ids) - len(answered)} whistle ids answered twice")
    if case_ids != answered:
        problems.append(
            f"{len(case_ids)} cases in the database for {len(answered)} 2xx whistle answers "
            f"({len(case_ids - answered)} unanswered, {len(answered - case_ids)} missing)"
        )
    cases = len(case_ids)
    checks = {
        "filing events": Event.objects.filter(action="file").count(),
        "screening clocks": Deadline.objects.filter(stage="screening").count(),
        "idempotency claims": IdempotencyKey.objects.filter(case__isnull=False)
        .values("case")
        .distinct()
        .count(),
    }
    for name, count in checks.items():
        if count != cases:
            problems.append(f"{count} {name} for {cases} cases")
    unnotified = Case.objects.exclude(pk__in=Notification.objects.values("case_id")).count()
    if unnotified:
        problems.append(f"{unnotified} cases without a notification")
    unmailed = Notification.objects.filter(
        ~Q(recipient__email=""), recipient__is_active=True, emailed_at__isnull=True
    ).count()
    if unmailed:
        problems.append(f"{unmailed} notifications not mailed by the worker")
    pings = set(Ping.objects.values_list("pk", flat=True))
    if pings != set(ceiling_ids) or len(ceiling_ids) != len(pings):
        problems.append(f"{len(pings)} ceiling rows for {len(ceiling_ids)} 2xx ceiling answers")
    succeeded = celery_log.count("succeeded in")
    failed = celery_log.count("raised unexpected") + celery_log.count("Traceback")
    if failed:
        problems.append(f"{failed} Celery task failures in the worker log")
    counts = {
        "cases": cases,
        "ceiling_rows": len(pings),
        "notifications": Notification.objects.count(),
        "mailed": Notification.objects.filter(emailed_at__isnull=False).count(),
        "tasks_succeeded": succeeded,
        "possible_duplicates": Case.objects.filter(possible_duplicate_of__isnull=False).count(),
        # Mail deliveries the worker skipped because the recipient has no address: then the
        # whistle sent no mail at all (django-helpdesk's tickets each write one).
        "skipped_no_address": Delivery.objects.filter(
            channel="mail", status="skipped", skip_reason="no_address"
        ).count(),
        **checks,
    }
    return problems, counts


def duplicate_plan() -> str:
    """EXPLAIN of the duplicate-nearby query for a new whistle in the busiest grid."""
    from django.db import connection
    from django.utils import timezone

    from cases.models import Case
    from cases.screening import nearby_candidates

    sample = Case.objects.filter(latitude__isnull=False).order_by("-pk").first()
    if sample is None:
        return "(no case with a location)"
    queryset = nearby_candidates(
        item=sample.item, latitude=sample.latitude, longitude=sample.longitude, now=timezone.now()
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def web_cpu_ms(step: Step) -> float:
    """CPU per successful request of the server that served the step's endpoint."""
    return step.cpu_ms.get(WEB[step.kind], 0.0)


def worker_cpu_ms(step: Step) -> float:
    """The Celery worker's CPU per request: Whistle's after-commit work (helpdesk has none)."""
    return step.cpu_ms.get("celery", 0.0) if step.kind == "whistle" else 0.0


def _row(step: Step) -> str:
    return (
        f"| {step.concurrency} | {step.kind} | {step.requests:,} | {step.errors} "
        f"| {step.per_second:,.0f} | {step.p50:.0f} ms | {step.p95:.0f} ms | {step.p99:.0f} ms "
        f"| {web_cpu_ms(step):.1f} ms | {step.cpu_ms.get('celery', 0):.1f} ms "
        f"| {step.load} |"
    )


def best(steps: list[Step], kind: str) -> Step | None:
    """The step of `kind` with the highest rate of successful requests."""
    return max((s for s in steps if s.kind == kind), key=lambda s: s.per_second, default=None)


def comparison(steps: list[Step]) -> dict[str, Any]:
    """Best sustained rates of the three endpoints, the ratios and the CPU per request (the
    mean over all steps of each endpoint) that issue 22 asks about."""
    figures: dict[str, Any] = {}
    for kind in ("whistle", "ceiling", "helpdesk"):
        top = best(steps, kind)
        if top is None:
            continue
        own = [s for s in steps if s.kind == kind]
        figures[kind] = {
            "per_s": round(top.per_second, 1),
            "clients": top.concurrency,
            "p95_ms": round(top.p95, 1),
            "web_cpu_ms": round(sum(web_cpu_ms(s) for s in own) / len(own), 2),
            "all_cpu_ms": round(sum(web_cpu_ms(s) + worker_cpu_ms(s) for s in own) / len(own), 2),
        }
    whistle = figures.get("whistle", {}).get("per_s", 0.0)
    ceiling = figures.get("ceiling", {}).get("per_s", 0.0)
    ticket = figures.get("helpdesk", {}).get("per_s", 0.0)
    figures["whistle_vs_ceiling"] = round(whistle / ceiling, 3) if ceiling else None
    figures["whistle_vs_helpdesk"] = round(whistle / ticket, 2) if ticket else None
    if "helpdesk" in figures and figures["helpdesk"]["web_cpu_ms"]:
        figures["web_cpu_vs_helpdesk"] = round(
            figures["whistle"]["web_cpu_ms"] / figures["helpdesk"]["web_cpu_ms"], 2
        )
        figures["all_cpu_vs_helpdesk"] = round(
            figures["whistle"]["all_cpu_ms"] / figures["helpdesk"]["all_cpu_ms"], 2
        )
    figures["goal_met"] = bool(
        figures["whistle_vs_helpdesk"] is not None
        and figures["whistle_vs_helpdesk"] >= GOAL_VS_HELPDESK
        and (figures["whistle_vs_ceiling"] or 0) >= GOAL_VS_CEILING
    )
    return figures


def _section(
    *,
    command: str,
    machine_info: dict[str, str],
    server: str,
    steps: list[Step],
    summary: dict[str, Any],
    statements: dict[str, int],
    budget: str,
    counts: dict[str, Any],
    problems: list[str],
    plan: str,
    compare: dict[str, Any],
    ticketing: dict[str, Any] | None,
    quiet: list[dict[str, Any]],
) -> str:
    from django.utils import timezone

    best_whistle = max((s for s in steps if s.kind == "whistle"), key=lambda s: s.per_second)
    best_ceiling = max((s for s in steps if s.kind == "ceiling"), key=lambda s: s.per_second)
    met = "met" if summary["target_met"] else "NOT met"
    lines = [
        SECTION,
        "",
        f"Command: `{command}` on {timezone.localtime():%Y-%m-%d %H:%M %Z}.",
        "",
        machine_line(machine_info),
        "",
        "Quiet machine: "
        + "; ".join(
            f"1-minute load {q['load']} before {q['what']} (waited {q['waited']} s"
            + (
                f" for it to fall below {QUIET_LOAD})"
                if q["quiet"]
                else f", NOT below {QUIET_LOAD} after the limit)"
            )
            for q in quiet
        )
        + ".",
        "",
        f"Server: {server}; one Celery worker (prefork, concurrency 1) consuming the "
        "after-commit tasks from Redis while the load runs; the load generator "
        "(bench.loadgen, one asyncio process with aiohttp) on loopback. Each step runs "
        f"{steps[0].seconds:.0f} s at a fixed number of concurrent clients, each sending one "
        "request after the other; the ceiling, the whistles and django-helpdesk's tickets "
        "alternate at each step, and "
        "every step starts once the worker has emptied the queue. Load is the 1-minute "
        "load average before / after the step.",
        "",
        "- **whistle**: `POST /api/cases/`, a valid whistle by one of the 48 grid workers of the "
        "demo city in their own grid, a random item and place, a unique description and a "
        "fresh Idempotency-Key: screening, duplicate detection, numbering, the filing event, "
        "the screening clock, the village officers' notifications and their delivery task "
        "after commit, the idempotency claim with the stored answer, and the case as the API "
        "returns it.",
        "- **ceiling**: `POST /bench/ceiling/`, a DRF view inserting one row into a one-table "
        "model, behind the same gunicorn, middleware, token authentication and permission "
        "(an app and URL that only the benchmark's settings `bench.settings` install; the "
        "served application never contains it). The ratio therefore measures Whistle's own "
        "work per filing.",
    ]
    if ticketing:
        lines += [
            "- **helpdesk**: `POST /api/tickets/` of django-helpdesk "
            f"{ticketing['versions'].get('django-helpdesk', '?')}, its real create path "
            "(DRF's TicketViewSet: TicketSerializer, then its TicketForm.save: the ticket, the "
            "opening follow-up, the mail to the submitter through its e-mail templates, written "
            "to files inside the request, backlinks, the new-ticket signal) by one of "
            f"{ticketing['users']} staff members with a DRF token, into one of "
            f"{len(ticketing['queues'])} queues at random, with the filer's address as the "
            "submitter's. A minimal project (bench/helpdesk_site: Django's default middleware, "
            "token or session authentication, mail to files, teams mode off as it needs the "
            "optional pinax-teams) in the benchmark's own virtualenv (var/bench/helpdesk-venv, "
            "from bench/helpdesk_site/requirements.txt: "
            + ", ".join(f"{name} {version}" for name, version in ticketing["versions"].items())
            + "), never the product's; its own database on the same PostgreSQL server, served "
            "by that environment's gunicorn started the same way (the same gunicorn.conf.py, "
            "workers, worker class and threads).",
        ]
    lines += [
        "",
        "CPU per request is the CPU time the gunicorn workers (of the server that served "
        "the step: Whistle's, or django-helpdesk's for its rows) and the Celery worker spent "
        "during the step divided by its successful requests (PostgreSQL's share is not "
        "counted: other databases share its server). Whistle hands its notifications' mail to "
        "the Celery worker after commit; django-helpdesk writes its mail inside the request, "
        "so its web CPU includes it.",
        "",
        "| clients | endpoint | requests | errors | per second | p50 | p95 | p99 "
        "| web CPU/request | worker CPU/request | load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [_row(step) for step in steps]
    lines += [
        "",
        f"Best sustained: **{best_whistle.per_second:,.0f} whistles/s** "
        f"({best_whistle.concurrency} clients, p95 {best_whistle.p95:.0f} ms) against a "
        f"ceiling of **{best_ceiling.per_second:,.0f} requests/s** "
        f"({best_ceiling.concurrency} clients): ratio **{summary['ratio']:.0%}**, "
        f"{summary['errors']} errors in all steps.",
        "",
        *comparison_lines(compare),
        f"Target: at least {TARGET_PER_SECOND} whistles/s and {TARGET_RATIO:.0%} of the "
        f"ceiling with zero errors: **{met}**.",
        "",
        f"Peak resident memory of one process: gunicorn worker "
        f"{summary['gunicorn_rss_mib']:.0f} MiB, Celery worker {summary['celery_rss_mib']:.0f} "
        "MiB.",
        "",
        f"Statements per request (through the whole stack, measured once in process, BEGIN "
        f"and COMMIT not counted): "
        f"whistle {statements['whistle']}, ceiling {statements['ceiling']}"
        + (f", helpdesk ticket {ticketing['statements']}" if ticketing else "")
        + ".",
        "",
        budget,
        "",
        f"Checked afterwards: {counts['cases']:,} cases in the database, exactly the ids of the "
        f"2xx whistle answers (warm-up included), each with its filing event, screening clock "
        f"and idempotency claim; {counts['notifications']:,} notifications, "
        f"{counts['mailed']:,} mailed by the worker ({counts['skipped_no_address']:,} mail "
        "deliveries skipped: the recipient has no address), which ran "
        f"{counts['tasks_succeeded']:,} tasks and left the queue empty; "
        f"{counts['ceiling_rows']:,} ceiling rows for as many 2xx answers. "
        f"{counts['possible_duplicates']:,} whistles were flagged as possible duplicates "
        "(the same item within 200 m and 72 h: the demo city is small)."
        + (
            f" django-helpdesk: {ticketing['checked']['tickets']:,} tickets in its database, "
            "exactly the ids of its 2xx answers (warm-up included), with "
            f"{ticketing['checked']['followups']:,} opening follow-ups and "
            f"{ticketing['checked']['mails']:,} mails written."
            if ticketing and "checked" in ticketing
            else ""
        ),
    ]
    if problems:
        lines += ["", "**Problems found:**", ""] + [f"- {problem}" for problem in problems]
    lines += [
        "",
        "The duplicate-nearby query of the last whistle, with every case of the run in the table:",
        "",
        "```",
        plan,
        "```",
        "",
    ]
    return "\n".join(lines)


def comparison_lines(compare: dict[str, Any]) -> list[str]:
    """The side-by-side table of the best rates and the ratios issue 22 sets goals for."""
    if "helpdesk" not in compare:
        return []
    names = {
        "ceiling": "one-row DRF ceiling",
        "whistle": "Whistle's whistle",
        "helpdesk": "django-helpdesk's ticket",
    }
    lines = [
        "Side by side (best sustained rate of each endpoint; CPU per request as the mean over "
        "its steps):",
        "",
        "| endpoint | best per second | clients | p95 there | web CPU/request "
        "| web + worker CPU/request |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind in ("ceiling", "whistle", "helpdesk"):
        figures = compare[kind]
        lines.append(
            f"| {names[kind]} | {figures['per_s']:,.0f} | {figures['clients']} "
            f"| {figures['p95_ms']:.0f} ms | {figures['web_cpu_ms']:.1f} ms "
            f"| {figures['all_cpu_ms']:.1f} ms |"
        )
    met = "met" if compare["goal_met"] else "NOT met"
    lines += [
        "",
        f"Whistles/s over django-helpdesk's tickets/s: **{compare['whistle_vs_helpdesk']:.2f}x** "
        f"(goal at least {GOAL_VS_HELPDESK}x); over the ceiling: "
        f"**{compare['whistle_vs_ceiling']:.0%}** (goal at least {GOAL_VS_CEILING:.0%}); issue "
        f"22's goal: **{met}**. Web CPU per whistle is {compare['web_cpu_vs_helpdesk']:.2f}x "
        f"a ticket's ({compare['all_cpu_vs_helpdesk']:.2f}x with the Celery worker's share).",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--steps", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64], help="concurrent clients"
    )
    parser.add_argument("--seconds", type=float, default=25, help="seconds per step")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per endpoint")
    parser.add_argument(
        "--alone", type=int, default=1000, help="requests of each endpoint timed in process"
    )
    parser.add_argument("--port", type=int, default=8311)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument(
        "--no-helpdesk",
        action="store_true",
        help="leave out django-helpdesk's ticket creation (no virtualenv, no database for it)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=900,
        help=f"seconds to wait at most for the 1-minute load to fall below {QUIET_LOAD}",
    )
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    _prepare_environment()
    ticketing: dict[str, Any] | None = None
    if not args.no_helpdesk:
        # Its own virtualenv and database first: a failure there costs no measuring time.
        versions = helpdesk.ensure_venv()
        print("django-helpdesk side: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
        helpdesk_url = helpdesk.database_url(os.environ["DATABASE_URL"])
        ensure_database(helpdesk_url, force=args.force)
        helpdesk_env = helpdesk.site_env(helpdesk_url)
    set_up(force=args.force)
    redis_url = os.environ["REDIS_URL"]
    queue = os.environ["WHISTLE_CELERY_QUEUE"]
    reset()
    purge_queue(redis_url, queue)
    people = filers()
    items = item_ids()
    if not args.no_helpdesk:
        # As many staff members filing tickets as grid workers filing whistles.
        ticketing = {
            **helpdesk.prepare(helpdesk_env, users=len(people)),
            "versions": versions,
            "users": len(people),
        }
    quiet = [
        {
            **wait_for_quiet(below=QUIET_LOAD, timeout=args.quiet_wait, what="timing in process"),
            "what": "timing in process",
        }
    ]
    measured = statements_per_request(filer=people[0], items=items)
    whistle_ids = list(measured["ids"]["whistle"])
    ceiling_ids = list(measured["ids"]["ceiling"])
    alone = cost_per_request(people=people, items=items, requests=args.alone)
    whistle_ids += alone["ids"]["whistle"]
    ceiling_ids += alone["ids"]["ceiling"]
    machine_info = machine()
    # The server processes open their own connections; this one would only sit idle.
    from django.db import connection

    connection.close()

    env = server_env(
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=redis_url,
        WHISTLE_CELERY_QUEUE=queue,
        DJANGO_SETTINGS_MODULE=SETTINGS,
        LOG_LEVEL="WARNING",
    )
    worker_env = {**env, "DJANGO_SETTINGS_MODULE": "whistle.settings", "LOG_LEVEL": "INFO"}
    server = (
        f"gunicorn {args.workers} {args.worker_class} workers"
        + (f" x {args.threads} threads" if args.threads > 1 else "")
        + " (the same for all endpoints)"
    )
    base_url = f"http://127.0.0.1:{args.port}"
    kinds = ("ceiling", "whistle") + (("helpdesk",) if ticketing else ())
    targets = {
        "ceiling": (base_url, {"filers": people, "items": items}),
        "whistle": (base_url, {"filers": people, "items": items}),
    }
    ids: dict[str, list[int]] = {"ceiling": ceiling_ids, "whistle": whistle_ids, "helpdesk": []}
    steps: list[Step] = []
    servers = []
    if ticketing:
        helpdesk_url_base = f"http://127.0.0.1:{args.port + 1}"
        targets["helpdesk"] = (
            helpdesk_url_base,
            {"filers": ticketing["filers"], "queues": ticketing["queues"]},
        )
        servers.append(
            helpdesk.server(
                port=args.port + 1,
                workers=args.workers,
                worker_class=args.worker_class,
                threads=args.threads,
                env=helpdesk_env,
            )
        )
    web = gunicorn(
        port=args.port,
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        env=env,
        name="intake-gunicorn",
    )
    worker = celery_worker(name="intake-celery", env=worker_env)
    with (
        tempfile.TemporaryDirectory(prefix="whistle-intake-") as workdir,
        running([web, worker, *servers]),
        PeakRss() as rss,
    ):
        wait_for_http(base_url + "/api/", server=web)
        wait_for_log(worker, "ready")
        rss.watch("gunicorn", web.pid, children_only=True)
        rss.watch("celery", worker.pid)
        watched = {"gunicorn": web.pid, "celery": worker.pid}
        if servers:
            wait_for_http(targets["helpdesk"][0] + "/api/", server=servers[0])
            rss.watch("helpdesk", servers[0].pid, children_only=True)
            watched["helpdesk"] = servers[0].pid
        quiet.append(
            {
                **wait_for_quiet(below=QUIET_LOAD, timeout=args.quiet_wait, what="the load steps"),
                "what": "the load steps",
            }
        )
        print(f"Warm-up ({server}) ...", flush=True)
        for kind in kinds:
            warm = run_step(
                kind=kind,
                concurrency=8,
                seconds=args.warmup,
                base_url=targets[kind][0],
                spec_extra=targets[kind][1],
                label=f"warmup-{kind}",
                workdir=workdir,
                watched=watched,
            )
            ids[kind].extend(warm.ids)
        wait_for_drain(redis_url, queue, timeout=300)
        for concurrency in args.steps:
            for kind in kinds:
                step = run_step(
                    kind=kind,
                    concurrency=concurrency,
                    seconds=args.seconds,
                    base_url=targets[kind][0],
                    spec_extra=targets[kind][1],
                    label=f"{kind}-{concurrency}",
                    workdir=workdir,
                    watched=watched,
                )
                steps.append(step)
                ids[kind].extend(step.ids)
                drained = wait_for_drain(redis_url, queue, timeout=300)
                if drained > 1:
                    print(f"    the worker caught up {drained:.0f} s after the step", flush=True)
        time.sleep(1)  # the last task's mail is written before its ack
        if ticketing:
            ticketing["checked"] = helpdesk.verify(helpdesk_env, ids["helpdesk"], workdir)
    problems, counts = verify(
        whistle_ids=whistle_ids, ceiling_ids=ceiling_ids, celery_log=worker.log()
    )
    if ticketing:
        problems += [f"django-helpdesk: {p}" for p in ticketing["checked"]["problems"]]
    plan = duplicate_plan()

    best_whistle = max(s.per_second for s in steps if s.kind == "whistle")
    best_ceiling = max(s.per_second for s in steps if s.kind == "ceiling")
    errors = sum(s.errors for s in steps)
    ratio = best_whistle / best_ceiling if best_ceiling else 0.0
    peaks = rss.mib()
    best_step = max((s for s in steps if s.kind == "whistle"), key=lambda s: s.per_second)
    compare = comparison(steps)
    target_met = (
        best_whistle >= TARGET_PER_SECOND and ratio >= TARGET_RATIO and not errors and not problems
    )
    summary = {
        "best_whistles_per_s": round(best_whistle, 1),
        "ceiling_per_s": round(best_ceiling, 1),
        "ratio": round(ratio, 3),
        "errors": errors,
        "p95_ms": round(best_step.p95, 1),
        "gunicorn_rss_mib": round(peaks.get("gunicorn", 0.0), 1),
        "celery_rss_mib": round(peaks.get("celery", 0.0), 1),
        "target_met": target_met,
        "server": server,
        "problems": problems,
        "cost_alone": alone["figures"],
        "comparison": compare,
        "helpdesk_rss_mib": round(peaks.get("helpdesk", 0.0), 1),
    }
    command = "python -m bench.intake" + (" " + " ".join(argv) if argv else "")
    if argv is None and len(sys.argv) > 1:
        command = "python -m bench.intake " + " ".join(sys.argv[1:])
    text = _section(
        command=command,
        machine_info=machine_info,
        server=server,
        steps=steps,
        summary=summary,
        statements=measured["counts"],
        budget=budget_line(
            cost=alone["figures"],
            statements=measured["counts"],
            best_ceiling=best_ceiling,
            cpus=os.cpu_count() or 1,
        ),
        counts=counts,
        problems=problems,
        plan=plan,
        compare=compare,
        ticketing=ticketing,
        quiet=quiet,
    )
    print()
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
        record_results("intake", summary)
        print(f"Written to {DOC.relative_to(BASE_DIR)}")
    return 0 if target_met else 1


if __name__ == "__main__":
    sys.exit(main())
