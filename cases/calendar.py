"""Working time: the calendar the case engine counts limits in.

A working day is Monday to Friday unless a CalendarDay marks it a holiday; Saturday and
Sunday are off unless a CalendarDay marks them a make-up working day (调休). Working time is
the office periods (OfficeHours) of working days. All results are aware datetimes in
settings.TIME_ZONE.

The sweep and the pages call these functions a lot, so the calendar (office periods and the
exception days of each year touched) is cached in the process. Several processes on several
machines share it through a version token in the Django cache, as the reference data does
(core.reference.SharedVersion): `invalidate_calendar()` (called by the services and the admin
on every change) sets a new token, every process compares its copy with the token at most every
`WHISTLE_CALENDAR_CHECK_SECONDS` (1 s) and reloads it at least every
`WHISTLE_CALENDAR_MAX_AGE_SECONDS` (60 s) whatever the token says, so a broken cache delays an
edit and never loses it.

A year without a CalendarYear row does not stop the engine: the first time it is needed a
provisional row is created and weekdays count as working days; the system check cases.W001
and the admin then ask an administrator to enter its holidays and confirm it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from django.db import DatabaseError, transaction
from django.utils import timezone

from cases.models import CalendarDay, CalendarYear, OfficeHours
from checklists.models import TimeUnit
from core.reference import SharedVersion, Stamp
from core.replica import primary_reads

logger = logging.getLogger(__name__)

DEFAULT_OFFICE_HOURS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(12, 0)),
    (time(13, 30), time(17, 30)),
)
VERSION_CACHE_KEY = "whistle:calendar:version"
# A walk that finds no working time within this many days means the calendar has none
# (every day a holiday): fail loudly rather than loop for ever.
MAX_WALK_DAYS = 366 * 50

_US = 1_000_000
_DAY_US = 86_400 * _US
_NATURAL_SECONDS = {
    TimeUnit.NATURAL_MINUTES: 60,
    TimeUnit.NATURAL_HOURS: 3600,
    TimeUnit.NATURAL_DAYS: 86_400,
}
_VERSION = SharedVersion(
    VERSION_CACHE_KEY,
    check_setting="WHISTLE_CALENDAR_CHECK_SECONDS",
    max_age_setting="WHISTLE_CALENDAR_MAX_AGE_SECONDS",
    max_age_default=60.0,
    what="calendar",
)


@dataclass
class _Snapshot:
    """One process's copy of the calendar."""

    periods: tuple[tuple[int, int], ...]  # office periods in microseconds after midnight
    day_total: int  # office microseconds of one working day
    stamp: Stamp
    known_years: set[int]
    days: dict[int, dict[date, bool]] = field(default_factory=dict)  # year -> {day: working}
    # A policy-lab scenario's own exception days (day -> working), over the rows' (counted_as)
    overrides: dict[date, bool] = field(default_factory=dict)


_lock = threading.RLock()
_snapshot: _Snapshot | None = None
# The exception days a policy-lab replay counts with, in this thread only (counted_as).
_scenario = threading.local()


# --- cache and loading -------------------------------------------------------------------


def invalidate_calendar() -> None:
    """Drop this process's copy and tell the other processes to drop theirs, now and, inside a
    transaction, again after its commit: a process that reloaded in between read the rows as
    they were before the commit, under the token published first.

    Call after every change of CalendarYear, CalendarDay or OfficeHours."""
    _publish()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_publish, robust=True)


def _publish() -> None:
    global _snapshot
    with _lock:
        _snapshot = None
    _VERSION.publish()


def _to_us(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * _US + value.microsecond


def _from_us(value: int) -> time:
    seconds, micro = divmod(value, _US)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return time(hour, minute, second, micro)


def _merge(periods: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, non-overlapping periods: overlapping or touching rows entered in the admin
    must not count the same minute twice."""
    merged: list[list[int]] = []
    for start, end in sorted(periods):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def _load(stamp: Stamp) -> _Snapshot:
    rows = list(OfficeHours.objects.values_list("start", "end"))
    periods = _merge([(_to_us(start), _to_us(end)) for start, end in rows])
    if not periods:
        # An empty table must not stop the engine; the system check cases.W002 warns.
        periods = _merge([(_to_us(start), _to_us(end)) for start, end in DEFAULT_OFFICE_HOURS])
    return _Snapshot(
        periods=periods,
        day_total=sum(end - start for start, end in periods),
        stamp=stamp,
        known_years=set(CalendarYear.objects.values_list("year", flat=True)),
    )


def _current() -> _Snapshot:
    global _snapshot
    with _lock:
        snap = _snapshot
        if snap is None or not _VERSION.still_current(snap.stamp):
            with primary_reads():  # kept by the process: never a replica's older rows
                snap = _snapshot = _load(_VERSION.new_stamp())
    overrides = getattr(_scenario, "overrides", None)
    if not overrides:
        return snap
    derived = getattr(_scenario, "snapshot", None)
    if derived is None or derived.stamp is not snap.stamp:
        # The same office periods and exception rows (shared), the scenario's days over them.
        derived = _scenario.snapshot = replace(snap, overrides=overrides)
    return derived


@contextmanager
def counted_as(*, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> Iterator[None]:
    """Count working time, in this thread, as if these days were holidays and these were
    make-up working days on top of the calendar in force: a policy-lab scenario's calendar
    (a replay changes nothing the engine uses)."""
    overrides = dict.fromkeys(holidays, False) | dict.fromkeys(workdays, True)
    previous = getattr(_scenario, "overrides", None), getattr(_scenario, "snapshot", None)
    _scenario.overrides, _scenario.snapshot = overrides, None
    try:
        yield
    finally:
        _scenario.overrides, _scenario.snapshot = previous


def _ensure_year(year: int) -> None:
    """Create the provisional row of a year the engine needs and nobody has entered."""
    try:
        with transaction.atomic():
            _, created = CalendarYear.objects.get_or_create(
                year=year,
                defaults={"source": CalendarYear.Source.PROVISIONAL, "confirmed": False},
            )
    except DatabaseError:
        logger.warning("Could not create the provisional calendar year %s", year, exc_info=True)
        return
    if created:
        logger.warning(
            "The working calendar for %s is provisional: weekdays count as working days", year
        )


def _year_days(snap: _Snapshot, year: int) -> dict[date, bool]:
    days = snap.days.get(year)
    if days is None:
        with _lock:
            days = snap.days.get(year)
            if days is None:
                if year not in snap.known_years:
                    _ensure_year(year)
                    snap.known_years.add(year)
                days = {
                    day: kind == CalendarDay.Kind.MAKEUP_WORKDAY
                    for day, kind in CalendarDay.objects.filter(
                        date__range=(date(year, 1, 1), date(year, 12, 31))
                    ).values_list("date", "kind")
                }
                snap.days[year] = days
    return days


def _working_day(snap: _Snapshot, day: date) -> bool:
    if snap.overrides:
        exception = snap.overrides.get(day)
        if exception is not None:
            return exception
    exception = _year_days(snap, day.year).get(day)
    if exception is not None:
        return exception
    return day.weekday() < 5


# --- helpers on local wall time ------------------------------------------------------------


def _local(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        raise ValueError("The calendar needs aware datetimes.")
    return timezone.localtime(moment, timezone.get_default_timezone())


def _offset(moment: datetime) -> int:
    """Microseconds after local midnight."""
    return _to_us(moment.time())


def _at(day: date, offset: int) -> datetime:
    return datetime.combine(day, _from_us(offset), tzinfo=timezone.get_default_timezone())


# --- public API -----------------------------------------------------------------------------


def is_working_day(day: date) -> bool:
    return _working_day(_current(), day)


def is_working_time(moment: datetime) -> bool:
    """True inside an office period of a working day (periods are half-open: 12:00 is not)."""
    local = _local(moment)
    snap = _current()
    if not _working_day(snap, local.date()):
        return False
    offset = _offset(local)
    return any(start <= offset < end for start, end in snap.periods)


def working_seconds_per_day() -> int:
    """Office time of one working day (27,000 s with 08:30-12:00 and 13:30-17:30)."""
    return _current().day_total // _US


def next_working_time(*, moment: datetime) -> datetime:
    """`moment` itself when it is working time, else the start of the next office period."""
    local = _local(moment)
    snap = _current()
    day, offset = local.date(), _offset(local)
    for _ in range(MAX_WALK_DAYS):
        if _working_day(snap, day):
            for start, end in snap.periods:
                if offset < end:
                    return local if offset >= start else _at(day, start)
        day += timedelta(days=1)
        offset = 0
    raise ValueError(f"The calendar has no working time in the next {MAX_WALK_DAYS} days.")


def duration_seconds(*, amount: int, unit: str) -> int:
    """The length of a limit: natural seconds for natural units, working seconds otherwise
    (a working day is one day's office time, not 24 hours)."""
    if amount < 0:
        raise ValueError("A time limit cannot be negative.")
    if unit in _NATURAL_SECONDS:
        return amount * _NATURAL_SECONDS[unit]
    if unit == TimeUnit.WORKING_HOURS:
        return amount * 3600
    if unit == TimeUnit.WORKING_DAYS:
        return amount * working_seconds_per_day()
    raise ValueError(f"Unknown time unit {unit!r}.")


def is_working_unit(unit: str) -> bool:
    return unit in (TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS)


def add_duration(*, start: datetime, amount: int, unit: str) -> datetime:
    """When a limit of `amount` `unit`s that starts at `start` runs out.

    Working units count office time only and start counting at the next office period when
    `start` is outside it; "1 working day" is one day's office time, so Monday 10:00 plus one
    working day is Tuesday 10:00. An amount of 0 returns `start` unchanged, even outside
    office time."""
    seconds = duration_seconds(amount=amount, unit=unit)
    return add_seconds(start=start, seconds=seconds, working=is_working_unit(unit))


def add_seconds(*, start: datetime, seconds: int, working: bool) -> datetime:
    """`start` plus `seconds` of natural or working time.

    Working time walks day by day over the office periods. A result that uses up a period
    exactly is that period's end (17:30, not the next morning). 0 seconds return `start`
    unchanged, even outside office time."""
    if seconds < 0:
        raise ValueError("Cannot add negative time.")
    local = _local(start)
    if not working:
        return _local(start.astimezone(UTC) + timedelta(seconds=seconds))
    if seconds == 0:
        return local
    snap = _current()
    remaining = seconds * _US
    day, offset = local.date(), _offset(local)
    for _ in range(MAX_WALK_DAYS + 2 * (remaining // snap.day_total)):
        if _working_day(snap, day):
            if offset == 0 and remaining > snap.day_total:
                remaining -= snap.day_total
            else:
                for period_start, period_end in snap.periods:
                    if offset >= period_end:
                        continue
                    begin = max(offset, period_start)
                    available = period_end - begin
                    if remaining <= available:
                        return _at(day, begin + remaining)
                    remaining -= available
        day += timedelta(days=1)
        offset = 0
    raise ValueError(f"The calendar has no working time to add {seconds} seconds to.")


def seconds_between(*, start: datetime, end: datetime, working: bool) -> int:
    """Whole natural seconds, or office seconds of working days, from `start` to `end`;
    0 when `end` is not after `start`."""
    if end <= start:
        return 0
    if not working:
        return (end.astimezone(UTC) - start.astimezone(UTC)) // timedelta(seconds=1)
    snap = _current()
    first, last = _local(start), _local(end)
    first_day, last_day = first.date(), last.date()
    total = 0
    day = first_day
    while day <= last_day:
        if _working_day(snap, day):
            low = _offset(first) if day == first_day else 0
            high = _offset(last) if day == last_day else _DAY_US
            if low == 0 and high == _DAY_US:
                total += snap.day_total
            else:
                for period_start, period_end in snap.periods:
                    begin, finish = max(period_start, low), min(period_end, high)
                    if finish > begin:
                        total += finish - begin
        day += timedelta(days=1)
    return total // _US


# --- selectors for the admin and the system check -------------------------------------------


def provisional_years(*, today: date | None = None) -> list[int]:
    """Years an administrator should enter and confirm: the current and the next year when
    they are not confirmed (with or without a row), and any later unconfirmed year that the
    engine has already had to create."""
    current = (today or timezone.localdate()).year
    confirmed = set(
        CalendarYear.objects.filter(confirmed=True, year__gte=current).values_list(
            "year", flat=True
        )
    )
    pending = set(
        CalendarYear.objects.filter(confirmed=False, year__gte=current).values_list(
            "year", flat=True
        )
    )
    pending |= {year for year in (current, current + 1) if year not in confirmed}
    return sorted(pending)


def office_hours_missing() -> bool:
    return not OfficeHours.objects.exists()
