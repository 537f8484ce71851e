"""The leader scheduler of celery beat (whistle.beat), in this process against the test
database: one of two schedulers leads, the other stands by and asks again within a second,
and a scheduler that cannot reach the database stands by until it can again. The real thing,
two `celery beat` processes and a SIGKILL, is tests/cases/test_beat_leader.py."""

import logging

import pytest
from django.conf import settings
from django.db import connection

from core.models import Lease
from tests.workers import isolated_broker
from whistle.beat import LEASE_NAME, LeaderScheduler
from whistle.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedulers(tmp_path):
    """Two schedulers as two beats would make them, each with its own schedule file; the
    broker is this test's own, whatever they might send."""
    with isolated_broker(tmp_path):
        made = [
            LeaderScheduler(app=app, schedule_filename=str(tmp_path / f"schedule-{n}"))
            for n in (1, 2)
        ]
        yield made
        for scheduler in made:
            scheduler.close()


def test_the_beats_scheduler_is_the_leader_scheduler():
    assert settings.CELERY_BEAT_SCHEDULER == "whistle.beat:LeaderScheduler"
    assert app.conf.beat_scheduler == "whistle.beat:LeaderScheduler"
    # Three renewals per lease, so the leader renews long before its lease runs out.
    assert settings.WHISTLE_BEAT_LEASE_SECONDS >= 2


def test_one_scheduler_leads_and_the_other_stands_by(schedulers, caplog):
    first, second = schedulers
    caplog.set_level(logging.WARNING, logger="whistle.beat")

    leading_wait = first.tick()
    standby_wait = second.tick()
    second.tick()

    assert first.leading and not second.leading
    assert Lease.objects.get(name=LEASE_NAME).holder == first.holder
    # The leader wakes in time to renew; the standby asks again within a second.
    assert 0 <= leading_wait <= first.renew_every
    assert standby_wait == second.standby_every <= 1.0
    # One line each for the operators (warning level, as the Procfile runs beat), not one per
    # tick: the standby's second tick logged nothing more.
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        f"beat {first.holder}: took the lead; sending the schedule",
        f"beat {second.holder}: standing by (another beat holds the lease)",
    ]


def test_a_leader_shut_down_cleanly_hands_the_lease_over_at_once(schedulers):
    first, second = schedulers
    first.tick()
    second.tick()
    assert not second.leading

    first.close()
    second.tick()

    assert second.leading
    assert Lease.objects.get(name=LEASE_NAME).holder == second.holder


# Its connection is closed and opened again: no test transaction may be open around it.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_leader_that_loses_the_database_stands_by_and_leads_again_once_it_is_back(
    schedulers, caplog
):
    first, _ = schedulers
    first.tick()
    assert first.leading
    caplog.set_level(logging.WARNING, logger="whistle.beat")
    caplog.clear()
    saved = dict(connection.settings_dict)
    # An unreachable database: a folder that does not exist (SQLite), a port nobody listens
    # on (PostgreSQL); the scheduler's open connection is dropped as a restart would.
    unreachable = (
        {"NAME": "/nonexistent/whistle.sqlite3"} if connection.vendor == "sqlite" else {"PORT": "9"}
    )
    first._renewed_at -= first.renew_every  # its renewal is due
    connection.close()
    connection.settings_dict.update(unreachable)
    try:
        wait = first.tick()
        again = first.tick()
    finally:
        connection.settings_dict.update(saved)
        connection.close()

    assert not first.leading
    assert wait == again == first.standby_every
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 1 and "standing by (database error: " in lines[0], lines

    first.tick()  # the database is back: a new connection, and the lease is still its own
    assert first.leading
    assert Lease.objects.get(name=LEASE_NAME).holder == first.holder
