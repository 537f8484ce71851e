"""Scripted, repeatable faults (`make chaos`): what breaks, what holds (docs/benchmarks.md).

    python -m bench.chaos [worker-kill] [redis-down] [postgres-restart] [idempotency]

Stopping PostgreSQL and Redis must never disturb anybody else, so this starts its OWN
PostgreSQL cluster (initdb into var/chaos/pg unless --pg-dir, port 55432, trust auth, run as
the postgres user when started by root) and its OWN redis-server (port 56379, no persistence),
and stops both at the end. The application runs as in production: gunicorn on port 8411,
Celery workers and `celery beat` (sweep every 2 s), all pointed at those private services.

Each scenario checks its outcome in the database and the run fails (exit status 1, with the
reason) when one does not hold:

* worker-kill: 2 workers + beat fire the seeded due deadlines; once firing has started, one
  worker's whole process group gets kill -9, and it is started again. Every deadline fired
  exactly once, each with one event, and no case moved twice by one deadline.
* redis-down: filings through the API while Redis is stopped for a while and started again.
  Every accepted whistle is in the database exactly once; deadlines due during the outage
  fire once Redis is back, each once.
* postgres-restart: filings and page reads while PostgreSQL restarts (pg_ctl restart -m
  fast) and later stops for 5 s. No 500 and no traceback (a failure is a clean 503), the
  application recovers without a restart, and no case lacks its filing event.
* idempotency: the same whistle POSTed 50 times at once with one Idempotency-Key: one case.

The figures replace the "Faults (make chaos)" section of docs/reliability.md.
"""

import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    BASE_DIR,
    Server,
    celery_beat,
    celery_worker,
    gunicorn,
    load_average,
    percentile,
    server_env,
    var_dir,
    wait_for_http,
    wait_for_log,
    write_section,
)

SECTION = "## Faults (make chaos)"
DOC = BASE_DIR / "docs" / "reliability.md"
SCENARIOS = ("worker-kill", "redis-down", "postgres-restart", "idempotency")
PG_PORT = 55432
REDIS_PORT = 56379
WEB_PORT = 8411
DATABASE_NAME = "whistle_chaos"
DATABASE_URL = f"postgres://postgres@127.0.0.1:{PG_PORT}/{DATABASE_NAME}"
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
BASE_URL = f"http://127.0.0.1:{WEB_PORT}"
SWEEP_SECONDS = "2"
QUEUE = "whistle-chaos"
CASE_TABLES = (
    "cases_case, cases_deadline, cases_event, cases_dispatch, cases_notification, "
    "cases_casesequence, cases_idempotencykey"
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- private PostgreSQL and Redis ------------------------------------------------------------


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


class PrivatePostgres:
    """A throw-away cluster of our own: stopping it disturbs nobody."""

    def __init__(self, folder: Path) -> None:
        versions = sorted(
            glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
        )
        if not versions:
            sys.exit("No PostgreSQL server programs under /usr/lib/postgresql/*/bin.")
        self.bin = Path(versions[-1])
        self.folder = folder
        self.data = folder / "data"
        self.logfile = folder / "postgresql.log"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - our own argv
            _as_postgres([str(self.bin / argv[0]), *argv[1:]]),
            check=check,
            capture_output=True,
            text=True,
        )

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        if (self.data / "PG_VERSION").exists():
            return
        log(f"initdb {self.data}")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
        )

    def _options(self) -> str:
        return (
            f"-p {PG_PORT} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} "
            "-c max_connections=200 -c shared_buffers=128MB"
        )

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-o",
            self._options(),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def restart(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-o",
            self._options(),
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            "restart",
        )

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0


class PrivateRedis:
    """Our own redis-server without persistence: a stop loses what was queued, as it may."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server: Server | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        argv = [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.folder),
        ]
        self.server = Server(f"chaos-redis-{self.starts}", argv, dict(os.environ))
        wait_for_log(self.server, "Ready to accept connections", timeout=30)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


# --- the application's processes ---------------------------------------------------------------


def app_env() -> dict[str, str]:
    env = server_env(
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        WHISTLE_VAR_DIR=str(var_dir()),
        WHISTLE_SWEEP_SECONDS=SWEEP_SECONDS,
        WHISTLE_CELERY_QUEUE=QUEUE,
        WHISTLE_MANIFEST_STATIC="0",
        LOG_LEVEL="WARNING",
    )
    env.pop("WHISTLE_BROKER_DIR", None)
    return env


class App:
    """gunicorn, Celery workers and beat of one scenario; all stopped by `stop()`."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.env = app_env()
        self.servers: list[Server] = []

    def web(self, *, workers: int = 3) -> Server:
        server = gunicorn(port=WEB_PORT, workers=workers, env=self.env, name=f"{self.label}-web")
        self.servers.append(server)
        wait_for_http(f"{BASE_URL}/accounts/login/", timeout=90, server=server)
        return server

    def worker(self, name: str, *, concurrency: int = 2, respawn: bool = False) -> Server:
        server = celery_worker(
            name=f"{self.label}-{name}", env=self.env, concurrency=concurrency, respawn=respawn
        )
        self.servers.append(server)
        wait_for_log(server, "ready.", timeout=120)
        return server

    def beat(self) -> Server:
        schedule = var_dir() / f"{self.label}-beat-schedule"
        for stale in var_dir().glob(f"{self.label}-beat-schedule*"):
            stale.unlink()
        server = celery_beat(name=f"{self.label}-beat", env=self.env, schedule=schedule)
        self.servers.append(server)
        return server

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        self.servers = []


# --- the database -------------------------------------------------------------------------------


def sql(query: str, params: Any = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def sql_value(query: str, params: Any = None) -> Any:
    rows = sql(query, params)
    return rows[0][0] if rows else None


def empty_case_tables() -> None:
    sql(f"TRUNCATE {CASE_TABLES} RESTART IDENTITY CASCADE")


def close_db() -> None:
    from django.db import connections

    connections.close_all()


@dataclass
class Filer:
    token: str
    grid: int
    user_id: int


def filers(count: int) -> list[Filer]:
    """Grid workers of the demo city with an API token each."""
    from knox.models import AuthToken

    from teams.models import Membership, Role, User

    rows = (
        Membership.objects.filter(role=Role.GRID_WORKER, grid__isnull=False, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", "grid_id")
    )
    seen: dict[int, int] = {}
    for user_id, grid_id in rows:
        seen.setdefault(user_id, grid_id)
    if not seen:
        raise RuntimeError("The demo city has no grid worker.")
    result = []
    for user_id, grid_id in list(seen.items())[:count]:
        # a day is enough for a run; expired tokens are cleaned up by knox
        user = User.objects.get(pk=user_id)
        _instance, token = AuthToken.objects.create(user=user, expiry=timedelta(days=1))
        result.append(Filer(token=token, grid=grid_id, user_id=user_id))
    return result


def session_cookie(user_id: int) -> str:
    """A signed-in session of `user_id`, stored as a login would store it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from teams.models import User

    user = User.objects.get(pk=user_id)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def item_id() -> int:
    from checklists.models import Item

    return Item.objects.get(code="SAN-01").pk


# --- the load ------------------------------------------------------------------------------------


@dataclass
class Hit:
    kind: str  # file, page, api
    started: float  # seconds since the load began
    seconds: float
    status: int  # 0: transport error
    case_id: int | None = None
    serial: str = ""
    code: str = ""  # the API error code or page marker of a failure
    traceback: bool = False
    clean: bool = True  # a failure answered with the designed 503 (or a 4xx)
    replayed: bool = False  # Idempotent-Replayed: the stored answer of an earlier copy
    error: str = ""


@dataclass
class Load:
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    began: float = 0.0

    def add(self, hit: Hit) -> None:
        with self.lock:
            self.hits.append(hit)

    def accepted(self) -> list[Hit]:
        return [h for h in self.hits if h.kind == "file" and 200 <= h.status < 300]


def _judge(response: Any) -> tuple[str, bool, bool]:
    """(code, traceback shown, clean) of a failed response."""
    text = response.text
    traceback = "Traceback" in text or "most recent call last" in text
    code = ""
    if response.headers.get("Content-Type", "").startswith("application/json"):
        try:
            code = response.json().get("code", "")
        except ValueError:
            code = "not-json"
    elif 'data-testid="error-503"' in text:
        code = "503-page"
    elif 'data-testid="error-500"' in text:
        code = "500-page"
    clean = not traceback and (
        response.status_code < 500
        or (response.status_code == 503 and code in ("service_unavailable", "503-page"))
    )
    return code, traceback, clean


def file_once(
    session: Any,
    *,
    filer: Filer,
    item: int,
    serial: str,
    load: Load,
    key: str | None = None,
    language: str = "en",
    timeout: float = 20,
) -> Hit:
    body = {
        "item": item,
        "description": f"Rubbish piled up beside the road ({serial})",
        "grid": filer.grid,
        "address": f"Chaos address {serial}",
    }
    headers = {
        "Authorization": f"Token {filer.token}",
        "Idempotency-Key": key or str(uuid.uuid4()),
        "Accept-Language": language,
    }
    started = time.monotonic()
    hit = Hit(kind="file", started=started - load.began, seconds=0, status=0, serial=serial)
    try:
        response = session.post(
            f"{BASE_URL}/api/cases/", json=body, headers=headers, timeout=timeout
        )
    except Exception as error:
        hit.error = type(error).__name__
        hit.clean = False
    else:
        hit.status = response.status_code
        hit.replayed = response.headers.get("Idempotent-Replayed") == "true"
        if 200 <= response.status_code < 300:
            hit.case_id = response.json()["id"]
        else:
            hit.code, hit.traceback, hit.clean = _judge(response)
    hit.seconds = time.monotonic() - started
    load.add(hit)
    return hit


def read_once(session: Any, *, kind: str, url: str, headers: dict, load: Load) -> Hit:
    started = time.monotonic()
    hit = Hit(kind=kind, started=started - load.began, seconds=0, status=0)
    try:
        response = session.get(url, headers=headers, timeout=20)
    except Exception as error:
        hit.error = type(error).__name__
        hit.clean = False
    else:
        hit.status = response.status_code
        if response.status_code != 200:
            hit.code, hit.traceback, hit.clean = _judge(response)
    hit.seconds = time.monotonic() - started
    load.add(hit)
    return hit


def run_load(
    *,
    label: str,
    seconds: float,
    filing_clients: int,
    filers_: list[Filer],
    item: int,
    readers: list[tuple[str, str, dict]] | None = None,
    events: list[tuple[float, Any]] | None = None,
) -> Load:
    """`filing_clients` threads file whistles one after the other (and one thread per reader
    reads its URL) for `seconds`, while `events` (at, callable) run on this thread on time."""
    import requests

    load = Load()
    stop = threading.Event()

    def filing(number: int) -> None:
        session = requests.Session()
        filer = filers_[number % len(filers_)]
        language = "zh-hans" if number % 2 else "en"
        sent = 0
        while not stop.is_set():
            sent += 1
            hit = file_once(
                session,
                filer=filer,
                item=item,
                serial=f"{label}-{number}-{sent}",
                load=load,
                language=language,
            )
            if hit.status in (0, 503):
                time.sleep(0.2)  # a client backs off a little after a failure

    def reading(kind: str, url: str, headers: dict) -> None:
        session = requests.Session()
        while not stop.is_set():
            hit = read_once(session, kind=kind, url=url, headers=headers, load=load)
            time.sleep(0.2 if hit.status == 200 else 0.3)

    threads = [threading.Thread(target=filing, args=(n,)) for n in range(filing_clients)]
    threads += [threading.Thread(target=reading, args=reader) for reader in readers or []]
    load.began = time.monotonic()
    for thread in threads:
        thread.start()
    for at, action in sorted(events or [], key=lambda e: e[0]):
        delay = load.began + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        action(time.monotonic() - load.began)
    remaining = load.began + seconds - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
    stop.set()
    for thread in threads:
        thread.join(60)
    return load


# --- results -------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    title: str
    done: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load: str = ""

    def check(self, ok: bool, message: str) -> None:
        log(("  ok: " if ok else "  FAILED: ") + message)
        if not ok:
            self.failures.append(message)

    @property
    def held(self) -> bool:
        return not self.failures


def status_summary(hits: list[Hit]) -> str:
    counts = Counter(
        f"{h.status}{' ' + h.code if h.code else ''}" if h.status else f"error {h.error}"
        for h in hits
    )
    return ", ".join(f"{count:,} × {name}" for name, count in sorted(counts.items())) or "none"


def pending_due() -> int:
    return sql_value(
        "SELECT count(*) FROM cases_deadline WHERE fired_at IS NULL AND met_at IS NULL "
        "AND paused_at IS NULL AND due_at <= now()"
    )


def firing_checks(result: Result, deadline_ids: list[int], *, label: str) -> dict[str, int]:
    """Every deadline in `deadline_ids` fired exactly once: counted from the deadlines and
    from the events the timer wrote (grouped by data->>'deadline')."""
    ids = [str(pk) for pk in deadline_ids]
    fired = sql_value(
        "SELECT count(*) FROM cases_deadline WHERE id = ANY(%s) AND fired_at IS NOT NULL",
        [deadline_ids],
    )
    events = sql_value(
        "SELECT count(*) FROM cases_event WHERE actor_label = 'timer' "
        "AND data->>'deadline' = ANY(%s)",
        [ids],
    )
    twice = sql_value(
        "SELECT count(*) FROM (SELECT data->>'deadline' FROM cases_event "
        "WHERE actor_label = 'timer' AND data ? 'deadline' GROUP BY 1 HAVING count(*) > 1) t"
    )
    moved_twice = sql_value(
        "SELECT count(*) FROM (SELECT case_id, data->>'deadline' FROM cases_event "
        "WHERE actor_label = 'timer' AND data ? 'deadline' AND from_status <> to_status "
        "GROUP BY 1, 2 HAVING count(*) > 1) t"
    )
    due = len(deadline_ids)
    result.check(fired == due, f"{label}: {fired:,} of {due:,} deadlines fired")
    result.check(events == due, f"{label}: {events:,} timer events for {due:,} deadlines")
    result.check(twice == 0, f"{label}: {twice} deadlines with two firing events")
    result.check(moved_twice == 0, f"{label}: {moved_twice} cases moved twice by one deadline")
    return {"fired": fired, "events": events, "twice": twice, "moved_twice": moved_twice}


def accepted_checks(result: Result, load: Load, *, label: str) -> dict[str, int]:
    """Every accepted (2xx) filing is in the database, once; what was not acknowledged."""
    accepted = load.accepted()
    ids = [h.case_id for h in accepted]
    distinct = len(set(ids))
    found = sql_value("SELECT count(*) FROM cases_case WHERE id = ANY(%s)", [ids])
    in_db = sql_value("SELECT count(*) FROM cases_case WHERE description LIKE %s", [f"%({label}-%"])
    duplicates = sql_value(
        "SELECT count(*) FROM (SELECT description FROM cases_case WHERE description LIKE %s "
        "GROUP BY 1 HAVING count(*) > 1) t",
        [f"%({label}-%"],
    )
    result.check(
        distinct == len(ids), f"{len(ids):,} accepted filings, {distinct:,} distinct cases"
    )
    result.check(found == distinct, f"{found:,} of {distinct:,} accepted cases in the database")
    result.check(duplicates == 0, f"{duplicates} whistles filed twice")
    return {"accepted": len(ids), "found": found, "in_db": in_db, "duplicates": duplicates}


def window(hits: list[Hit], start: float, end: float) -> list[Hit]:
    return [h for h in hits if start <= h.started < end]


def latency_text(hits: list[Hit]) -> str:
    values = [h.seconds for h in hits]
    if not values:
        return "-"
    return f"p50 {percentile(values, 0.5):.2f} s, max {max(values):.2f} s"


def file_timer_cases(*, count: int, filers_: list[Filer], item: int, label: str) -> list[int]:
    """File `count` whistles through the API, one after the other; their case ids."""
    import requests

    load = Load(began=time.monotonic())
    session = requests.Session()
    case_ids = []
    for n in range(count):
        hit = file_once(
            session,
            filer=filers_[n % len(filers_)],
            item=item,
            serial=f"{label}-timer-{n}",
            load=load,
        )
        if hit.case_id is None:
            raise RuntimeError(f"Could not file the timer case {n}: {hit}")
        case_ids.append(hit.case_id)
    return case_ids


def arm_clocks(*, case_ids: list[int], due_at: datetime) -> list[int]:
    """Make the running clocks of `case_ids` fall due at `due_at` (already warned, so only
    the firing is left). Returns the ids of those deadlines."""
    rows = sql(
        "UPDATE cases_deadline SET due_at = %(due)s, warn_at = %(due)s - interval '1 hour', "
        "warned_at = %(due)s - interval '1 hour' WHERE case_id = ANY(%(cases)s) "
        "AND fired_at IS NULL AND met_at IS NULL AND paused_at IS NULL RETURNING id",
        {"due": due_at, "cases": case_ids},
    )
    return [row[0] for row in rows]


def wait_fired(
    deadline_ids: list[int], *, timeout: float, workers: list[Server] | None = None
) -> float | None:
    """Seconds until every deadline in `deadline_ids` fired, or None at the timeout (or at
    once when every one of `workers` has exited: nothing would fire them)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if workers and all(w.process.poll() is not None for w in workers):
            log("  every Celery worker has exited: nothing will fire the clocks")
            return None
        left = sql_value(
            "SELECT count(*) FROM cases_deadline WHERE id = ANY(%s) AND fired_at IS NULL",
            [deadline_ids],
        )
        if left == 0:
            return time.monotonic() - started
        time.sleep(0.5)
    return None


# --- scenarios -----------------------------------------------------------------------------------


def worker_kill(args: argparse.Namespace) -> Result:
    """kill -9 a Celery worker in the middle of a sweep of `due` due deadlines."""
    from bench.sweep import seed

    result = Result(
        name="worker-kill",
        title=f"kill -9 a Celery worker in the middle of a sweep of {args.due:,} due deadlines",
        done="",
    )
    log(f"worker-kill: seeding {args.open:,} open cases, {args.due:,} due")
    started = time.monotonic()
    seed(open_cases=args.open, due=args.due)
    seed_seconds = time.monotonic() - started
    due_ids = [
        row[0]
        for row in sql(
            "SELECT id FROM cases_deadline WHERE fired_at IS NULL AND met_at IS NULL "
            "AND paused_at IS NULL AND due_at <= now()"
        )
    ]
    result.check(len(due_ids) == args.due, f"{len(due_ids):,} deadlines due after seeding")
    close_db()
    app = App("chaos-kill")
    load_before = load_average()
    try:
        victim = app.worker("worker-1")
        app.worker("worker-2")
        app.beat()
        began = time.monotonic()
        fired_at_kill = 0
        threshold = max(1, int(args.due * args.kill_at))
        while time.monotonic() - began < 300:
            fired_at_kill = sql_value(
                "SELECT count(*) FROM cases_deadline WHERE id = ANY(%s) AND fired_at IS NOT NULL",
                [due_ids],
            )
            if fired_at_kill >= threshold:
                break
            time.sleep(0.2)
        killed_after = time.monotonic() - began
        log(f"  kill -9 of {victim.name}'s process group with {fired_at_kill:,} fired")
        victim.kill(signal.SIGKILL)
        victim.process.wait(10)
        result.check(
            0 < fired_at_kill < args.due,
            f"the kill came in the middle: {fired_at_kill:,} of {args.due:,} fired",
        )
        time.sleep(2)
        restarted_at = time.monotonic()
        app.worker("worker-1-restarted")
        log(f"  {victim.name} restarted; waiting until nothing is due")
        finished = None
        progress: list[tuple[float, int]] = []  # (seconds after the kill, fired)
        while time.monotonic() - began < args.timeout:
            left = pending_due()
            progress.append((time.monotonic() - began - killed_after, args.due - left))
            if left == 0:
                finished = time.monotonic()
                break
            time.sleep(1)
        result.check(finished is not None, f"nothing due any more within {args.timeout:.0f} s")
        time.sleep(3)  # a redelivered batch running now would show as a duplicate below
        load_after = load_average()
    finally:
        app.stop()
    counts = firing_checks(result, due_ids, label="worker kill")
    total = (finished - began) if finished else None
    result.done = (
        f"{args.open:,} open cases seeded with {args.due:,} clocks already due (five kinds of "
        f"firing; seeding {seed_seconds:.0f} s). Two `celery worker` processes "
        "(`--concurrency=2`) and `celery beat` (sweep every 2 s) start; once "
        f"{args.kill_at:.0%} had fired, the first worker's whole process group (the "
        "master and its pool) got `kill -9`; 2 s later it was started again, and the run "
        "waited until no deadline was due."
    )
    result.rows = [
        ("fired when the worker was killed", f"{fired_at_kill:,} ({killed_after:.1f} s in)"),
        ("fired in all / due", f"{counts['fired']:,} / {args.due:,}"),
        ("timer events written", f"{counts['events']:,}"),
        ("deadlines fired twice", str(counts["twice"])),
        ("cases moved twice by one deadline", str(counts["moved_twice"])),
        (
            "fired after the kill",
            ", ".join(
                f"{n:,} by +{t:.0f} s" for t, n in _milestones(progress, args.due, fired_at_kill)
            ),
        ),
        (
            "all fired after",
            f"{total:.0f} s from the first worker's start, "
            f"{finished - restarted_at:.0f} s after the restart"
            if finished
            else "not within the time limit",
        ),
    ]
    result.notes.append(
        "What the killed worker held is not lost: the sweep claims a due deadline for "
        "CLAIM_SECONDS (cases.sweep), cut to FIRING_CLAIM_SECONDS when a worker begins its "
        "batch, and hands it out again when the claim lapses; a batch "
        "Redis redelivers later finds its deadlines fired and does nothing (one conditional "
        "UPDATE per firing)."
    )
    result.load = f"{load_before} / {load_after}" if finished else load_before
    return result


def _milestones(progress: list[tuple[float, int]], due: int, start: int) -> list[tuple[float, int]]:
    """When the firings after the kill reached a quarter, half, three quarters and all of
    what was left (the plateau shows the killed worker's claimed batches waiting)."""
    marks = []
    for share in (0.25, 0.5, 0.75, 1.0):
        target = start + (due - start) * share
        reached = next(((t, n) for t, n in progress if n >= target), None)
        if reached is not None and reached not in marks:
            marks.append(reached)
    return marks


def redis_down(args: argparse.Namespace, redis: PrivateRedis) -> Result:
    """Filings while Redis is stopped and started again; timers due during the outage."""
    result = Result(name="redis-down", title="Redis stopped during a load of filings", done="")
    empty_case_tables()
    item = item_id()
    people = filers(8)
    app = App("chaos-redis")
    label = f"redis{int(time.time())}"
    load_before = load_average()
    outage_at, outage = args.outage_at, args.outage
    try:
        app.web()
        # As the Procfile runs it: through scripts/respawn.sh, which starts it again if it dies.
        worker = app.worker("worker-1", respawn=True)
        app.beat()
        timer_cases = file_timer_cases(
            count=args.timers, filers_=people, item=item, label=f"timers-{label}"
        )
        # Clocks that fall due 2 s into the outage: they can fire only once Redis is back.
        timer_ids = arm_clocks(
            case_ids=timer_cases,
            due_at=datetime.now().astimezone() + timedelta(seconds=outage_at + 2),
        )
        close_db()
        marks: dict[str, Any] = {}

        def stop_redis(at: float) -> None:
            log(f"  Redis stopped at {at:.1f} s")
            marks["down"] = at
            redis.stop()

        def start_redis(at: float) -> None:
            started = time.monotonic()
            redis.start()
            marks["up"] = at + (time.monotonic() - started)
            marks["up_clock"] = time.monotonic()
            marks["up_wall"] = datetime.now().astimezone()
            log(f"  Redis started again at {marks['up']:.1f} s")

        log(
            f"redis-down: {args.clients} clients filing for {args.seconds:.0f} s, "
            f"Redis down from {outage_at:.0f} s for {outage:.0f} s"
        )
        load = run_load(
            label=label,
            seconds=args.seconds,
            filing_clients=args.clients,
            filers_=people,
            item=item,
            events=[(outage_at, stop_redis), (outage_at + outage, start_redis)],
        )
        fired_before_up = sql_value(
            "SELECT count(*) FROM cases_deadline WHERE id = ANY(%s) AND fired_at < %s",
            [timer_ids, marks["up_wall"]],
        )
        waited = wait_fired(timer_ids, timeout=args.timeout, workers=[worker])
        timers_after_up = (time.monotonic() - marks["up_clock"]) if waited is not None else None
        worker_exit = worker.process.poll()
        crashes = [line for line in worker.log().splitlines() if "Unrecoverable error" in line]
        restarts = sum("respawn:" in line for line in worker.log().splitlines())
        crash = crashes[0] if crashes else ""
        time.sleep(3)
        load_after = load_average()
    finally:
        app.stop()
    down = window(load.hits, marks["down"], marks["up"])
    before = window(load.hits, 0, marks["down"])
    after = window(load.hits, marks["up"], args.seconds + 60)
    counts = accepted_checks(result, load, label=label)
    result.check(all(h.clean for h in load.hits), "every failure was clean (no 500, no traceback)")
    down_accepted = sum(1 for h in down if 200 <= h.status < 300)
    result.check(
        bool(down) and down_accepted == len(down),
        f"filings during the outage accepted: {down_accepted:,} of {len(down):,}",
    )
    result.check(
        fired_before_up == 0, f"{fired_before_up} outage clocks fired before Redis was back"
    )
    result.check(
        worker_exit is None,
        "the Celery worker runs after the outage"
        + (f" (restarted {restarts} times by scripts/respawn.sh)" if restarts else "")
        + (f" (exit status {worker_exit}; {crash.strip()})" if worker_exit is not None else ""),
    )
    timer_counts = firing_checks(result, timer_ids, label="clocks due during the outage")
    result.done = (
        f"gunicorn (3 workers), one Celery worker and beat on the private Redis. {args.clients} "
        f"clients file whistles through the API (each with its own Idempotency-Key) for "
        f"{args.seconds:.0f} s; Redis is stopped {outage_at:.0f} s in (no persistence: what "
        f"was queued is lost) and started again {outage:.0f} s later. Before the load, "
        f"{args.timers} whistles were filed and their clocks set to fall due 2 s into the "
        "outage."
    )
    result.rows = [
        ("filings sent / accepted", f"{len(load.hits):,} / {counts['accepted']:,}"),
        ("before the outage", f"{status_summary(before)}; {latency_text(before)}"),
        ("during the outage", f"{status_summary(down)}; {latency_text(down)}"),
        ("after Redis was back", f"{status_summary(after)}; {latency_text(after)}"),
        (
            "accepted cases in the database",
            f"{counts['found']:,} (filed twice: {counts['duplicates']})",
        ),
        ("cases in the database not acknowledged", f"{counts['in_db'] - counts['found']:,}"),
        (
            "clocks due during the outage: fired / events / twice",
            f"{timer_counts['fired']} of {len(timer_ids)} / {timer_counts['events']} / "
            f"{timer_counts['twice']}",
        ),
        (
            "Celery worker after the outage",
            ("running" if worker_exit is None else "stopped")
            + (
                f"; it died {len(crashes)} times ({crash.split('] ', 1)[-1].strip()}) and "
                f"scripts/respawn.sh started it again {restarts} times"
                if crashes or restarts
                else "; it never died"
            ),
        ),
        (
            "all of them fired",
            f"{timers_after_up:.1f} s after Redis was back"
            if timers_after_up is not None
            else "not within the time limit",
        ),
    ]
    result.notes.append(
        "Known weak spot: Celery 5.7.0's worker can exit when Redis goes away while it holds "
        "unacknowledged messages (\"Unrecoverable error: AttributeError: 'NoneType' object "
        "has no attribute 'hostname'\", raised by kombu restoring those messages on a "
        "connection Celery has already collected). It is intermittent (one of the first four "
        "development runs); the check above fails the run when it happens. Until Celery "
        "fixes it, the worker runs under a supervisor that starts it again: the Procfile (`make "
        "run`) and this scenario use scripts/respawn.sh; in production systemd "
        "`Restart=always` does the same. The clocks then fire as soon as it is back."
    )
    result.load = f"{load_before} / {load_after}"
    return result


def postgres_restart(args: argparse.Namespace, pg: PrivatePostgres) -> Result:
    """Filings and page reads while PostgreSQL restarts, then stops for 5 s."""
    result = Result(name="postgres-restart", title="PostgreSQL restarted under load", done="")
    empty_case_tables()
    item = item_id()
    people = filers(8)
    reader = people[0]
    cookie = session_cookie(reader.user_id)
    app = App("chaos-pg")
    label = f"pg{int(time.time())}"
    restart_at, stop_at = args.outage_at, args.outage_at + 12
    load_before = load_average()
    try:
        app.web()
        app.worker("worker-1")
        app.beat()
        timer_cases = file_timer_cases(
            count=max(10, args.timers // 4), filers_=people, item=item, label=f"timers-{label}"
        )
        # Clocks due 5 s after PostgreSQL is back: the workers and beat must have recovered.
        timer_ids = arm_clocks(
            case_ids=timer_cases,
            due_at=datetime.now().astimezone() + timedelta(seconds=stop_at + 5 + 5),
        )
        close_db()
        marks: dict[str, float] = {}

        def restart(at: float) -> None:
            log(f"  pg_ctl restart -m fast at {at:.1f} s")
            marks["restart"] = at
            pg.restart()
            marks["restarted"] = time.monotonic() - began[0]
            log(f"  PostgreSQL back at {marks['restarted']:.1f} s")

        def stop(at: float) -> None:
            log(f"  pg_ctl stop -m fast at {at:.1f} s")
            marks["stop"] = at
            pg.stop()
            time.sleep(5)
            pg.start()
            marks["started"] = time.monotonic() - began[0]
            log(f"  PostgreSQL started again at {marks['started']:.1f} s")

        readers = [
            (
                "page",
                f"{BASE_URL}/my/cases/",
                {"Cookie": f"sessionid={cookie}", "Accept-Language": "zh-hans"},
            ),
            (
                "api",
                f"{BASE_URL}/api/cases/",
                {"Authorization": f"Token {reader.token}", "Accept-Language": "en"},
            ),
        ]
        began = [time.monotonic()]
        log(
            f"postgres-restart: {args.clients - 2} filing clients and 2 readers for "
            f"{args.seconds + 10:.0f} s"
        )
        load = run_load(
            label=label,
            seconds=args.seconds + 10,
            filing_clients=max(1, args.clients - 2),
            filers_=people,
            item=item,
            readers=readers,
            events=[(restart_at, restart), (stop_at, stop)],
        )
        waited = wait_fired(timer_ids, timeout=args.timeout)
        load_after = load_average()
        workers_alive = all(s.process.poll() is None for s in app.servers)
    finally:
        app.stop()
    hits = load.hits
    fives = [h for h in hits if h.status >= 500]
    result.check(
        not any(h.status == 500 for h in hits),
        f"{sum(h.status == 500 for h in hits)} responses were a 500",
    )
    result.check(not any(h.traceback for h in hits), "no response showed a traceback")
    result.check(all(h.clean for h in hits), "every failure was a clean 503 (page or JSON)")
    recoveries = []
    for up_mark in ("restarted", "started"):
        up = marks.get(up_mark)
        if up is None:
            continue
        ok = [h for h in hits if h.started >= up and 200 <= h.status < 300]
        first = min((h.started + h.seconds for h in ok), default=None)
        recoveries.append(first - up if first is not None else None)
    result.check(
        all(r is not None for r in recoveries),
        "requests succeed again after each outage without restarting gunicorn or Celery",
    )
    tail = window(hits, args.seconds + 5, args.seconds + 10)
    result.check(
        bool(tail) and all(200 <= h.status < 300 for h in tail),
        f"the last 5 s all succeeded ({len(tail)} requests: {status_summary(tail)})",
    )
    result.check(workers_alive, "gunicorn, the worker and beat still ran (no restart)")
    result.check(waited is not None, "clocks due after the outage fired (Celery recovered)")
    counts = accepted_checks(result, load, label=label)
    without_event = sql_value(
        "SELECT count(*) FROM cases_case c WHERE NOT EXISTS "
        "(SELECT 1 FROM cases_event e WHERE e.case_id = c.id AND e.action = 'file')"
    )
    orphans = sql_value(
        "SELECT (SELECT count(*) FROM cases_event e LEFT JOIN cases_case c ON c.id = e.case_id "
        "WHERE c.id IS NULL) + (SELECT count(*) FROM cases_deadline d LEFT JOIN cases_case c "
        "ON c.id = d.case_id WHERE c.id IS NULL)"
    )
    result.check(without_event == 0, f"{without_event} cases without their filing event")
    result.check(orphans == 0, f"{orphans} events or deadlines without their case")
    restart_window = window(hits, marks.get("restart", 0), marks.get("restarted", 0) + 0.001)
    stop_window = window(hits, marks.get("stop", 0), marks.get("started", 0) + 0.001)
    result.done = (
        f"gunicorn (3 workers), one Celery worker and beat. {max(1, args.clients - 2)} clients "
        "file whistles through the API, one reads a grid worker's case list page (signed in, "
        f"Chinese), one the API's case list (English), for {args.seconds + 10:.0f} s. "
        f"{restart_at:.0f} s in, `pg_ctl restart -m fast`; {stop_at:.0f} s in, `pg_ctl stop "
        "-m fast`, 5 s wait, `pg_ctl start`. Nothing else is restarted."
    )
    result.rows = [
        ("requests", f"{len(hits):,} ({sum(h.kind == 'file' for h in hits):,} filings)"),
        ("answers", status_summary(hits)),
        (
            "server errors",
            f"{len(fives):,}, of which 500: {sum(h.status == 500 for h in hits)}; "
            f"with a traceback: {sum(h.traceback for h in hits)}",
        ),
        ("during the restart", f"{status_summary(restart_window)}"),
        ("during the stop", f"{status_summary(stop_window)}"),
        (
            "recovery (first success after PostgreSQL accepted connections again)",
            ", ".join(f"{r:.1f} s" if r is not None else "never" for r in recoveries),
        ),
        (
            "accepted filings in the database",
            f"{counts['found']:,} of {counts['accepted']:,} "
            f"(not acknowledged but stored: {counts['in_db'] - counts['found']})",
        ),
        (
            "cases without their filing event / orphan events or deadlines",
            f"{without_event} / {orphans}",
        ),
        ("clocks due after the outage", "all fired" if waited is not None else "NOT fired"),
    ]
    result.notes.append(
        "A failure is the 503 of whistle.faults: the API's error body "
        "(`service_unavailable`) or a short page, in the request's language, with "
        "`Retry-After: 5`; CONN_HEALTH_CHECKS replaces the dropped connections at the next "
        "request. A filing is one transaction, so a restart in its middle leaves nothing "
        "half-written."
    )
    result.load = f"{load_before} / {load_after}"
    return result


def idempotency(args: argparse.Namespace) -> Result:
    """The same whistle POSTed `copies` times at once with one Idempotency-Key."""
    import requests

    result = Result(
        name="idempotency",
        title=f"The same whistle POSTed {args.copies} times at once with one Idempotency-Key",
        done="",
    )
    empty_case_tables()
    item = item_id()
    filer = filers(1)[0]
    close_db()
    app = App("chaos-idem")
    label = f"idem{int(time.time())}"
    key = str(uuid.uuid4())
    load = Load()
    try:
        app.web(workers=args.web_workers)
        barrier = threading.Barrier(args.copies)

        def post(number: int) -> None:
            session = requests.Session()
            barrier.wait()
            file_once(
                session,
                filer=filer,
                item=item,
                serial=label,
                load=load,
                key=key,
                language="zh-hans" if number % 2 else "en",
                timeout=60,
            )

        threads = [threading.Thread(target=post, args=(n,)) for n in range(args.copies)]
        load.began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        app.stop()
    hits = load.hits
    ids = {h.case_id for h in hits if h.case_id is not None}
    in_db = sql_value("SELECT count(*) FROM cases_case WHERE description LIKE %s", [f"%({label})%"])
    others = [h for h in hits if h.case_id is None]
    result.check(len(hits) == args.copies, f"{len(hits)} of {args.copies} answers")
    result.check(in_db == 1, f"{in_db} cases in the database")
    result.check(len(ids) == 1, f"{len(ids)} distinct cases in the answers")
    result.check(
        all(h.status == 409 and h.code == "idempotency_in_progress" for h in others),
        f"every other answer a 409 'in progress' ({status_summary(others)})",
    )
    first = [h for h in hits if h.case_id is not None and not h.replayed]
    result.check(
        len(first) == 1, f"{len(first)} answer filed the case, the others replayed its answer"
    )
    result.done = (
        f"gunicorn with {args.web_workers} workers; {args.copies} threads, released together "
        "by a barrier, POST the same whistle with the same Idempotency-Key and token."
    )
    result.rows = [
        ("answers", status_summary(hits)),
        ("cases in the database", str(in_db)),
        ("distinct cases in the answers", str(len(ids))),
        ("answers replayed (Idempotent-Replayed: true)", str(sum(h.replayed for h in hits))),
        ("slowest answer", f"{max((h.seconds for h in hits), default=0):.2f} s"),
    ]
    return result


# --- the report ----------------------------------------------------------------------------------


def section(results: list[Result], info: dict[str, str], command: str) -> str:
    from bench.common import machine_line

    lines = [
        SECTION,
        "",
        f"Command: `{command}` (scripts/chaos.sh, `python -m bench.chaos`) on "
        f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}. "
        f"{machine_line(info)}",
        "",
        "Each fault runs against real processes on a private PostgreSQL cluster (port "
        f"{PG_PORT}) and a private redis-server (port {REDIS_PORT}, no persistence) that the "
        "script starts and stops itself: gunicorn, `celery worker` and `celery beat` as in "
        "the Procfile. Every outcome is checked in the database; a check that fails makes "
        "`make chaos` fail.",
        "",
        "| Fault | Held |",
        "| --- | --- |",
    ]
    for result in results:
        lines.append(f"| {result.title} | {'**yes**' if result.held else '**NO**'} |")
    lines.append("")
    for result in results:
        lines += [f"### {result.title}", "", f"**Done.** {result.done}", "", "| | |", "|---|---|"]
        lines += [f"| {name} | {value} |" for name, value in result.rows]
        lines.append("")
        if result.load:
            lines += [f"Load average (1 min) before / after: {result.load}.", ""]
        for note in result.notes:
            lines += [note, ""]
        if result.held:
            lines += ["**Held.**", ""]
        else:
            lines += ["**Did not hold:**", ""] + [f"* {f}" for f in result.failures] + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    # The run's own var dir (logs, beat schedules, the cluster): never the development one.
    os.environ.setdefault("WHISTLE_VAR_DIR", str(BASE_DIR / "var" / "chaos"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)} (all)")
    parser.add_argument("--open", type=int, default=100_000, help="open cases (worker-kill)")
    parser.add_argument("--due", type=int, default=10_000, help="due deadlines (worker-kill)")
    parser.add_argument("--kill-at", type=float, default=0.3, help="share fired at the kill")
    parser.add_argument("--seconds", type=float, default=30, help="load duration")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--outage-at", type=float, default=10, help="seconds into the load")
    parser.add_argument("--outage", type=float, default=10, help="Redis outage seconds")
    parser.add_argument("--timers", type=int, default=100, help="clocks due during the outage")
    parser.add_argument("--copies", type=int, default=50, help="concurrent identical POSTs")
    parser.add_argument("--web-workers", type=int, default=8, help="gunicorn workers (idem.)")
    parser.add_argument("--timeout", type=float, default=600, help="longest wait for firings")
    parser.add_argument("--pg-dir", default=str(var_dir() / "pg"), help="the private cluster")
    parser.add_argument("--no-write", action="store_true", help="do not touch the docs")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    scenarios = args.scenarios or list(SCENARIOS)

    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["WHISTLE_CELERY_QUEUE"] = QUEUE
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["WHISTLE_MANIFEST_STATIC"] = "0"

    pg = PrivatePostgres(Path(args.pg_dir))
    redis = PrivateRedis(var_dir())
    results: list[Result] = []
    info: dict[str, str] = {}
    try:
        pg.init()
        if pg.running():
            pg.stop()
        pg.start()
        redis.start()
        from bench.common import ensure_database, machine

        ensure_database(DATABASE_URL, force=True)
        import django

        django.setup()
        from django.core.management import call_command

        from rollout.demo import build_demo_city

        call_command("migrate", verbosity=0)
        build_demo_city()
        info = machine()
        for name in scenarios:
            log(f"== {name}")
            if name == "worker-kill":
                results.append(worker_kill(args))
            elif name == "redis-down":
                results.append(redis_down(args, redis))
            elif name == "postgres-restart":
                results.append(postgres_restart(args, pg))
            elif name == "idempotency":
                results.append(idempotency(args))
            close_db()
    finally:
        close_db()
        redis.stop()
        pg.stop()
    given = [part for part in (argv if argv is not None else sys.argv[1:]) if part != "--no-write"]
    command = f"make chaos CHAOS_ARGS='{' '.join(given)}'" if given else "make chaos"
    text = section(results, info, command)
    print()
    print(text)
    if args.no_write:
        pass
    elif set(scenarios) != set(SCENARIOS):
        print("Some scenarios only: docs/reliability.md is left as it was.")
    else:
        write_section(SECTION, text, DOC)
        print(f"Written to {DOC.relative_to(BASE_DIR)}")
    (var_dir() / "chaos.json").write_text(
        json.dumps({r.name: {"held": r.held, "failures": r.failures} for r in results}, indent=2)
    )
    failed = [r for r in results if not r.held]
    for r in failed:
        print(f"FAILED {r.name}: " + "; ".join(r.failures), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
