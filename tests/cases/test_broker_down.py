"""A broker that is down delays firing and never loses it (docs/architecture.md, Clocks).

Filing goes on while the broker is unreachable; once it is back, a real worker's sweep fires
what fell due meanwhile, once, and mails what could not be queued."""

import logging
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from cases.models import Case, Deadline, Event, Notification, Status
from cases.services import file_whistle
from cases.tasks import deliver_pending_mail, sweep_deadlines
from checklists.models import Stage
from tests.workers import isolated_broker, publishing_to, running_workers, wait_for

pytestmark = [
    pytest.mark.celery_worker,
    # on_commit hooks (the publish) run only on a real commit, and the workers are other
    # processes; serialized_rollback restores the migrated checklist after the flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Nothing listens here: connecting is refused at once.
CLOSED_BROKER = "redis://127.0.0.1:6399/0"


def file_while_broker_down(org, caplog) -> tuple[Case, float]:
    with (
        publishing_to(
            url=CLOSED_BROKER,
            transport_options={},
            connection_timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT,
        ),
        caplog.at_level(logging.WARNING, logger="cases.notifications"),
    ):
        started = time.monotonic()
        result = file_whistle(
            user=org.grid_worker, item=org.item, grid=org.grid, description="Rubbish piled up"
        )
        elapsed = time.monotonic() - started
    assert any("Could not queue delivery" in r.getMessage() for r in caplog.records)
    return result.case, elapsed


def test_filing_commits_while_the_broker_is_down(org, caplog):
    case, elapsed = file_while_broker_down(org, caplog)

    assert elapsed < 5
    case = Case.objects.get(pk=case.pk)  # committed: read back from the database
    assert case.status == Status.FILED
    assert list(case.events.values_list("action", flat=True)) == ["file"]
    screening = Deadline.objects.get(case=case)
    assert screening.stage == Stage.SCREENING and screening.fired_at is None
    notice = Notification.objects.get(case=case, recipient=org.village_officer)
    assert notice.kind == "case_filed" and notice.emailed_at is None


def test_once_the_broker_is_back_the_due_timer_fires_once_and_the_mail_goes(org, caplog, tmp_path):
    case, _ = file_while_broker_down(org, caplog)
    # The outage outlasted the screening limit: the deadline is due by the time it is back.
    now = timezone.now()
    Deadline.objects.filter(case=case).update(
        warn_at=now - timedelta(minutes=10), due_at=now - timedelta(minutes=1)
    )

    with (
        isolated_broker(tmp_path) as broker,
        running_workers(count=1, broker=broker, tmp_path=tmp_path) as (worker,),
    ):
        sweep_deadlines.apply_async(queue=broker.queue)
        deliver_pending_mail.apply_async(queue=broker.queue)
        wait_for(
            lambda: (
                worker.results(sweep_deadlines.name) and worker.results(deliver_pending_mail.name)
            ),
            timeout=60,
            what="the sweep and the mail sweep",
        )
        assert worker.results(sweep_deadlines.name) == ["1"]

        deadline = Deadline.objects.get(case=case, stage=Stage.SCREENING)
        assert deadline.fired_at is not None
        # Never screened by the village: the timer whistled it to the town.
        whistle = Event.objects.filter(case=case, action="whistle")
        assert [(e.actor_label, e.data["stage"]) for e in whistle] == [("timer", "screening")]
        # The mail sweep handed the mail channel its own task, on the delivery queue.
        wait_for(
            lambda: Notification.objects.get(case=case, kind="case_filed").emailed_at is not None,
            timeout=60,
            what="the mail",
        )

        # Run again: nothing is due any more, so nothing happens twice.
        sweep_deadlines.apply_async(queue=broker.queue)
        wait_for(
            lambda: len(worker.results(sweep_deadlines.name)) == 2,
            timeout=60,
            what="the second sweep",
        )
        assert worker.results(sweep_deadlines.name) == ["1", "0"]

    assert Deadline.objects.get(case=case, stage=Stage.SCREENING).fired_at == deadline.fired_at
    assert Event.objects.filter(case=case, action="whistle").count() == 1
    whistled = Notification.objects.filter(case=case, kind="case_whistled")
    assert whistled.filter(recipient=org.town_committee).count() == 1
    assert whistled.count() == whistled.values("recipient").distinct().count()  # none twice
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED
