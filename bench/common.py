"""What every benchmark of `make bench` shares: the database, the machine, real server
processes, their peak memory, and the page the figures go to.

Each benchmark (bench.sweep, bench.intake, bench.pages) writes its own "## " section of
docs/benchmarks.md and stores its headline figures in var/bench/results.json (under its own
key), from which bench.summary writes the table of targets at the top of the page.
"""

import json
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/whistle_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
BASE_DIR = Path(__file__).resolve().parent.parent
DOC = BASE_DIR / "docs" / "benchmarks.md"
VENV_BIN = Path(sys.executable).parent


def var_dir() -> Path:
    path = Path(os.environ.get("WHISTLE_VAR_DIR", BASE_DIR / "var" / "bench"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def ensure_database(url: str, *, force: bool = False) -> None:
    """Create the benchmark database when it does not exist yet. Refuses a database whose name
    lacks "bench" (the benchmarks empty its case tables) unless `force`."""
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    options = dj_database_url.parse(url)
    if "postgresql" not in options["ENGINE"]:
        sys.exit(f"The benchmarks need PostgreSQL; DATABASE_URL is {url!r}.")
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
                print(f"Creating database {options['NAME']}", flush=True)
                cursor.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(options["NAME"]))
                )
    finally:
        connection.close()


def add_common_arguments(parser) -> None:
    """The options every benchmark takes."""
    parser.add_argument("--no-write", action="store_true", help="do not touch the docs")
    parser.add_argument(
        "--force", action="store_true", help="run on a database without 'bench' in its name"
    )


def set_up(*, force: bool) -> None:
    """Create the benchmark database if needed, start Django, migrate and build the demo city
    (the environment, DATABASE_URL first, must be prepared by the caller)."""
    ensure_database(os.environ["DATABASE_URL"], force=force)
    import django

    django.setup()
    from django.core.management import call_command

    from rollout.demo import build_demo_city

    call_command("migrate", verbosity=0)
    build_demo_city()


def load_average() -> str:
    """The 1-minute load average: other work on the machine slows every figure down."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


class QueryCounter:
    """Counts the statements Django sends, without keeping them (connection.execute_wrapper)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def database_bytes() -> int:
    """The size of the benchmark's whole database on disk, in bytes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def machine() -> dict[str, str]:
    """CPU, memory, PostgreSQL and Python versions (needs Django set up on PostgreSQL)."""
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
        # How much of the database PostgreSQL keeps in its own memory: over a large history
        # the figures depend on it (docs/scaling.md).
        cursor.execute("SHOW shared_buffers")
        (shared_buffers,) = cursor.fetchone()
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "postgresql": pg_version,
        "shared_buffers": shared_buffers,
        "python": platform.python_version(),
    }


def machine_line(info: dict[str, str]) -> str:
    buffers = f" (shared_buffers {info['shared_buffers']})" if info.get("shared_buffers") else ""
    return (
        f"Machine: {info['cpus']} CPUs ({info['cpu']}), {info['memory']} memory, "
        f"PostgreSQL {info['postgresql']}{buffers}, Python {info['python']}; the database, "
        "Redis, the servers and the load generator all on the same machine."
    )


def write_section(heading: str, text: str, path: Path = DOC) -> None:
    """Replace the section of the benchmarks page that starts with `heading` ("## ..."), or
    append it. The section runs from its heading line to the next "## " heading or the end."""
    if path.exists():
        current = path.read_text()
    else:
        current = "# Benchmarks\n\nFigures written by `make bench`.\n\n"
    section = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if section.search(current):
        current = section.sub(lambda _match: text.rstrip("\n") + "\n\n", current, count=1)
    else:
        current = current.rstrip("\n") + "\n\n" + text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(current.rstrip("\n") + "\n")


def record_results(key: str, data: dict) -> None:
    """Keep one benchmark's headline figures for bench.summary (var/bench/results.json)."""
    path = var_dir() / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[key] = data
    path.write_text(json.dumps(results, indent=2, sort_keys=True, default=str))


def read_results() -> dict:
    path = var_dir() / "results.json"
    return json.loads(path.read_text()) if path.exists() else {}


# Peak memory of server processes.


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for child in _children(pid):
        pids.extend(_tree(child))
    return pids


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class PeakRss:
    """Samples the process trees it watches every `interval` seconds and keeps the highest
    resident set of any one process per label, from the kernel's own high-water mark (VmHWM),
    so a peak between two samples is not missed while the process lives."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.roots: dict[str, list[int]] = {}
        self.peaks_kib: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()

    def watch(self, label: str, pid: int, *, children_only: bool = False) -> None:
        """Watch `pid` (and its descendants) under `label`. `children_only` leaves out the
        root itself, e.g. a gunicorn master when the workers are what is measured."""
        with self._lock:
            self.roots.setdefault(label, []).append(-pid if children_only else pid)

    def sample(self) -> None:
        with self._lock:
            roots = {label: list(pids) for label, pids in self.roots.items()}
        for label, pids in roots.items():
            for root in pids:
                tree = _tree(abs(root))
                if root < 0:
                    tree = tree[1:]
                for pid in tree:
                    peak = _status_kib(pid, "VmHWM")
                    if peak > self.peaks_kib.get(label, 0):
                        self.peaks_kib[label] = peak

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.sample()
        self._stop.set()
        self._thread.join()

    def mib(self) -> dict[str, float]:
        return {label: kib / 1024 for label, kib in self.peaks_kib.items()}


# Real server processes.


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a server process: this one's plus `extra` (DATABASE_URL etc.)."""
    env = dict(os.environ)
    env.update(extra)
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    env.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    env.setdefault("LOG_LEVEL", "WARNING")
    return env


class Server:
    """A child process group (gunicorn, a Celery worker) stopped on exit, with its log."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.log_path = var_dir() / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own argv
            argv,
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (kill -9 by default)."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.kill(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.process.wait(5)
        self._log.close()


def gunicorn(
    *,
    port: int,
    workers: int,
    env: dict[str, str],
    name: str = "gunicorn",
    worker_class: str = "sync",
    threads: int = 1,
    executable: Path | None = None,
    app: str = "whistle.wsgi",
) -> Server:
    """gunicorn serving `app` (Whistle by default) from the project's directory, so that it
    reads gunicorn.conf.py there; `executable`: another environment's gunicorn (the intake
    benchmark's django-helpdesk comparison)."""
    argv = [
        str(executable or VENV_BIN / "gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--no-control-socket",
        "--backlog",
        "2048",
    ]
    return Server(name, argv, env)


def celery_worker(
    *,
    name: str,
    env: dict[str, str],
    concurrency: int = 1,
    respawn: bool = False,
    queues: str | None = None,
) -> Server:
    """A `celery worker`; with `respawn`, run through scripts/respawn.sh as the Procfile runs
    it (started again if it dies on its own); `queues`: the queues it consumes (default: the
    default queue and the delivery queue, as one worker took all tasks before the delivery
    queue existed)."""
    if queues is None:
        default = env.get("WHISTLE_CELERY_QUEUE") or "celery"
        queues = f"{default},{env.get('WHISTLE_DELIVERY_QUEUE') or f'{default}-deliveries'}"
    argv = [
        str(VENV_BIN / "celery"),
        "-A",
        "whistle",
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        "--pool=prefork",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        f"--hostname={name}@%h",
    ]
    argv.append(f"--queues={queues}")
    if respawn:
        argv.insert(0, str(BASE_DIR / "scripts" / "respawn.sh"))
    return Server(name, argv, env)


def celery_beat(*, name: str, env: dict[str, str], schedule: Path) -> Server:
    """A `celery beat` (the settings' scheduler: the leader lease, whistle.beat), keeping its
    schedule in `schedule`."""
    argv = [str(VENV_BIN / "celery"), "-A", "whistle", "beat", "--loglevel=INFO"]
    return Server(name, [*argv, "-s", str(schedule)], env)


def wait_for_http(url: str, *, timeout: float = 60, server: Server | None = None) -> None:
    """Wait until `url` answers (any HTTP status), or fail with the server's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log()[-4000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def wait_for_log(server: Server, needle: str, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in server.log():
            return
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log()[-4000:]}")
        time.sleep(0.3)
    raise RuntimeError(f"{server.name}: no {needle!r} in {timeout} s:\n{server.log()[-4000:]}")


@contextmanager
def running(servers: Iterable[Server]):
    """Stop every server on the way out, whatever happened (a list stays live: servers
    appended to it inside the block are stopped too)."""
    if not isinstance(servers, list):
        servers = list(servers)
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def queue_depth(redis_url: str, queue: str) -> int:
    """Messages waiting in the Celery queue and its delivery queue (settings.
    WHISTLE_DELIVERY_QUEUE's default) plus those a worker took but has not acked."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        waiting = int(client.llen(queue)) + int(client.llen(f"{queue}-deliveries"))
        return waiting + int(client.hlen("unacked"))
    finally:
        client.close()


def purge_queue(redis_url: str, queue: str) -> None:
    """Drop what an earlier run left in the Celery queue and its unacknowledged messages."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(queue, f"{queue}-deliveries", "unacked", "unacked_index")
    finally:
        client.close()


def forget_queue(redis_url: str, queue: str) -> None:
    """Remove every key a run left on a shared Redis under its own queue name: the queues,
    their bindings and unacknowledged messages."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"*{queue}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1) of `values`; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


# --- set-based seeding of the case tables (bench.pages, bench.replay) -----------------------

# The tables a seed fills: their secondary indexes are dropped for the load and rebuilt after.
SEEDED_TABLES = (
    "cases_case",
    "cases_event",
    "cases_dispatch",
    "cases_deadline",
    "assessment_casefact",
    "assessment_dispatchfact",
)


def _secondary_indexes() -> list[tuple[str, str]]:
    """The seeded tables' indexes that back no constraint, with their definitions."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_dropped_index (name text PRIMARY KEY, "
            "definition text NOT NULL)"
        )
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename = ANY(%s)
              AND NOT EXISTS (
                SELECT 1 FROM pg_constraint c
                WHERE c.conindid = (quote_ident(i.schemaname) || '.' ||
                                    quote_ident(i.indexname))::regclass)
            """,
            [list(SEEDED_TABLES)],
        )
        return cursor.fetchall()


# What a seed empties first (the case tables and what hangs on them).
EMPTIED_TABLES = (
    "cases_case",
    "cases_deadline",
    "cases_event",
    "cases_dispatch",
    "cases_notification",
    "cases_casesequence",
    "assessment_casefact",
    "assessment_dispatchfact",
)


@contextmanager
def bulk_load(
    *,
    also_empty: Iterable[str] = (),
    skip_foreign_key_checks: bool = False,
    months: tuple[datetime, datetime] | None = None,
):
    """Empty the case tables (and `also_empty`) and yield the cursor that fills them, in one
    transaction, without the seeded tables' secondary indexes; then rebuild the indexes, copy
    each dispatch's limits onto it as the services do (cases.timers.sync_dispatch_board), and
    VACUUM ANALYZE the seeded tables.

    Each index is dropped and made again in a transaction of its own: with ten years of
    monthly partitions in four tables, one transaction holding a lock on every partition's
    every index needs more than PostgreSQL's default lock table (64 a connection: "out of
    shared memory"). A dropped index's definition is kept in `bench_dropped_index` in the
    transaction that drops it, and deleted in the one that makes it again, so a seed that
    dies half-way leaves its indexes to the next one instead of losing them.

    `skip_foreign_key_checks`: as a superuser, the rows (consistent by construction) skip
    the per-row foreign-key checks at commit, which take longer than making millions of rows.

    `months`: the first and last moments the seeded cases are filed at: the partitioned tables
    get a partition for each of their months (cases.partitions), as a deployment's beat would
    have made them, so no seeded row waits in a default partition."""
    from django.db import connection, transaction

    from cases import partitions
    from cases.timers import sync_dispatch_board

    for name, definition in _secondary_indexes():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_dropped_index (name, definition) VALUES (%s, %s)",
                [name, definition],
            )
            cursor.execute(f'DROP INDEX "{name}"')
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        if skip_foreign_key_checks:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            f"TRUNCATE {', '.join((*EMPTIED_TABLES, *also_empty))} RESTART IDENTITY CASCADE"
        )
        if months is not None:
            partitions.create_months(
                first=partitions.month_of(months[0]), last=partitions.month_of(months[1])
            )
        yield cursor
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, definition FROM bench_dropped_index ORDER BY name")
        dropped = cursor.fetchall()
    for name, definition in dropped:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            # A partitioned table's index reads "ON ONLY": made so, it would cover none of the
            # partitions (cases.partitions); without ONLY it covers them all.
            cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))
            cursor.execute("DELETE FROM bench_dropped_index WHERE name = %s", [name])
    with transaction.atomic():
        sync_dispatch_board()
    with connection.cursor() as cursor:
        for table in SEEDED_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
