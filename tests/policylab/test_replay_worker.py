"""A replay asked for is run by a real Celery worker process, to the end."""

from datetime import date, datetime

import pytest
import time_machine as tm
from django.utils import timezone

from assessment.periods import custom
from cases.services import accept_case, resolve_on_spot, verify_case, whistle_to_town
from policylab import services
from policylab.models import Replay, ReplayCaseFact
from tests.assessment.test_rebuild import file
from tests.cases.engine_steps import T0, png
from tests.cases.test_upload_budget import celery_conf
from tests.workers import isolated_broker, running_workers, wait_for


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_runs_a_requested_replay_to_the_end(org, drive, time_machine, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)
    case = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=case.pk)
    drive(resolve_on_spot, user=org.village_officer, case_id=case.pk, note="Done", photos=[png()])
    drive(verify_case, user=org.grid_worker, case_id=case.pk, passed=True)
    case = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=case.pk)
    drive(whistle_to_town, user=org.village_officer, case_id=case.pk, note="Too big")
    # Back to the real clock: the worker and the waiting below run on it.
    real = datetime.fromtimestamp(tm.escape_hatch.time.time(), tz=timezone.get_current_timezone())
    time_machine.move_to(real, tick=True)
    scenario = services.create_scenario(user=org.supervisor, city=org.city, name="In force")

    with (
        isolated_broker(tmp_path) as broker,
        running_workers(count=1, broker=broker, tmp_path=tmp_path) as (worker,),
        celery_conf(task_default_queue=broker.queue, task_always_eager=False),
    ):
        replay = services.request_replay(
            user=org.supervisor,
            scenario_id=scenario.pk,
            place_id=org.city.pk,
            period=custom(date(2025, 6, 1), date(2025, 6, 30)),
            name="By the worker",
        )
        wait_for(
            lambda: (
                Replay.objects.get(pk=replay.pk).state in (Replay.State.DONE, Replay.State.FAILED)
            ),
            timeout=180,
            what=f"the worker to run the replay:\n{worker.log()}",
        )
    replay.refresh_from_db()
    assert replay.state == Replay.State.DONE, replay.error
    assert replay.cases_done == replay.cases_total == 2
    assert ReplayCaseFact.objects.filter(replay=replay).count() == 2
    assert replay.summary["scenario"] == replay.summary["live"]
    assert replay.started_at is not None and replay.finished_at >= replay.started_at
