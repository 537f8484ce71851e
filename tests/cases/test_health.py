"""The operations endpoints (whistle/health.py): liveness, readiness and the Prometheus
metrics read from the shared database and broker."""

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.leases import hold_lease, release_lease
from tests.cases.test_sweep_workers import due_cases
from whistle.beat import LEASE_NAME

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-the-tests"


def scrape(client) -> dict[str, float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        sample.name + "".join(f"[{v}]" for v in sample.labels.values()): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


@pytest.fixture
def metrics_on(settings):
    settings.WHISTLE_METRICS_TOKEN = TOKEN


def test_liveness_touches_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readiness_names_its_checks_and_no_host(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["checks"]["database"] == "ok"
    assert set(body) == {"status", "checks"}


def test_metrics_are_not_found_without_a_token_and_refused_with_a_wrong_one(client, settings):
    settings.WHISTLE_METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404
    settings.WHISTLE_METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")


def test_overdue_timers_and_the_beats_lease_show_in_the_metrics(client, org, metrics_on):
    figures = scrape(client)
    assert figures["whistle_deadlines_overdue"] == 0
    assert figures["whistle_deadlines_overdue_oldest_seconds"] == 0
    assert figures["whistle_beat_leader"] == 0
    assert "whistle_replica_up" not in figures  # no replica configured
    assert figures["whistle_deliveries_due"] >= 0

    # Three clocks five minutes overdue (no beat fired them), one just due (waiting for the
    # next sweep, not counted), and a beat holding the lease.
    due_cases(org=org, count=4, due_in=[timedelta(minutes=-5)] * 3 + [timedelta(seconds=-5)])
    hold_lease(name=LEASE_NAME, holder="beat-a", seconds=10)
    figures = scrape(client)
    assert figures["whistle_deadlines_overdue"] == 3
    assert 299 <= figures["whistle_deadlines_overdue_oldest_seconds"] <= 330
    assert figures["whistle_beat_leader"] == 1
    assert 0 < figures["whistle_beat_lease_seconds_left"] <= 10

    release_lease(name=LEASE_NAME, holder="beat-a")
    figures = scrape(client)
    assert figures["whistle_beat_leader"] == 0
    assert figures["whistle_beat_lease_seconds_left"] == 0


def test_the_broker_and_its_queues_are_reported(client, metrics_on, settings):
    figures = scrape(client)
    assert figures["whistle_broker_up"] == 1
    # The shared cache is a figure only where there is one (REDIS_URL: the CI's PostgreSQL run).
    assert figures.get("whistle_cache_up", 1) == 1
    assert ("whistle_cache_up" in figures) == bool(settings.REDIS_URL)
    for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.WHISTLE_DELIVERY_QUEUE):
        assert figures[f"whistle_celery_queue_messages[{queue}]"] >= 0


def test_a_broker_that_does_not_answer_is_reported_down(client, metrics_on, settings):
    from whistle.celery import app

    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        figures = scrape(client)
    finally:
        app.conf.broker_url = saved
    assert figures["whistle_broker_up"] == 0
    assert not any(name.startswith("whistle_celery_queue_messages") for name in figures)


def test_every_figure_is_read_at_scrape_time(client, org, metrics_on):
    """Nothing is kept per process: a second scrape sees a change made in between."""
    assert scrape(client)["whistle_deadlines_overdue"] == 0
    due_cases(org=org, count=2, due_in=[timedelta(minutes=-3)] * 2)
    assert scrape(client)["whistle_deadlines_overdue"] == 2


def test_the_event_logs_partitions_show_in_the_metrics(client, org, metrics_on, time_machine):
    """On PostgreSQL: the months ready ahead (migrate made three) and the events waiting in
    the default partition (those of a case filed in a month without one: March 2024, before
    any); on SQLite, no such figure."""
    from django.db import connection

    from cases import partitions
    from tests.cases.engine_steps import at, file_case

    figures = scrape(client)
    if connection.vendor != "postgresql":
        assert not any(name.startswith("whistle_event_") for name in figures)
        assert not any(name.startswith("whistle_deadline_partitions") for name in figures)
        assert not any("fact_partitions" in name for name in figures)
        return
    assert figures["whistle_event_partitions_ahead"] >= partitions.MONTHS_AHEAD
    assert figures["whistle_event_default_partition_rows"] == 0
    # The deadlines' partitions are made with the log's (cases 0027).
    assert figures["whistle_deadline_partitions_ahead"] >= partitions.MONTHS_AHEAD
    assert figures["whistle_deadline_default_partition_rows"] == 0
    # And the assessment facts' (assessment 0017).
    for name in ("case_fact", "dispatch_fact"):
        assert figures[f"whistle_{name}_partitions_ahead"] >= partitions.MONTHS_AHEAD
        assert figures[f"whistle_{name}_default_partition_rows"] == 0
    time_machine.move_to(at(2024, 3, 5, 10, 0), tick=False)
    case = file_case(org)
    figures = scrape(client)
    assert figures["whistle_event_default_partition_rows"] == 1
    assert figures["whistle_event_partitions_ahead"] == 0  # none after March 2024
    assert figures["whistle_deadline_default_partition_rows"] == case.deadlines.count() == 1
    assert figures["whistle_deadline_partitions_ahead"] == 0
