"""A replay's run: it never touches a live row; a cancel stops it between chunks and leaves
no row of it; a queued replay cancelled is never run; a failure is recorded and leaves no
row; a scenario's scoring scheme changes the scores as counted by hand."""

import pytest
from django.apps import apps

from assessment import indicators as formulas
from policylab import replay as engine
from policylab import services
from policylab.models import Replay, ReplayCaseFact, ReplayDispatchFact
from tests.policylab.conftest import change_limits, run


def live_rows() -> dict:
    """Every row of every installed model but the policy lab's."""
    return {
        model._meta.label: sorted(
            (tuple(sorted(row.items())) for row in model.objects.values()), key=repr
        )
        for model in apps.get_models()
        if model._meta.app_label != "policylab" and model._meta.managed
    }


@pytest.mark.django_db
def test_a_replay_with_changed_rules_and_calendar_leaves_every_live_row_as_it_was(lab):
    scenario = change_limits(lab, factor=0.5)
    scenario = services.update_scenario(
        user=lab.org.supervisor,
        scenario_id=scenario.pk,
        name="Halved, with a holiday",
        note="",
        limits=scenario.limits,
        holidays=["2025-06-11", "2025-06-12"],
        workdays=["2025-06-14"],
        yellow_at_percent=50,
        scheme=scenario.scheme,
    )
    before = live_rows()
    assert sum(len(rows) for rows in before.values()) > 100
    replay = run(lab)
    assert replay.state == Replay.State.DONE
    assert replay.summary["tally"]["clocks_replayed"] > 0
    assert ReplayCaseFact.objects.filter(replay=replay, verdict_changed=True).exists()
    assert live_rows() == before


def asked(lab) -> Replay:
    return services.request_replay(
        user=lab.org.supervisor,
        scenario_id=lab.scenario.pk,
        place_id=lab.org.city.pk,
        period=lab.period,
        name="to stop",
    )


@pytest.mark.django_db
def test_a_cancel_asked_while_running_stops_after_the_current_chunk_and_leaves_no_rows(
    lab, monkeypatch
):
    monkeypatch.setattr(engine, "CHUNK", 2)
    replay = asked(lab)
    chunks = []
    original = services.replay_period

    def replay_period(**kwargs):
        progress = kwargs.pop("progress")

        def cancelling(done: int) -> None:
            chunks.append(done)
            if len(chunks) == 1:
                # Someone presses "cancel" while the first chunk is written.
                assert ReplayCaseFact.objects.filter(replay=replay).count() == done
                services.cancel_replay(user=lab.org.supervisor, replay_id=replay.pk)
            progress(done)

        return original(progress=cancelling, **kwargs)

    monkeypatch.setattr(services, "replay_period", replay_period)
    assert services.run_replay(replay_id=replay.pk) == Replay.State.CANCELLED
    assert chunks == [2]  # stopped after the chunk it was writing
    replay.refresh_from_db()
    assert replay.state == Replay.State.CANCELLED and replay.finished_at is not None
    assert replay.cancel_requested
    assert not ReplayCaseFact.objects.filter(replay=replay).exists()
    assert not ReplayDispatchFact.objects.filter(replay=replay).exists()


@pytest.mark.django_db
def test_a_queued_replay_cancelled_is_never_run(lab):
    replay = asked(lab)
    services.cancel_replay(user=lab.org.supervisor, replay_id=replay.pk)
    replay.refresh_from_db()
    assert replay.state == Replay.State.CANCELLED
    assert services.run_replay(replay_id=replay.pk) == "skipped"
    replay.refresh_from_db()
    assert replay.state == Replay.State.CANCELLED and replay.started_at is None
    assert not ReplayCaseFact.objects.filter(replay=replay).exists()


@pytest.mark.django_db
def test_a_failed_replay_is_marked_failed_with_its_error_and_leaves_no_rows(lab, monkeypatch):
    monkeypatch.setattr(engine, "CHUNK", 3)
    replay = asked(lab)
    original = services.replay_period

    def replay_period(**kwargs):
        progress = kwargs.pop("progress")

        def failing(done: int) -> None:
            progress(done)
            if done >= 6:
                raise RuntimeError("disk full")

        return original(progress=failing, **kwargs)

    monkeypatch.setattr(services, "replay_period", replay_period)
    assert services.run_replay(replay_id=replay.pk) == Replay.State.FAILED
    replay.refresh_from_db()
    assert replay.state == Replay.State.FAILED and replay.error == "disk full"
    assert replay.cases_done == 6
    assert not ReplayCaseFact.objects.filter(replay=replay).exists()
    assert not ReplayDispatchFact.objects.filter(replay=replay).exists()


@pytest.mark.django_db
def test_a_scenario_scheme_scores_and_ranks_the_units_by_its_own_weights(lab):
    """Closure weighed 3 and response 1, full marks only at 100%, no deductions, no town
    evaluation: a unit's score is (3 · 100 · closure + 100 · response) / 4, by hand."""
    scenario = services.update_scenario(
        user=lab.org.supervisor,
        scenario_id=lab.scenario.pk,
        name="Closure first",
        note="",
        limits=lab.scenario.limits,
        holidays=[],
        workdays=[],
        yellow_at_percent=None,
        scheme={
            "town_evaluation_weight": "0",
            "indicators": [
                {"key": "closure_rate", "weight": "3", "floor": "1"},
                {"key": "response_rate", "weight": "1", "floor": "1"},
            ],
            "deductions": [],
        },
    )
    replay = run(lab, scenario=scenario)
    scenario_rows = replay.summary["scenario"]["rankings"]
    assert set(scenario_rows) == set(replay.summary["live"]["rankings"])
    # The facts are the live ones (same limits): only the weights differ.
    assert replay.summary["scenario"]["indicators"] == replay.summary["live"]["indicators"]
    scored = 0
    for unit_type, rows in scenario_rows.items():
        by_hand = {}
        for row in rows:
            values = formulas.compute(
                unit_type=unit_type, unit_id=row["id"], period=lab.period, params={}
            )["indicators"]
            weighted = [
                (weight, 100 * values[key].value)
                for key, weight in (("closure_rate", 3), ("response_rate", 1))
                if values[key].value is not None
            ]
            by_hand[row["id"]] = (
                round(sum(w * p for w, p in weighted) / sum(w for w, _ in weighted), 4)
                if weighted
                else None
            )
            assert row["score"] == pytest.approx(by_hand[row["id"]]), (unit_type, row)
            assert row["deductions"] == 0
        scores = sorted({v for v in by_hand.values() if v is not None}, reverse=True)
        for row in rows:
            if by_hand[row["id"]] is not None:
                scored += 1
                # Dense or competition ranking: better scores rank strictly higher.
                better = sum(
                    1 for v in by_hand.values() if v is not None and v > by_hand[row["id"]]
                )
                assert row["rank"] == better + 1, (unit_type, row, scores)
    assert scored >= 3
    # The scheme in force scores differently (it weighs more indicators).
    assert replay.summary["scenario"]["rankings"] != replay.summary["live"]["rankings"]
