"""What the operations team's load balancers and monitoring ask of every web machine
(docs/scaling.md, "Operations endpoints").

- `/healthz`: liveness. The process answers; nothing else is touched, so a database outage
  never gets web processes restarted.
- `/readyz`: readiness. This machine can serve: its connection to the primary database
  answers. 503 with the failing check otherwise, so the load balancer sends users elsewhere.
  Nothing else decides it: without Redis the pages go on (whistle.cache degrades, tasks wait
  for the sweeps), and a stopped beat or a lagging replica makes no machine less able to
  serve; failing every machine over them would stop the city. They are metrics instead.
- `/metrics`: Prometheus text for the monitoring system, read from the shared database and
  broker, so every machine answers the same: the timers (deadlines due and not fired, the
  oldest one's delay: no beat or no worker shows here first), the beat's lease, the replica's
  lag, the event log's partitions ahead, the shared cache, the Celery queues and the
  deliveries due. Only with `WHISTLE_METRICS_TOKEN` set and sent as a bearer token;
  otherwise 404.

The answers name no host, version or user.
"""

import hmac
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu.exceptions import ChannelError
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from cases import partitions
from cases.channels.delivery import due_count
from cases.sweep import overdue_summary
from core.leases import lease_state
from core.replica import configured as replica_configured
from core.replica import replica_state
from whistle.beat import LEASE_NAME
from whistle.celery import app as celery_app

# A deadline this long past due and not fired counts as overdue: the sweep runs every
# WHISTLE_SWEEP_SECONDS, so younger ones are merely waiting for it.
OVERDUE_GRACE_SECONDS = 60


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    checks = {"database": _database_answers()}
    ready = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            "checks": {name: "ok" if ok else "failed" for name, ok in checks.items()},
        },
        status=200 if ready else 503,
    )


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _cache_answers() -> bool:
    key = "whistle:readyz"
    try:
        value = str(time.monotonic_ns())
        cache.set(key, value, timeout=30)
        return cache.get(key) == value
    except Exception:
        return False


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    expected = settings.WHISTLE_METRICS_TOKEN
    if not expected:
        raise Http404
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {expected}".encode()):
        response = HttpResponse("unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OperationsCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class OperationsCollector:
    """Reads every figure at scrape time from what all machines share (no per-process state,
    so any web machine may be scraped)."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        yield from _timers(now)
        yield from _beat()
        yield from _replica()
        yield from _partitions(now)
        if settings.REDIS_URL:
            yield _gauge(
                "whistle_cache_up", "1 when the shared cache (Redis) answers.", _cache_answers()
            )
        yield from _queues()
        yield _gauge(
            "whistle_deliveries_due",
            "Notification deliveries due to be sent now, all channels.",
            due_count(now=now),
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _timers(now: datetime) -> Iterator[Metric]:
    count, oldest = overdue_summary(now=now, grace_seconds=OVERDUE_GRACE_SECONDS)
    yield _gauge(
        "whistle_deadlines_overdue",
        f"Stage deadlines more than {OVERDUE_GRACE_SECONDS} s past due and not fired "
        "(more than zero for long: no beat or no worker is firing them).",
        count,
    )
    yield _gauge(
        "whistle_deadlines_overdue_oldest_seconds",
        "How long past due the oldest deadline not fired is (0 when none is overdue).",
        (now - oldest).total_seconds() if oldest else 0.0,
    )


def _beat() -> Iterator[Metric]:
    state = lease_state(name=LEASE_NAME)
    yield _gauge(
        "whistle_beat_leader",
        "1 while a celery beat holds the schedule's lease, 0 when none does.",
        1.0 if state.held else 0.0,
    )
    yield _gauge(
        "whistle_beat_lease_seconds_left",
        "Seconds until the leader's lease runs out unless renewed (0 when none holds it).",
        state.seconds_left,
    )


def _replica() -> Iterator[Metric]:
    if not replica_configured():
        return
    state = replica_state()
    yield _gauge("whistle_replica_up", "1 when the read replica answers.", float(state.answers))
    if state.answers and state.lag_seconds != float("inf"):
        yield _gauge(
            "whistle_replica_lag_seconds",
            "How far the read replica is behind the primary.",
            state.lag_seconds,
        )


# The tables partitioned by month: the name in their metrics, and what their rows are.
PARTITIONED = (
    (partitions.TABLE, "event", "the event log's", "Events in the log's"),
    (partitions.DEADLINES, "deadline", "the deadlines'", "Deadlines in the"),
    (partitions.CASE_FACTS, "case_fact", "the case facts'", "Case facts in the"),
    (partitions.DISPATCH_FACTS, "dispatch_fact", "the dispatch facts'", "Dispatch facts in the"),
)


def _partitions(now: datetime) -> Iterator[Metric]:
    for table, name, whose, rows in PARTITIONED:
        state = partitions.state(table=table, now=now)
        if state is None:  # SQLite: one table; or not migrated that far yet
            continue
        yield _gauge(
            f"whistle_{name}_partitions_ahead",
            f"Months of {whose} partitions ready after the current one (0: the beat's "
            "create-event-partitions task has not run for months).",
            state.ahead,
        )
        yield _gauge(
            f"whistle_{name}_default_partition_rows",
            f"{rows} default partition, waiting for their month's partition.",
            state.default_rows,
        )


def _queues() -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "whistle_celery_queue_messages",
        "Messages waiting in each Celery queue (not counting those a worker holds).",
        labels=["queue"],
    )
    names = [settings.CELERY_TASK_DEFAULT_QUEUE, settings.WHISTLE_DELIVERY_QUEUE]
    try:
        with celery_app.connection_for_read() as broker:
            broker.ensure_connection(max_retries=1)
            channel = broker.default_channel
            for name in names:
                family.add_metric([name], _waiting(channel, name))
        up = True
    except Exception:
        up = False  # a broker that does not answer leaves the family out
    yield _gauge("whistle_broker_up", "1 when the Celery broker answers.", float(up))
    if up:
        yield family


def _waiting(channel: Any, queue: str) -> int:
    try:
        return channel.queue_declare(queue, passive=True).message_count
    except ChannelError:  # an empty queue has no list in Redis: nothing waits
        return 0
