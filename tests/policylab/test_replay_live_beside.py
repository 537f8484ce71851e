"""The live summary of a replay is counted in a thread of its own, beside the replay, when the
task's rows are committed and the database is PostgreSQL (policylab.services._Beside): it
gives the same numbers as counted inline afterwards, and a failure in it fails the replay."""

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from assessment import scoring
from policylab import services
from policylab.models import Replay
from tests.assessment.test_rebuild import drive_all_paths
from tests.cases.engine_steps import T0
from tests.policylab.conftest import SUMMER


@pytest.mark.django_db(transaction=True)
def test_the_live_summary_counted_beside_the_replay_is_the_one_counted_inline(
    org, drive, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    drive.time_machine.move_to(T0, tick=False)
    drive_all_paths(drive, org)
    beside = services._Beside(lambda: connection.vendor)
    # Its own thread on PostgreSQL, outside any transaction; inline elsewhere.
    assert (beside.thread is not None) == (connection.vendor == "postgresql")
    assert beside.result() == connection.vendor
    scenario = services.create_scenario(user=org.supervisor, city=org.city, name="In force")
    replay = services.request_replay(
        user=org.supervisor,
        scenario_id=scenario.pk,
        place_id=org.city.pk,
        period=SUMMER,
        name="beside",
    )
    # Committed at once (no test transaction): the task ran when the request committed.
    replay.refresh_from_db()
    assert replay.state == Replay.State.DONE
    inline = services.summarise(
        replay=replay,
        period=services.replay_period_of(replay),
        facts=None,
        scheme=scoring.InForce,
    )
    assert replay.summary["live"] == json.loads(json.dumps(inline, cls=DjangoJSONEncoder))
    assert replay.summary["live"]["levels"]["cases"] > 0
    # The rules in force: the replayed numbers are the live ones.
    assert replay.summary["scenario"]["indicators"] == replay.summary["live"]["indicators"]


@pytest.mark.django_db(transaction=True)
def test_a_failure_beside_the_replay_reaches_the_caller():
    def broken():
        raise RuntimeError("the live summary failed")

    beside = services._Beside(broken)
    with pytest.raises(RuntimeError, match="the live summary failed"):
        beside.result()
