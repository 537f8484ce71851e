"""Changes administrators make to the working calendar. Every change invalidates the cached
calendar of all processes (cases.calendar.invalidate_calendar)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.calendar import invalidate_calendar
from cases.models import CalendarDay, CalendarYear, OfficeHours


def mark_year_edited(*, year: int) -> None:
    """An administrator edited the year's days: the year is theirs now (source manual), so a
    later `seed_calendar` does not overwrite it once it is confirmed."""
    row, created = CalendarYear.objects.get_or_create(
        year=year, defaults={"source": CalendarYear.Source.MANUAL}
    )
    if not created and row.source != CalendarYear.Source.MANUAL:
        row.source = CalendarYear.Source.MANUAL
        row.save(update_fields=["source"])


@transaction.atomic
def confirm_year(*, year: int, user) -> CalendarYear:
    """Record that an administrator checked the year's holidays and make-up working days."""
    row, _created = CalendarYear.objects.select_for_update().get_or_create(
        year=year, defaults={"source": CalendarYear.Source.MANUAL}
    )
    if row.source == CalendarYear.Source.PROVISIONAL:
        row.source = CalendarYear.Source.MANUAL
    row.confirmed = True
    row.confirmed_by = user
    row.confirmed_at = timezone.now()
    row.save()
    # Now for this process; again at commit, for a process that reloaded in between.
    invalidate_calendar()
    return row


@transaction.atomic
def unconfirm_year(*, year: int) -> CalendarYear:
    """Mark a year as needing review again (weekdays rule plus whatever days it has)."""
    row = CalendarYear.objects.select_for_update().get(year=year)
    row.confirmed, row.confirmed_by, row.confirmed_at = False, None, None
    row.save()
    invalidate_calendar()
    return row


@transaction.atomic
def set_day(*, date: date, kind: str, name: str = "") -> CalendarDay:
    """Make `date` a holiday or a make-up working day (replacing what it was)."""
    if kind not in CalendarDay.Kind.values:
        raise ValidationError(_("Unknown kind of calendar day: %(kind)s") % {"kind": kind})
    day, _created = CalendarDay.objects.update_or_create(
        date=date, defaults={"kind": kind, "name": name}
    )
    mark_year_edited(year=date.year)
    invalidate_calendar()
    return day


@transaction.atomic
def remove_day(*, date: date) -> bool:
    """Let `date` follow the weekday rule again. True if there was an exception to remove."""
    deleted, _details = CalendarDay.objects.filter(date=date).delete()
    if deleted:
        mark_year_edited(year=date.year)
    invalidate_calendar()
    return bool(deleted)


@transaction.atomic
def set_office_hours(*, periods: list[tuple[time, time]]) -> list[OfficeHours]:
    """Replace the office periods of a working day, e.g. [(08:30, 12:00), (13:30, 17:30)]."""
    if not periods:
        raise ValidationError(_("A working day needs at least one office period."))
    ordered = sorted(periods)
    for (start, end), following in zip(ordered, [*ordered[1:], None], strict=True):
        if end <= start:
            raise ValidationError(_("An office period must end after it starts."))
        if following is not None and following[0] < end:
            raise ValidationError(_("Office periods must not overlap."))
    OfficeHours.objects.all().delete()
    rows = OfficeHours.objects.bulk_create(
        [OfficeHours(start=start, end=end) for start, end in ordered]
    )
    invalidate_calendar()
    return rows


# --- seeding from the chinesecalendar library ------------------------------------------------


def library_days() -> dict[int, dict[date, tuple[str, str]]]:
    """What the chinesecalendar library knows, as exception days per year:
    {year: {day: (kind, name)}}. A holiday counts only on a weekday (weekends are off anyway),
    a library workday only on a weekend (weekdays work anyway)."""
    from chinese_calendar import holidays, workdays

    years: dict[int, dict[date, tuple[str, str]]] = {
        year: {} for year in {day.year for day in holidays} | {day.year for day in workdays}
    }
    for day, name in holidays.items():
        if day.weekday() < 5:
            years[day.year][day] = (CalendarDay.Kind.HOLIDAY, str(name or ""))
    for day, name in workdays.items():
        if day.weekday() >= 5:
            years[day.year][day] = (CalendarDay.Kind.MAKEUP_WORKDAY, str(name or ""))
    return years


@dataclass
class SeedReport:
    seeded: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    skipped_manual: list[int] = field(default_factory=list)


@transaction.atomic
def seed_calendar(*, now: datetime | None = None) -> SeedReport:
    """Bring the calendar up to what the library knows; safe to run again.

    Years without a row or still unconfirmed get the library's days and become confirmed
    library years; library years are synchronised with the library (a later release may
    correct a year); years an administrator entered and confirmed are left alone. Creates
    the default office hours when there are none."""
    report = SeedReport()
    if not OfficeHours.objects.exists():
        OfficeHours.objects.bulk_create(
            [
                OfficeHours(start=time(8, 30), end=time(12, 0)),
                OfficeHours(start=time(13, 30), end=time(17, 30)),
            ]
        )
    rows = {row.year: row for row in CalendarYear.objects.select_for_update()}
    for year, days in sorted(library_days().items()):
        row = rows.get(year)
        if row is not None and row.confirmed and row.source != CalendarYear.Source.LIBRARY:
            report.skipped_manual.append(year)
            continue
        existing = {
            day.date: day
            for day in CalendarDay.objects.filter(
                date__range=(date(year, 1, 1), date(year, 12, 31))
            )
        }
        changed = False
        if row is not None and row.source == CalendarYear.Source.LIBRARY:
            stale = [day.pk for when, day in existing.items() if when not in days]
            if stale:
                CalendarDay.objects.filter(pk__in=stale).delete()
                changed = True
        for when, (kind, name) in days.items():
            current = existing.get(when)
            if current is None:
                CalendarDay.objects.create(date=when, kind=kind, name=name)
                changed = True
            elif (current.kind, current.name) != (kind, name):
                current.kind, current.name = kind, name
                current.save(update_fields=["kind", "name"])
                changed = True
        if row is None:
            CalendarYear.objects.create(
                year=year,
                source=CalendarYear.Source.LIBRARY,
                confirmed=True,
                confirmed_at=now or timezone.now(),
            )
            changed = True
        elif not row.confirmed or row.source != CalendarYear.Source.LIBRARY:
            row.source = CalendarYear.Source.LIBRARY
            row.confirmed = True
            row.confirmed_by = None
            row.confirmed_at = now or timezone.now()
            row.save()
            changed = True
        (report.seeded if changed else report.unchanged).append(year)
    invalidate_calendar()
    return report
