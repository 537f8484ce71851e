"""What the committees decide: consultations and their tasks, escalation to the city,
suspension (挂账) and resumption, postponements, reopening."""

from datetime import date, datetime, timedelta

import pytest

from cases import calendar
from cases.errors import IllegalTransition, InvalidInput, NotAllowed
from cases.models import Deadline, Dispatch, Level, Postponement, Status
from cases.services import (
    Task,
    decide_consultation,
    decide_postponement,
    escalate_case,
    reject_case,
    reopen_case,
    report_in,
    request_consultation,
    request_postponement,
    resolve_on_spot,
    resume_case,
    suspend_case,
    verify_case,
)
from checklists.models import Stage, TimeUnit
from tests.cases.engine_steps import (
    T0,
    accepted,
    actions,
    at,
    department_dispatch,
    file_case,
    fresh,
    in_progress,
    kinds_for,
    png,
    resolved_by_team,
    team_dispatch,
)


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def in_consultation(org):
    case = in_progress(org)
    return request_consultation(user=org.captain, case_id=case.pk, reason="Needs the bureau")


def handling(case) -> Deadline:
    return case.deadlines.get(stage=Stage.HANDLING, dispatch=None)


# --- decisions --------------------------------------------------------------------------------


def test_a_decision_dispatches_its_tasks_with_deadlines(org):
    case = in_consultation(org)
    due_team, due_department = at(2025, 6, 12, 17, 0), at(2025, 6, 13, 12, 0)
    decide_consultation(
        user=org.town_committee,
        case_id=case.pk,
        decision="Clear it jointly",
        tasks=[
            Task(action="Remove the heap", due_at=due_team, team_id=org.team.pk),
            Task(action="Fine the owner", due_at=due_department, department_id=org.department.pk),
        ],
        expected_version=fresh(case).version,
    )
    case = fresh(case)
    assert (case.status, case.level) == (Status.IN_PROGRESS, Level.TOWN)
    assert case.deadlines.get(stage=Stage.TOWN_CONSULTATION).met_at == T0
    tasks = list(case.dispatches.filter(origin=Dispatch.Origin.DECISION).order_by("id"))
    assert [(d.team, d.department, d.task, d.due_at) for d in tasks] == [
        (org.team, None, "Remove the heap", due_team),
        (None, org.department, "Fine the owner", due_department),
    ]
    for dispatch in tasks:
        assert dispatch.state == Dispatch.State.WAITING
        assert dispatch.deadlines.get(stage=Stage.HANDLING).due_at == dispatch.due_at
        assert dispatch.deadlines.get(stage=Stage.REPORT_IN).due_at == dispatch.report_in_due
    event = case.events.get(action="decide")
    assert event.data["decision"] == "Clear it jointly"
    assert [t["handler"] for t in event.data["tasks"]] == [org.team.code, org.department.code]


def test_decisions_need_tasks_in_the_future_and_the_committee_of_the_level(org):
    case = in_consultation(org)
    version = fresh(case).version
    future = Task(action="Remove", due_at=T0 + timedelta(days=1), team_id=org.team.pk)
    refused = [
        (org.town_committee, [Task(action="Remove", due_at=T0, team_id=org.team.pk)], InvalidInput),
        (
            org.town_committee,
            [future, Task(action="X", due_at=T0 - timedelta(hours=1), team_id=org.team.pk)],
            InvalidInput,
        ),
        (org.town_committee, [], InvalidInput),
        (
            org.town_committee,
            [Task(action="Remove", due_at=T0 + timedelta(days=1), team_id=org.other_team.pk)],
            InvalidInput,
        ),
        (org.city_committee, [future], NotAllowed),  # the case is at the town's level
        (org.captain, [future], NotAllowed),
    ]
    for user, tasks, error in refused:
        with pytest.raises(error):
            decide_consultation(user=user, case_id=case.pk, decision="Go", tasks=tasks)
    case = fresh(case)
    assert (case.status, case.version) == (Status.IN_CONSULTATION, version)
    assert not case.dispatches.filter(origin=Dispatch.Origin.DECISION).exists()


# --- escalation -------------------------------------------------------------------------------


def test_the_town_escalates_to_the_city(org, time_machine):
    case = in_consultation(org)
    time_machine.move_to(at(2025, 6, 11, 10, 0), tick=False)
    with pytest.raises(InvalidInput):
        escalate_case(user=org.town_committee, case_id=case.pk, reason="")
    with pytest.raises(NotAllowed):
        escalate_case(user=org.captain, case_id=case.pk, reason="Too big")
    escalate_case(user=org.town_committee, case_id=case.pk, reason="Needs the city")
    case = fresh(case)
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.CITY)
    event = case.events.get(action="escalate")
    assert (event.from_level, event.to_level, event.data) == (
        Level.TOWN,
        Level.CITY,
        {"reason": "Needs the city"},
    )
    assert case.deadlines.get(stage=Stage.TOWN_CONSULTATION).met_at == at(2025, 6, 11, 10, 0)
    city = case.deadlines.get(stage=Stage.CITY_CONSULTATION)
    assert (city.amount, city.unit) == (5, TimeUnit.WORKING_DAYS)
    assert city.due_at == at(2025, 6, 18, 10, 0)
    assert kinds_for(org.city_committee, case) == ["case_escalated"]
    with pytest.raises(IllegalTransition):  # the city is the top
        escalate_case(user=org.town_committee, case_id=case.pk, reason="Again")
    # Now the city committee decides, not the town's.
    task = Task(action="Demolish", due_at=at(2025, 6, 20, 12, 0), department_id=org.department.pk)
    with pytest.raises(NotAllowed):
        decide_consultation(user=org.town_committee, case_id=case.pk, decision="Go", tasks=[task])
    decide_consultation(user=org.city_committee, case_id=case.pk, decision="Go", tasks=[task])
    case = fresh(case)
    assert (case.status, case.level) == (Status.IN_PROGRESS, Level.CITY)
    assert city.__class__.objects.get(pk=city.pk).met_at == at(2025, 6, 11, 10, 0)


def test_a_consultation_asked_at_the_city_level_goes_to_the_city(org):
    """Back in handling after a city decision, a new consultation is the city committee's: its
    clock is the city consultation limit and the city committee is told."""
    case = in_consultation(org)
    escalate_case(user=org.town_committee, case_id=case.pk, reason="Needs the city")
    task = Task(action="Demolish", due_at=at(2025, 6, 20, 12, 0), team_id=org.team.pk)
    decide_consultation(user=org.city_committee, case_id=case.pk, decision="Go", tasks=[task])
    request_consultation(user=org.captain, case_id=case.pk, reason="The owner resists")
    case = fresh(case)
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.CITY)
    pending = case.deadlines.filter(met_at__isnull=True, dispatch=None)
    assert list(pending.values_list("stage", flat=True)) == [Stage.CITY_CONSULTATION]
    assert kinds_for(org.city_committee, case) == ["case_escalated", "consultation_requested"]


# --- suspension -------------------------------------------------------------------------------


def test_suspend_pauses_every_clock_and_resume_counts_the_rest_in_working_time(org, time_machine):
    case = in_progress(org)  # at T0 (Tuesday 09:00): handling due 14:30, report-in due 11:00
    department = department_dispatch(case)
    assert handling(case).due_at == at(2025, 6, 10, 14, 30)
    time_machine.move_to(at(2025, 6, 10, 10, 0), tick=False)
    with pytest.raises(InvalidInput):
        suspend_case(
            user=org.town_committee,
            case_id=case.pk,
            reason="Court case",
            review_on=date(2025, 6, 10),
        )
    with pytest.raises(NotAllowed):
        suspend_case(
            user=org.village_officer, case_id=case.pk, reason="x", review_on=date(2025, 9, 1)
        )
    suspend_case(
        user=org.town_committee, case_id=case.pk, reason="Court case", review_on=date(2025, 9, 1)
    )
    case = fresh(case)
    assert (case.status, case.status_before_suspension) == (Status.SUSPENDED, Status.IN_PROGRESS)
    pending = Deadline.objects.filter(case=case, met_at__isnull=True, fired_at__isnull=True)
    # Every clock stands still but the committee's review, due at the end of the review date.
    review = pending.get(stage=Stage.SUSPENSION_REVIEW)
    assert (review.due_at, review.paused_at) == (at(2025, 9, 2, 0, 0), None)
    pending = pending.exclude(stage=Stage.SUSPENSION_REVIEW)
    assert pending.count() == 2
    assert set(pending.values_list("paused_at", flat=True)) == {at(2025, 6, 10, 10, 0)}
    assert handling(case).remaining_seconds == 3 * 3600  # 10-12 and 13:30-14:30
    report = department.deadlines.get(stage=Stage.REPORT_IN)
    assert report.remaining_seconds == 3600
    assert case.events.get(action="suspend").data == {
        "reason": "Court case",
        "review_on": "2025-09-01",
    }
    assert kinds_for(org.village_officer, case) == ["case_filed", "case_suspended"]
    with pytest.raises(IllegalTransition):  # nothing moves while suspended
        report_in(user=org.liaison, dispatch_id=department.pk)

    # Thursday 15:00: 18.5 working hours later.
    time_machine.move_to(at(2025, 6, 12, 15, 0), tick=False)
    resume_case(user=org.town_committee, case_id=case.pk)
    case = fresh(case)
    assert (case.status, case.status_before_suspension) == (Status.IN_PROGRESS, "")
    clock = handling(case)
    assert (clock.paused_at, clock.remaining_seconds) == (None, None)
    # 3 working hours from Thursday 15:00: 2.5 h to 17:30, 0.5 h on Friday.
    assert clock.due_at == at(2025, 6, 13, 9, 0)
    # That is the old limit moved by the working time spent suspended (18.5 hours).
    suspended = calendar.seconds_between(
        start=at(2025, 6, 10, 10, 0), end=at(2025, 6, 12, 15, 0), working=True
    )
    assert suspended == 18.5 * 3600
    old_due = at(2025, 6, 10, 14, 30)
    assert calendar.add_seconds(start=old_due, seconds=suspended, working=True) == clock.due_at
    # The yellow light keeps its share: 2 h 12 min were left before it.
    assert clock.warn_at == at(2025, 6, 12, 17, 12)
    report.refresh_from_db()
    assert report.due_at == at(2025, 6, 12, 16, 0)
    assert "case_resumed" in kinds_for(org.village_officer, case)

    # The dispatch's own report-in limit moved with its clock: reporting in now is on time.
    department.refresh_from_db()
    assert department.report_in_due == at(2025, 6, 12, 16, 0)
    time_machine.move_to(at(2025, 6, 12, 15, 30), tick=False)
    report_in(user=org.liaison, dispatch_id=department.pk)
    department.refresh_from_db()
    assert department.late is False


def test_resume_only_a_suspended_case(org):
    case = in_progress(org)
    with pytest.raises(IllegalTransition):
        resume_case(user=org.town_committee, case_id=case.pk)
    assert "resume" not in actions(case)


# --- postponement -----------------------------------------------------------------------------


def test_a_postponement_is_asked_once_and_approved_once(org, time_machine):
    case = in_progress(org)
    clock = handling(case)
    assert clock.warn_at == at(2025, 6, 10, 13, 42)
    with pytest.raises(InvalidInput):
        request_postponement(
            user=org.captain,
            case_id=case.pk,
            deadline_id=clock.pk,
            amount=0,
            unit=TimeUnit.WORKING_HOURS,
            reason="x",
        )
    with pytest.raises(InvalidInput):
        request_postponement(
            user=org.captain,
            case_id=case.pk,
            deadline_id=clock.pk,
            amount=2,
            unit="fortnights",
            reason="x",
        )
    with pytest.raises(NotAllowed):
        request_postponement(
            user=org.liaison,
            case_id=case.pk,
            deadline_id=clock.pk,
            amount=2,
            unit=TimeUnit.WORKING_HOURS,
            reason="x",
        )
    postponement = request_postponement(
        user=org.captain,
        case_id=case.pk,
        deadline_id=clock.pk,
        amount=2,
        unit=TimeUnit.WORKING_HOURS,
        reason="The owner is away",
    )
    assert postponement.decision == Postponement.Decision.PENDING
    assert case.events.get(action="request_postponement").data == {
        "stage": Stage.HANDLING,
        "amount": 2,
        "unit": TimeUnit.WORKING_HOURS,
        "reason": "The owner is away",
    }
    assert "postponement_requested" in kinds_for(org.town_committee, case)
    with pytest.raises(IllegalTransition):
        request_postponement(
            user=org.captain,
            case_id=case.pk,
            deadline_id=clock.pk,
            amount=1,
            unit=TimeUnit.WORKING_HOURS,
            reason="Again",
        )
    assert Postponement.objects.count() == 1

    with pytest.raises(NotAllowed):
        decide_postponement(user=org.captain, postponement_id=postponement.pk, approve=True)
    time_machine.move_to(at(2025, 6, 10, 11, 0), tick=False)
    decide_postponement(
        user=org.town_committee, postponement_id=postponement.pk, approve=True, note="Once"
    )
    clock.refresh_from_db()
    assert clock.due_at == at(2025, 6, 10, 16, 30)  # 14:30 + 2 working hours
    assert clock.postponed is True
    # The yellow light follows the longer limit: 80 % of 6 working hours from 09:00.
    assert clock.warn_at == at(2025, 6, 10, 15, 18)
    postponement.refresh_from_db()
    assert (postponement.decision, postponement.decided_by) == (
        Postponement.Decision.APPROVED,
        org.town_committee,
    )
    event = case.events.get(action="decide_postponement")
    assert event.data["approved"] is True
    assert datetime.fromisoformat(event.data["due_at"]) == clock.due_at
    assert kinds_for(org.captain, case).count("postponement_decided") == 1
    with pytest.raises(IllegalTransition):
        decide_postponement(user=org.town_committee, postponement_id=postponement.pk, approve=True)
    clock.refresh_from_db()
    assert clock.due_at == at(2025, 6, 10, 16, 30)


def test_a_refused_postponement_leaves_the_deadline(org):
    case = in_progress(org)
    clock = handling(case)
    postponement = request_postponement(
        user=org.captain,
        case_id=case.pk,
        deadline_id=clock.pk,
        amount=1,
        unit=TimeUnit.WORKING_DAYS,
        reason="Busy",
    )
    decide_postponement(
        user=org.town_committee, postponement_id=postponement.pk, approve=False, note="No"
    )
    clock.refresh_from_db()
    assert (clock.due_at, clock.postponed) == (at(2025, 6, 10, 14, 30), False)
    postponement.refresh_from_db()
    assert postponement.decision == Postponement.Decision.REFUSED
    assert case.events.get(action="decide_postponement").data == {
        "stage": Stage.HANDLING,
        "approved": False,
        "note": "No",
    }


def test_a_postponed_report_in_moves_the_dispatch_limit(org):
    case = in_progress(org)
    department = department_dispatch(case)
    clock = department.deadlines.get(stage=Stage.REPORT_IN)
    postponement = request_postponement(
        user=org.liaison,
        case_id=case.pk,
        deadline_id=clock.pk,
        amount=1,
        unit=TimeUnit.WORKING_HOURS,
        reason="Staff at another incident",
    )
    decide_postponement(user=org.town_committee, postponement_id=postponement.pk, approve=True)
    department.refresh_from_db()
    assert department.report_in_due == at(2025, 6, 10, 12, 0)
    assert department.deadlines.get(stage=Stage.REPORT_IN).due_at == at(2025, 6, 10, 12, 0)


# --- reopening --------------------------------------------------------------------------------


def test_reopen_a_rejected_case_screens_it_again(org):
    case = file_case(org)
    reject_case(user=org.village_officer, case_id=case.pk, reason="Not ours")
    with pytest.raises(NotAllowed):
        reopen_case(user=org.village_officer, case_id=case.pk, reason="Wrong")
    with pytest.raises(InvalidInput):
        reopen_case(user=org.town_committee, case_id=case.pk, reason="")
    reopen_case(user=org.town_committee, case_id=case.pk, reason="It is ours after all")
    case = fresh(case)
    assert (case.status, case.level) == (Status.FILED, Level.VILLAGE)
    event = case.events.get(action="reopen")
    assert (event.from_status, event.to_status, event.data) == (
        Status.REJECTED,
        Status.FILED,
        {"reason": "It is ours after all"},
    )
    assert case.deadlines.filter(stage=Stage.SCREENING, met_at__isnull=True).count() == 1


def test_reopen_a_closed_case_returns_it_to_handling(org):
    case = resolved_by_team(org)
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True)
    assert fresh(case).status == Status.CLOSED
    reopen_case(user=org.town_committee, case_id=case.pk, reason="Back again")
    case = fresh(case)
    assert (case.status, case.level, case.closed_at) == (Status.IN_PROGRESS, Level.TOWN, None)
    assert case.deadlines.filter(stage=Stage.HANDLING, met_at__isnull=True).count() == 1
    # The team can work it again and resolve it.
    dispatch = team_dispatch(case)
    assert dispatch.state == Dispatch.State.REPORTED
    from cases.services import record_handling

    record_handling(user=org.captain, dispatch_id=dispatch.pk, note="Back on site")


def test_reopen_a_case_closed_on_the_spot_returns_it_to_the_village(org):
    case = accepted(org)
    resolve_on_spot(user=org.village_officer, case_id=case.pk, note="Done", photos=[png()])
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True)
    reopen_case(user=org.town_committee, case_id=case.pk, reason="Back again")
    case = fresh(case)
    assert (case.status, case.level) == (Status.VILLAGE_HANDLING, Level.VILLAGE)
    assert case.deadlines.filter(stage=Stage.VILLAGE_HANDLING, met_at__isnull=True).count() == 1


def test_reopen_only_a_rejected_or_closed_case(org):
    case = in_progress(org)
    with pytest.raises(IllegalTransition):
        reopen_case(user=org.town_committee, case_id=case.pk, reason="Why not")
    assert fresh(case).status == Status.IN_PROGRESS
    assert team_dispatch(case).state == Dispatch.State.REPORTED


def test_a_postponement_approved_while_suspended_is_kept_on_resume(org, time_machine):
    case = in_progress(org)
    clock = handling(case)  # due Tuesday 14:30
    postponement = request_postponement(
        user=org.captain,
        case_id=case.pk,
        deadline_id=clock.pk,
        amount=2,
        unit=TimeUnit.WORKING_HOURS,
        reason="The owner is away",
    )
    time_machine.move_to(at(2025, 6, 10, 10, 0), tick=False)
    suspend_case(
        user=org.town_committee, case_id=case.pk, reason="Court case", review_on=date(2025, 9, 1)
    )
    decide_postponement(user=org.town_committee, postponement_id=postponement.pk, approve=True)
    clock.refresh_from_db()
    assert (clock.remaining_seconds, clock.postponed) == (5 * 3600, True)
    time_machine.move_to(at(2025, 6, 12, 9, 0), tick=False)
    resume_case(user=org.town_committee, case_id=case.pk)
    clock.refresh_from_db()
    # 3 hours were left, 2 were granted: 5 working hours from Thursday 09:00.
    assert clock.due_at == at(2025, 6, 12, 15, 30)
