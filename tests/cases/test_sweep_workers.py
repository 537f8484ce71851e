"""The deadline sweep, run by real Celery worker processes: exactly once, also with several
workers and overlapping sweeps (docs/architecture.md, Clocks)."""

from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from cases.models import Case, Deadline, Event, Notification, Status
from cases.sweep import FIRE_BATCH
from cases.tasks import fire_deadlines, sweep_deadlines
from checklists.models import Stage, TimeUnit
from tests.cases.conftest import Org
from tests.workers import isolated_broker, running_workers, wait_for

pytestmark = [
    pytest.mark.celery_worker,
    # Workers are other processes: the rows must be committed. serialized_rollback puts back
    # the migrated checklist and calendar that the flush after the test removes.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CASES = 1000


def due_cases(*, org: Org, count: int, due_in: list[timedelta] | None = None) -> list[Deadline]:
    """`count` resolved cases whose verification deadline passed a minute ago (or falls due
    `due_in[n]` from now for the n-th), in two statements. Its firing is a plain one-event
    record, so a thousand of them stay cheap."""
    now = timezone.now()
    due_in = due_in or [timedelta(minutes=-1)] * count
    cases = Case.objects.bulk_create(
        Case(
            number=f"HN-2026-{n:06d}",
            tracking_code=f"SWEEPTEST{n:07d}",
            source="grid_worker",
            item=org.item,
            grid=org.grid,
            village=org.village,
            town=org.town,
            city=org.city,
            description="Bin overflowing",
            status=Status.RESOLVED,
            filed_at=now - timedelta(hours=1),
        )
        for n in range(1, count + 1)
    )
    if cases[0].pk is None:  # backends that do not return ids from bulk_create
        cases = list(Case.objects.order_by("pk"))
    return Deadline.objects.bulk_create(
        Deadline(
            case=case,
            stage=Stage.VERIFICATION,
            amount=30,
            unit=TimeUnit.NATURAL_MINUTES,
            started_at=now + due - timedelta(minutes=30),
            warn_at=now + due - timedelta(minutes=6),
            due_at=now + due,
            case_filed_at=case.filed_at,
        )
        for case, due in zip(cases, due_in, strict=True)
    )


def test_beat_sweeps_deadlines_at_least_every_30_seconds():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-deadlines"]
    assert entry["task"] == sweep_deadlines.name == "cases.tasks.sweep_deadlines"
    assert 0 < entry["schedule"] <= 30
    assert entry["schedule"] == min(settings.WHISTLE_SWEEP_SECONDS, 30)
    deliveries = settings.CELERY_BEAT_SCHEDULE["sweep-deliveries"]
    assert deliveries["task"] == "cases.tasks.sweep_deliveries"
    assert deliveries["schedule"] == settings.WHISTLE_DELIVERY_SWEEP_SECONDS
    # The delivery tasks travel on their own queue, never in front of the timer sweep.
    routes = settings.CELERY_TASK_ROUTES
    assert routes["cases.tasks.sweep_deliveries"]["queue"] == settings.WHISTLE_DELIVERY_QUEUE
    assert routes["cases.tasks.send_deliveries"]["queue"] == settings.WHISTLE_DELIVERY_QUEUE
    assert "cases.tasks.sweep_deadlines" not in routes
    assert settings.WHISTLE_DELIVERY_QUEUE != settings.CELERY_TASK_DEFAULT_QUEUE


def test_two_workers_and_overlapping_sweeps_fire_each_deadline_exactly_once(org, tmp_path):
    due_cases(org=org, count=CASES)
    assert Deadline.objects.filter(fired_at__isnull=True).count() == CASES

    with (
        isolated_broker(tmp_path) as broker,
        running_workers(count=2, broker=broker, tmp_path=tmp_path) as workers,
    ):
        # Four overlapping sweeps: each claims what no other holds (skip locked), so one may
        # hand out everything and the others nothing, or two may split the deadlines; both
        # workers fire batches at once.
        for _ in range(4):
            sweep_deadlines.apply_async(queue=broker.queue)

        def fired_by(worker) -> list[int]:
            return [int(r) for r in worker.results(fire_deadlines.name)]

        def handed_out() -> list[int]:
            return [int(r) for w in workers for r in w.results(sweep_deadlines.name)]

        def batches_of(handed: list[int]) -> int:
            # A sweep fires a claim of up to FIRE_BATCH itself and queues a larger one in
            # batches of FIRE_BATCH.
            return sum(-(-count // FIRE_BATCH) for count in handed if count > FIRE_BATCH)

        wait_for(
            lambda: (
                len(handed_out()) == 4
                and sum(len(fired_by(w)) for w in workers) == batches_of(handed_out())
                and not Deadline.objects.filter(fired_at__isnull=True).exists()
            ),
            timeout=180,
            what="four sweeps and every batch to finish",
        )
        handed = handed_out()
        batches = {w.name: fired_by(w) for w in workers}

    fired = Deadline.objects.filter(fired_at__isnull=False)
    assert fired.count() == CASES
    events = Event.objects.filter(action="overdue")
    assert events.count() == CASES
    per_case = Counter(events.values_list("case_id", flat=True))
    assert len(per_case) == CASES and set(per_case.values()) == {1}
    per_deadline = Counter(e["deadline"] for e in events.values_list("data", flat=True))
    assert set(per_deadline) == set(fired.values_list("pk", flat=True))
    assert set(per_deadline.values()) == {1}
    assert set(events.values_list("actor_label", flat=True)) == {"timer"}
    # One notice to the village officer per firing, none twice.
    notices = Notification.objects.filter(kind="overdue", recipient=org.village_officer)
    assert notices.count() == CASES
    assert Case.objects.filter(status=Status.RESOLVED).count() == CASES
    # Every deadline was handed out once, however the sweeps split them, in batches of at most
    # FIRE_BATCH, and both workers fired.
    assert sum(handed) == CASES, handed
    assert sum(len(b) for b in batches.values()) == batches_of(handed), (handed, batches)
    assert all(fired <= FIRE_BATCH for b in batches.values() for fired in b), batches
    assert all(batches.values()), batches
