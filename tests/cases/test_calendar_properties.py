"""Properties of working-time arithmetic, for random instants in 2024-2027 (2027 is a
provisional year) and random amounts of time."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import calendar

TZ = ZoneInfo("Asia/Shanghai")
PERIODS = [(time(8, 30), time(12, 0)), (time(13, 30), time(17, 30))]
PERIOD_ENDS = {end for _start, end in PERIODS}
MAX_SECONDS = 40 * 27_000  # 40 working days

property_settings = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

anywhere = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2027, 12, 31, 23, 59, 59),
    timezones=st.just(TZ),
)
# Instants close to the edges of office periods and days, where off-by-one errors live.
near_an_edge = st.builds(
    lambda day, edge, shift: datetime.combine(day, edge, tzinfo=TZ) + timedelta(seconds=shift),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    st.sampled_from([time(0, 0), *(edge for period in PERIODS for edge in period)]),
    st.integers(min_value=-2, max_value=2),
)
instants = st.one_of(anywhere, near_an_edge)
amounts = st.one_of(
    st.integers(min_value=0, max_value=MAX_SECONDS),
    st.sampled_from([0, 1, 3600, 2 * 3600, 3 * 3600 + 1800, 4 * 3600, 27_000, 15 * 27_000]),
)


@pytest.fixture(autouse=True)
def _fresh_calendar():
    calendar.invalidate_calendar()
    yield
    calendar.invalidate_calendar()


@property_settings
@given(start=instants, seconds=amounts)
def test_seconds_between_undoes_add_seconds(db, start, seconds):
    end = calendar.add_seconds(start=start, seconds=seconds, working=True)
    snapped = calendar.next_working_time(moment=start)
    assert calendar.seconds_between(start=snapped, end=end, working=True) == seconds
    assert calendar.seconds_between(start=start, end=end, working=True) == seconds


@property_settings
@given(start=instants, first=amounts, second=amounts)
def test_more_time_is_never_earlier(db, start, first, second):
    small, large = sorted((first, second))
    assert calendar.add_seconds(start=start, seconds=small, working=True) <= calendar.add_seconds(
        start=start, seconds=large, working=True
    )


@property_settings
@given(start=instants, first=amounts, second=amounts)
def test_adding_in_two_steps_is_adding_the_sum(db, start, first, second):
    office = calendar.next_working_time(moment=start)
    for moment in (office, start):
        in_steps = calendar.add_seconds(
            start=calendar.add_seconds(start=moment, seconds=first, working=True),
            seconds=second,
            working=True,
        )
        at_once = calendar.add_seconds(start=moment, seconds=first + second, working=True)
        assert in_steps == at_once


@property_settings
@given(start=instants, seconds=amounts.filter(lambda s: s > 0))
def test_a_deadline_falls_in_office_hours_or_at_a_period_end(db, start, seconds):
    due = calendar.add_seconds(start=start, seconds=seconds, working=True)
    assert due > start
    assert due.utcoffset() == timedelta(hours=8)
    at_period_end = calendar.is_working_day(due.date()) and due.time() in PERIOD_ENDS
    assert calendar.is_working_time(due) or at_period_end


@property_settings
@given(start=instants, seconds=st.integers(min_value=0, max_value=400 * 86_400))
def test_natural_time_is_plain_addition(db, start, seconds):
    end = calendar.add_seconds(start=start, seconds=seconds, working=False)
    assert end == start + timedelta(seconds=seconds)
    assert calendar.seconds_between(start=start, end=end, working=False) == seconds


@property_settings
@given(moments=st.lists(instants, min_size=3, max_size=3))
def test_seconds_between_adds_up(db, moments):
    first, middle, last = sorted(moment.replace(microsecond=0) for moment in moments)
    whole = calendar.seconds_between(start=first, end=last, working=True)
    parts = calendar.seconds_between(
        start=first, end=middle, working=True
    ) + calendar.seconds_between(start=middle, end=last, working=True)
    assert whole == parts


def brute_force_office_seconds(start: datetime, end: datetime) -> int:
    """Minute by minute against the chinesecalendar library itself (not our seeded copy)."""
    total = 0
    minute = start
    workdays: dict[date, bool] = {}
    while minute < end:
        local = minute.astimezone(TZ)
        day = local.date()
        if day not in workdays:
            workdays[day] = chinese_calendar.is_workday(day)
        if workdays[day] and any(begin <= local.time() < finish for begin, finish in PERIODS):
            total += 60
        minute += timedelta(minutes=1)
    return total


@property_settings
@given(
    start=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 28), timezones=st.just(TZ)
    ),
    minutes=st.integers(min_value=0, max_value=3 * 24 * 60),
)
def test_seconds_between_matches_a_minute_by_minute_count(db, start, minutes):
    start = start.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=minutes)
    assert calendar.seconds_between(start=start, end=end, working=True) == (
        brute_force_office_seconds(start, end)
    )
