"""Real `celery -A whistle worker` processes for tests, against the live test database.

A test gets its own broker: a fresh folder for Kombu's filesystem transport (the default), or
its own queue name on the Redis of REDIS_URL, so two test runs never take each other's
messages. The workers are separate Python processes that read DATABASE_URL built from the
test database this process is using, so what they commit is what the test sees.

Use them with transactional tests only (`transactional_db`): rows a test writes inside the
usual rolled-back transaction are invisible to another process.
"""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import kombu.pools
from django.conf import settings
from django.db import connection

from bench.common import forget_queue
from whistle.celery import app as celery_app

BASE_DIR = Path(__file__).resolve().parent.parent

# Settings variables that must not leak from the shell into a worker.
_SCRUBBED = (
    "DATABASE_URL",
    "WHISTLE_VAR_DIR",
    "WHISTLE_BROKER_DIR",
    "WHISTLE_CELERY_QUEUE",
    "CONN_MAX_AGE",
    "DJANGO_SETTINGS_MODULE",
)

SUCCEEDED = re.compile(r"Task (?P<task>[\w.]+)\[[^\]]+\] succeeded in [\d.]+s: (?P<result>\S+)")


def test_database_url() -> str:
    """A DATABASE_URL naming the database the tests run on (test_... on PostgreSQL, the test
    file on SQLite)."""
    options = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{options['NAME']}"
    if connection.vendor != "postgresql":
        raise RuntimeError(f"No worker support for {connection.vendor}")
    user = quote(options.get("USER") or "", safe="")
    password = quote(options.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = options.get("HOST") or "127.0.0.1"
    port = options.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{quote(options['NAME'], safe='')}"


@dataclass
class Broker:
    """Where this test's messages travel; `env` is what a worker needs to find them."""

    url: str
    queue: str
    transport_options: dict
    env: dict[str, str] = field(default_factory=dict)


def reset_pools() -> None:
    """Drop the connections and producers made for the previous broker settings (Kombu keeps
    producer pools in a registry by broker URL, so that one is emptied too)."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()


@contextmanager
def publishing_to(*, url: str, transport_options: dict, connection_timeout: float) -> Iterator:
    """Point this process's Celery app at another broker for the duration of the block."""
    conf = celery_app.conf
    saved = (conf.broker_url, conf.broker_transport_options, conf.broker_connection_timeout)
    conf.broker_url = url
    conf.broker_transport_options = transport_options
    conf.broker_connection_timeout = connection_timeout
    reset_pools()
    try:
        yield
    finally:
        conf.broker_url, conf.broker_transport_options, conf.broker_connection_timeout = saved
        reset_pools()


@contextmanager
def isolated_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker of this test's own; this process publishes to it while the block runs."""
    queue = f"whistle-test-{uuid.uuid4().hex[:12]}"
    redis_url = getattr(settings, "REDIS_URL", "")
    if redis_url:
        broker = Broker(
            url=redis_url,
            queue=queue,
            transport_options={"visibility_timeout": 3600},
            env={"REDIS_URL": redis_url, "WHISTLE_CELERY_QUEUE": queue},
        )
    else:
        folder = tmp_path / "broker"
        folders = {name: folder / name for name in ("queue", "processed", "control")}
        for path in folders.values():
            path.mkdir(parents=True, exist_ok=True)
        broker = Broker(
            url="filesystem://",
            queue=queue,
            transport_options={
                "data_folder_in": str(folders["queue"]),
                "data_folder_out": str(folders["queue"]),
                "processed_folder": str(folders["processed"]),
                "control_folder": str(folders["control"]),
                "store_processed": False,
            },
            env={"REDIS_URL": "", "WHISTLE_BROKER_DIR": str(folder), "WHISTLE_CELERY_QUEUE": queue},
        )
    with publishing_to(
        url=broker.url, transport_options=broker.transport_options, connection_timeout=5
    ):
        try:
            yield broker
        finally:
            if redis_url:
                forget_queue(redis_url, queue)  # what the test left on the shared Redis


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def ready(self) -> bool:
        return " ready." in self.log()

    def results(self, task: str) -> list[str]:
        """The logged return values of every run of `task` that succeeded in this worker."""
        return [m["result"] for m in SUCCEEDED.finditer(self.log()) if m["task"] == task]


def celery_env(*, name: str, broker: Broker, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a Celery process of this test: its database, its broker, a var
    folder of its own."""
    var_dir = tmp_path / f"var-{name}"
    var_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(
        DJANGO_SETTINGS_MODULE="whistle.settings",
        DATABASE_URL=test_database_url(),
        WHISTLE_VAR_DIR=str(var_dir),
        CONN_MAX_AGE="0",
        PYTHONUNBUFFERED="1",
        **broker.env,
        **extra,
    )
    if not env.get("REDIS_URL"):
        env.pop("REDIS_URL", None)
    return env


def _start_celery(*, name: str, env: dict[str, str], tmp_path: Path, args: list[str]) -> Worker:
    """`celery -A whistle ARGS` with its output in the test's folder."""
    log_path = tmp_path / f"{name}.log"
    command = [sys.executable, "-m", "celery", "-A", "whistle", *args, "--loglevel=INFO"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    return Worker(name=name, process=process, log_path=log_path)


def start_worker(*, name: str, broker: Broker, tmp_path: Path) -> Worker:
    """One `celery -A whistle worker` process (solo pool: one task at a time)."""
    args = [
        "worker",
        "--pool=solo",
        f"--hostname={name}@%h",
        # The default queue and the delivery queue (settings.WHISTLE_DELIVERY_QUEUE).
        f"--queues={broker.queue},{broker.queue}-deliveries",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    env = celery_env(name=name, broker=broker, tmp_path=tmp_path)
    return _start_celery(name=name, env=env, tmp_path=tmp_path, args=args)


def start_beat(*, name: str, broker: Broker, tmp_path: Path, **extra: str) -> Worker:
    """One `celery -A whistle beat` process (the settings' scheduler, whistle.beat), logging
    each task it sends; `extra` are settings variables (e.g. WHISTLE_SWEEP_SECONDS)."""
    args = ["beat", f"--schedule={tmp_path / f'var-{name}' / 'celerybeat-schedule'}"]
    env = celery_env(name=name, broker=broker, tmp_path=tmp_path, **extra)
    return _start_celery(name=name, env=env, tmp_path=tmp_path, args=args)


def stop_worker(worker: Worker, *, timeout: float = 20) -> None:
    """Warm shutdown (finish the task in hand), then kill if it does not stop in time."""
    if worker.process.poll() is not None:
        return
    worker.process.send_signal(signal.SIGTERM)
    try:
        worker.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.process.kill()
        worker.process.wait(timeout=10)


@contextmanager
def running_workers(*, count: int, broker: Broker, tmp_path: Path) -> Iterator[list[Worker]]:
    """`count` worker processes, ready to take messages; always stopped on the way out."""
    workers: list[Worker] = []
    try:
        for n in range(count):
            workers.append(start_worker(name=f"w{n + 1}", broker=broker, tmp_path=tmp_path))
        for worker in workers:
            wait_for(
                lambda w=worker: w.ready() or w.process.poll() is not None,
                timeout=60,
                what=f"worker {worker.name} to start",
            )
            if worker.process.poll() is not None:
                raise AssertionError(f"worker {worker.name} exited:\n{worker.log()}")
        yield workers
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in workers:
            stop_worker(worker)


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, every: float = 0.2):
    """Poll until `condition()` is true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
