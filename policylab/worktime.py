"""Working-time arithmetic for a replay, in constant time per call: the same results as
cases.calendar's add_duration, add_seconds and seconds_between, which walk the calendar day by
day (a replay of a county's year calls them millions of times).

A moment's *position* is the office time (microseconds) of all working days before its day,
plus the office time of its own day before it (nothing on a day off). Then

    seconds_between(start, end, working)  = (position(end) - position(start)) // 1 s
    add_seconds(start, seconds, working)  = the first moment at position(start) + seconds

with the same conventions as cases.calendar (a result that uses up an office period exactly is
that period's end; 0 seconds return the start). The days come from cases.calendar itself
(is_working_day, under the scenario's counted_as), so the calendar in force, its exception
days and the scenario's own days count exactly as there.
"""

from bisect import bisect_left
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from cases import calendar

_US = 1_000_000
# Days indexed around the replayed moments; extended when a moment falls outside.
_MARGIN_DAYS = 400


class WorkTime:
    """One calendar (the one in force, or with a scenario's days) for one replay."""

    def __init__(self, *, holidays=(), workdays=()) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        snapshot = calendar._current()  # the office periods the engine counts
        # The zone the office hours are in (timezone.localtime's checks cost more than the
        # arithmetic, a million times per replay).
        self.zone = timezone.get_default_timezone()
        self.periods = snapshot.periods
        self.day_total = snapshot.day_total
        self.first: date | None = None
        self.cumulative: list[int] = []  # office µs before each day
        self.working: list[bool] = []
        self.working_days: list[int] = []  # indexes of working days, ascending
        self.working_cumulative: list[int] = []  # their cumulative office µs

    # --- the day table ----------------------------------------------------------------------

    def _build(self, low: date, high: date) -> None:
        days = (high - low).days + 1
        with calendar.counted_as(holidays=self.holidays, workdays=self.workdays):
            flags = [calendar.is_working_day(low + timedelta(days=n)) for n in range(days)]
        self.first, self.working, self.cumulative = low, flags, []
        self.working_days, self.working_cumulative = [], []
        total = 0
        for index, working in enumerate(flags):
            self.cumulative.append(total)
            if working:
                self.working_days.append(index)
                self.working_cumulative.append(total)
                total += self.day_total

    def _index(self, day: date) -> int:
        if self.first is None or not (0 <= (day - self.first).days < len(self.working) - 40):
            low = day - timedelta(days=_MARGIN_DAYS)
            high = day + timedelta(days=_MARGIN_DAYS)
            if self.first is not None:
                low = min(low, self.first)
                high = max(high, self.first + timedelta(days=len(self.working) - 1))
            self._build(low, high)
        return (day - self.first).days

    # --- positions --------------------------------------------------------------------------

    def position(self, moment: datetime) -> int:
        if moment.tzinfo is None:
            raise ValueError("localtime() cannot be applied to a naive datetime")
        local = moment.astimezone(self.zone)
        index = self._index(local.date())
        position = self.cumulative[index]
        if self.working[index]:
            offset = (
                (local.hour * 60 + local.minute) * 60 + local.second
            ) * _US + local.microsecond
            for start, end in self.periods:
                if offset > start:
                    position += min(offset, end) - start
        return position

    def at(self, position: int) -> datetime:
        """The first moment at `position` (> the start of a working day): a period's end when
        it uses that period up exactly."""
        # The working day whose office time holds the position: cumulative < position.
        k = bisect_left(self.working_cumulative, position) - 1
        while k + 1 >= len(self.working_days) or k < 0:
            # Beyond the table: extend it and look again.
            last = self.first + timedelta(days=len(self.working) - 1)
            self._index(last + timedelta(days=_MARGIN_DAYS // 2))
            k = bisect_left(self.working_cumulative, position) - 1
        day = self.first + timedelta(days=self.working_days[k])
        remaining = position - self.working_cumulative[k]
        for start, end in self.periods:
            if remaining <= end - start:
                offset = start + remaining
                break
            remaining -= end - start
        return datetime.combine(day, time(0), tzinfo=self.zone) + timedelta(microseconds=offset)

    # --- cases.calendar's functions ---------------------------------------------------------

    def add_seconds(self, *, start: datetime, seconds: int, working: bool) -> datetime:
        if not working:
            return (start.astimezone(UTC) + timedelta(seconds=seconds)).astimezone(self.zone)
        if seconds == 0:
            return start.astimezone(self.zone)
        return self.at(self.position(start) + seconds * _US)

    def add_duration(self, *, start: datetime, amount: int, unit: str) -> datetime:
        if calendar.is_working_unit(unit):
            seconds = amount * (3600 if unit == "working_hours" else self.day_total // _US)
            return self.add_seconds(start=start, seconds=seconds, working=True)
        return calendar.add_duration(start=start, amount=amount, unit=unit)

    def seconds_between(self, *, start: datetime, end: datetime, working: bool) -> int:
        if end <= start:
            return 0
        if not working:
            return calendar.seconds_between(start=start, end=end, working=False)
        while True:  # positions count from the table's first day: both from the same table
            first = self.first
            low, high = self.position(start), self.position(end)
            if self.first == first:
                return (high - low) // _US
