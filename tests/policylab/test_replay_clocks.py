"""One clock replayed (policylab.replay._replay_clock) at its edges: no limit in the scenario,
a clock stopped by a suspension, met exactly at its due time, a fired report-in clock ended
by the report-in, a consultation's task, a postponed clock."""

from datetime import timedelta

import pytest

from checklists.models import Stage, TimeUnit
from policylab.replay import Clock, _replay_clock
from policylab.rules import Rules
from tests.cases.engine_steps import T0

MIN = timedelta(minutes=1)
NOW = T0 + timedelta(days=30)


def rules(**limits) -> Rules:
    return Rules(
        limits={(1, stage): (amount, TimeUnit.NATURAL_MINUTES) for stage, amount in limits.items()},
        holidays=frozenset(),
        workdays=frozenset(),
        yellow_at_percent=None,
        scheme=None,
    )


def clock(stage=Stage.REPORT_IN, *, amount=30, extra=0, dispatch_id=7, **moments) -> Clock:
    return Clock(
        case_id=1,
        dispatch_id=dispatch_id,
        stage=stage,
        amount=amount,
        unit=TimeUnit.NATURAL_MINUTES,
        yellow=80,
        started_at=T0,
        warn_at=T0 + 24 * MIN,
        due_at=T0 + (amount + extra) * MIN,
        warned_at=None,
        met_at=moments.get("met_at"),
        fired_at=moments.get("fired_at"),
        paused_at=moments.get("paused_at"),
    )


def replay(one: Clock, scenario: Rules, **kwargs) -> Clock:
    _replay_clock(one, item_id=1, rules=scenario, now=NOW, **kwargs)
    return one


@pytest.mark.django_db
def test_a_clock_without_a_limit_in_the_scenario_keeps_its_live_outcome():
    late = replay(clock(met_at=T0 + 40 * MIN), rules(screening=5))
    assert (late.due, late.late, late.replayed) == (T0 + 30 * MIN, True, False)


@pytest.mark.django_db
def test_met_exactly_at_the_new_due_time_is_on_time():
    one = replay(clock(met_at=T0 + 60 * MIN), rules(report_in=60))
    assert one.due == T0 + 60 * MIN and not one.late and one.replayed


@pytest.mark.django_db
def test_a_postponement_is_kept_on_top_of_the_new_limit():
    one = replay(clock(extra=120, met_at=T0 + 170 * MIN), rules(report_in=60))
    assert one.due == T0 + 180 * MIN and not one.late


@pytest.mark.django_db
def test_a_suspended_clock_is_late_only_if_the_new_due_came_before_the_suspension():
    stopped = clock(paused_at=T0 + 20 * MIN)
    assert not replay(stopped, rules(report_in=60)).late  # stopped before its due
    stopped = clock(paused_at=T0 + 20 * MIN)
    shorter = replay(stopped, rules(report_in=10))
    assert shorter.late and shorter.fires_at == T0 + 10 * MIN


@pytest.mark.django_db
def test_a_fired_report_in_clock_ends_at_the_report_in():
    fired = clock(fired_at=T0 + 30 * MIN)
    assert not replay(fired, rules(report_in=60), ended_at=T0 + 45 * MIN).late
    fired = clock(fired_at=T0 + 30 * MIN)
    assert replay(fired, rules(report_in=60), ended_at=T0 + 75 * MIN).late
    # Never reported in: late once the new due has passed.
    fired = clock(fired_at=T0 + 30 * MIN)
    assert replay(fired, rules(report_in=60)).late


@pytest.mark.django_db
def test_a_consultation_task_keeps_the_due_time_the_committee_set():
    task = clock(Stage.HANDLING, extra=3000, met_at=T0 + 100 * MIN)
    kept = replay(task, rules(handling=10))
    assert kept.due == task.due_at and not kept.late and not kept.replayed
    # The case's own handling clock follows the scenario.
    own = replay(clock(Stage.HANDLING, dispatch_id=None, met_at=T0 + 20 * MIN), rules(handling=10))
    assert own.late and own.due == T0 + 10 * MIN
