"""Fixtures shared by every test suite."""

import pytest


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Serve {% static %} URLs without the collectstatic manifest, which tests never build."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 at production strength costs seconds per user; tests need no such strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_working_calendar():
    """Each process keeps a copy of the calendar; a test's rows must not leak into the next."""
    from cases.calendar import invalidate_calendar

    invalidate_calendar()
    yield
    invalidate_calendar()
