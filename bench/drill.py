"""A multi-machine drill on one machine (`make drill`, issue 22): real processes on loopback.

    python -m bench.drill [--seconds 75] [--timers 200] [--no-write] [--keep-logs]

Started here, each on a free loopback port, and stopped at the end:

* a PostgreSQL primary and a hot standby streaming from it (tests/replicas.py: initdb,
  pg_basebackup -R); migrate and seed_demo run on the primary;
* a redis-server of its own (no persistence), or the Redis of WHISTLE_DRILL_REDIS_URL (e.g.
  redis://127.0.0.1:6379/9) with a queue name of this run's own, its keys removed at the end;
* two gunicorn instances (gunicorn.conf.py) behind Debian's nginx (a temporary nginx.conf, both
  in one upstream, proxy_next_upstream on failed connections);
* two Celery workers (default and delivery queues) and two `celery beat` with the leader
  scheduler (whistle.beat), sweeping every second.

Timer cases are filed through the API first and their clocks set to fall due all through the
load. Then, for --seconds: filing clients POST whistles through nginx, each with its own
Idempotency-Key and, after a connection error, a 5xx or a 409 (in progress), the same request
again with the SAME key, as a phone would; readers load the board and the dashboards (whose
freshness note says whether the replica or the primary answered), and a monitor asks /readyz
and /metrics once a second through nginx (whistle.health). During the load one gunicorn,
one worker and the beat holding the lease are killed (SIGKILL to the process group) and started
again a few seconds later; nothing is promoted.

Then the drill waits for every due clock and checks, printing each figure: every acknowledged
filing is in the database once, no key made two cases, no case lacks its filing event, every
deadline due fired exactly once (one timer event each) and none late beyond its bound, the
standby beat took over, and the replica reads a write back within
WHISTLE_REPLICA_MAX_LAG_SECONDS and the dashboards read it again. Exit status 1 on any failure,
with the logs kept (their folder is printed); the figures replace the "Drill" section of
docs/scaling.md unless --no-write.
"""

import argparse
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.chaos import sql, sql_value
from bench.common import (
    BASE_DIR,
    VENV_BIN,
    Server,
    celery_beat,
    celery_worker,
    forget_queue,
    load_average,
    machine,
    percentile,
    server_env,
    wait_for_http,
    wait_for_log,
    write_section,
)
from tests.replicas import freshness_note

DOC = BASE_DIR / "docs" / "scaling.md"
SECTION = "## Drill (make drill)"
SWEEP_SECONDS = 1


# The bearer token the drill's monitoring sends to /metrics (a run's own site only).
METRICS_TOKEN = uuid.uuid4().hex


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", flush=True)


# --- the processes -------------------------------------------------------------------------------

NGINX_CONF = """\
worker_processes 1;
daemon off;
user root;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log {folder}/nginx-access.log;
  client_body_temp_path {folder}/nginx-temp/body;
  proxy_temp_path {folder}/nginx-temp/proxy;
  fastcgi_temp_path {folder}/nginx-temp/fastcgi;
  uwsgi_temp_path {folder}/nginx-temp/uwsgi;
  scgi_temp_path {folder}/nginx-temp/scgi;
  upstream whistle {{
    server 127.0.0.1:{web1} max_fails=1 fail_timeout=3s;
    server 127.0.0.1:{web2} max_fails=1 fail_timeout=3s;
  }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 20m;
    location / {{
      proxy_pass http://whistle;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_connect_timeout 2s;
      proxy_read_timeout 30s;
      # A refused connection (a dead instance) goes to the other instance. A request that
      # was sent and then lost its instance is answered 502: a POST is never sent twice by
      # nginx, the client retries it with its Idempotency-Key.
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 2;
    }}
  }}
}}
"""


@dataclass
class Site:
    """Every process of the drill, by role; `restart` starts a killed one again."""

    folder: Path
    env: dict[str, str]
    web_ports: list[int]
    web_workers: int
    port: int = 0
    webs: list[Server] = field(default_factory=list)
    workers: list[Server] = field(default_factory=list)
    beats: list[Server] = field(default_factory=list)
    others: list[Server] = field(default_factory=list)
    starts: Counter = field(default_factory=Counter)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _name(self, role: str) -> str:
        self.starts[role] += 1
        return f"{role}-{self.starts[role]}"

    def web(self, number: int) -> Server:
        port = self.web_ports[number]
        argv = [
            str(VENV_BIN / "gunicorn"),
            "whistle.wsgi",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(self.web_workers),
            "--no-control-socket",
        ]
        server = Server(self._name(f"web{number + 1}"), argv, self.env)
        wait_for_http(f"http://127.0.0.1:{port}/accounts/login/", timeout=90, server=server)
        return server

    def worker(self, number: int) -> Server:
        server = celery_worker(name=self._name(f"worker{number + 1}"), env=self.env)
        wait_for_log(server, "ready.", timeout=120)
        return server

    def beat(self, number: int) -> Server:
        name = self._name(f"beat{number + 1}")
        return celery_beat(name=name, env=self.env, schedule=self.folder / f"{name}-schedule")

    def nginx(self) -> Server:
        (self.folder / "nginx-temp").mkdir(exist_ok=True)
        self.port = _free_port()
        conf = self.folder / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                folder=self.folder, port=self.port, web1=self.web_ports[0], web2=self.web_ports[1]
            )
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        server = Server("nginx", [nginx, "-c", str(conf), "-p", str(self.folder)], self.env)
        wait_for_http(f"{self.base}/accounts/login/", timeout=30, server=server)
        return server

    def all(self) -> list[Server]:
        return [*self.others, *self.beats, *self.workers, *self.webs]


def _free_port() -> int:
    from tests.replicas import free_port

    return free_port()


# --- the database, from this process (the primary) -----------------------------------------------


def lease_pid() -> int | None:
    """The process id of the beat holding the lease now (holder is host:pid:random)."""
    from whistle.beat import LEASE_NAME

    holder = sql_value(
        "SELECT holder FROM core_lease WHERE name = %s AND expires_at > now()", [LEASE_NAME]
    )
    return int(holder.split(":")[-2]) if holder else None


# --- the load ------------------------------------------------------------------------------------


@dataclass
class Filing:
    key: str
    attempts: int = 0
    case_id: int | None = None
    statuses: list[str] = field(default_factory=list)
    replayed: bool = False
    seconds: float = 0.0


@dataclass
class Load:
    began: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    filings: list[Filing] = field(default_factory=list)
    reads: Counter = field(default_factory=Counter)  # (kind, status) -> count
    sources: Counter = field(default_factory=Counter)  # freshness data-source -> count
    filing_seconds: list[float] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)

    def at(self) -> float:
        return time.monotonic() - self.began


def file_whistle(session, *, base: str, filer, item: int, key: str, give_up: float) -> Filing:
    """POST one whistle; after a failure without an answer (connection error, 5xx, 409 still in
    progress) the same request again with the same key, until `give_up` (monotonic)."""
    filing = Filing(key=key)
    body = {
        "item": item,
        "description": f"Drill whistle beside the road ({key})",
        "grid": filer.grid,
        "address": f"Drill address {key[:8]}",
    }
    headers = {
        "Authorization": f"Token {filer.token}",
        "Idempotency-Key": key,
        "Accept-Language": "en",
    }
    started = time.monotonic()
    while True:
        filing.attempts += 1
        try:
            response = session.post(f"{base}/api/cases/", json=body, headers=headers, timeout=20)
        except Exception as error:  # a connection lost: the outcome is unknown, ask again
            filing.statuses.append(type(error).__name__)
        else:
            if 200 <= response.status_code < 300:
                filing.case_id = response.json()["id"]
                filing.replayed = response.headers.get("Idempotent-Replayed") == "true"
                break
            filing.statuses.append(str(response.status_code))
            if response.status_code < 500 and response.status_code != 409:
                break  # refused for good (4xx): nothing to retry
        if time.monotonic() > give_up:
            break
        time.sleep(min(0.2 * filing.attempts, 2.0))
    filing.seconds = time.monotonic() - started
    return filing


def run_load(
    *,
    site: Site,
    seconds: float,
    clients: int,
    filers: list,
    item: int,
    readers: list[tuple[str, Any]],
    events: list[tuple[float, Any]],
    load: Load,
) -> None:
    import requests

    stop = threading.Event()

    def filing(number: int) -> None:
        session = requests.Session()
        filer = filers[number % len(filers)]
        while not stop.is_set():
            done = file_whistle(
                session,
                base=site.base,
                filer=filer,
                item=item,
                key=f"drill-{uuid.uuid4()}",
                give_up=load.began + seconds + 60,
            )
            with load.lock:
                load.filings.append(done)
                load.filing_seconds.append(done.seconds)

    def reading(url: str, session) -> None:
        kind = url.strip("/").split("/")[0]
        while not stop.is_set():
            try:
                response = session.get(f"{site.base}{url}", timeout=20)
            except Exception as error:
                status = type(error).__name__
                source = None
            else:
                status = str(response.status_code)
                found = freshness_note(response.text) if response.status_code == 200 else None
                source = found[0] if found else None
            with load.lock:
                load.reads[(kind, status)] += 1
                if source:
                    load.sources[source] += 1
            time.sleep(0.3)

    threads = [threading.Thread(target=filing, args=(n,), daemon=True) for n in range(clients)]
    threads += [threading.Thread(target=reading, args=r, daemon=True) for r in readers]
    for thread in threads:
        thread.start()
    for at, action in sorted(events, key=lambda e: e[0]):
        delay = load.began + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        action()
    remaining = load.began + seconds - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
    stop.set()
    for thread in threads:
        thread.join(90)


class OperationsWatch:
    """Asks /readyz and /metrics (with the token) once a second through nginx, as a load
    balancer and Prometheus would, and keeps what they said."""

    def __init__(self, *, base: str) -> None:
        self.base = base
        self.ready: Counter = Counter()
        self.scrapes: Counter = Counter()
        self.samples: list[tuple[float, dict[str, float]]] = []

    def run(self, stop: threading.Event) -> None:
        import requests
        from prometheus_client.parser import text_string_to_metric_families

        session = requests.Session()
        auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        while not stop.is_set():
            try:
                self.ready[session.get(f"{self.base}/readyz", timeout=5).status_code] += 1
                response = session.get(f"{self.base}/metrics", headers=auth, timeout=5)
                self.scrapes[response.status_code] += 1
                if response.status_code == 200:
                    values = {
                        sample.name: sample.value
                        for family in text_string_to_metric_families(response.text)
                        for sample in family.samples
                        if not sample.labels
                    }
                    self.samples.append((time.monotonic(), values))
            except requests.RequestException as error:
                self.ready[type(error).__name__] += 1
            time.sleep(1)

    def figures(self, checks: "Checks", *, lease: float) -> None:
        asked = sum(self.ready.values())
        checks.figure(
            "/readyz through nginx during the load: answered 200",
            f"{self.ready[200]:,} of {asked:,}",
            ok=asked > 0 and self.ready[200] == asked,
        )
        scraped = sum(self.scrapes.values())
        checks.figure(
            "/metrics scrapes answered 200",
            f"{self.scrapes[200]:,} of {scraped:,}",
            ok=scraped > 0 and self.scrapes[200] == scraped,
        )
        # The longest run of scrapes that saw no beat holding the lease: the takeover as the
        # monitoring sees it (whistle_beat_leader).
        longest, started = 0.0, None
        for at, values in self.samples:
            if values.get("whistle_beat_leader") == 0:
                started = at if started is None else started
                longest = max(longest, at - started)
            else:
                started = None
        checks.figure(
            "longest time /metrics showed no beat leader",
            f"{longest:.0f} s (lease {lease:g} s; scraped every second)",
            ok=longest <= lease + 5,
        )
        overdue = max((v.get("whistle_deadlines_overdue", 0) for _, v in self.samples), default=0)
        oldest = max(
            (v.get("whistle_deadlines_overdue_oldest_seconds", 0) for _, v in self.samples),
            default=0,
        )
        checks.figure(
            "most deadlines /metrics showed overdue (more than 60 s late), and the oldest",
            f"{overdue:.0f}, {oldest:.0f} s",
        )


def signed_in(base: str, username: str):
    import requests

    session = requests.Session()
    session.headers["Accept-Language"] = "en"
    session.get(f"{base}/accounts/login/", timeout=10)
    answer = session.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": "whistle-demo",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=10,
    )
    if answer.status_code != 200 or "/accounts/login/" in answer.url:
        raise RuntimeError(f"could not sign in as {username}: {answer.status_code}")
    return session


def freshness(session, base: str) -> str | None:
    answer = session.get(f"{base}/assessment/", timeout=30)
    found = freshness_note(answer.text) if answer.status_code == 200 else None
    return found[0] if found else None


# --- the checks ----------------------------------------------------------------------------------


@dataclass
class Checks:
    rows: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def figure(self, name: str, value: Any, ok: bool = True) -> None:
        text = f"{value:,}" if isinstance(value, int) else str(value)
        self.rows.append((name, text + ("" if ok else "  **FAILED**")))
        log(f"  {'ok    ' if ok else 'FAILED'} {name}: {text}")
        if not ok:
            self.failures.append(f"{name}: {text}")


def wait_until(condition, *, timeout: float, every: float = 0.5) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(every)
    return None


# --- the drill -----------------------------------------------------------------------------------


def drill(args: argparse.Namespace, folder: Path, checks: Checks) -> tuple[Checks, dict]:
    from tests.replicas import streaming_pair

    log(f"logs in {folder}")
    with streaming_pair() as pair:
        log(f"primary on {pair.primary_port}, streaming replica on {pair.replica_port}")
        try:
            return _drill(args, folder, pair, checks)
        finally:
            for name in ("primary", "replica"):
                source = pair.folder / f"{name}.log"
                if source.exists():
                    shutil.copy(source, folder / f"postgresql-{name}.log")


def _drill(args, folder: Path, pair, checks: Checks) -> tuple[Checks, dict[str, str]]:
    """With WHISTLE_DRILL_REDIS_URL, that Redis (a queue of this run's own, removed at the
    end); else a redis-server of the drill's own on a free port, without persistence."""
    redis_url = os.environ.get("WHISTLE_DRILL_REDIS_URL", "")
    if redis_url:
        return _run_site(args, folder, pair, checks, redis_url)
    port = _free_port()
    argv = [shutil.which("redis-server") or "redis-server", "--port", str(port)]
    argv += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)]
    redis = Server("redis", argv, dict(os.environ))
    try:
        wait_for_log(redis, "Ready to accept connections", timeout=30)
        log(f"redis-server on {port}")
        return _run_site(args, folder, pair, checks, f"redis://127.0.0.1:{port}/0")
    finally:
        redis.stop()


def _run_site(args, folder: Path, pair, checks: Checks, redis_url: str):
    queue = f"whistle-drill-{uuid.uuid4().hex[:8]}"
    settings = {
        "DATABASE_URL": pair.primary_url,
        "DATABASE_REPLICA_URL": pair.replica_url,
        "REDIS_URL": redis_url,
        "WHISTLE_CELERY_QUEUE": queue,
        "WHISTLE_VAR_DIR": str(folder),
        "WHISTLE_REPLICA_MAX_LAG_SECONDS": str(args.lag_bound),
        "WHISTLE_BEAT_LEASE_SECONDS": str(args.lease),
        "WHISTLE_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "WHISTLE_REQUIRE_TWO_FACTOR": "0",
        "WHISTLE_MANIFEST_STATIC": "0",
        "SECRET_KEY": "drill-" + uuid.uuid4().hex * 2,
        "LANGUAGE_CODE": "en",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "60",
        "PYTHONUNBUFFERED": "1",
        "WHISTLE_METRICS_TOKEN": METRICS_TOKEN,
    }
    os.environ.update(settings)
    os.environ.pop("WHISTLE_BROKER_DIR", None)
    env = server_env(**settings)

    import django

    django.setup()
    from django.core.management import call_command

    log("migrate and seed_demo on the primary")
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())  # not its demo logins
    info = machine()
    from bench.chaos import filers as make_filers
    from bench.chaos import item_id

    filers = make_filers(8)
    item = item_id()
    from django.db import connections

    connections.close_all()

    site = Site(folder=folder, env=env, web_ports=[_free_port(), _free_port()], web_workers=1)
    try:
        log("two gunicorn, nginx, two workers, two beats")
        site.webs = [site.web(0), site.web(1)]
        site.others.append(site.nginx())
        site.workers = [site.worker(0), site.worker(1)]
        site.beats = [site.beat(0), site.beat(1)]
        if wait_until(lambda: lease_pid() in {b.pid for b in site.beats}, timeout=60) is None:
            raise RuntimeError("no beat took the lease")
        log(f"beat pid {lease_pid()} leads")
        return _load_and_check(args, site, pair, checks, filers, item, info)
    finally:
        for server in reversed(site.all()):
            server.stop()
        forget_queue(redis_url, queue)
        connections.close_all()


def _load_and_check(args, site: Site, pair, checks: Checks, filers, item, info):
    import requests

    # Timer cases through the API, their clocks falling due all through the load.
    log(f"filing {args.timers} timer cases through nginx")
    session = requests.Session()
    timer_cases = []
    for n in range(args.timers):
        done = file_whistle(
            session,
            base=site.base,
            filer=filers[n % len(filers)],
            item=item,
            key=f"drill-timer-{uuid.uuid4()}",
            give_up=time.monotonic() + 60,
        )
        if done.case_id is None:
            raise RuntimeError(f"could not file timer case {n}: {done.statuses}")
        timer_cases.append(done.case_id)

    readers = []
    for username, urls in (
        ("captain1", ("/board/",)),
        ("supervisor1", ("/assessment/",)),
        ("city1", ("/assessment/",)),
    ):
        for url in urls:
            readers.append((url, signed_in(site.base, username)))
    city = signed_in(site.base, "city1")

    load = Load()
    seconds = args.seconds
    from django.db import connection

    groups = 20
    start = 5.0
    spread = max(seconds - 10.0 - start, 5.0)
    now = sql_value("SELECT now()")
    per_group = -(-len(timer_cases) // groups)
    deadline_ids: list[int] = []
    for g in range(groups):
        cases = timer_cases[g * per_group : (g + 1) * per_group]
        due = now + timedelta(seconds=start + spread * g / (groups - 1))
        rows = sql(
            "UPDATE cases_deadline SET due_at = %(due)s, warn_at = %(due)s - interval '1 hour', "
            "warned_at = %(due)s - interval '1 hour' WHERE case_id = ANY(%(cases)s) "
            "AND fired_at IS NULL AND met_at IS NULL AND paused_at IS NULL RETURNING id",
            {"due": due, "cases": cases},
        )
        deadline_ids += [row[0] for row in rows]
    log(f"{len(deadline_ids)} clocks fall due from +{start:.0f} s to +{start + spread:.0f} s")
    load.began = time.monotonic()

    takeover: dict[str, float] = {}

    def kill(role: str, servers: list[Server], index: int) -> None:
        server = servers[index]
        log(f"SIGKILL {server.name} (pid {server.pid})")
        load.marks[f"kill {role}"] = load.at()
        server.kill(signal.SIGKILL)
        server.process.wait(10)

    def restart(role: str, servers: list[Server], index: int, start_one) -> None:
        servers[index].stop()
        load.marks[f"restart {role}"] = load.at()

        def start() -> None:
            servers[index] = start_one(index)  # a web or worker: once it answers
            load.marks[f"{role} up"] = load.at()
            log(f"{role} up again")

        threading.Thread(target=start, daemon=True).start()

    def kill_leader() -> None:
        pid = lease_pid()
        index = next(i for i, b in enumerate(site.beats) if b.pid == pid)
        other = site.beats[1 - index].pid
        kill(f"beat{index + 1} (the leader)", site.beats, index)
        killed = time.monotonic()

        def watch() -> None:
            if wait_until(lambda: lease_pid() == other, timeout=args.lease + 30, every=0.1):
                takeover["seconds"] = time.monotonic() - killed
                log(f"standby beat {other} took the lease after {takeover['seconds']:.1f} s")

        threading.Thread(target=watch, daemon=True).start()
        takeover["index"] = index

    k = seconds / 100
    events = [
        (25 * k, lambda: kill("web1", site.webs, 0)),
        (25 * k + 5, lambda: restart("web1", site.webs, 0, site.web)),
        (45 * k, lambda: kill("worker1", site.workers, 0)),
        (45 * k + 5, lambda: restart("worker1", site.workers, 0, site.worker)),
        (60 * k, kill_leader),
        (
            60 * k + 5,
            lambda: restart(
                f"beat{takeover['index'] + 1}", site.beats, takeover["index"], site.beat
            ),
        ),
    ]
    lags: list[float] = []
    stop_lag = threading.Event()

    def watch_lag() -> None:
        while not stop_lag.is_set():
            try:
                primary = pair.sql(pair.primary_port, "SELECT pg_current_wal_lsn()")
                caught_up = f"pg_last_wal_replay_lsn() >= '{primary}'::pg_lsn"
                query = "SELECT CASE WHEN {} THEN 0 ELSE {} END".format(
                    caught_up, "extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
                )
                behind = pair.sql(pair.replica_port, query)
                lags.append(float(behind))
            except Exception:  # noqa: S110 - a missed sample
                pass
            time.sleep(1)

    threading.Thread(target=watch_lag, daemon=True).start()
    # What the monitoring sees through the load balancer, every second (whistle.health).
    watched = OperationsWatch(base=site.base)
    threading.Thread(target=watched.run, args=(stop_lag,), daemon=True).start()
    log(f"load for {seconds:.0f} s: {args.clients} filing clients, {len(readers)} readers")
    run_load(
        site=site,
        seconds=seconds,
        clients=args.clients,
        filers=filers,
        item=item,
        readers=readers,
        events=events,
        load=load,
    )
    stop_lag.set()
    load_ended = load.at()
    log(f"load over after {load_ended:.0f} s; waiting for every due clock")
    connection.close()

    # Settle: every clock due by now fires (a batch a killed worker had begun is handed out
    # again after cases.sweep.FIRING_CLAIM_SECONDS, one it held unbegun after CLAIM_SECONDS),
    # then two more sweeps would show a double firing.
    from cases.sweep import CLAIM_SECONDS, FIRING_CLAIM_SECONDS

    pending = (
        "SELECT count(*) FROM cases_deadline WHERE fired_at IS NULL AND met_at IS NULL "
        "AND paused_at IS NULL AND due_at <= now()"
    )
    waited = wait_until(lambda: sql_value(pending) == 0, timeout=CLAIM_SECONDS + 60)
    time.sleep(3 * SWEEP_SECONDS)
    settle = f"{waited:.0f} s" if waited is not None else "timed out"

    # --- the figures
    filings = load.filings
    acked = [f for f in filings if f.case_id is not None]
    first_try = [f for f in acked if f.attempts == 1]
    retried_ok = [f for f in acked if f.attempts > 1]
    failed = [f for f in filings if f.case_id is None]
    attempts = sum(f.attempts for f in filings)
    failed_attempts = Counter(s for f in filings for s in f.statuses)
    reads = sum(load.reads.values())
    reads_ok = sum(n for (_, status), n in load.reads.items() if status == "200")
    checks.figure("load", f"{load_ended:.0f} s, load average {load_average()} at its end")
    checks.figure(
        "requests sent (filing attempts + page reads)",
        f"{attempts + reads:,} ({attempts:,} + {reads:,})",
    )
    checks.figure("page reads answered 200", f"{reads_ok:,} of {reads:,}")
    bad_reads = {f"{k} {s}": n for (k, s), n in load.reads.items() if s != "200"}
    checks.figure("page reads failed (not retried)", _counts(bad_reads))
    checks.figure("filings acknowledged at the first attempt", len(first_try))
    checks.figure("filings failed, then retried with the same key, acknowledged", len(retried_ok))
    checks.figure(
        "of those, answered as a replay of the first attempt (Idempotent-Replayed)",
        sum(1 for f in retried_ok if f.replayed),
    )
    checks.figure("failed attempts (retried)", _counts(failed_attempts))
    checks.figure("filings failed for good", len(failed), ok=not failed)
    checks.figure(
        "filing time p50 / p99 / max",
        f"{percentile(load.filing_seconds, 0.5):.2f} / {percentile(load.filing_seconds, 0.99):.2f}"
        f" / {max(load.filing_seconds):.2f} s",
    )

    keys = [f.key for f in acked]
    ids = [f.case_id for f in acked]
    found = sql_value("SELECT count(*) FROM cases_case WHERE id = ANY(%s)", [ids])
    checks.figure(
        "filings acknowledged / their cases in the database",
        f"{len(acked):,} / {found:,}",
        ok=found == len(set(ids)) == len(ids),
    )
    per_key = Counter(
        re.search(r"\((drill-[^)]+)\)", d).group(1)
        for (d,) in sql(
            "SELECT description FROM cases_case WHERE description LIKE 'Drill whistle%%'"
        )
    )
    doubled = sum(1 for n in per_key.values() if n > 1)
    checks.figure("keys with more than one case (doubled)", doubled, ok=doubled == 0)
    lost = sum(1 for key in keys if per_key.get(key, 0) != 1)
    checks.figure("acknowledged keys without their case (lost)", lost, ok=lost == 0)
    unacked_filed = sum(1 for f in failed if per_key.get(f.key))
    checks.figure("cases of filings never acknowledged", unacked_filed)
    cases_now = sql_value("SELECT count(*) FROM cases_case")
    checks.figure("cases in the database", cases_now)
    without_event = sql_value(
        "SELECT count(*) FROM cases_case c WHERE NOT EXISTS "
        "(SELECT 1 FROM cases_event e WHERE e.case_id = c.id AND e.action = 'file')"
    )
    events = sql_value("SELECT count(*) FROM cases_event")
    checks.figure("events in the database", events)
    checks.figure("cases without their filing event", without_event, ok=without_event == 0)

    ids_text = [str(pk) for pk in deadline_ids]
    fired = sql_value(
        "SELECT count(*) FROM cases_deadline WHERE id = ANY(%s) AND fired_at IS NOT NULL",
        [deadline_ids],
    )
    timer_events = sql_value(
        "SELECT count(*) FROM cases_event WHERE actor_label = 'timer' "
        "AND data->>'deadline' = ANY(%s)",
        [ids_text],
    )
    twice = sql_value(
        "SELECT count(*) FROM (SELECT data->>'deadline' FROM cases_event "
        "WHERE actor_label = 'timer' AND data ? 'deadline' GROUP BY 1 HAVING count(*) > 1) t"
    )
    missed = sql_value(pending)
    late_bound = CLAIM_SECONDS + args.lease + 2 * SWEEP_SECONDS + 10
    lateness = sql(
        "SELECT extract(epoch FROM fired_at - due_at) FROM cases_deadline "
        "WHERE id = ANY(%s) AND fired_at IS NOT NULL",
        [deadline_ids],
    )
    late = [float(s) for (s,) in lateness]
    checks.figure("deadlines seeded to fall due during the load", len(deadline_ids))
    checks.figure(
        "of them fired / timer events",
        f"{fired:,} / {timer_events:,}",
        ok=fired == timer_events == len(ids_text),
    )
    checks.figure("deadlines fired twice (two timer events)", twice, ok=twice == 0)
    checks.figure(
        "deadlines due and not fired at the end (missed)", missed, ok=missed == 0 and waited
    )
    checks.figure(
        "firing after due p50 / max",
        f"{percentile(late, 0.5):.1f} / {max(late):.1f} s (bound {late_bound:.0f} s)"
        if late
        else "-",
        ok=bool(late) and max(late) <= late_bound,
    )
    prompt = args.lease + 2 * SWEEP_SECONDS + 5
    checks.figure(
        f"fired more than {prompt:.0f} s after due (lease + two sweeps + 5 s)",
        sum(1 for seconds in late if seconds > prompt),
    )
    checks.figure(
        f"of them, {FIRING_CLAIM_SECONDS} to {CLAIM_SECONDS - 10} s (a batch the killed worker "
        "had begun, handed out again when its cut claim lapsed: "
        f"cases.sweep.FIRING_CLAIM_SECONDS = {FIRING_CLAIM_SECONDS} s)",
        sum(1 for seconds in late if FIRING_CLAIM_SECONDS <= seconds < CLAIM_SECONDS - 10),
    )
    checks.figure(
        f"of them, {CLAIM_SECONDS - 10} s or more (a batch the killed worker held unbegun, "
        f"handed out again when its claim lapsed: cases.sweep.CLAIM_SECONDS = {CLAIM_SECONDS} s)",
        sum(1 for seconds in late if seconds >= CLAIM_SECONDS - 10),
    )
    checks.figure("settle (waiting for the last due clock)", settle)
    checks.figure(
        "beat takeover after the leader's SIGKILL",
        f"{takeover['seconds']:.1f} s (lease {args.lease:g} s)"
        if "seconds" in takeover
        else "none",
        ok="seconds" in takeover and takeover["seconds"] <= args.lease + 5,
    )
    # Only a leader sends: no beat's log has a task sent before it took the lead.
    leads, early = 0, 0
    for path in sorted(site.folder.glob("beat*.log")):
        text = path.read_text(errors="replace")
        leads += text.count("took the lead")
        before = text.split("took the lead", 1)[0]
        early += before.count("Sending due task")
    checks.figure("beats that took the lead (logs)", leads, ok=leads >= 2)
    checks.figure("tasks sent by a beat before it took the lead", early, ok=early == 0)
    watched.figures(checks, lease=args.lease)

    # The replica: its lag during the load, a write read back, the dashboards on it again.
    checks.figure(
        "replica lag during the load (1 s samples) p50 / max",
        f"{percentile(lags, 0.5):.2f} / {max(lags):.2f} s" if lags else "-",
    )
    pair.sql(pair.primary_port, "CREATE TABLE IF NOT EXISTS drill_marker (value text)")
    marker = uuid.uuid4().hex
    pair.sql(pair.primary_port, f"INSERT INTO drill_marker VALUES ('{marker}')")  # noqa: S608

    def marker_back() -> bool:
        query = f"SELECT count(*) FROM drill_marker WHERE value = '{marker}'"  # noqa: S608
        try:
            return pair.sql(pair.replica_port, query) == "1"
        except subprocess.CalledProcessError:  # the table itself not replayed yet
            return False

    back = wait_until(
        marker_back,
        timeout=args.lag_bound + 30,
        every=0.05,
    )
    checks.figure(
        "a write read back from the replica after",
        f"{back:.2f} s (bound {args.lag_bound:g} s)" if back is not None else "never",
        ok=back is not None and back <= args.lag_bound,
    )
    on_replica = wait_until(
        lambda: freshness(city, site.base) == "replica", timeout=args.lag_bound + 10
    )
    checks.figure(
        "dashboards reading the replica again after",
        f"{on_replica:.1f} s" if on_replica is not None else "never",
        ok=on_replica is not None,
    )
    checks.figure("dashboard reads during the load by source", _counts(load.sources))
    marks = sorted(load.marks.items(), key=lambda mark: mark[1])
    checks.figure(
        "kills and restarts (s into the load)", ", ".join(f"{k} {v:.0f}" for k, v in marks)
    )
    return checks, info


def _counts(counts: dict, number: str = "{:,}") -> str:
    if not counts:
        return "none"
    return ", ".join(f"{name} {number.format(n)}" for name, n in sorted(counts.items()))


def section(checks: Checks, info: dict[str, str], args, command: str, took: float) -> str:
    redis_private = not os.environ.get("WHISTLE_DRILL_REDIS_URL")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cpus = info.get("cpus", str(os.cpu_count()))
    outcome = "every check held"
    if checks.failures:
        outcome = "FAILED: " + "; ".join(checks.failures)
    lines = [
        SECTION,
        "",
        f"Command: `{command}`. Run {when}, {took / 60:.1f} minutes in all; {outcome}.",
        "",
        f"Machine: {cpus} CPUs ({info.get('cpu', '?')}), {info.get('memory', '?')}, PostgreSQL "
        f"{info.get('postgresql', '?')}, Python {info.get('python', '?')}, shared with other "
        "work; every process below on loopback.",
        "",
        "What runs: a PostgreSQL primary and a streaming hot standby (pg_basebackup -R); "
        f"{'a redis-server of its own' if redis_private else 'the Redis given'}; "
        "two gunicorn instances (gunicorn.conf.py, one worker of 4 threads each) behind nginx; "
        "two Celery workers; two `celery beat` with the leader scheduler (lease "
        f"{args.lease:g} s, sweep every {SWEEP_SECONDS} s); replica lag bound "
        f"{args.lag_bound:g} s. {args.timers} timer cases filed through the API first, their "
        f"clocks set to fall due all through the load. Load for {args.seconds:g} s: "
        f"{args.clients} filing clients (POST /api/cases/ with an Idempotency-Key each, the same "
        "key again after a connection error, 5xx or 409) and 3 readers (a captain's board, "
        "the overview of a supervisor and of the city committee), and a monitor asking "
        "/readyz and /metrics (with the token) once a second through nginx. During it one gunicorn "
        "instance (at 25 %), one worker (45 %) and the beat holding the lease (60 %) get "
        "SIGKILL, and each is started again 5 s later. Nothing is promoted.",
        "",
        "| figure | value |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in checks.rows],
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=75, help="load duration")
    parser.add_argument("--clients", type=int, default=4, help="filing clients")
    parser.add_argument("--timers", type=int, default=200, help="clocks due during the load")
    parser.add_argument("--lease", type=float, default=5, help="WHISTLE_BEAT_LEASE_SECONDS")
    parser.add_argument("--lag-bound", type=float, default=5, help="replica lag bound (s)")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/scaling.md")
    parser.add_argument("--keep-logs", action="store_true", help="keep the logs on success")
    args = parser.parse_args(argv)
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        print("make drill needs nginx (apt-get install nginx)", file=sys.stderr)
        return 2
    for name in ("DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
        os.environ.pop(name, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "whistle.settings"
    folder = Path(tempfile.mkdtemp(prefix="whistle-drill-"))
    started = time.monotonic()
    checks, info = Checks(), {}
    try:
        checks, info = drill(args, folder, checks)
    except Exception as error:
        import traceback

        traceback.print_exc()
        checks.failures.append(f"the drill broke off: {error}")
    took = time.monotonic() - started
    given = [part for part in (argv if argv is not None else sys.argv[1:]) if part != "--no-write"]
    command = f"make drill DRILL_ARGS='{' '.join(given)}'" if given else "make drill"
    text = section(checks, info, args, command, took)
    print()
    print(text)
    if checks.failures:
        print(f"DRILL FAILED; the logs are kept in {folder}", file=sys.stderr)
        for failure in checks.failures:
            print(f"  {failure}", file=sys.stderr)
        return 1
    if not args.no_write:
        write_section(SECTION, text, DOC)
        print(f"Written to {DOC.relative_to(BASE_DIR)}")
    if args.keep_logs:
        print(f"logs in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"The drill held ({took / 60:.1f} minutes).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
