"""Time travel: a whistle left alone climbs village -> town -> city at the instants its item's
limits give in working time, moved only by the timer sweep (the Celery task, run eagerly)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from cases import calendar
from cases.models import Case, Deadline, Event, Level, Status
from cases.services import accept_case, file_whistle
from cases.tasks import sweep_deadlines
from checklists.models import Item, Stage, TimeLimit
from teams.demo import build_demo_city
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

    # Screening: 30 natural minutes; when it passes the timer only records it.
    screening_due = due(case, Stage.SCREENING, FILED_AT)
    assert screening_due == datetime(2026, 3, 10, 9, 30, tzinfo=SHANGHAI)
    assert sweep_at(time_machine, screening_due - JUST_BEFORE) == 0
    assert timer_events(case) == []
    assert sweep_at(time_machine, screening_due) == 1
    assert state(case) == (Status.FILED, Level.VILLAGE)
    assert timer_events(case) == [("overdue", Stage.SCREENING, Status.FILED, Level.VILLAGE)]

    # The village accepts it, then does nothing for one working day.
    accept_case(user=org.village_officer, case_id=case.pk)
    village_due = due(case, Stage.VILLAGE_HANDLING, screening_due)
    assert village_due == datetime(2026, 3, 11, 9, 30, tzinfo=SHANGHAI)
    assert sweep_at(time_machine, village_due - JUST_BEFORE) == 0
    assert state(case) == (Status.VILLAGE_HANDLING, Level.VILLAGE)
    assert sweep_at(time_machine, village_due) == 1
    assert state(case) == (Status.DISPATCHED, Level.TOWN)
    dispatches = list(case.dispatches.order_by("pk"))
    assert [d.handler for d in dispatches] == [org.team, org.department]

    # Nobody reports in: the report-in timers mark both dispatches late; the case stays put.
    report_in_due = due(case, Stage.REPORT_IN, village_due)
    assert {d.report_in_due for d in dispatches} == {report_in_due}
    handling_due = due(case, Stage.HANDLING, village_due)
    assert report_in_due < handling_due == datetime(2026, 3, 11, 15, 0, tzinfo=SHANGHAI)
    assert sweep_at(time_machine, report_in_due) == 2
    assert [d.late for d in case.dispatches.order_by("pk")] == [True, True]

    # Handling time is up: the town committee is asked to decide.
    assert sweep_at(time_machine, handling_due - JUST_BEFORE) == 0
    assert state(case) == (Status.DISPATCHED, Level.TOWN)
    assert sweep_at(time_machine, handling_due) == 1
    assert state(case) == (Status.IN_CONSULTATION, Level.TOWN)

    # The town does not decide within 3 working days (over the weekend): the city takes it.
    town_due = due(case, Stage.TOWN_CONSULTATION, handling_due)
    assert town_due == datetime(2026, 3, 16, 15, 0, tzinfo=SHANGHAI)  # Monday
    assert sweep_at(time_machine, town_due - JUST_BEFORE) == 0
    assert state(case) == (Status.IN_CONSULTATION, Level.TOWN)
    assert sweep_at(time_machine, town_due) == 1
    assert state(case) == (Status.IN_CONSULTATION, Level.CITY)

    assert timer_events(case) == [
        ("overdue", Stage.SCREENING, Status.FILED, Level.VILLAGE),
        ("whistle", Stage.VILLAGE_HANDLING, Status.DISPATCHED, Level.TOWN),
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
        village_due,
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
    assert len(timer_events(case)) == 6


def test_the_demo_item_climbs_to_the_city_within_minutes_of_beat_sweeps(time_machine):
    """What a `make run` user sees with DEMO-01: accepted and left alone, the whistle reaches
    the town after 2 minutes and the city committee 6 minutes later, beat sweeping every
    WHISTLE_SWEEP_SECONDS."""
    time_machine.move_to(FILED_AT, tick=False)
    build_demo_city()
    case = file_whistle(
        user=User.objects.get(username="grid1"),
        item=Item.objects.get(code="DEMO-01"),
        grid=Grid.objects.get(code="HN-XS-01-01"),
        description="Watch me climb",
    ).case
    accept_case(user=User.objects.get(username="village1"), case_id=case.pk)

    every = timedelta(seconds=settings.CELERY_BEAT_SCHEDULE["sweep-deadlines"]["schedule"])
    seen: dict[tuple[str, str], timedelta] = {}
    moment = FILED_AT
    while moment <= FILED_AT + timedelta(minutes=10):
        sweep_at(time_machine, moment)
        seen.setdefault(state(case), moment - FILED_AT)
        moment += every

    for reached, minutes in (
        ((Status.DISPATCHED, Level.TOWN), 2),  # village handling: 2 minutes
        ((Status.IN_CONSULTATION, Level.TOWN), 2 + 3),  # handling: 3 minutes
        ((Status.IN_CONSULTATION, Level.CITY), 2 + 3 + 3),  # town consultation: 3 minutes
    ):
        assert timedelta(minutes=minutes) <= seen[reached] < timedelta(minutes=minutes) + every
    assert list(seen) == [
        (Status.VILLAGE_HANDLING, Level.VILLAGE),
        (Status.DISPATCHED, Level.TOWN),
        (Status.IN_CONSULTATION, Level.TOWN),
        (Status.IN_CONSULTATION, Level.CITY),
    ]
