"""Fixtures shared by every test suite."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _migrated_rows_back_in_bulk():
    """After the flush of a serialized_rollback test the migrated rows go back in bulk
    (tests/db.py), not one UPDATE and INSERT per row."""
    from django.db.backends.base.creation import BaseDatabaseCreation

    from tests.db import deserialize_in_bulk

    original = BaseDatabaseCreation.deserialize_db_from_string
    BaseDatabaseCreation.deserialize_db_from_string = deserialize_in_bulk
    yield
    BaseDatabaseCreation.deserialize_db_from_string = original


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
def _second_factor_only_where_tested(request: pytest.FixtureRequest, settings):
    """Two-factor sign-in is required in production (the setting's default); the tests of it,
    marked `two_factor`, keep it on. Elsewhere it is off, so that force_login and the browser
    tests' password sign-in reach the pages as before (tests/teams/test_two_factor*.py)."""
    if request.node.get_closest_marker("two_factor") is None:
        settings.WHISTLE_REQUIRE_TWO_FACTOR = False


@pytest.fixture(autouse=True)
def _session_limits_only_where_tested(request: pytest.FixtureRequest, settings):
    """Sessions end after 30 minutes idle (privileged) or 8 hours, and 12 hours after sign-in
    (teams.sessions, SESSION_COOKIE_AGE); tests that move the clock by days would be signed out.
    The tests of the limits, marked `session_limits`, keep them
    (tests/teams/test_session_limits.py)."""
    if request.node.get_closest_marker("session_limits") is None:
        settings.WHISTLE_SESSION_IDLE_MINUTES_PRIVILEGED = 10**7
        settings.WHISTLE_SESSION_IDLE_MINUTES = 10**7
        settings.WHISTLE_SESSION_MAX_HOURS = 10**6
        settings.SESSION_COOKIE_AGE = 10**6 * 3600  # the stored session's expiry follows it


@pytest.fixture(autouse=True)
def _fresh_working_calendar(settings):
    """Each process keeps a copy of the calendar; a test's rows must not leak into the next."""
    from cases.calendar import invalidate_calendar

    # Tests invalidate explicitly; a time-based reload in the middle of a slow test (a loaded
    # CI machine) would add queries to a page whose query count is being measured.
    settings.WHISTLE_CALENDAR_CHECK_SECONDS = 3600
    settings.WHISTLE_CALENDAR_MAX_AGE_SECONDS = 3600
    invalidate_calendar()
    yield
    invalidate_calendar()


@pytest.fixture(autouse=True, scope="session")
def _append_only_rows_flushed():
    """On SQLite, the flush after a transactional test runs with the append-only triggers
    lifted (tests/db.py): its DELETE would hit them."""
    from django.test.testcases import TransactionTestCase

    from tests.db import append_only_triggers_lifted

    original = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self) -> None:
        with append_only_triggers_lifted():
            original(self)

    TransactionTestCase._fixture_teardown = _fixture_teardown
    yield
    TransactionTestCase._fixture_teardown = original


def _uses_database(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("django_db") is not None or any(
        name in request.fixturenames
        for name in ("db", "transactional_db", "live_server", "django_db_reset_sequences")
    )


@pytest.fixture(autouse=True)
def _board_copies_kept(request: pytest.FixtureRequest):
    """After every test that used the database, each active dispatch's copy of its clock
    matches the rule (tests/board_copies.py). The database fixture is requested here so its
    rollback or flush comes after this check."""
    if not _uses_database(request):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    from django.db import connection

    from tests.board_copies import stale_board_copies

    if connection.in_atomic_block and connection.needs_rollback:
        return  # the test left a broken transaction on purpose; nothing can be read
    assert stale_board_copies() == []
