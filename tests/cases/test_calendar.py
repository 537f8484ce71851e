"""The working-time calendar: hand-checked deadlines around nights, lunch, weekends, the 2025
National Day holiday and its make-up working days, provisional years, the cache and the admin."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import translation

from cases import calendar
from cases.calendar_services import (
    confirm_year,
    remove_day,
    seed_calendar,
    set_day,
    set_office_hours,
)
from cases.checks import check_calendar
from cases.models import CalendarDay, CalendarYear, OfficeHours
from checklists.models import TimeUnit

TZ = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _fresh_calendar():
    """The in-process copy outlives the test transaction: drop it before and after."""
    calendar.invalidate_calendar()
    yield
    calendar.invalidate_calendar()


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser(
        username="calendar-admin", email="admin@example.test", password="pw-calendar-admin"
    )


def w001_years() -> list[str]:
    with translation.override("en"):
        return [m.msg for m in check_calendar() if m.id == "cases.W001"]


# --- the seed ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_migration_seeds_default_office_hours_and_library_years():
    assert list(OfficeHours.objects.values_list("start", "end")) == [
        (time(8, 30), time(12, 0)),
        (time(13, 30), time(17, 30)),
    ]
    assert calendar.working_seconds_per_day() == 27_000
    last_year = max(chinese_calendar.holidays).year
    seeded = CalendarYear.objects.filter(source=CalendarYear.Source.LIBRARY, confirmed=True)
    assert set(seeded.values_list("year", flat=True)) == set(range(2004, last_year + 1))
    national_day = CalendarDay.objects.get(date=date(2025, 10, 1))
    assert (national_day.kind, national_day.name) == (CalendarDay.Kind.HOLIDAY, "National Day")
    # A holiday on a weekend is not stored (the weekend is off anyway) ...
    assert not CalendarDay.objects.filter(date=date(2025, 10, 4)).exists()
    # ... and the make-up working days of 2025's National Day are.
    assert set(
        CalendarDay.objects.filter(
            kind=CalendarDay.Kind.MAKEUP_WORKDAY, date__range=(date(2025, 9, 1), date(2025, 10, 31))
        ).values_list("date", flat=True)
    ) == {date(2025, 9, 28), date(2025, 10, 11)}


@pytest.mark.django_db
def test_working_days_agree_with_the_library_every_day_2024_to_2026():
    day = date(2024, 1, 1)
    disagreements = []
    while day <= date(2026, 12, 31):
        if calendar.is_working_day(day) != chinese_calendar.is_workday(day):
            disagreements.append(day)
        day += timedelta(days=1)
    assert disagreements == []


@pytest.mark.django_db
def test_seed_calendar_command_is_idempotent_and_fills_provisional_years(capsys):
    days_before = CalendarDay.objects.count()
    call_command("seed_calendar")
    assert CalendarDay.objects.count() == days_before

    # 2026 as if the library had not known it when the engine first needed it.
    CalendarDay.objects.filter(date__year=2026).delete()
    CalendarYear.objects.filter(year=2026).update(
        source=CalendarYear.Source.PROVISIONAL, confirmed=False, confirmed_at=None
    )
    calendar.invalidate_calendar()
    assert calendar.is_working_day(date(2026, 10, 1))  # weekdays only

    call_command("seed_calendar")
    assert "2026" in capsys.readouterr().out
    row = CalendarYear.objects.get(year=2026)
    assert (row.source, row.confirmed) == (CalendarYear.Source.LIBRARY, True)
    assert CalendarDay.objects.count() == days_before
    assert not calendar.is_working_day(date(2026, 10, 1))


@pytest.mark.django_db
def test_seed_leaves_a_year_an_administrator_confirmed_alone(admin_user):
    remove_day(date=date(2025, 10, 8))  # say the town works on 8 October
    confirm_year(year=2025, user=admin_user)
    report = seed_calendar()
    assert 2025 in report.skipped_manual
    assert not CalendarDay.objects.filter(date=date(2025, 10, 8)).exists()
    assert calendar.is_working_day(date(2025, 10, 8))


# --- hand-checked deadlines ------------------------------------------------------------------


@pytest.mark.django_db
def test_whistle_at_1725_on_the_eve_of_national_day_2025():
    # 5 minutes left on Tuesday 30 September; 1-8 October are off (National Day and
    # Mid-Autumn), so the remaining 1 h 55 min run on Thursday 9 October from 08:30.
    due = calendar.add_duration(start=at(2025, 9, 30, 17, 25), amount=2, unit="working_hours")
    assert due == at(2025, 10, 9, 10, 25)
    assert due.utcoffset() == timedelta(hours=8)
    assert calendar.seconds_between(start=at(2025, 9, 30, 17, 25), end=due, working=True) == 7200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # across a night
        (at(2025, 11, 18, 17, 0), 1, at(2025, 11, 19, 9, 0)),
        # across the lunch break
        (at(2025, 11, 18, 11, 30), 1, at(2025, 11, 18, 14, 0)),
        # across a weekend: Friday evening to Monday morning
        (at(2025, 11, 14, 17, 0), 1, at(2025, 11, 17, 9, 0)),
        # a make-up Saturday (11 October 2025) is a working day
        (at(2025, 10, 10, 17, 0), 1, at(2025, 10, 11, 9, 0)),
        # a make-up Sunday (28 September 2025) too
        (at(2025, 9, 27, 10, 0), 1, at(2025, 9, 28, 9, 30)),
        # starting at night counts from the next morning
        (at(2025, 11, 18, 22, 0), 2, at(2025, 11, 19, 10, 30)),
        # starting in the lunch break counts from 13:30
        (at(2025, 11, 18, 12, 10), 1, at(2025, 11, 18, 14, 30)),
        # a limit that uses up the afternoon ends at 17:30, not the next morning
        (at(2025, 11, 18, 13, 30), 4, at(2025, 11, 18, 17, 30)),
    ],
)
def test_working_hours(start, hours, due):
    assert calendar.add_duration(start=start, amount=hours, unit=TimeUnit.WORKING_HOURS) == due


@pytest.mark.django_db
def test_one_working_day_is_one_days_office_time():
    monday = at(2025, 11, 17, 10, 0)
    assert calendar.add_duration(start=monday, amount=1, unit="working_days") == at(
        2025, 11, 18, 10, 0
    )
    assert calendar.duration_seconds(amount=1, unit="working_days") == 27_000
    # Friday 10:00 + 1 working day is Monday 10:00.
    assert calendar.add_duration(
        start=at(2025, 11, 21, 10, 0), amount=1, unit="working_days"
    ) == at(2025, 11, 24, 10, 0)


@pytest.mark.django_db
def test_fifteen_working_days(django_assert_max_num_queries):
    # Three plain weeks in November and December 2025.
    assert calendar.add_duration(
        start=at(2025, 11, 17, 10, 0), amount=15, unit="working_days"
    ) == at(2025, 12, 8, 10, 0)
    # Across National Day 2025: 28 Sep (Sun) and 11 Oct (Sat) count, 1-8 Oct do not.
    due = calendar.add_duration(start=at(2025, 9, 26, 10, 0), amount=15, unit="working_days")
    assert due == at(2025, 10, 23, 10, 0)
    # Once the year is loaded, the walk needs no database query at all.
    with django_assert_max_num_queries(0):
        calendar.add_duration(start=at(2025, 3, 3, 9, 0), amount=20, unit="working_days")


@pytest.mark.django_db
def test_natural_time_ignores_the_calendar():
    eve = at(2025, 9, 30, 17, 25)
    assert calendar.add_duration(start=eve, amount=30, unit="natural_minutes") == at(
        2025, 9, 30, 17, 55
    )
    assert calendar.add_duration(start=eve, amount=2, unit="natural_hours") == at(
        2025, 9, 30, 19, 25
    )
    assert calendar.add_duration(start=eve, amount=1, unit="natural_days") == at(
        2025, 10, 1, 17, 25
    )
    assert calendar.duration_seconds(amount=10, unit="natural_minutes") == 600
    assert calendar.seconds_between(start=eve, end=at(2025, 10, 1, 17, 25), working=False) == 86_400


@pytest.mark.django_db
def test_adding_nothing_returns_the_start_even_outside_office_time():
    night = at(2025, 11, 18, 22, 0)
    assert calendar.add_duration(start=night, amount=0, unit="working_hours") == night
    assert calendar.add_seconds(start=night, seconds=0, working=True) == night


@pytest.mark.django_db
def test_seconds_between_over_the_national_day_holiday():
    start, end = at(2025, 9, 30, 17, 0), at(2025, 10, 9, 9, 0)
    assert calendar.seconds_between(start=start, end=end, working=True) == 3600
    assert calendar.seconds_between(start=start, end=end, working=False) == 8 * 86_400 + 16 * 3600
    assert calendar.seconds_between(start=end, end=start, working=True) == 0
    # A whole holiday week counts nothing; the lunch break neither.
    assert (
        calendar.seconds_between(
            start=at(2025, 10, 1, 0, 0), end=at(2025, 10, 8, 23, 59), working=True
        )
        == 0
    )
    assert (
        calendar.seconds_between(
            start=at(2025, 11, 18, 11, 0), end=at(2025, 11, 18, 14, 0), working=True
        )
        == 5400
    )


@pytest.mark.django_db
def test_working_time_and_days():
    assert calendar.is_working_time(at(2025, 11, 18, 8, 30))
    assert not calendar.is_working_time(at(2025, 11, 18, 12, 0))
    assert not calendar.is_working_time(at(2025, 11, 18, 8, 29, 59))
    assert not calendar.is_working_time(at(2025, 10, 2, 10, 0))  # National Day
    assert calendar.is_working_time(at(2025, 10, 11, 10, 0))  # make-up Saturday
    assert not calendar.is_working_day(date(2025, 11, 22))  # a plain Saturday
    assert calendar.next_working_time(moment=at(2025, 9, 30, 17, 30)) == at(2025, 10, 9, 8, 30)
    utc = datetime(2025, 11, 18, 2, 0, tzinfo=ZoneInfo("UTC"))  # 10:00 in Shanghai
    assert calendar.is_working_time(utc)
    assert calendar.add_seconds(start=utc, seconds=3600, working=True) == at(2025, 11, 18, 11, 0)


@pytest.mark.django_db
def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        calendar.add_duration(start=at(2025, 11, 18, 10, 0), amount=1, unit="fortnights")
    with pytest.raises(ValueError):
        calendar.add_seconds(start=at(2025, 11, 18, 10, 0), seconds=-1, working=True)
    with pytest.raises(ValueError):
        calendar.add_seconds(start=datetime(2025, 11, 18, 10, 0), seconds=1, working=True)


# --- provisional years --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_year_nobody_entered_is_provisional_weekdays_only(admin_user):
    assert not CalendarYear.objects.filter(year=2028).exists()
    assert not any("2028" in message for message in w001_years())

    # 1 January 2028 is a Saturday, 3 January a Monday (no holiday known).
    assert calendar.add_duration(
        start=at(2027, 12, 31, 17, 0), amount=1, unit="working_hours"
    ) == at(2028, 1, 3, 9, 0)
    row = CalendarYear.objects.get(year=2028)
    assert (row.source, row.confirmed) == (CalendarYear.Source.PROVISIONAL, False)
    assert any("2028" in message and "provisional" in message for message in w001_years())

    confirmed = confirm_year(year=2028, user=admin_user)
    assert (confirmed.confirmed, confirmed.confirmed_by, confirmed.source) == (
        True,
        admin_user,
        CalendarYear.Source.MANUAL,
    )
    assert confirmed.confirmed_at is not None
    assert not any("2028" in message for message in w001_years())


@pytest.mark.django_db
def test_the_check_warns_for_next_year_without_a_row(time_machine):
    time_machine.move_to(at(2026, 11, 22, 10, 0))
    CalendarYear.objects.filter(year=2027).delete()
    messages = w001_years()
    assert any("2027" in message for message in messages)
    assert not any("2026" in message for message in messages)  # seeded from the library


@pytest.mark.django_db
def test_the_check_warns_when_office_hours_are_missing_and_the_engine_uses_defaults():
    OfficeHours.objects.all().delete()
    calendar.invalidate_calendar()
    assert "cases.W002" in [message.id for message in check_calendar()]
    assert calendar.add_duration(
        start=at(2025, 11, 18, 11, 30), amount=1, unit="working_hours"
    ) == at(2025, 11, 18, 14, 0)


@pytest.mark.django_db
def test_the_check_is_silent_on_a_database_that_is_not_migrated():
    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE cases_calendaryear RENAME TO cases_calendaryear_away")
        result = check_calendar()
        raise Rollback
    assert result == []
    assert CalendarYear.objects.filter(year=2025).exists()  # the rename was rolled back


# --- edits take effect ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_holiday_added_by_the_service_takes_effect_at_once():
    tuesday_evening = at(2025, 11, 18, 17, 0)
    assert calendar.add_seconds(start=tuesday_evening, seconds=3600, working=True) == at(
        2025, 11, 19, 9, 0
    )
    set_day(date=date(2025, 11, 19), kind=CalendarDay.Kind.HOLIDAY, name="Town fair")
    assert calendar.add_seconds(start=tuesday_evening, seconds=3600, working=True) == at(
        2025, 11, 20, 9, 0
    )
    set_day(date=date(2025, 11, 22), kind=CalendarDay.Kind.MAKEUP_WORKDAY, name="Make-up")
    assert calendar.is_working_day(date(2025, 11, 22))
    assert remove_day(date=date(2025, 11, 19))
    assert calendar.is_working_day(date(2025, 11, 19))


@pytest.mark.django_db
def test_new_office_hours_take_effect_at_once():
    set_office_hours(periods=[(time(9, 0), time(12, 0)), (time(14, 0), time(18, 0))])
    assert calendar.working_seconds_per_day() == 7 * 3600
    assert calendar.add_duration(
        start=at(2025, 11, 18, 11, 30), amount=1, unit="working_hours"
    ) == at(2025, 11, 18, 14, 30)


@pytest.mark.django_db
def test_another_process_edit_is_seen_through_the_shared_version(settings):
    settings.WHISTLE_CALENDAR_CHECK_SECONDS = 3600
    settings.WHISTLE_CALENDAR_MAX_AGE_SECONDS = 3600
    assert calendar.is_working_day(date(2025, 11, 19))
    # Another process saves a holiday: the row arrives in the database ...
    CalendarDay.objects.create(date=date(2025, 11, 19), kind=CalendarDay.Kind.HOLIDAY)
    assert calendar.is_working_day(date(2025, 11, 19))  # ... this process's copy is cached
    # ... and that process publishes a new version in the shared cache.
    cache.set(calendar.VERSION_CACHE_KEY, "published-by-another-process", timeout=None)
    settings.WHISTLE_CALENDAR_CHECK_SECONDS = 0
    assert not calendar.is_working_day(date(2025, 11, 19))


@pytest.mark.django_db
def test_the_copy_is_reloaded_when_old_whatever_the_cache_says(settings):
    settings.WHISTLE_CALENDAR_CHECK_SECONDS = 3600
    assert calendar.is_working_day(date(2025, 11, 19))
    CalendarDay.objects.create(date=date(2025, 11, 19), kind=CalendarDay.Kind.HOLIDAY)
    settings.WHISTLE_CALENDAR_MAX_AGE_SECONDS = 0
    assert not calendar.is_working_day(date(2025, 11, 19))


# --- the admin -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_edit_of_a_day_takes_effect(client, admin_user):
    client.force_login(admin_user)
    assert calendar.is_working_day(date(2025, 11, 19))
    response = client.post(
        "/admin/cases/calendarday/add/",
        {"date": "2025-11-19", "kind": "holiday", "name": "Town fair"},
    )
    assert response.status_code == 302
    assert not calendar.is_working_day(date(2025, 11, 19))
    # The year is the administrator's now: seeding from the library leaves it alone.
    assert CalendarYear.objects.get(year=2025).source == CalendarYear.Source.MANUAL

    day = CalendarDay.objects.get(date=date(2025, 11, 19))
    response = client.post(f"/admin/cases/calendarday/{day.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert calendar.is_working_day(date(2025, 11, 19))


@pytest.mark.django_db
def test_admin_highlights_provisional_years_and_confirms_them(client, admin_user):
    client.force_login(admin_user)
    calendar.is_working_day(date(2028, 3, 1))  # the engine creates 2028 provisional
    row = CalendarYear.objects.get(year=2028)

    response = client.get("/admin/cases/calendaryear/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    warnings = [str(m) for m in response.context["messages"]]
    assert any("2028" in message and "provisional" in message for message in warnings)
    assert b"<strong style=" in response.content  # the highlighted status

    response = client.get("/admin/cases/calendarday/", HTTP_ACCEPT_LANGUAGE="en")
    assert any("2028" in str(m) for m in response.context["messages"])

    response = client.post(
        "/admin/cases/calendaryear/",
        {"action": "confirm_selected_years", "_selected_action": [row.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.confirmed, row.confirmed_by) == (True, admin_user)
    response = client.get("/admin/cases/calendaryear/", HTTP_ACCEPT_LANGUAGE="en")
    assert not any("2028" in str(m) for m in response.context["messages"])


@pytest.mark.django_db
def test_a_change_in_a_transaction_moves_the_token_again_after_the_commit(
    django_capture_on_commit_callbacks,
):
    """Another process that reloads between the change and the commit reads the old rows under
    the first token; the second token, after the commit, makes it read again."""
    from django.core.cache import cache

    from cases.calendar import VERSION_CACHE_KEY, invalidate_calendar

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invalidate_calendar()
        first = cache.get(VERSION_CACHE_KEY)
        assert first is not None
    assert len(callbacks) == 1
    assert cache.get(VERSION_CACHE_KEY) not in (None, first)
