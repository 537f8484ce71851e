"""Rows built once for a test module and shared by its tests, as Django's
TestCase.setUpTestData does for a class: the rows are written inside a transaction left open
for the module, each test runs in a savepoint within it (pytest-django's own), so whatever a
test changes is rolled back before the next one, and the transaction is rolled back at the
end. Each test gets a deep copy of the objects the build returned, its photos in its own media
folder and the clock where the build left it: the same as a build of its own, without its
seconds of service calls."""

import copy
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import time_machine as time_machine_module
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connections, transaction
from django.test import TestCase, override_settings
from django.utils import timezone

from cases.calendar import invalidate_calendar
from tests.assessment.facts_steps import Driver


@dataclass
class ModuleBuild:
    open: bool = False
    done: bool = False  # rolled back before a test that could not share it
    value: object = None
    now: datetime | None = None
    media: Path | None = None
    blocker: object = None
    atomics: tuple = ()

    def close(self) -> None:
        """Roll the module's rows back (the end of the module, or a test that cannot share)."""
        if not self.open:
            return
        self.open = False
        with self.blocker.unblock():
            for alias, atomic in reversed(self.atomics):
                transaction.set_rollback(True, using=alias)
                atomic.__exit__(None, None, None)
        invalidate_calendar()

    def for_test(self, *, time_machine, settings, tmp_path: Path):
        """The built objects for one test, with its own copy of the photos and the clock
        frozen where the build left it. The cache is emptied: what an earlier test of the
        module cached was keyed by these same rows (with a build per test, by other ids)."""
        cache.clear()
        settings.MEDIA_ROOT = tmp_path / "media"
        shutil.copytree(self.media, settings.MEDIA_ROOT, dirs_exist_ok=True)
        time_machine.move_to(self.now, tick=False)
        return copy.deepcopy(self.value)


@contextmanager
def _eager_celery() -> Iterator[None]:
    """What the `eager_celery` fixture does, for a build outside any test."""
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
    factors or session limits), for a build outside any test."""
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


def build_for_module(
    shared: ModuleBuild, *, blocker, media: Path, build: Callable[[Driver, object], object]
) -> None:
    """Open the module's transaction and run `build(drive, time_machine)` in it, with eager
    Celery, the suite's settings and `media` as MEDIA_ROOT; `shared` keeps what it returned."""
    clock = time_machine_module.TimeMachineFixture()
    with blocker.unblock():
        atomics = []
        for alias in connections:
            atomic = transaction.atomic(using=alias)
            atomic._from_testcase = True  # as TestCase's own: a durable block may nest
            atomic.__enter__()
            atomics.append((alias, atomic))
        shared.atomics, shared.blocker, shared.open = tuple(atomics), blocker, True
        try:
            with _suite_settings(), override_settings(MEDIA_ROOT=media), _eager_celery():
                invalidate_calendar()
                shared.value = build(Driver(TestCase.captureOnCommitCallbacks, clock), clock)
                shared.now = timezone.now()
                invalidate_calendar()
        except BaseException:
            shared.close()
            raise
        finally:
            clock.stop()
    media.mkdir(parents=True, exist_ok=True)
    shared.media = media
