"""Urging a late unit (催办) and supervision orders (督办): who may, when (a yellow or red
clock), what is written and who is told, and when an order is met (on time or late)."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone, translation

from cases.errors import IllegalTransition, InvalidInput, NotAllowed, NotInScope
from cases.models import Dispatch, Event, SupervisionOrder
from cases.services import (
    cancel_dispatch,
    issue_supervision_order,
    report_in,
    resolve_case,
    resolve_dispatch,
    urge_dispatch,
)
from teams.models import Role
from tests.cases.engine_steps import (
    T0,
    department_dispatch,
    fresh,
    kinds_for,
    png,
    team_dispatch,
    whistled,
)
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def yellow(time_machine, dispatch: Dispatch) -> Dispatch:
    """Move the clock to the dispatch's yellow point (its board copy)."""
    dispatch.refresh_from_db()
    time_machine.move_to(dispatch.clock_warn_at + timedelta(seconds=1), tick=False)
    return dispatch


def red(time_machine, dispatch: Dispatch) -> Dispatch:
    dispatch.refresh_from_db()
    time_machine.move_to(dispatch.clock_due_at + timedelta(minutes=1), tick=False)
    return dispatch


# --- urge ------------------------------------------------------------------------------------


def test_a_unit_on_time_cannot_be_urged_and_nothing_is_written(org):
    case = whistled(org)
    dispatch = team_dispatch(case)
    with pytest.raises(IllegalTransition) as refused:
        urge_dispatch(user=org.town_committee, dispatch_id=dispatch.pk, note="Hurry")
    with translation.override("en"):
        assert "on time" in str(refused.value.message)
    assert not Event.objects.filter(action="urge").exists()
    assert fresh(case).version == case.version


def test_urging_a_yellow_unit_records_it_and_tells_its_captains(org, time_machine):
    case = whistled(org)
    dispatch = yellow(time_machine, team_dispatch(case))
    urge_dispatch(
        user=org.town_committee,
        dispatch_id=dispatch.pk,
        note="  Report in now  ",
        expected_version=case.version,
    )
    event = Event.objects.get(action="urge")
    assert (event.dispatch, event.actor, event.public) == (dispatch, org.town_committee, False)
    assert event.data == {"handler": org.team.code, "note": "Report in now"}
    assert fresh(case).version == case.version + 1
    assert kinds_for(org.captain, case).count("dispatch_urged") == 1
    assert "dispatch_urged" not in kinds_for(org.liaison, case)  # the other unit is not told


def test_a_red_unit_can_be_urged_by_the_city_and_the_supervisor(org, time_machine):
    case = whistled(org)
    dispatch = red(time_machine, department_dispatch(case))
    urge_dispatch(user=org.city_committee, dispatch_id=dispatch.pk, note="Report in")
    urge_dispatch(user=org.supervisor, dispatch_id=dispatch.pk, note="Report in, again")
    assert Event.objects.filter(action="urge", dispatch=dispatch).count() == 2
    assert kinds_for(org.liaison, case).count("dispatch_urged") == 2


def test_urging_needs_a_note(org, time_machine):
    case = whistled(org)
    dispatch = yellow(time_machine, team_dispatch(case))
    with pytest.raises(InvalidInput) as refused:
        urge_dispatch(user=org.town_committee, dispatch_id=dispatch.pk, note="   ")
    assert list(refused.value.fields) == ["note"]
    assert not Event.objects.filter(action="urge").exists()


def test_only_the_committees_and_supervisors_urge(org, time_machine):
    case = whistled(org)
    dispatch = yellow(time_machine, team_dispatch(case))
    for user in (org.captain, org.member, org.liaison, org.village_officer, org.grid_worker):
        with pytest.raises(NotAllowed):
            urge_dispatch(user=user, dispatch_id=dispatch.pk, note="Hurry")
    # Another town's committee does not see the case at all.
    stranger = UserFactory(username="othertown")
    MembershipFactory(user=stranger, role=Role.TOWN_COMMITTEE, region=org.other_town)
    with pytest.raises(NotInScope):
        urge_dispatch(user=stranger, dispatch_id=dispatch.pk, note="Hurry")
    assert not Event.objects.filter(action="urge").exists()


def test_a_reported_unit_on_time_again_or_a_withdrawn_one_is_not_urged(org, time_machine):
    case = whistled(org)
    team = yellow(time_machine, team_dispatch(case))
    report_in(user=org.captain, dispatch_id=team.pk)
    team.refresh_from_db()
    assert team.clock_warn_at > fresh_now()  # now the handling clock, still green
    with pytest.raises(IllegalTransition):
        urge_dispatch(user=org.town_committee, dispatch_id=team.pk, note="Hurry")
    department = department_dispatch(case)
    cancel_dispatch(user=org.town_committee, dispatch_id=department.pk, reason="Wrong unit")
    with pytest.raises(IllegalTransition):
        urge_dispatch(user=org.town_committee, dispatch_id=department.pk, note="Hurry")


def fresh_now() -> datetime:
    return timezone.now()


# --- supervision orders ----------------------------------------------------------------------


def test_a_supervision_order_needs_a_future_deadline_and_a_note(org, time_machine):
    case = whistled(org)
    dispatch = yellow(time_machine, team_dispatch(case))
    now = fresh_now()
    with pytest.raises(InvalidInput) as refused:
        issue_supervision_order(
            user=org.town_committee,
            dispatch_id=dispatch.pk,
            note="Solve it",
            due_at=now - timedelta(hours=1),
        )
    assert list(refused.value.fields) == ["due_at"]
    with pytest.raises(InvalidInput) as refused:
        issue_supervision_order(
            user=org.town_committee, dispatch_id=dispatch.pk, note="Solve it", due_at=None
        )
    assert list(refused.value.fields) == ["due_at"]
    with pytest.raises(InvalidInput) as refused:
        issue_supervision_order(
            user=org.town_committee, dispatch_id=dispatch.pk, note="", due_at=now + timedelta(1)
        )
    assert list(refused.value.fields) == ["note"]
    assert not SupervisionOrder.objects.exists()
    assert not Event.objects.filter(action="supervise").exists()


def test_a_supervision_order_is_kept_and_its_unit_told(org, time_machine):
    case = whistled(org)
    dispatch = yellow(time_machine, team_dispatch(case))
    due = fresh_now() + timedelta(days=2)
    order = issue_supervision_order(
        user=org.supervisor, dispatch_id=dispatch.pk, note="Solve it by Thursday", due_at=due
    )
    order.refresh_from_db()
    assert (order.case, order.dispatch, order.issued_by) == (case, dispatch, org.supervisor)
    assert (order.due_at, order.met_at, order.note) == (due, None, "Solve it by Thursday")
    event = Event.objects.get(action="supervise")
    assert event.data["order"] == order.pk and event.dispatch == dispatch
    assert kinds_for(org.captain, case).count("supervision_ordered") == 1


def test_an_order_is_met_when_its_unit_resolves_its_part_late_after_its_deadline(org, time_machine):
    case = whistled(org)
    department = red(time_machine, department_dispatch(case))
    order = issue_supervision_order(
        user=org.city_committee,
        dispatch_id=department.pk,
        note="Report in and clear it",
        due_at=fresh_now() + timedelta(hours=1),
    )
    report_in(user=org.liaison, dispatch_id=department.pk)
    time_machine.move_to(fresh_now() + timedelta(hours=2), tick=False)
    resolve_dispatch(user=org.liaison, dispatch_id=department.pk, note="Cleared", photos=[png()])
    order.refresh_from_db()
    assert order.met_at == fresh_now()
    assert order.met_late


def test_resolving_the_case_meets_every_open_order_on_time(org, time_machine):
    case = whistled(org)
    team = red(time_machine, team_dispatch(case))
    department = department_dispatch(case)
    due = fresh_now() + timedelta(days=1)
    first = issue_supervision_order(
        user=org.town_committee, dispatch_id=team.pk, note="Report in", due_at=due
    )
    second = issue_supervision_order(
        user=org.town_committee, dispatch_id=department.pk, note="Report in too", due_at=due
    )
    report_in(user=org.captain, dispatch_id=team.pk)
    resolve_case(user=org.captain, case_id=case.pk, note="Cleared", photos=[png()])
    for order in (first, second):
        order.refresh_from_db()
        assert order.met_at == fresh_now() and not order.met_late
