"""A small organisation with cases down every path of the workflow (tests.assessment's
drive_all_paths: on the spot, whistled with a late report-in, postponed, suspended and
resumed, still suspended, escalated to the city, rejected, left to the timers), a supervisor
of the city, a scenario copied from the rules in force, and replays of it run here (the
task's work, without the broker)."""

from dataclasses import dataclass
from datetime import date

import pytest

from assessment.periods import Period, custom
from policylab import services
from policylab.models import Replay, Scenario
from tests.assessment.facts_steps import Driver, eager_celery  # noqa: F401
from tests.assessment.test_rebuild import drive_all_paths
from tests.cases.conftest import Org, org  # noqa: F401
from tests.cases.engine_steps import T0

# The summer of the cases (T0 is 2025-06-10).
SUMMER = custom(date(2025, 6, 1), date(2025, 8, 31))


@dataclass
class Lab:
    org: Org
    scenario: Scenario
    period: Period
    cases: dict


@pytest.fixture
def drive(django_capture_on_commit_callbacks, time_machine, eager_celery):  # noqa: F811
    return Driver(django_capture_on_commit_callbacks, time_machine)


@pytest.fixture
def lab(org, drive, time_machine, settings, tmp_path) -> Lab:  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)
    cases = drive_all_paths(drive, org)
    scenario = services.create_scenario(user=org.supervisor, city=org.city, name="Rules in force")
    return Lab(org=org, scenario=scenario, period=SUMMER, cases=cases)


def run(lab: Lab, *, scenario: Scenario | None = None, name: str = "replay") -> Replay:
    """Queue a replay of the city over the summer and run it here (the task's work)."""
    replay = services.request_replay(
        user=lab.org.supervisor,
        scenario_id=(scenario or lab.scenario).pk,
        place_id=lab.org.city.pk,
        period=lab.period,
        name=name,
    )
    services.run_replay(replay_id=replay.pk)
    replay.refresh_from_db()
    return replay


def change_limits(lab: Lab, *, factor: float = 2, stage: str | None = None) -> Scenario:
    """The lab's scenario with every limit (of `stage`, or all) multiplied by `factor`."""
    scenario = lab.scenario
    limits = [
        dict(row, amount=max(1, round(row["amount"] * factor)))
        if stage in (None, row["stage"])
        else row
        for row in scenario.limits
    ]
    return services.update_scenario(
        user=lab.org.supervisor,
        scenario_id=scenario.pk,
        name=f"Limits × {factor}",
        note="",
        limits=limits,
        holidays=scenario.holidays,
        workdays=scenario.workdays,
        yellow_at_percent=scenario.yellow_at_percent,
        scheme=scenario.scheme,
    )
