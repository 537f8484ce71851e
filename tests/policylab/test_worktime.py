"""policylab.worktime gives exactly what cases.calendar's day-by-day walks give, on the
calendar in force and with a scenario's extra holidays and working days."""

import random
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from cases import calendar
from cases.models import CalendarDay
from policylab.worktime import WorkTime

UNITS = ("working_hours", "working_days", "natural_minutes", "natural_hours", "natural_days")


def moments(count: int) -> list[datetime]:
    """Random moments of 2025, on the second, at office boundaries and off them."""
    rng = random.Random(21)
    tz = timezone.get_default_timezone()
    result = []
    for _ in range(count):
        day = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
        if rng.random() < 0.3:
            clock = rng.choice([(8, 30), (12, 0), (13, 30), (17, 30), (0, 0), (23, 59)])
            moment = datetime(day.year, day.month, day.day, *clock, tzinfo=tz)
        else:
            moment = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(
                seconds=rng.randrange(86_400), microseconds=rng.choice([0, 0, 250_000])
            )
        result.append(moment)
    return result


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("holidays", "workdays"),
    [((), ()), ((date(2025, 3, 14), date(2025, 11, 14)), (date(2025, 3, 15),))],
)
def test_worktime_matches_the_calendar_walks(holidays, workdays):
    # Exception days of the calendar in force besides those shipped.
    CalendarDay.objects.update_or_create(
        date=date(2025, 7, 8), defaults={"kind": CalendarDay.Kind.HOLIDAY}
    )
    CalendarDay.objects.update_or_create(
        date=date(2025, 7, 12), defaults={"kind": CalendarDay.Kind.MAKEUP_WORKDAY}
    )
    calendar.invalidate_calendar()
    fast = WorkTime(holidays=holidays, workdays=workdays)
    rng = random.Random(7)
    with calendar.counted_as(holidays=holidays, workdays=workdays):
        for start in moments(1500):
            unit = rng.choice(UNITS)
            amount = rng.choice([1, 2, 3, 5, 10, 30])
            assert fast.add_duration(start=start, amount=amount, unit=unit) == (
                calendar.add_duration(start=start, amount=amount, unit=unit)
            ), (start, amount, unit)
            seconds = rng.choice([0, 1, 3600, 12_600, 27_000, 40_000, 500_000])
            assert fast.add_seconds(start=start, seconds=seconds, working=True) == (
                calendar.add_seconds(start=start, seconds=seconds, working=True)
            ), (start, seconds)
            end = start + timedelta(seconds=rng.randrange(-86_400, 40 * 86_400))
            assert fast.seconds_between(start=start, end=end, working=True) == (
                calendar.seconds_between(start=start, end=end, working=True)
            ), (start, end)
