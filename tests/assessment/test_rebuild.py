"""The rebuild from the event log gives exactly the facts the incremental refresh gave, after
cases went through every path of the engine (refreshed by the real after-commit hook)."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from assessment.models import CaseFact, DispatchFact
from assessment.services import rebuild_all_facts, refresh_stale_facts, stale_case_ids
from cases.models import Deadline, Level, Status
from cases.services import (
    Task,
    accept_case,
    decide_consultation,
    decide_postponement,
    escalate_case,
    evaluate_case,
    file_whistle,
    issue_supervision_order,
    reject_case,
    report_in,
    request_consultation,
    request_postponement,
    resolve_case,
    resolve_dispatch,
    resolve_on_spot,
    resume_case,
    suspend_case,
    urge_dispatch,
    verify_case,
    whistle_to_town,
)
from checklists.models import Stage, TimeUnit
from tests.assessment.facts_steps import Driver, eager_celery, snapshot  # noqa: F401
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import LAT, LNG, T0, png


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def drive(django_capture_on_commit_callbacks, time_machine, eager_celery):  # noqa: F811
    return Driver(django_capture_on_commit_callbacks, time_machine)


def file(drive, org, **extra):  # noqa: F811
    return drive.filed(
        file_whistle,
        user=org.grid_worker,
        item=org.item,
        description="Garbage piled beside the bridge",
        latitude=LAT,
        longitude=LNG,
        **extra,
    )


def whistle(drive, org):  # noqa: F811
    case = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=case.pk)
    drive(whistle_to_town, user=org.village_officer, case_id=case.pk, note="Too big")
    return case


def team_of(case):
    return case.dispatches.get(team__isnull=False)


def department_of(case):
    return case.dispatches.get(department__isnull=False)


def drive_all_paths(drive, org) -> dict:  # noqa: F811
    cases = {}
    # 1. Solved on the spot, verified, evaluated satisfied.
    case = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=case.pk)
    drive(resolve_on_spot, user=org.village_officer, case_id=case.pk, note="Swept", photos=[png()])
    drive(verify_case, user=org.grid_worker, case_id=case.pk, passed=True)
    drive(evaluate_case, user=org.grid_worker, case_id=case.pk, satisfaction="satisfied")
    cases["on_spot"] = case

    # 2. Whistled: the team reports in on time, the department late (the timer marks it);
    # resolved, verification fails (rework), resolved again, verified, evaluated.
    case = whistle(drive, org)
    drive(report_in, user=org.captain, dispatch_id=team_of(case).pk)
    drive.sweep_at(department_of(case).report_in_due + timedelta(minutes=1))
    # The late department is urged and put under a supervision order, met on time.
    drive(
        urge_dispatch,
        user=org.town_committee,
        dispatch_id=department_of(case).pk,
        note="Report in now",
    )
    drive(
        issue_supervision_order,
        user=org.city_committee,
        dispatch_id=department_of(case).pk,
        note="Report in and clear it today",
        due_at=department_of(case).report_in_due + timedelta(hours=2),
    )
    drive(report_in, user=org.liaison, dispatch_id=department_of(case).pk)
    drive(resolve_case, user=org.captain, case_id=case.pk, note="Cleared", photos=[png()])
    drive(
        verify_case,
        user=org.grid_worker,
        case_id=case.pk,
        passed=False,
        reason="Still there",
        photos=[png()],
    )
    drive(resolve_case, user=org.captain, case_id=case.pk, note="Cleared again", photos=[png()])
    drive(verify_case, user=org.grid_worker, case_id=case.pk, passed=True)
    drive(evaluate_case, user=org.grid_worker, case_id=case.pk, satisfaction="basically_satisfied")
    cases["reworked"] = case

    # 3. A postponement of the village handling, approved; then solved on the spot.
    case = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=case.pk)
    deadline = case.deadlines.get(stage=Stage.VILLAGE_HANDLING)
    postponement = drive(
        request_postponement,
        user=org.village_officer,
        case_id=case.pk,
        deadline_id=deadline.pk,
        amount=2,
        unit=TimeUnit.WORKING_DAYS,
        reason="Owner away",
    )
    drive(
        decide_postponement, user=org.town_committee, postponement_id=postponement.pk, approve=True
    )
    drive(resolve_on_spot, user=org.village_officer, case_id=case.pk, note="Done", photos=[png()])
    drive(verify_case, user=org.village_officer, case_id=case.pk, passed=True)
    cases["postponed"] = case

    # 4. Suspended and resumed, then resolved by the team.
    case = whistle(drive, org)
    drive(report_in, user=org.captain, dispatch_id=team_of(case).pk)
    drive(
        suspend_case,
        user=org.town_committee,
        case_id=case.pk,
        reason="Waiting for the demolition order",
        review_on=(T0 + timedelta(days=60)).date(),
    )
    drive.later(days=3)
    drive(resume_case, user=org.town_committee, case_id=case.pk)
    drive(resolve_case, user=org.captain, case_id=case.pk, note="Demolished", photos=[png()])
    cases["resumed"] = case

    # 5. Still suspended.
    case = whistle(drive, org)
    drive(
        suspend_case,
        user=org.town_committee,
        case_id=case.pk,
        reason="Long-term",
        review_on=(T0 + timedelta(days=90)).date(),
    )
    cases["suspended"] = case

    # 6. Escalated to the city, decided there, a task for the department.
    case = whistle(drive, org)
    drive(report_in, user=org.captain, dispatch_id=team_of(case).pk)
    drive(request_consultation, user=org.captain, case_id=case.pk, reason="Needs the bureau")
    drive(escalate_case, user=org.town_committee, case_id=case.pk, reason="Beyond the town")
    from django.utils import timezone

    drive(
        decide_consultation,
        user=org.city_committee,
        case_id=case.pk,
        decision="The bureau demolishes it",
        tasks=[
            Task(
                action="Demolish",
                due_at=timezone.now() + timedelta(days=5),
                department_id=org.department.pk,
            )
        ],
    )
    cases["escalated"] = case

    # 7. Rejected.
    case = file(drive, org)
    drive(
        reject_case,
        user=org.village_officer,
        case_id=case.pk,
        reason="Civil dispute",
        redirect="Court",
    )
    cases["rejected"] = case

    # 8. Left alone: the timers whistle it, mark the dispatches late and send it to the town.
    case = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=case.pk)
    for _round in range(4):
        due = (
            Deadline.objects.filter(
                case=case, met_at__isnull=True, fired_at__isnull=True, paused_at__isnull=True
            )
            .order_by("due_at")
            .values_list("due_at", flat=True)
            .first()
        )
        if due is None:
            break
        drive.sweep_at(due + timedelta(seconds=1))
    cases["left_alone"] = case
    return cases


def test_rebuild_gives_exactly_the_incremental_facts(org, drive):  # noqa: F811
    cases = drive_all_paths(drive, org)
    incremental = snapshot()
    assert len(incremental["cases"]) == len(cases)
    assert stale_case_ids() == []

    facts = {name: CaseFact.objects.get(pk=case.pk) for name, case in cases.items()}
    assert facts["on_spot"].closed and facts["on_spot"].closed_level == Level.VILLAGE
    assert facts["on_spot"].satisfaction == "satisfied"
    assert facts["reworked"].rework_count == 1 and facts["reworked"].closed_level == Level.TOWN
    assert DispatchFact.objects.get(pk=department_of(cases["reworked"]).pk).late
    assert DispatchFact.objects.get(pk=team_of(cases["reworked"]).pk).reported_on_time
    pressed = DispatchFact.objects.get(pk=department_of(cases["reworked"]).pk)
    assert (pressed.urged, pressed.urge_count, pressed.supervised) == (True, 1, True)
    assert not pressed.supervision_late
    assert DispatchFact.objects.filter(urged=True).count() == 1
    assert DispatchFact.objects.filter(supervised=True).count() == 1
    assert facts["postponed"].postponed and facts["postponed"].closed
    assert facts["resumed"].was_suspended and not facts["resumed"].suspended
    assert facts["suspended"].suspended
    assert facts["escalated"].escalated and facts["escalated"].max_level == Level.CITY
    assert facts["rejected"].rejected and not facts["rejected"].accepted
    assert facts["left_alone"].overdue and facts["left_alone"].whistled
    assert cases["left_alone"].__class__.objects.get(pk=cases["left_alone"].pk).status in (
        Status.IN_CONSULTATION,
        Status.IN_PROGRESS,
        Status.DISPATCHED,
    )

    assert rebuild_all_facts(batch_size=3) == len(cases)
    assert snapshot() == incremental

    CaseFact.objects.all().delete()
    call_command("rebuild_facts", "--batch-size", "2", "--quiet")
    assert snapshot() == incremental


def test_the_stale_sweep_catches_what_the_broker_missed(org, drive):  # noqa: F811
    case = file(drive, org)
    accept_case(user=org.village_officer, case_id=case.pk)  # no after-commit callbacks run
    assert stale_case_ids() == [case.pk]
    assert not CaseFact.objects.get(pk=case.pk).accepted
    assert refresh_stale_facts() == 1
    assert CaseFact.objects.get(pk=case.pk).accepted
    assert stale_case_ids() == []


def test_the_frequent_sweep_reads_the_last_day_and_the_daily_one_the_whole_history(
    org,  # noqa: F811
    drive,
    time_machine,
):
    """A case whose facts went missing long after its last event is found by the daily pass
    only (the frequent one reads the last day's events); one filed today without facts, by
    both."""
    old = file(drive, org)
    accept_case(user=org.village_officer, case_id=old.pk)
    assert refresh_stale_facts() == 1
    time_machine.move_to(T0 + timedelta(days=3), tick=False)
    CaseFact.objects.filter(case_id=old.pk).delete()
    new = file(drive, org)
    CaseFact.objects.filter(case_id=new.pk).delete()
    assert stale_case_ids() == [new.pk]
    assert stale_case_ids(whole_history=True) == sorted([old.pk, new.pk])
    assert refresh_stale_facts(whole_history=True) == 2
    assert set(CaseFact.objects.values_list("case_id", flat=True)) == {old.pk, new.pk}
    assert stale_case_ids(whole_history=True) == []


def test_urges_and_supervision_orders_rebuild_as_they_were(org, drive):  # noqa: F811
    """Urged twice and an order met late (the department), urged once and an order met on
    time (the team): the facts the hook refreshed are the facts a rebuild gives."""
    case = whistle(drive, org)
    department, team = department_of(case), team_of(case)
    drive.sweep_at(department.report_in_due + timedelta(minutes=1))
    for user in (org.town_committee, org.supervisor):
        drive(urge_dispatch, user=user, dispatch_id=department.pk, note="Report in now")
    drive(urge_dispatch, user=org.city_committee, dispatch_id=team.pk, note="Report in")
    drive(
        issue_supervision_order,
        user=org.city_committee,
        dispatch_id=department.pk,
        note="Clear your part within the hour",
        due_at=department.report_in_due + timedelta(hours=1),
    )
    drive(
        issue_supervision_order,
        user=org.town_committee,
        dispatch_id=team.pk,
        note="Clear it today",
        due_at=department.report_in_due + timedelta(hours=8),
    )
    drive.later(hours=2)
    drive(report_in, user=org.liaison, dispatch_id=department.pk)
    drive(report_in, user=org.captain, dispatch_id=team.pk)
    drive(
        resolve_dispatch,
        user=org.liaison,
        dispatch_id=department.pk,
        note="Our part is done",
        photos=[png()],
    )
    drive(resolve_case, user=org.captain, case_id=case.pk, note="Cleared", photos=[png()])

    facts = {fact.dispatch_id: fact for fact in DispatchFact.objects.all()}
    assert (
        facts[department.pk].urge_count,
        facts[department.pk].supervised,
        facts[department.pk].supervision_late,
    ) == (2, True, True)
    assert (
        facts[team.pk].urge_count,
        facts[team.pk].supervised,
        facts[team.pk].supervision_late,
    ) == (1, True, False)
    incremental = snapshot()
    assert stale_case_ids() == []
    assert rebuild_all_facts(batch_size=1) == 1
    assert snapshot() == incremental
