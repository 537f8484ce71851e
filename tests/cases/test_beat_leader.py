"""Two real `celery -A whistle beat` processes with the leader scheduler (whistle.beat) and a
real worker: one beat sends the schedule, the other stands by; when the leader is killed the
standby takes over within the lease, and every deadline still fires exactly once."""

import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Deadline, Event
from core.models import Lease
from tests.cases.test_sweep_workers import due_cases
from tests.workers import isolated_broker, running_workers, start_beat, stop_worker, wait_for
from whistle.beat import LEASE_NAME

pytestmark = [
    pytest.mark.celery_worker,
    # The beats and the worker are other processes: rows must be committed (see
    # tests/cases/test_sweep_workers.py for serialized_rollback).
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LEASE_SECONDS = 3
DEADLINES = 16
SENT = "Sending due task sweep-deadlines"
TOOK_THE_LEAD = "took the lead"


def lease_pid() -> int | None:
    """The process id of the beat that holds the lease (its holder is host:pid:random)."""
    lease = Lease.objects.filter(name=LEASE_NAME, expires_at__gt=timezone.now()).first()
    return int(lease.holder.split(":")[-2]) if lease else None


def test_the_standby_beat_takes_over_from_a_killed_leader_and_each_deadline_fires_once(
    org, tmp_path
):
    settings = {"WHISTLE_BEAT_LEASE_SECONDS": str(LEASE_SECONDS), "WHISTLE_SWEEP_SECONDS": "1"}
    with isolated_broker(tmp_path) as broker:
        beats = [
            start_beat(name=name, broker=broker, tmp_path=tmp_path, **settings)
            for name in ("beat1", "beat2")
        ]
        try:
            with running_workers(count=1, broker=broker, tmp_path=tmp_path):
                by_pid = {beat.process.pid: beat for beat in beats}
                wait_for(lambda: lease_pid() in by_pid, timeout=60, what="a beat to lead")
                leader = by_pid[lease_pid()]
                standby = next(beat for beat in beats if beat is not leader)
                wait_for(lambda: "standing by" in standby.log(), timeout=30, what="the standby")

                # Deadlines falling due every half second for eight seconds.
                due_cases(
                    org=org,
                    count=DEADLINES,
                    due_in=[timedelta(seconds=0.5 * (n + 1)) for n in range(DEADLINES)],
                )
                pending = Deadline.objects.filter(fired_at__isnull=True)
                wait_for(
                    lambda: pending.count() <= DEADLINES - 3,
                    timeout=30,
                    what="the leader's sweeps to fire the first deadlines",
                )
                leader.process.send_signal(signal.SIGKILL)
                killed_at, killed_at_clock = time.monotonic(), timezone.now()
                leader.process.wait(timeout=10)

                wait_for(
                    lambda: lease_pid() == standby.process.pid,
                    timeout=LEASE_SECONDS + 10,
                    what="the standby to take the lease",
                    every=0.05,
                )
                takeover = time.monotonic() - killed_at
                wait_for(lambda: not pending.exists(), timeout=30, what="every deadline to fire")
                # Two more sweeps: a deadline fired twice would show now.
                sent = standby.log().count(SENT)
                wait_for(
                    lambda: standby.log().count(SENT) >= sent + 2,
                    timeout=10,
                    what="two more sweeps",
                )
        finally:
            for beat in beats:
                stop_worker(beat)

    print(f"takeover after the leader's SIGKILL: {takeover:.2f} s")
    # The standby waited out the lease (renewed every second, so it ran two to three seconds
    # after the kill) and asked again within a second; a few seconds' slack for a busy machine.
    assert LEASE_SECONDS * 2 / 3 - 1 <= takeover <= LEASE_SECONDS + 3, takeover

    # Exactly one beat sent at a time: the standby sent nothing before it took the lead.
    leader_log, standby_log = leader.log(), standby.log()
    assert leader_log.count(TOOK_THE_LEAD) == 1 and SENT in leader_log
    assert standby_log.count(TOOK_THE_LEAD) == 1
    before, after = standby_log.split(TOOK_THE_LEAD)
    assert "standing by" in before and "Sending due task" not in before
    assert SENT in after

    # Every deadline fired, each exactly once, some by the first leader's sweeps and some
    # after the takeover.
    fired = Deadline.objects.filter(fired_at__isnull=False)
    assert fired.count() == DEADLINES
    assert fired.filter(fired_at__lt=killed_at_clock).exists()
    assert fired.filter(fired_at__gt=killed_at_clock).exists()
    events = Event.objects.filter(action="overdue")
    per_deadline = Counter(data["deadline"] for data in events.values_list("data", flat=True))
    assert set(per_deadline) == set(fired.values_list("pk", flat=True))
    assert set(per_deadline.values()) == {1}
