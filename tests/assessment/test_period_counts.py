"""Stored overview counts (PeriodCounts): the worker keeps every city's and town's overview
counted, the page reads them instead of the facts, and counts of an older state of the facts
are served only while young."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessment import selectors, services, tasks
from assessment.indicators import case_conditions
from assessment.models import CaseFact, PeriodCounts
from assessment.periods import period_for
from core import leases
from teams.models import Region
from tests.assessment.facts_steps import Driver, eager_celery  # noqa: F401
from tests.assessment.test_indicators import _clock_and_media  # noqa: F401 (autouse)
from tests.assessment.test_rebuild import drive_all_paths
from tests.cases.conftest import org  # noqa: F401


@pytest.fixture
def paths(org, django_capture_on_commit_callbacks, time_machine, eager_celery):  # noqa: F811
    drive_all_paths(Driver(django_capture_on_commit_callbacks, time_machine), org)
    cache.clear()


def _values(org, period):  # noqa: F811
    """The city's indicators of the period as (numerator, denominator, value) per key."""
    computed = selectors.indicators_over(
        user=org.supervisor, unit_type="city", unit_id=None, periods=[period]
    )
    return {
        key: (ind.numerator, ind.denominator, ind.value) for key, ind in computed[period].items()
    }


def _reads_facts(queries) -> bool:
    return any("assessment_casefact" in query["sql"] for query in queries.captured_queries)


def test_keeping_counts_the_overview_of_every_city_and_town_once(org, paths):  # noqa: F811
    today = timezone.localdate()
    counted = services.keep_overview_counts(today=today)
    units = Region.objects.filter(level__in=[Region.Level.CITY, Region.Level.TOWN]).count()
    periods = {
        period
        for kind in services.KEPT_KINDS
        for period in selectors.overview_periods(kind=kind, anchor=today)
    }
    assert counted == units * len(periods)
    assert PeriodCounts.objects.count() == units * len(periods)
    # Nothing changed: nothing is counted again.
    assert services.keep_overview_counts(today=today) == 0
    month = period_for("month", today)
    stored = PeriodCounts.objects.get(
        unit_type="city", unit_id=org.city.pk, start=month.start, end=month.end
    )
    assert stored.counts == selectors.count_periods("city", org.city.pk, [month])[month]
    assert stored.counts["c_due"] > 0


def test_the_overview_reads_stored_counts_instead_of_the_facts(org, paths):  # noqa: F811
    month = period_for("month", timezone.localdate())
    expected = _values(org, month)
    cache.clear()
    with CaptureQueriesContext(connection) as counting:
        assert _values(org, month) == expected
    assert _reads_facts(counting)

    services.keep_overview_counts(today=timezone.localdate())
    cache.clear()
    with CaptureQueriesContext(connection) as stored:
        assert _values(org, month) == expected
    assert not _reads_facts(stored)


def test_counts_of_an_older_state_are_served_only_while_young(org, paths, settings, time_machine):  # noqa: F811
    settings.WHISTLE_COUNTS_STALE_SECONDS = 120
    month = period_for("month", timezone.localdate())
    services.keep_overview_counts(today=timezone.localdate())
    before = _values(org, month)

    # A closed case of the month is reopened in the facts (as a refresh would write it).
    changed = CaseFact.objects.filter(
        case_conditions()["closed"], city=org.city, filed_at__gte=month.start_at
    ).first()
    CaseFact.objects.filter(pk=changed.pk).update(closed=False, reopened_at=timezone.now())
    services.touch_fact_months(months=[month.start])
    now = _values(org, month)  # the stored counts: the worker recounts them meanwhile
    assert now == before

    settings.WHISTLE_COUNTS_STALE_SECONDS = 0
    live = _values(org, month)
    assert live["closure_rate"][0] == before["closure_rate"][0] - 1

    settings.WHISTLE_COUNTS_STALE_SECONDS = 120
    time_machine.move_to(timezone.now() + timedelta(seconds=121), tick=False)
    cache.clear()
    assert _values(org, month) == live  # too old: counted by the page

    # The worker recounts exactly the periods holding the changed month, for every unit.
    units = Region.objects.filter(level__in=[Region.Level.CITY, Region.Level.TOWN]).count()
    # One period of each kept kind holds the month.
    kinds = len(services.KEPT_KINDS)
    assert services.keep_overview_counts(today=timezone.localdate()) == units * kinds
    cache.clear()
    with CaptureQueriesContext(connection) as stored:
        assert _values(org, month) == live
    assert not _reads_facts(stored)


def test_the_beat_keeps_the_counts(org, paths):  # noqa: F811
    entry = django_settings.CELERY_BEAT_SCHEDULE["keep-overview-counts"]
    assert entry["task"] == "assessment.tasks.keep_overview_counts"
    assert tasks.keep_overview_counts() > 0
    assert PeriodCounts.objects.filter(unit_type="city", unit_id=org.city.pk).exists()
    assert tasks.keep_overview_counts() == 0


def test_the_overview_says_when_its_figures_are_behind(client, org, paths, settings):  # noqa: F811
    settings.WHISTLE_COUNTS_STALE_SECONDS = 120
    services.keep_overview_counts(today=timezone.localdate())
    client.force_login(org.supervisor)
    url = reverse("assessment:overview")
    current = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert current.status_code == 200
    assert b'data-testid="counted-at"' not in current.content

    services.touch_fact_months(months=[timezone.localdate().replace(day=1)])
    cache.clear()
    behind = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert behind.status_code == 200
    counted_at = timezone.localtime().strftime("%H:%M:%S")
    assert f"These figures were counted at {counted_at}".encode() in behind.content
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert f"以下数据统计于 {counted_at}".encode() in chinese.content
    assert b'data-testid="counted-at"' in chinese.content


def test_one_recount_at_a_time_across_workers(org, paths):  # noqa: F811
    """While another worker's recount holds the lease, a recount returns at once having counted
    nothing; once it is released the next one counts."""
    other = leases.new_holder()
    assert leases.hold_lease(
        name=services.RECOUNT_LEASE, holder=other, seconds=services.RECOUNT_LEASE_SECONDS
    )
    today = timezone.localdate()
    assert services.keep_overview_counts(today=today) == 0
    assert not PeriodCounts.objects.exists()
    assert leases.release_lease(name=services.RECOUNT_LEASE, holder=other)
    assert services.keep_overview_counts(today=today) > 0
    # Its own lease ended with it: the next recount is not held back.
    assert not leases.lease_state(name=services.RECOUNT_LEASE).held
