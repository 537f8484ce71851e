"""Time travel: a whistle left alone climbs village -> town -> city at the instants its item's
limits give in working time, moved only by the timer sweep (the Celery task, run eagerly)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from cases import calendar
from cases.models import Case, Deadline, Event, Level, Status
from cases.services import file_whistle
from cases.tasks import sweep_deadlines
from checklists.models import Item, Stage, TimeLimit
from rollout.demo import build_demo_city
from teams.models import Grid, User

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
FILED_AT = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)  # a Tuesday, an ordinary working day
JUST_BEFORE = timedelta(seconds=1)


def sweep_at(time_machine, moment: datetime) -> int:
    time_machine.move_to(moment, tick=False)
    return sweep_deadlines.apply().get()


def due(case: Case, stage: str, start: datetime) -> datetime:
    limit = TimeLimit.objects.get(item=case.item, stage=stage)
    return calendar.add_duration(start=start, amount=limit.amount, unit=limit.unit)


def state(case: Case) -> tuple[str, str]:
    case.refresh_from_db()
    return case.status, case.level


def timer_events(case: Case) -> list[tuple[str, str, str, str]]:
    """(action, stage whose limit passed, status after, level after) of the timer's events."""
    return [
        (e.action, e.data.get("stage", ""), e.to_status, e.to_level)
        for e in Event.objects.filter(case=case, actor_label="timer").order_by("created_at", "id")
    ]


def test_a_whistle_left_alone_climbs_from_village_to_town_to_city(org, time_machine):
    time_machine.move_to(FILED_AT, tick=False)
    case = file_whistle(
        user=org.grid_worker, item=org.item, grid=org.grid, description="Rubbish piled up"
    ).case

    # Screening: 30 natural minutes. The village never accepts it: when the limit passes the
    # timer whistles it to the town, with the item's default handlers.
    screening_due = due(case, Stage.SCREENING, FILED_AT)
    assert screening_due == datetime(2026, 3, 10, 9, 30, tzinfo=SHANGHAI)
    assert sweep_at(time_machine, screening_due - JUST_BEFORE) == 0
    assert timer_events(case) == []
    assert state(case) == (Status.FILED, Level.VILLAGE)
    assert sweep_at(time_machine, screening_due) == 1
    assert state(case) == (Status.DISPATCHED, Level.TOWN)
    whistle = Event.objects.get(case=case, action="whistle")
    assert (whistle.actor, whistle.actor_label) == (None, "timer")
    dispatches = list(case.dispatches.order_by("pk"))
    assert [d.handler for d in dispatches] == [org.team, org.department]
    assert {d.dispatched_at for d in dispatches} == {screening_due}

    # Nobody reports in: the report-in timers mark both dispatches late; the case stays put.
    report_in_due = due(case, Stage.REPORT_IN, screening_due)
    assert {d.report_in_due for d in dispatches} == {report_in_due}
    handling_due = due(case, Stage.HANDLING, screening_due)
    # Four working hours from 09:30: 09:30-12:00 and 13:30-15:00 (lunch does not count).
    assert report_in_due < handling_due == datetime(2026, 3, 10, 15, 0, tzinfo=SHANGHAI)
    assert sweep_at(time_machine, report_in_due) == 2
    assert [d.late for d in case.dispatches.order_by("pk")] == [True, True]

    # Handling time is up: the town committee is asked to decide.
    assert sweep_at(time_machine, handling_due - JUST_BEFORE) == 0
    assert state(case) == (Status.DISPATCHED, Level.TOWN)
    assert sweep_at(time_machine, handling_due) == 1
    assert state(case) == (Status.IN_CONSULTATION, Level.TOWN)

    # The town does not decide within 3 working days: the city takes it.
    town_due = due(case, Stage.TOWN_CONSULTATION, handling_due)
    assert town_due == datetime(2026, 3, 13, 15, 0, tzinfo=SHANGHAI)  # Friday
    assert sweep_at(time_machine, town_due - JUST_BEFORE) == 0
    assert state(case) == (Status.IN_CONSULTATION, Level.TOWN)
    assert sweep_at(time_machine, town_due) == 1
    assert state(case) == (Status.IN_CONSULTATION, Level.CITY)

    assert timer_events(case) == [
        ("whistle", Stage.SCREENING, Status.DISPATCHED, Level.TOWN),
        ("report_in_late", Stage.REPORT_IN, Status.DISPATCHED, Level.TOWN),
        ("report_in_late", Stage.REPORT_IN, Status.DISPATCHED, Level.TOWN),
        ("request_consultation", Stage.HANDLING, Status.IN_CONSULTATION, Level.TOWN),
        ("escalate", Stage.TOWN_CONSULTATION, Status.IN_CONSULTATION, Level.CITY),
    ]
    moments = list(
        Event.objects.filter(case=case, actor_label="timer")
        .order_by("created_at", "id")
        .values_list("created_at", flat=True)
    )
    assert moments == [
        screening_due,
        report_in_due,
        report_in_due,
        handling_due,
        town_due,
    ]
    # Every clock fired once; the city consultation clock now runs from the escalation.
    city = Deadline.objects.get(case=case, stage=Stage.CITY_CONSULTATION)
    assert city.fired_at is None
    assert city.due_at == due(case, Stage.CITY_CONSULTATION, town_due)
    assert sweep_at(time_machine, town_due + timedelta(minutes=1)) == 0
    assert len(timer_events(case)) == 5


def test_the_demo_item_climbs_to_the_city_within_minutes_of_beat_sweeps(time_machine):
    """What a `make run` user sees with DEMO-01: filed and left alone, the whistle reaches
    the town after 2 minutes (screening) and the city committee 6 minutes later, beat sweeping
    every WHISTLE_SWEEP_SECONDS."""
    time_machine.move_to(FILED_AT, tick=False)
    build_demo_city()
    case = file_whistle(
        user=User.objects.get(username="grid1"),
        item=Item.objects.get(code="DEMO-01"),
        grid=Grid.objects.get(code="HN-XS-01-01"),
        description="Watch me climb",
    ).case

    every = timedelta(seconds=settings.CELERY_BEAT_SCHEDULE["sweep-deadlines"]["schedule"])
    seen: dict[tuple[str, str], timedelta] = {}
    moment = FILED_AT
    while moment <= FILED_AT + timedelta(minutes=10):
        sweep_at(time_machine, moment)
        seen.setdefault(state(case), moment - FILED_AT)
        moment += every

    for reached, minutes in (
        ((Status.DISPATCHED, Level.TOWN), 2),  # screening: 2 minutes
        ((Status.IN_CONSULTATION, Level.TOWN), 2 + 3),  # handling: 3 minutes
        ((Status.IN_CONSULTATION, Level.CITY), 2 + 3 + 3),  # town consultation: 3 minutes
    ):
        assert timedelta(minutes=minutes) <= seen[reached] < timedelta(minutes=minutes) + every
    assert list(seen) == [
        (Status.FILED, Level.VILLAGE),
        (Status.DISPATCHED, Level.TOWN),
        (Status.IN_CONSULTATION, Level.TOWN),
        (Status.IN_CONSULTATION, Level.CITY),
    ]
