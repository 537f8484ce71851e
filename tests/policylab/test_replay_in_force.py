"""Replaying the rules in force reproduces the live facts, indicators and rankings exactly
(issue 21, Must hold), on a generated history with suspensions, postponements, reworks,
multi-dispatch and cases crossing the end of the month replayed."""

import pytest

from assessment import indicators as formulas
from assessment import selectors
from assessment.models import CaseFact, DispatchFact
from policylab import services
from policylab.models import Replay, ReplayCaseFact, ReplayDispatchFact
from tests.policylab.history import CASE_COLUMNS, DISPATCH_COLUMNS, JULY, JUNE, generate


def replay_of(org, scenario, *, place, period) -> Replay:
    replay = services.request_replay(
        user=org.supervisor,
        scenario_id=scenario.pk,
        place_id=place.pk,
        period=period,
        name=f"{place.name} {period}",
    )
    assert services.run_replay(replay_id=replay.pk) == Replay.State.DONE
    replay.refresh_from_db()
    return replay


def units(org) -> list[tuple[str, int]]:
    return [
        ("city", org.city.pk),
        ("town", org.town.pk),
        ("town", org.other_town.pk),
        ("village", org.village.pk),
        ("village", org.other_village.pk),
        ("team", org.team.pk),
        ("department", org.department.pk),
    ]


def numbers(values: dict) -> dict:
    return {key: (i.numerator, i.denominator, i.value) for key, i in values.items()}


def assert_rows_equal_live(replay: Replay) -> None:
    replayed = {
        row["case_id"]: row for row in ReplayCaseFact.objects.filter(replay=replay).values()
    }
    live = {row["case_id"]: row for row in CaseFact.objects.filter(case_id__in=replayed).values()}
    assert replayed.keys() == live.keys()
    for case_id, row in replayed.items():
        assert {n: row[n] for n in CASE_COLUMNS} == {n: live[case_id][n] for n in CASE_COLUMNS}
        assert not row["verdict_changed"] and row["would_escalate_at"] is None
    dispatches = {
        row["dispatch_id"]: row for row in ReplayDispatchFact.objects.filter(replay=replay).values()
    }
    live_dispatches = {
        row["dispatch_id"]: row
        for row in DispatchFact.objects.filter(case_fact_id__in=replayed).values()
    }
    assert dispatches.keys() == live_dispatches.keys()
    for dispatch_id, row in dispatches.items():
        assert {n: row[n] for n in DISPATCH_COLUMNS} == {
            n: live_dispatches[dispatch_id][n] for n in DISPATCH_COLUMNS
        }
        assert not row["verdict_changed"]


@pytest.mark.django_db
def test_replaying_the_rules_in_force_gives_the_live_facts_indicators_and_rankings(
    org, drive, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    cases = generate(drive, org)
    scenario = services.create_scenario(user=org.supervisor, city=org.city, name="In force")
    live_facts = CaseFact.objects.filter(case_id__in=[c.pk for c in cases.values()])
    # The history has what the Must hold asks for.
    assert live_facts.filter(was_suspended=True).count() == 2
    assert live_facts.filter(postponed=True).exists()
    assert live_facts.filter(reworked=True).exists()
    assert live_facts.filter(overdue=True).exists()
    assert DispatchFact.objects.filter(late=True).count() >= 3
    assert DispatchFact.objects.filter(case_fact_id=cases["crossing"].pk).count() == 2
    crossing = CaseFact.objects.get(case_id=cases["crossing"].pk)
    assert crossing.filed_at < JUNE.end_at <= crossing.resolved_at
    overnight = CaseFact.objects.get(case_id=cases["overnight"].pk)
    assert overnight.filed_at < JUNE.end_at <= overnight.resolved_at

    for period in (JUNE, JULY):
        replay = replay_of(org, scenario, place=org.city, period=period)
        tally = replay.summary["tally"]
        assert tally["clocks_replayed"] == 0 and tally["cases_changed"] == 0
        assert tally["late_clocks"] == tally["late_clocks_live"]
        assert tally["warnings"] == tally["warnings_live"]
        assert replay.cases_done == replay.cases_total == tally["cases"] > 0
        assert_rows_equal_live(replay)
        assert replay.summary["scenario"] == replay.summary["live"]

        facts = services.replay_facts(replay)
        for unit_type, unit_id in units(org):
            live = formulas.compute(unit_type=unit_type, unit_id=unit_id, period=period, params={})
            again = formulas.compute(
                unit_type=unit_type, unit_id=unit_id, period=period, params={}, facts=facts
            )
            assert numbers(again["indicators"]) == numbers(live["indicators"]), unit_type
            assert again["counts"] == live["counts"], unit_type
            # The numbers the dashboards show for the period.
            shown = selectors.indicators(
                user=org.supervisor, unit_type=unit_type, unit_id=unit_id, period=period
            )
            assert numbers(again["indicators"]) == numbers(shown), unit_type
        for unit_type, unit_ids in services.ranked_units(org.city).items():
            shown = selectors.ranking(user=org.supervisor, unit_type=unit_type, period=period)
            shown = [r for r in shown if r.unit_id in unit_ids]
            again = selectors.ranking(
                user=org.supervisor,
                unit_type=unit_type,
                period=period,
                facts=facts,
                unit_ids=unit_ids,
            )
            assert [(r.unit_id, r.score, r.rank, numbers(r.indicators)) for r in again] == [
                (r.unit_id, r.score, r.rank, numbers(r.indicators)) for r in shown
            ], unit_type

    # A town's replay: its own cases only, equal to the live ones too.
    replay = replay_of(org, scenario, place=org.town, period=JUNE)
    assert_rows_equal_live(replay)
    assert replay.summary["scenario"] == replay.summary["live"]
    assert set(ReplayCaseFact.objects.filter(replay=replay).values_list("town_id", flat=True)) == {
        org.town.pk
    }

    # The same inputs give the same rows (deterministic).
    first = replay_of(org, scenario, place=org.city, period=JUNE)
    second = replay_of(org, scenario, place=org.city, period=JUNE)

    def rows(replay):
        return [
            {k: v for k, v in row.items() if k not in ("id", "replay_id")}
            for row in ReplayCaseFact.objects.filter(replay=replay).order_by("case_id").values()
        ]

    assert rows(first) == rows(second)
