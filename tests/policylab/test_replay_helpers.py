"""A replay fanned out to helper processes (policylab.helpers: `manage.py replay_span`, real
processes on the test database) writes the same rows and counts as one process does; a helper
that cannot replay fails with its span named, and one that sees a cancel stops."""

import pytest
from django.db import connection
from django.utils import timezone

from checklists.models import Stage
from policylab import helpers, services
from policylab import replay as engine
from policylab.models import Replay, ReplayCaseFact, ReplayDispatchFact
from policylab.replay import Cancelled, cohort
from tests.policylab.history import JUNE, generate
from tests.policylab.test_replay_rules import scaled, scenario_with


def asked(org, scenario) -> Replay:
    """A replay asked for and run to the end (by the tests' eager Celery, at the commit)."""
    replay = services.request_replay(
        user=org.supervisor,
        scenario_id=scenario.pk,
        place_id=org.city.pk,
        period=JUNE,
        name=scenario.name,
    )
    replay.refresh_from_db()
    assert replay.state == Replay.State.DONE, replay.error
    return replay


def written(replay: Replay) -> tuple[list, list]:
    cases = ReplayCaseFact.objects.filter(replay=replay).order_by("case_id")
    dispatches = ReplayDispatchFact.objects.filter(replay=replay).order_by("dispatch_id")
    skip = {"id", "replay_id", "case_fact_id"}
    return (
        [{k: v for k, v in vars(row).items() if k not in skip and k[0] != "_"} for row in cases],
        [
            {k: v for k, v in vars(row).items() if k not in skip and k[0] != "_"}
            for row in dispatches
        ],
    )


def running_replay(org, *, cancel: bool) -> Replay:
    """A replay as its task leaves it while its helpers work (made here: asking for one would
    run it at once, the tests' Celery being eager)."""
    scenario = scenario_with(org, limits=scaled(Stage.REPORT_IN, 0.5), name="Halved")
    return Replay.objects.create(
        scenario=scenario,
        name="By hand",
        region=org.city,
        period_kind=JUNE.kind,
        period_start=JUNE.start,
        period_end=JUNE.end,
        rules=services.scenario_rules(scenario).as_json(),
        requested_by=org.supervisor,
        state=Replay.State.RUNNING,
        started_at=timezone.now(),
        cancel_requested=cancel,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_helpers_write_what_one_process_writes_stop_at_a_cancel_and_name_their_span(
    org, drive, settings, monkeypatch, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    generate(drive, org)
    scenario = scenario_with(
        org, limits=scaled(Stage.REPORT_IN, 0.5), holidays=["2025-06-12"], name="Halved"
    )
    monkeypatch.setattr(engine, "CHUNK", 3)  # this process's chunks and its spans
    settings.WHISTLE_REPLAY_PROCESSES = 1
    alone = asked(org, scenario)

    settings.WHISTLE_REPLAY_PROCESSES = 3
    started: list[helpers.Helper] = []
    real_start = helpers.start

    def start(**kwargs):
        running = real_start(**kwargs)
        started.extend(running)
        return running

    monkeypatch.setattr(helpers, "start", start)
    shared = asked(org, scenario)

    assert alone.summary["tally"]["rows_changed"] > 0  # the scenario changes what is written
    assert alone.summary["tally"]["cases"] >= 7  # three spans of whole chunks
    if connection.vendor == "postgresql":
        assert len(started) == 2
        assert all(helper.process.returncode == 0 for helper in started)
    else:  # the embedded SQLite takes one writer at a time: one process replays
        assert not started
    assert written(shared) == written(alone)
    assert shared.summary["tally"] == alone.summary["tally"]
    assert shared.summary["live"] == alone.summary["live"]
    assert shared.summary["scenario"] == alone.summary["scenario"]
    assert shared.cases_done == shared.cases_total == alone.cases_total

    # A helper that sees a cancel stops after its chunk; one that cannot replay (its replay no
    # longer running) names its span and writes nothing.
    replay = running_replay(org, cancel=True)
    ids = list(
        cohort(region=org.city, period=JUNE).order_by("case_id").values_list("case_id", flat=True)
    )
    span = (ids[0], ids[-1])
    with pytest.raises(Cancelled):
        helpers.join(helpers.start(replay=replay, spans=[span], changed=set()))
    # It stopped after its one chunk: written, counted on the replay's row.
    replay.refresh_from_db()
    assert replay.cases_done == len(ids)
    assert ReplayCaseFact.objects.filter(replay=replay).count() == len(ids)

    # A replay no longer running (finished, cancelled): its helper refuses, nothing written.
    other = running_replay(org, cancel=False)
    Replay.objects.filter(pk=other.pk).update(state=Replay.State.CANCELLED)
    with pytest.raises(RuntimeError) as failed:
        helpers.join(helpers.start(replay=other, spans=[span], changed=set()))
    assert str(failed.value).startswith(f"cases {span[0]}-{span[1]}: ")
    assert "DoesNotExist" in str(failed.value) or "does not exist" in str(failed.value)
    assert not ReplayCaseFact.objects.filter(replay=other).exists()
