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
from tests.cases.conftest import Org, build_org, org  # noqa: F401
from tests.cases.engine_steps import T0
from tests.module_rows import ModuleBuild, build_for_module

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


def build_lab(org: Org, drive: Driver, time_machine) -> Lab:  # noqa: F811
    """What `lab` holds: every path of the workflow from T0, and the scenario of the rules."""
    time_machine.move_to(T0, tick=False)
    cases = drive_all_paths(drive, org)
    scenario = services.create_scenario(user=org.supervisor, city=org.city, name="Rules in force")
    return Lab(org=org, scenario=scenario, period=SUMMER, cases=cases)


@pytest.fixture
def lab(request, db, drive, time_machine, settings, tmp_path, _lab_of_the_module) -> Lab:
    settings.MEDIA_ROOT = tmp_path / "media"
    shared = _lab_of_the_module
    if not shared.open:  # this test cannot share the module's lab: build its own
        return build_lab(request.getfixturevalue("org"), drive, time_machine)
    # The module's lab, as it was right after it was built: its rows (kept by the module's
    # transaction, each test's changes rolled back), its photos, its objects and its clock.
    return shared.for_test(time_machine=time_machine, settings=settings, tmp_path=tmp_path)


# --- one lab per module --------------------------------------------------------------------
# Building the lab drives a dozen cases through the services (seconds); most tests of a module
# only read it or change it inside their own transaction. So the first test of a module that
# asks for `lab` builds it inside a transaction left open for the module (as Django's
# TestCase.setUpTestData does for a class), each test runs in a savepoint within it, and the
# transaction is rolled back before the first test that cannot share it (one that asks for
# `org` itself, which would be a second organisation of the same names, or a transactional
# one) and at the end of the module. Such a test, and every `lab` test after it in the
# module, builds its own lab as before (tests/module_rows.py).


_SHARED: dict[str, ModuleBuild] = {}


def _shares_the_lab(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    if "lab" not in names or "org" in names:
        return False
    if {"transactional_db", "live_server", "django_db_reset_sequences"} & set(names):
        return False
    marker = item.get_closest_marker("django_db")
    if marker is not None:
        from pytest_django.plugin import validate_django_db

        transactional, reset_sequences, *_ = validate_django_db(marker)
        if transactional or reset_sequences:
            return False
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a test that cannot share its module's lab (and before its database fixture):
    roll the lab back, and build none for the rest of the module."""
    shared = _SHARED.get(item.nodeid.split("::")[0])
    if shared is not None and shared.open and not _shares_the_lab(item):
        shared.close()
        shared.done = True


@pytest.fixture(scope="module")
def _lab_of_the_module(request, django_db_setup, django_db_blocker, tmp_path_factory):
    key = request.node.nodeid.split("::")[0]
    shared = _SHARED.setdefault(key, ModuleBuild())
    if shared.done or not _shares_the_lab(request._pyfuncitem):
        yield shared
        return
    build_for_module(
        shared,
        blocker=django_db_blocker,
        media=tmp_path_factory.mktemp("lab") / "media",
        build=lambda drive, clock: build_lab(build_org(), drive, clock),
    )
    yield shared
    shared.close()


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
