"""core.reference.SharedVersion: how long a process may use its copy of rows that others edit
(the reference data and the working calendar both rely on it)."""

import pytest
from django.core.cache import cache

from core.reference import SharedVersion

KEY = "whistle:test:shared-version"


@pytest.fixture
def version(settings):
    settings.TEST_CHECK_SECONDS = 0
    settings.TEST_MAX_AGE_SECONDS = 3600
    cache.delete(KEY)
    yield SharedVersion(
        KEY,
        check_setting="TEST_CHECK_SECONDS",
        max_age_setting="TEST_MAX_AGE_SECONDS",
        max_age_default=30.0,
        what="test",
    )
    cache.delete(KEY)


def test_a_copy_lasts_until_the_token_moves(version):
    stamp = version.new_stamp()
    assert version.still_current(stamp)
    version.publish()  # another process edited the rows
    assert not version.still_current(stamp)
    fresh = version.new_stamp()
    assert fresh.version == cache.get(KEY)
    assert version.still_current(fresh)


def test_the_token_is_compared_only_once_the_check_interval_has_passed(version, settings):
    settings.TEST_CHECK_SECONDS = 3600
    stamp = version.new_stamp()
    version.publish()
    assert version.still_current(stamp)  # not compared yet: the edit shows within the interval
    settings.TEST_CHECK_SECONDS = 0
    assert not version.still_current(stamp)


def test_a_copy_older_than_the_maximum_age_is_dropped_whatever_the_token_says(version, settings):
    stamp = version.new_stamp()
    settings.TEST_MAX_AGE_SECONDS = 0  # e.g. the cache was down when an edit was published
    assert not version.still_current(stamp)
    assert cache.get(KEY) == stamp.version  # the token never moved


def test_no_copy_is_never_current(version):
    assert not version.still_current(None)


def test_each_publication_is_a_new_token(version):
    version.publish()
    first = cache.get(KEY)
    version.publish()
    assert cache.get(KEY) not in (None, first)
