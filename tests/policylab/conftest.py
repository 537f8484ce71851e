"""A small organisation with cases down every path of the workflow (tests.assessment's
drive_all_paths: on the spot, whistled with a late report-in, postponed, suspended and
resumed, still suspended, escalated to the city, rejected, left to the timers), a supervisor
of the city, a scenario copied from the rules in force, and replays of it run here (the
task's work, without the broker)."""

import copy
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
import time_machine as time_machine_module
from django.conf import settings as django_settings
from django.db import connections, transaction
from django.test import TestCase, override_settings
from django.utils import timezone

from assessment.periods import Period, custom
from cases.calendar import invalidate_calendar
from policylab import services
from policylab.models import Replay, Scenario
from tests.assessment.facts_steps import Driver, eager_celery  # noqa: F401
from tests.assessment.test_rebuild import drive_all_paths
from tests.cases.conftest import Org, build_org, org  # noqa: F401
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
    shutil.copytree(shared.media, settings.MEDIA_ROOT)
    time_machine.move_to(shared.now, tick=False)
    return copy.deepcopy(shared.lab)


# --- one lab per module --------------------------------------------------------------------
# Building the lab drives a dozen cases through the services (seconds); most tests of a module
# only read it or change it inside their own transaction. So the first test of a module that
# asks for `lab` builds it inside a transaction left open for the module (as Django's
# TestCase.setUpTestData does for a class), each test runs in a savepoint within it, and the
# transaction is rolled back before the first test that cannot share it (one that asks for
# `org` itself, which would be a second organisation of the same names, or a transactional
# one) and at the end of the module. Such a test, and every `lab` test after it in the
# module, builds its own lab as before.


@dataclass
class _SharedLab:
    open: bool = False
    done: bool = False  # rolled back before a test that could not share it
    lab: Lab | None = None
    now: datetime | None = None
    media: Path | None = None
    blocker: object = None
    atomics: tuple = ()

    def close(self) -> None:
        if not self.open:
            return
        self.open = False
        with self.blocker.unblock():
            for alias, atomic in reversed(self.atomics):
                transaction.set_rollback(True, using=alias)
                atomic.__exit__(None, None, None)
        invalidate_calendar()


_SHARED: dict[str, _SharedLab] = {}


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


@contextmanager
def _eager():
    """What the `eager_celery` fixture does, for the module's build."""
    from whistle.celery import app

    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = saved


def _suite_settings():
    """The settings tests/conftest.py gives every test (without the markers that keep two
    factors or session limits): the lab is built outside any one test."""
    return override_settings(
        STORAGES={
            **django_settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        WHISTLE_REQUIRE_TWO_FACTOR=False,
        WHISTLE_SESSION_IDLE_MINUTES_PRIVILEGED=10**7,
        WHISTLE_SESSION_IDLE_MINUTES=10**7,
        WHISTLE_SESSION_MAX_HOURS=10**6,
        SESSION_COOKIE_AGE=10**6 * 3600,
        WHISTLE_CALENDAR_CHECK_SECONDS=3600,
        WHISTLE_CALENDAR_MAX_AGE_SECONDS=3600,
    )


@pytest.fixture(scope="module")
def _lab_of_the_module(request, django_db_setup, django_db_blocker, tmp_path_factory):
    key = request.node.nodeid.split("::")[0]
    shared = _SHARED.setdefault(key, _SharedLab())
    if shared.done or not _shares_the_lab(request._pyfuncitem):
        yield shared
        return
    media = tmp_path_factory.mktemp("lab") / "media"
    clock = time_machine_module.TimeMachineFixture()
    with django_db_blocker.unblock():
        atomics = []
        for alias in connections:
            atomic = transaction.atomic(using=alias)
            atomic._from_testcase = True  # as TestCase's own: a durable block may nest
            atomic.__enter__()
            atomics.append((alias, atomic))
        shared.atomics, shared.blocker, shared.open = tuple(atomics), django_db_blocker, True
        try:
            with _suite_settings(), override_settings(MEDIA_ROOT=media), _eager():
                invalidate_calendar()
                org = build_org()
                shared.lab = build_lab(org, Driver(TestCase.captureOnCommitCallbacks, clock), clock)
                shared.now = timezone.now()
                invalidate_calendar()
        except BaseException:
            shared.close()
            raise
        finally:
            clock.stop()
    media.mkdir(parents=True, exist_ok=True)
    shared.media = media
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
