"""Delivery burst benchmark: 10,000 SMS through a slow gateway never delay the timer sweep.

    python -m bench.deliveries          # or: make bench (BENCH_ARGS=deliveries for this alone)

The morning after a holiday: 10,000 notifications with an SMS each are stored at once, while
a stand-in Aliyun SMS gateway (tests/cases/standins.py, a real HTTP server on 127.0.0.1)
answers every SendSms after --delay seconds (default 0.2). Meanwhile a batch of timer clocks
falls due. Real Celery processes and beat run on PostgreSQL + Redis as the Procfile runs them.
Three runs, each on freshly seeded cases:

1. quiet: the clocks fall due with no burst (the sweep's own latency);
2. burst, own queue: the burst on the delivery queue (WHISTLE_DELIVERY_QUEUE), consumed by
   the Procfile's `deliveries` worker; the timer sweep on the default queue, consumed by
   `worker`;
3. burst, one queue (the design before): the same two workers, both consuming one queue that
   carries the deliveries and the sweep.

For each: how long after its due time each clock fired (from the firing's event), and the
burst's total delivery time (commit of the notifications to the last SMS accepted by the
gateway). The figures replace the "Delivery burst" section of docs/benchmarks.md.
"""

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bench.common import (
    BASE_DIR,
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    DOC,
    VENV_BIN,
    Server,
    add_common_arguments,
    celery_worker,
    load_average,
    machine,
    machine_line,
    percentile,
    purge_queue,
    record_results,
    running,
    server_env,
    set_up,
    var_dir,
    wait_for_log,
    write_section,
)
from tests.cases.standins import ALIYUN, StandIn, configure

SECTION = "## Delivery burst"
BURST_PHONE_PREFIX = "139"


@dataclass
class Run:
    name: str
    burst: int
    due: int
    latencies: list[float]
    fired: int
    burst_sent: int = 0
    burst_seconds: float | None = None
    gateway_requests: int = 0
    duplicates: int = 0
    progress: list[tuple[float, int]] = field(default_factory=list)
    load: str = ""

    @property
    def max_latency(self) -> float:
        return max(self.latencies) if self.latencies else float("inf")


def _burst_users(count: int) -> list:
    """`count` active users with a phone each (the burst's recipients), made once."""
    from teams.models import User

    existing = list(User.objects.filter(username__startswith="bench-sms-").order_by("pk")[:count])
    if len(existing) < count:
        User.objects.bulk_create(
            [
                User(
                    username=f"bench-sms-{n:05d}",
                    phone=f"{BURST_PHONE_PREFIX}{n:08d}",
                    email="",
                    password="!",  # noqa: S106 - an unusable password
                )
                for n in range(len(existing), count)
            ],
            ignore_conflicts=True,
        )
        existing = list(
            User.objects.filter(username__startswith="bench-sms-").order_by("pk")[:count]
        )
    return existing


def _store_burst(*, users: list, per_user: int) -> datetime:
    """Store the burst's notifications (one transaction per round, as many firings would);
    returns when the last commit happened."""
    from django.db import transaction
    from django.utils import timezone

    from cases import notifications

    for round_ in range(per_user):
        with transaction.atomic():
            notifications.notify(
                recipients=users,
                kind=notifications.CASE_WHISTLED,
                case=None,
                data={"number": f"HOLIDAY-{round_:03d}"},
            )
    return timezone.now()


def _latencies(due_at: datetime) -> list[float]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT extract(epoch FROM e.created_at - d.due_at)
            FROM cases_event e
            JOIN cases_deadline d ON d.id = (e.data->>'deadline')::bigint
            WHERE e.actor_label = 'timer' AND d.due_at = %s
            """,
            [due_at],
        )
        return [float(row[0]) for row in cursor.fetchall()]


def _burst_rows():
    from cases.models import Delivery

    return Delivery.objects.filter(
        channel="sms", notification__case__isnull=True, notification__kind="case_whistled"
    )


def measure(
    *,
    name: str,
    burst: int,
    open_cases: int,
    due: int,
    shared_queue: bool,
    stand_in: StandIn,
    concurrency: int,
    timeout: float,
) -> Run:
    from django.conf import settings
    from django.db.models import Max
    from django.utils import timezone

    from bench.sweep import _rearm, seed
    from cases.models import Deadline, DeliveryStatus
    from whistle.celery import app

    print(f"[{name}] seeding {open_cases:,} open cases, {due:,} due ...", flush=True)
    seed(open_cases=open_cases, due=due)  # empties the notifications and their deliveries
    redis_url = os.environ["REDIS_URL"]
    queue = os.environ["WHISTLE_CELERY_QUEUE"]
    delivery_queue = queue if shared_queue else f"{queue}-deliveries"
    purge_queue(redis_url, queue)
    purge_queue(redis_url, f"{queue}-deliveries")
    # This process publishes the burst's tasks: route them as the servers do.
    app.conf.task_routes = {
        route: {"queue": delivery_queue} for route in settings.CELERY_TASK_ROUTES
    }
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)  # made again from the new routes at the next send
    env = server_env(
        WHISTLE_DELIVERY_QUEUE=delivery_queue,
        WHISTLE_VAR_DIR=str(var_dir()),
        LOG_LEVEL="WARNING",
    )
    env.pop("WHISTLE_BROKER_DIR", None)
    schedule = var_dir() / "bench-deliveries-beat-schedule"
    for stale in var_dir().glob("bench-deliveries-beat-schedule*"):
        stale.unlink()
    # The Procfile's two workers: `worker` on the default queue, `deliveries` on the delivery
    # queue (with one queue, both consume it).
    servers = [
        celery_worker(name=f"bench-{name}-worker", env=env, concurrency=concurrency, queues=queue),
        celery_worker(
            name=f"bench-{name}-deliveries",
            env=env,
            concurrency=concurrency,
            queues=delivery_queue,
        ),
    ]
    with running(servers):
        for server in servers:
            wait_for_log(server, "ready.", timeout=120)
        load_before = load_average()
        users = _burst_users(min(burst, 1000)) if burst else []
        requests_before = len(stand_in.sends)
        burst_committed = None
        if burst:
            print(f"[{name}] storing {burst:,} notifications with an SMS each ...", flush=True)
            burst_committed = _store_burst(users=users, per_user=burst // len(users))
        due_at = timezone.now() + timedelta(seconds=5)
        rearmed = _rearm(due_at=due_at)
        if rearmed != due:
            raise AssertionError(f"Expected {due} clocks to re-arm, found {rearmed}")
        beat = Server(
            f"bench-{name}-beat",
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
        pending = Deadline.objects.filter(due_at=due_at, fired_at__isnull=True)
        progress: list[tuple[float, int]] = []
        limit = time.monotonic() + timeout
        fired_all = False
        burst_done = not burst
        while time.monotonic() < limit and not (fired_all and burst_done):
            fired_all = fired_all or not pending.exists()
            if burst and not burst_done:
                sent = _burst_rows().filter(status=DeliveryStatus.SENT).count()
                elapsed = (timezone.now() - burst_committed).total_seconds()
                progress.append((round(elapsed, 1), sent))
                burst_done = sent >= burst
            time.sleep(1)
        load = f"{load_before} / {load_average()}"
    latencies = _latencies(due_at)
    run = Run(
        name=name,
        burst=burst,
        due=due,
        latencies=latencies,
        fired=len(latencies),
        progress=progress,
        load=load,
    )
    if burst:
        rows = _burst_rows()
        run.burst_sent = rows.filter(status=DeliveryStatus.SENT).count()
        last = rows.aggregate(last=Max("sent_at"))["last"]
        if last is not None and run.burst_sent >= burst:
            run.burst_seconds = (last - burst_committed).total_seconds()
        sends = stand_in.sends[requests_before:]
        run.gateway_requests = len(sends)
        # A notification's number and phone together are one SMS: twice would be a duplicate.
        keys = [(s["phone"], s["params"].get("number")) for s in sends]
        run.duplicates = len(keys) - len(set(keys))
    print(
        f"[{name}] clocks fired: max {run.max_latency:.1f} s after due; burst: "
        f"{run.burst_sent:,} sent in "
        f"{f'{run.burst_seconds:.0f} s' if run.burst_seconds is not None else '-'} "
        f"(load {load})",
        flush=True,
    )
    return run


def _section(runs: list[Run], info: dict[str, str], *, delay: float, command: str) -> str:
    from django.conf import settings
    from django.utils import timezone

    lines = [
        SECTION,
        "",
        f"Command: `{command}` (scripts/bench.sh, `python -m bench.deliveries`) on "
        f"{timezone.localtime():%Y-%m-%d %H:%M %Z}.",
        "",
        machine_line(info),
        "",
        f"The morning after a holiday: {runs[-1].burst:,} notifications, each with an SMS, are "
        f"stored at once (in {runs[-1].burst // max(min(runs[-1].burst, 1000), 1):,} "
        f"transactions, each telling the same {min(runs[-1].burst, 1000):,} people), "
        "and the SMS gateway is slow: a stand-in Aliyun SMS server "
        "(tests/cases/standins.py) answers each SendSms, made through the official SDK, "
        f"after {delay * 1000:.0f} ms. Five seconds later {runs[0].due} timer clocks fall due "
        "(the five firings of the timer benchmark). Two Celery workers run as in the Procfile "
        "(`worker` and `deliveries`, `--concurrency=2` each) with beat (timer sweep every "
        f"{settings.WHISTLE_SWEEP_SECONDS:g} s), on PostgreSQL and Redis; a delivery task "
        f"sends up to {settings.WHISTLE_DELIVERY_THREADS} SMS at once. How long after its due "
        "time each clock fired is read from the event its firing wrote; the burst's time runs "
        "from the commit of its last notifications to the last SMS the gateway accepted.",
        "",
        "| run | clocks fired | after due: p50 | p95 | max | burst sent | burst delivered in "
        "| gateway requests | sent twice | load before / after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.name} | {run.fired}/{run.due} | {percentile(run.latencies, 0.5):.1f} s "
            f"| {percentile(run.latencies, 0.95):.1f} s | {run.max_latency:.1f} s "
            f"| {f'{run.burst_sent:,}' if run.burst else '-'} "
            f"| {f'{run.burst_seconds:.0f} s' if run.burst_seconds is not None else '-'} "
            f"| {f'{run.gateway_requests:,}' if run.burst else '-'} "
            f"| {run.duplicates if run.burst else '-'} | {run.load} |"
        )
    lines += [
        "",
        "`own queue` is the design: deliveries travel on `WHISTLE_DELIVERY_QUEUE`, which only "
        "the `deliveries` worker consumes, so the clocks fire as on a quiet morning while the "
        "`deliveries` worker's two processes send the burst alone. `one queue` puts both "
        "workers on a single queue, as before the delivery framework: four processes send the "
        "burst sooner, but the sweep and its firings wait behind the burst's delivery tasks.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--burst", type=int, default=10_000, help="notifications (10000)")
    parser.add_argument("--delay", type=float, default=0.2, help="gateway delay, s (0.2)")
    parser.add_argument("--open", type=int, default=1_000, help="open cases (1000)")
    parser.add_argument("--due", type=int, default=100, help="clocks due (100)")
    parser.add_argument("--concurrency", type=int, default=2, help="per worker (2)")
    parser.add_argument("--timeout", type=float, default=300, help="per run, s (300)")
    parser.add_argument(
        "--skip-shared", action="store_true", help="leave out the one-queue comparison"
    )
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    os.environ["WHISTLE_CELERY_QUEUE"] = f"whistle-bench-deliveries-{os.getpid()}"
    os.environ.pop("WHISTLE_BROKER_DIR", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    with StandIn(ALIYUN, delay=args.delay) as stand_in:
        # The servers and this process reach the stand-in gateway through the settings.
        sms = {}
        configure(sms, stand_in)
        os.environ.update(sms)
        os.environ["WHISTLE_NOTIFICATION_CHANNELS"] = "inbox,sms"
        set_up(force=args.force)
        common = {
            "open_cases": args.open,
            "due": args.due,
            "stand_in": stand_in,
            "concurrency": args.concurrency,
            "timeout": args.timeout,
        }
        runs = [measure(name="quiet", burst=0, shared_queue=False, **common)]
        runs.append(
            measure(name="burst, own queue", burst=args.burst, shared_queue=False, **common)
        )
        if not args.skip_shared:
            runs.append(
                measure(name="burst, one queue", burst=args.burst, shared_queue=True, **common)
            )
        info = machine()
        problems = list(stand_in.problems)

    text = _section(runs, info, delay=args.delay, command="make bench BENCH_ARGS=deliveries")
    print()
    print(text)
    if problems:
        print(f"Stand-in problems: {problems[:5]}")
    if not args.no_write:
        write_section(SECTION, text)
        print(f"Written to {DOC.relative_to(BASE_DIR)}")
    quiet, own = runs[0], runs[1]
    ok = (
        not problems
        and own.burst_sent == own.burst
        and own.duplicates == 0
        and own.fired == own.due
        and own.max_latency <= quiet.max_latency + 10
    )
    if not args.no_write:
        record_results(
            "deliveries",
            {
                "burst": own.burst,
                "burst_seconds": own.burst_seconds,
                "quiet_max_after_due_s": round(quiet.max_latency, 1),
                "burst_max_after_due_s": round(own.max_latency, 1),
                "shared_queue_max_after_due_s": round(runs[2].max_latency, 1)
                if len(runs) > 2
                else None,
                "target_met": ok,
            },
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
