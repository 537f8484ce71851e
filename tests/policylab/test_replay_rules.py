"""Hand-checked scenarios (issue 21, Must hold): a doubled limit turns exactly the dispatches
late by less than the limit's length into on-time ones, a halved one makes those met within
the first half late; a holiday moves a working-time deadline by one working day and a
natural-time one not at all; a village handling met late under a shorter limit is counted as
whistled when the scenario's timer would have fired."""

from datetime import timedelta

import pytest
from django.utils import timezone

from assessment.models import CaseFact, DispatchFact
from cases import calendar
from cases.models import Deadline, Dispatch
from cases.services import accept_case, report_in, resolve_on_spot, verify_case, whistle_to_town
from checklists.models import Stage, TimeUnit
from policylab import services
from policylab.models import Replay, ReplayCaseFact, ReplayDispatchFact
from tests.assessment.test_rebuild import department_of, file, team_of
from tests.cases.engine_steps import at, png
from tests.policylab.history import JUNE, generate


def scenario_with(org, *, limits=None, holidays=(), name="Scenario"):
    scenario = services.create_scenario(user=org.supervisor, city=org.city, name=name)
    return services.update_scenario(
        user=org.supervisor,
        scenario_id=scenario.pk,
        name=name,
        note="",
        limits=limits(scenario.limits) if limits else scenario.limits,
        holidays=list(holidays),
        workdays=[],
        yellow_at_percent=None,
        scheme=scenario.scheme,
    )


def scaled(stage: str, factor: float):
    def change(rows):
        return [
            dict(row, amount=round(row["amount"] * factor)) if row["stage"] == stage else row
            for row in rows
        ]

    return change


def replayed(org, scenario, *, period=JUNE, place=None) -> Replay:
    replay = services.request_replay(
        user=org.supervisor,
        scenario_id=scenario.pk,
        place_id=(place or org.city).pk,
        period=period,
        name=scenario.name,
    )
    assert services.run_replay(replay_id=replay.pk) == Replay.State.DONE
    replay.refresh_from_db()
    return replay


def report_in_by_hand(factor: int | float, *, now) -> dict[int, bool]:
    """dispatch id -> late under the report-in limit times `factor`, from the Deadline rows:
    the new due is the start plus the new limit plus what was added on top of the old one;
    the stage ended at its report-in (a fired clock's row keeps no end)."""
    late = {}
    for clock in Deadline.objects.filter(stage=Stage.REPORT_IN).order_by("id"):
        dispatch = Dispatch.objects.get(pk=clock.dispatch_id)
        amount = round(clock.amount * factor)
        assert clock.unit == TimeUnit.WORKING_HOURS
        nominal = calendar.add_duration(
            start=clock.started_at, amount=clock.amount, unit=clock.unit
        )
        due = calendar.add_duration(start=clock.started_at, amount=amount, unit=clock.unit)
        extra = calendar.seconds_between(start=nominal, end=clock.due_at, working=True)
        due = calendar.add_seconds(start=due, seconds=extra, working=True) if extra else due
        end = clock.met_at or (dispatch.reported_in_at if clock.fired_at else None)
        if end is not None:
            late[dispatch.pk] = end > due
        elif clock.paused_at is not None:
            late[dispatch.pk] = due <= clock.paused_at
        else:
            late[dispatch.pk] = due <= now
    return late


@pytest.mark.django_db
def test_doubling_and_halving_the_report_in_limit_changes_exactly_the_hand_counted_dispatches(
    org, drive, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    cases = generate(drive, org)
    live = dict(DispatchFact.objects.values_list("dispatch_id", "late"))
    reworked_department = department_of(cases["reworked"]).pk
    crossing_team = team_of(cases["crossing"]).pk
    crossing_department = department_of(cases["crossing"]).pk
    # Late by a minute and by seven minutes (the report-in limit is two working hours).
    assert live[reworked_department] and live[crossing_department]
    assert not live[crossing_team]  # a minute before its due time

    doubled = replayed(org, scenario_with(org, limits=scaled(Stage.REPORT_IN, 2), name="x2"))
    by_hand = report_in_by_hand(2, now=doubled.started_at)
    rows = {row.dispatch_id: row for row in ReplayDispatchFact.objects.filter(replay=doubled)}
    assert {pk for pk, row in rows.items() if row.verdict_changed} == {
        pk for pk, late in by_hand.items() if pk in rows and late != live[pk]
    }
    assert {pk for pk, row in rows.items() if row.late} == {
        pk for pk, late in by_hand.items() if pk in rows and late
    }
    assert not rows[reworked_department].late and rows[reworked_department].verdict_changed
    assert rows[reworked_department].reported_on_time
    assert not rows[crossing_team].verdict_changed
    # The left-alone case's units never reported in: late under any limit.
    for dispatch in cases["left_alone"].dispatches.all():
        assert rows[dispatch.pk].late and live[dispatch.pk]
    # Nothing turns late when the limit doubles.
    assert not any(rows[pk].late and not live[pk] for pk in rows)
    assert doubled.summary["tally"]["dispatches_changed"] == sum(
        row.verdict_changed for row in rows.values()
    )
    # The response rate follows (indicators of the replay vs live).
    scenario_rate = doubled.summary["scenario"]["indicators"]["response_rate"]
    live_rate = doubled.summary["live"]["indicators"]["response_rate"]
    assert scenario_rate["n"] > live_rate["n"] and scenario_rate["d"] == live_rate["d"]

    halved = replayed(org, scenario_with(org, limits=scaled(Stage.REPORT_IN, 0.5), name="/2"))
    by_hand = report_in_by_hand(0.5, now=halved.started_at)
    rows = {row.dispatch_id: row for row in ReplayDispatchFact.objects.filter(replay=halved)}
    assert {pk for pk, row in rows.items() if row.verdict_changed} == {
        pk for pk, late in by_hand.items() if pk in rows and late != live[pk]
    }
    assert rows[crossing_team].late and rows[crossing_team].verdict_changed
    assert not rows[crossing_team].reported_on_time
    assert not any(live[pk] and not rows[pk].late for pk in rows)  # late stays late
    assert crossing_team in rows

    # Deterministic: the same scenario again gives the same rows.
    again = replayed(org, Replay.objects.get(pk=halved.pk).scenario)

    def values(replay, model, key):
        skip = {"id", "replay_id", "case_fact_id"}
        return [
            {k: v for k, v in row.items() if k not in skip}
            for row in model.objects.filter(replay=replay).order_by(key).values()
        ]

    for model, key in ((ReplayCaseFact, "case_id"), (ReplayDispatchFact, "dispatch_id")):
        assert values(again, model, key) == values(halved, model, key)
    assert again.summary["tally"] == halved.summary["tally"]


def monday_history(drive, org) -> dict:
    """Cases in the week of Monday 16 June 2025 (no holiday in the calendar in force)."""
    cases = {}
    # Village handling (1 working day) from Monday 10:00, solved on the spot on Thursday.
    drive.time_machine.move_to(at(2025, 6, 16, 10, 0), tick=False)
    case = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=case.pk)
    drive.time_machine.move_to(at(2025, 6, 19, 10, 0), tick=False)
    drive(resolve_on_spot, user=org.village_officer, case_id=case.pk, note="Done", photos=[png()])
    drive(verify_case, user=org.grid_worker, case_id=case.pk, passed=True)
    cases["working"] = case
    # Screening (30 natural minutes) from Monday 23:50, over midnight, met late at 01:00.
    drive.time_machine.move_to(at(2025, 6, 16, 23, 50), tick=False)
    case = file(drive, org)
    drive.time_machine.move_to(at(2025, 6, 17, 1, 0), tick=False)
    drive(accept_case, user=org.village_officer, case_id=case.pk)
    cases["natural"] = case
    # Whistled on Monday 16:30: report-in (2 working hours) due on Tuesday; the team reports
    # in on Tuesday at 11:00.
    drive.time_machine.move_to(at(2025, 6, 16, 16, 30), tick=False)
    case = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=case.pk)
    drive(whistle_to_town, user=org.village_officer, case_id=case.pk, note="Too big")
    drive.time_machine.move_to(at(2025, 6, 17, 11, 0), tick=False)
    drive(report_in, user=org.captain, dispatch_id=team_of(case).pk)
    cases["whistled"] = case
    drive.time_machine.move_to(at(2025, 6, 20, 12, 0), tick=False)
    return cases


@pytest.mark.django_db
def test_a_holiday_moves_working_time_deadlines_by_one_working_day_and_natural_ones_not(
    org, drive, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    cases = monday_history(drive, org)
    working = CaseFact.objects.get(case_id=cases["working"].pk)
    natural = CaseFact.objects.get(case_id=cases["natural"].pk)
    team = team_of(cases["whistled"])
    live_team = DispatchFact.objects.get(dispatch_id=team.pk)
    assert timezone.localtime(working.overdue_at) == at(2025, 6, 17, 10, 0)
    assert timezone.localtime(natural.overdue_at) == at(2025, 6, 17, 0, 20)
    assert timezone.localtime(live_team.report_in_due).date().isoformat() == "2025-06-17"
    assert live_team.late and not live_team.reported_on_time  # reported in late
    assert Deadline.objects.get(dispatch=team, stage=Stage.REPORT_IN).met_at > team.report_in_due

    replay = replayed(org, scenario_with(org, holidays=["2025-06-17"], name="Holiday"))
    rows = {row.case_id: row for row in ReplayCaseFact.objects.filter(replay=replay)}
    # One working day later: Wednesday 10:00 instead of Tuesday 10:00.
    assert timezone.localtime(rows[working.case_id].overdue_at) == at(2025, 6, 18, 10, 0)
    assert rows[working.case_id].overdue and not rows[working.case_id].verdict_changed
    # The natural-time screening clock does not move.
    assert rows[natural.case_id].overdue_at == natural.overdue_at
    # The report-in due moves to the same time on Wednesday: Tuesday's report-in is on time.
    team_row = ReplayDispatchFact.objects.get(replay=replay, dispatch_id=team.pk)
    assert team_row.report_in_due == live_team.report_in_due + timedelta(days=1)
    assert team_row.reported_on_time and not team_row.late and team_row.verdict_changed
    # The working handling time leaves the holiday out (a whole working day less).
    assert (
        working.handling_seconds - rows[working.case_id].handling_seconds
        == calendar.working_seconds_per_day()
    )
    assert rows[natural.case_id].handling_seconds == natural.handling_seconds


@pytest.mark.django_db
def test_a_village_handling_met_late_under_a_shorter_limit_would_have_been_whistled(
    org, drive, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    drive.time_machine.move_to(at(2025, 6, 18, 9, 0), tick=False)
    late_case = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=late_case.pk)
    drive.time_machine.move_to(at(2025, 6, 18, 16, 0), tick=False)
    drive(
        resolve_on_spot, user=org.village_officer, case_id=late_case.pk, note="Done", photos=[png()]
    )
    drive(verify_case, user=org.grid_worker, case_id=late_case.pk, passed=True)
    # Solved within the shorter limit too.
    quick_case = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=quick_case.pk)
    drive.later(minutes=30)
    drive(
        resolve_on_spot,
        user=org.village_officer,
        case_id=quick_case.pk,
        note="Done",
        photos=[png()],
    )
    drive(verify_case, user=org.grid_worker, case_id=quick_case.pk, passed=True)
    drive.time_machine.move_to(at(2025, 6, 25, 9, 0), tick=False)
    live = CaseFact.objects.get(case_id=late_case.pk)
    assert live.closed_on_time and not live.whistled and live.max_level == "village"

    def four_working_hours(rows):
        return [
            dict(row, amount=4, unit=TimeUnit.WORKING_HOURS)
            if row["stage"] == Stage.VILLAGE_HANDLING
            else row
            for row in rows
        ]

    replay = replayed(org, scenario_with(org, limits=four_working_hours, name="4 h"))
    clock = Deadline.objects.get(case=late_case, stage=Stage.VILLAGE_HANDLING)
    due = calendar.add_duration(start=clock.started_at, amount=4, unit=TimeUnit.WORKING_HOURS)
    assert clock.started_at < due < clock.met_at
    row = ReplayCaseFact.objects.get(replay=replay, case_id=late_case.pk)
    assert row.would_escalate_at == due
    assert row.whistled and row.max_level == "town"
    assert row.overdue and row.overdue_at == due and not row.closed_on_time
    assert row.verdict_changed
    quick = ReplayCaseFact.objects.get(replay=replay, case_id=quick_case.pk)
    assert not quick.whistled and quick.would_escalate_at is None and quick.closed_on_time
    tally = replay.summary["tally"]
    assert tally["would_escalate"] == 1 and tally["would_escalate_by"] == {"town": 1}
    assert tally["cases_changed"] == 1
    levels = replay.summary["scenario"]["levels"], replay.summary["live"]["levels"]
    assert levels[0]["whistled"] == levels[1]["whistled"] + 1
    assert levels[0]["overdue"] == levels[1]["overdue"] + 1
