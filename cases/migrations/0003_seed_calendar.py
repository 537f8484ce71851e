"""Seed the working calendar: the default office hours and every year the chinesecalendar
library knows (holidays on weekdays, make-up working days on weekends), confirmed.

Self-contained on purpose (historical models, no project imports), so later changes of the
services cannot change what this migration did. `manage.py seed_calendar` adds the years of
later library releases."""

import datetime

from django.db import migrations


def seed(apps, schema_editor):
    from chinese_calendar import holidays, workdays

    OfficeHours = apps.get_model("cases", "OfficeHours")
    CalendarDay = apps.get_model("cases", "CalendarDay")
    CalendarYear = apps.get_model("cases", "CalendarYear")

    if not OfficeHours.objects.exists():
        OfficeHours.objects.bulk_create(
            [
                OfficeHours(start=datetime.time(8, 30), end=datetime.time(12, 0)),
                OfficeHours(start=datetime.time(13, 30), end=datetime.time(17, 30)),
            ]
        )

    days = {}
    for day, name in holidays.items():
        if day.weekday() < 5:
            days[day] = ("holiday", str(name or ""))
    for day, name in workdays.items():
        if day.weekday() >= 5:
            days[day] = ("makeup_workday", str(name or ""))
    years = {day.year for day in holidays} | {day.year for day in workdays}
    taken = set(CalendarYear.objects.values_list("year", flat=True))
    existing = set(CalendarDay.objects.values_list("date", flat=True))
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(date=day, kind=kind, name=name)
            for day, (kind, name) in sorted(days.items())
            if day not in existing and day.year not in taken
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    CalendarYear.objects.bulk_create(
        [
            CalendarYear(year=year, source="library", confirmed=True, confirmed_at=now)
            for year in sorted(years - taken)
        ]
    )


def unseed(apps, schema_editor):
    CalendarDay = apps.get_model("cases", "CalendarDay")
    CalendarYear = apps.get_model("cases", "CalendarYear")
    library_years = list(
        CalendarYear.objects.filter(source="library").values_list("year", flat=True)
    )
    for year in library_years:
        CalendarDay.objects.filter(
            date__range=(datetime.date(year, 1, 1), datetime.date(year, 12, 31))
        ).delete()
    CalendarYear.objects.filter(source="library").delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_event_append_only_trigger")]

    operations = [migrations.RunPython(seed, unseed)]
