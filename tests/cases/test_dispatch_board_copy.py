"""Each dispatch's copy of its current clock (cases.timers.sync_dispatch_board), which the board
sorts and counts by: it follows the case through its life, and the migration that added it
fills it by the same rule. (Every other test also ends with this check: tests/conftest.py.)"""

import importlib
from datetime import timedelta

from cases import timers
from cases.models import Dispatch
from cases.services import (
    Task,
    cancel_dispatch,
    decide_consultation,
    request_consultation,
    resolve_case,
    resume_case,
    suspend_case,
    verify_case,
)
from checklists.models import Stage
from tests.board_copies import stale_board_copies
from tests.cases.engine_steps import (
    T0,
    at,
    department_dispatch,
    fresh,
    in_progress,
    png,
    postponed,
    team_dispatch,
    whistled,
)

# The committee tests' clock (T0) and media folder, for every test here.
from tests.cases.test_services_committee import _clock_and_media  # noqa: F401


def copied(dispatch: Dispatch) -> tuple:
    dispatch.refresh_from_db()
    return (dispatch.clock_due_at, dispatch.clock_warn_at, dispatch.clock_paused_at)


def copies() -> dict[int, tuple]:
    return {
        d.pk: (d.on_board, d.clock_due_at, d.clock_warn_at, d.clock_paused_at)
        for d in Dispatch.objects.all()
    }


def times(deadline) -> tuple:
    deadline.refresh_from_db()
    return (deadline.due_at, deadline.warn_at, deadline.paused_at)


def test_the_copy_follows_a_case_through_its_life(org):
    case = whistled(org)
    team, department = team_dispatch(case), department_dispatch(case)
    report_in_clock = team.deadlines.get(stage=Stage.REPORT_IN)
    assert copied(team) == times(report_in_clock)  # waiting: its report-in clock

    case = in_progress(org)
    team = team_dispatch(case)
    handling = case.deadlines.get(stage=Stage.HANDLING, dispatch=None)
    assert copied(team) == times(handling)  # reported in: the case's handling clock

    postponed(org, case, handling)
    moved = times(handling)
    assert copied(team) == moved and moved[0] > at(2025, 6, 12, 0, 0)

    suspend_case(
        user=org.town_committee,
        case_id=case.pk,
        reason="Waiting for the court",
        review_on=(T0 + timedelta(days=30)).date(),
    )
    assert copied(team)[2] == T0  # paused: the light it had stays
    resume_case(user=org.town_committee, case_id=case.pk)
    assert copied(team)[2] is None and copied(team) == times(handling)

    request_consultation(user=org.captain, case_id=case.pk, reason="Needs the bureau")
    consultation = case.deadlines.get(stage=Stage.TOWN_CONSULTATION)
    assert copied(team) == times(consultation)

    due = at(2025, 6, 13, 17, 0)
    decide_consultation(
        user=org.town_committee,
        case_id=case.pk,
        decision="Clear it jointly",
        tasks=[Task(action="Fine the owner", due_at=due, department_id=org.department.pk)],
    )
    task = case.dispatches.get(origin=Dispatch.Origin.DECISION)
    assert copied(task) == times(task.deadlines.get(stage=Stage.REPORT_IN))
    # The consultation's clock stopped and the decision gave the team no task: no clock.
    assert not case.deadlines.filter(met_at=None, dispatch=None).exists()
    assert copied(team) == (None, None, None)
    cancel_dispatch(
        user=org.town_committee, dispatch_id=department.pk, reason="Sent to the wrong bureau"
    )
    assert stale_board_copies() == []

    resolve_case(user=org.captain, case_id=case.pk, note="Cleared", photos=[png()])
    verify_case(
        user=org.grid_worker,
        case_id=case.pk,
        passed=False,
        reason="Still a heap",
        photos=[png()],
    )
    # Rework: the team that resolved it works it again, on the new handling clock.
    team.refresh_from_db()
    assert team.state == Dispatch.State.REPORTED
    rework = fresh(case).deadlines.filter(met_at=None, dispatch=None).get()
    assert copied(team) == times(rework)
    assert stale_board_copies() == []


def test_the_migration_fills_the_copy_by_the_same_rule(org, django_db_blocker):
    """The migration's frozen copy of the rule, run on dispatches in every state, writes what
    the services would have written."""
    from django.db import connection

    case = in_progress(org)
    whistled(org)
    request_consultation(user=org.captain, case_id=case.pk, reason="Needs the bureau")
    before = copies()
    assert any(value[0] and value[1] for value in before.values())
    erase = {"on_board": False, "clock_due_at": None, "clock_warn_at": None}
    Dispatch.objects.update(**erase, clock_paused_at=None)
    migration = importlib.import_module("cases.migrations.0009_dispatch_board")
    with connection.cursor() as cursor:
        cursor.execute(migration.FILL)
    assert copies() == before
    Dispatch.objects.update(**erase, clock_paused_at=None)
    assert timers.sync_dispatch_board() == len(before)  # every one is active
    assert copies() == before
