"""Deadline rows, lights and what the sweep does when a limit is reached, called directly
(cases.sweep.sweep(now=...)) with the clock moved by time_machine to the same instant."""

from datetime import date, timedelta

import pytest

from cases import sweep, timers
from cases.models import Deadline, Dispatch, Event, Level, Notification, Status
from cases.services import accept_case, resolve_on_spot, suspend_case
from checklists.models import Stage
from tests.cases.engine_steps import (
    T0,
    accepted,
    at,
    file_case,
    fresh,
    in_progress,
    kinds_for,
    png,
)

SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def sweep_at(time_machine):
    """Sweep as the periodic task would at `moment`, with the services' clock there too."""

    def sweep_once(moment):
        time_machine.move_to(moment, tick=False)
        return sweep.sweep(now=moment)

    return sweep_once


def timer_events(case) -> list[tuple[str, str, str]]:
    return list(
        Event.objects.filter(case=case, actor_label="timer")
        .order_by("id")
        .values_list("action", "to_status", "to_level")
    )


# --- the climb village -> town -> city -------------------------------------------------------


def test_a_case_left_alone_climbs_to_the_city(org, sweep_at):
    case = file_case(org)
    accept_case(user=org.village_officer, case_id=case.pk)

    # Village handling: one working day, Wednesday 09:00.
    village_due = at(2025, 6, 11, 9, 0)
    assert case.deadlines.get(stage=Stage.VILLAGE_HANDLING).due_at == village_due
    assert sweep_at(village_due - SECOND) == 0
    assert fresh(case).status == Status.VILLAGE_HANDLING
    assert sweep_at(village_due) == 1
    case = fresh(case)
    assert (case.status, case.level) == (Status.DISPATCHED, Level.TOWN)
    whistle = case.events.get(action="whistle")
    assert (whistle.actor, whistle.actor_label) == (None, "timer")
    assert whistle.data["stage"] == Stage.VILLAGE_HANDLING
    assert case.deadlines.get(stage=Stage.VILLAGE_HANDLING).fired_at == village_due
    dispatches = list(case.dispatches.order_by("id"))
    assert [d.handler for d in dispatches] == [org.team, org.department]
    assert {d.dispatched_at for d in dispatches} == {village_due}
    assert sweep_at(village_due) == 0  # exactly once
    assert timer_events(case) == [("whistle", Status.DISPATCHED, Level.TOWN)]

    # Report-in: two working hours, 11:00; nobody reported in.
    report_due = at(2025, 6, 11, 11, 0)
    assert {d.report_in_due for d in dispatches} == {report_due}
    assert sweep_at(report_due) == 2
    case = fresh(case)
    assert case.status == Status.DISPATCHED
    assert set(case.dispatches.values_list("late", "state")) == {(True, Dispatch.State.WAITING)}
    late = list(case.events.filter(action="report_in_late").order_by("id"))
    assert [(e.dispatch, e.actor_label) for e in late] == [
        (dispatches[0], "timer"),
        (dispatches[1], "timer"),
    ]
    assert "dispatch_late" in kinds_for(org.town_committee, case)
    assert "dispatch_late" in kinds_for(org.captain, case)
    assert "dispatch_late" in kinds_for(org.liaison, case)
    assert sweep_at(report_due) == 0

    # Handling: four working hours from 09:00 is 14:30 (lunch does not count).
    handling_due = at(2025, 6, 11, 14, 30)
    assert case.deadlines.get(stage=Stage.HANDLING, dispatch=None).due_at == handling_due
    assert sweep_at(handling_due) == 1
    case = fresh(case)
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.TOWN)
    assert "consultation_requested" in kinds_for(org.town_committee, case)

    # Town consultation: three working days, Monday 14:30.
    town_due = at(2025, 6, 16, 14, 30)
    assert case.deadlines.get(stage=Stage.TOWN_CONSULTATION).due_at == town_due
    assert sweep_at(town_due - SECOND) == 0
    assert sweep_at(town_due) == 1
    case = fresh(case)
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.CITY)
    assert case.deadlines.get(stage=Stage.CITY_CONSULTATION).due_at == at(2025, 6, 23, 14, 30)
    assert "case_escalated" in kinds_for(org.city_committee, case)

    assert sweep_at(town_due) == 0
    assert timer_events(case) == [
        ("whistle", Status.DISPATCHED, Level.TOWN),
        ("report_in_late", Status.DISPATCHED, Level.TOWN),
        ("report_in_late", Status.DISPATCHED, Level.TOWN),
        ("request_consultation", Status.IN_CONSULTATION, Level.TOWN),
        ("escalate", Status.IN_CONSULTATION, Level.CITY),
    ]

    # The city is the top: its limit passing is recorded and the city committee is told.
    assert sweep_at(at(2025, 6, 23, 14, 30)) == 1
    assert timer_events(fresh(case))[-1] == ("overdue", Status.IN_CONSULTATION, Level.CITY)
    assert "overdue" in kinds_for(org.city_committee, case)
    assert fresh(case).status == Status.IN_CONSULTATION


def test_a_deadline_met_in_time_never_fires(org, sweep_at):
    case = accepted(org)  # screening met at once
    assert sweep_at(T0 + timedelta(minutes=31)) == 0
    screening = case.deadlines.get(stage=Stage.SCREENING)
    assert (screening.met_at, screening.fired_at) == (T0, None)
    assert timer_events(case) == []


def test_firing_is_exactly_once(org, time_machine):
    case = file_case(org)
    deadline = case.deadlines.get(stage=Stage.SCREENING)
    due = deadline.due_at
    time_machine.move_to(due, tick=False)
    assert sweep.fire_deadline(deadline_id=deadline.pk, now=due - SECOND) is False  # not due
    assert sweep.fire_deadline(deadline_id=deadline.pk, now=due) is True
    assert sweep.fire_deadline(deadline_id=deadline.pk, now=due) is False
    assert sweep.sweep(now=due + timedelta(hours=1)) == 0
    # A whistle the village never screened is whistled to the town once, by the timer.
    assert timer_events(case) == [("whistle", Status.DISPATCHED, Level.TOWN)]
    whistle = case.events.get(action="whistle")
    assert (whistle.actor, whistle.data["stage"]) == (None, Stage.SCREENING)
    assert case.deadlines.get(stage=Stage.SCREENING).fired_at == due
    assert case.dispatches.count() == 2
    assert kinds_for(org.town_committee, case).count("case_whistled") == 1
    assert fresh(case).version == 2  # a transition: open forms on the filed case are stale


def test_verification_overdue_leaves_the_case_resolved(org, sweep_at):
    case = accepted(org)
    resolve_on_spot(user=org.village_officer, case_id=case.pk, note="Done", photos=[png()])
    due = case.deadlines.get(stage=Stage.VERIFICATION).due_at
    assert due == at(2025, 6, 11, 9, 0)
    assert sweep_at(due) == 1
    assert fresh(case).status == Status.RESOLVED
    assert timer_events(case) == [("overdue", Status.RESOLVED, Level.VILLAGE)]


# --- lights and yellow warnings ----------------------------------------------------------------


def test_lights_and_the_yellow_warning(org, sweep_at):
    case = file_case(org)
    deadline = case.deadlines.get(stage=Stage.SCREENING)
    warn, due = T0 + timedelta(minutes=24), T0 + timedelta(minutes=30)
    assert deadline.warn_at == warn and deadline.due_at == due
    assert timers.light(deadline, now=T0) == timers.GREEN
    assert timers.light(deadline, now=warn - SECOND) == timers.GREEN
    assert timers.light(deadline, now=warn) == timers.YELLOW
    assert timers.light(deadline, now=due - SECOND) == timers.YELLOW
    assert timers.light(deadline, now=due) == timers.RED
    assert timers.time_left_seconds(deadline, now=warn) == 6 * 60

    assert sweep_at(warn - SECOND) == 0
    assert Deadline.objects.get(pk=deadline.pk).warned_at is None
    assert sweep_at(warn) == 0  # a warning is not a firing
    deadline.refresh_from_db()
    assert (deadline.warned_at, deadline.fired_at) == (warn, None)
    warning = Notification.objects.get(kind="deadline_warning")
    assert (warning.recipient, warning.case, warning.data["stage"]) == (
        org.village_officer,
        case,
        Stage.SCREENING,
    )
    sweep_at(warn + timedelta(minutes=1))
    assert Notification.objects.filter(kind="deadline_warning").count() == 1

    # Met before the limit stays green; met after it, red.
    accept_case(user=org.village_officer, case_id=case.pk)
    deadline.refresh_from_db()
    assert timers.light(deadline, now=due + timedelta(days=1)) == timers.GREEN
    late = file_case(org, latitude=30.503)
    late_deadline = late.deadlines.get(stage=Stage.SCREENING)
    sweep_at(late_deadline.due_at + timedelta(minutes=5))
    assert fresh(late).status == Status.DISPATCHED  # whistled by the timer, not screened
    late_deadline.refresh_from_db()
    assert late_deadline.fired_at is not None  # fired: met_at stays empty
    assert late_deadline.met_at is None
    assert timers.light(late_deadline) == timers.RED


def test_working_time_lights_stop_at_night(org):
    case = accepted(org)
    deadline = case.deadlines.get(stage=Stage.VILLAGE_HANDLING)
    # 80 % of 7.5 office hours from Tuesday 09:00 is 6 h: 09:00-12:00, 13:30-16:30.
    assert deadline.warn_at == at(2025, 6, 10, 16, 30)
    assert timers.light(deadline, now=at(2025, 6, 10, 16, 29)) == timers.GREEN
    assert timers.light(deadline, now=at(2025, 6, 10, 23, 0)) == timers.YELLOW
    assert timers.time_left_seconds(deadline, now=at(2025, 6, 10, 23, 0)) == 30 * 60


# --- suspension -------------------------------------------------------------------------------


def test_a_suspended_case_never_fires(org, sweep_at, time_machine):
    case = in_progress(org)
    time_machine.move_to(at(2025, 6, 10, 10, 0), tick=False)
    suspend_case(
        user=org.town_committee, case_id=case.pk, reason="In court", review_on=date(2025, 9, 1)
    )
    paused = list(case.deadlines.filter(paused_at__isnull=False))
    assert {d.stage for d in paused} == {Stage.HANDLING, Stage.REPORT_IN}
    assert sweep_at(at(2025, 8, 1, 9, 0)) == 0
    assert timer_events(case) == []
    assert not case.deadlines.filter(fired_at__isnull=False).exists()
    assert not Notification.objects.filter(kind="deadline_warning").exists()
    handling = case.deadlines.get(stage=Stage.HANDLING, dispatch=None)
    # The light is frozen where it was when the case was suspended.
    assert timers.light(handling, now=at(2025, 8, 1, 9, 0)) == timers.GREEN
    assert timers.time_left_seconds(handling, now=at(2025, 8, 1, 9, 0)) == 3 * 3600
    assert fresh(case).status == Status.SUSPENDED
