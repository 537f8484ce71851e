"""A dispatch returned (退回) by its team or department before its report-in limit, the
committee's re-dispatch clock, and the committee's ruling on the return (upheld, overruled)."""

from datetime import timedelta

import pytest
from django.utils import translation

from cases import sweep
from cases.errors import IllegalTransition, InvalidInput, NotAllowed, NotInScope
from cases.models import Deadline, Dispatch, Event, Level, Notification, Status
from cases.services import (
    Task,
    add_dispatch,
    decide_consultation,
    escalate_case,
    report_in,
    request_consultation,
    request_postponement,
    return_dispatch,
    review_return,
)
from cases.workflow import available_actions
from checklists.models import Stage, TimeUnit
from teams.models import Team
from tests.cases.engine_steps import (
    T0,
    actions,
    department_dispatch,
    fresh,
    in_progress,
    kinds_for,
    team_dispatch,
    whistled,
)
from tests.factories import TeamFactory

Reason = Dispatch.ReturnReason
Ruling = Dispatch.ReturnRuling


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def returned(org, *, who=None, reason=Reason.NOT_OUR_DUTY):
    """A whistled case whose team returned its dispatch ten minutes later."""
    case = whistled(org)
    dispatch = team_dispatch(case)
    return_dispatch(
        user=who or org.captain,
        dispatch_id=dispatch.pk,
        reason=reason,
        note="The bridge belongs to the water bureau",
    )
    dispatch.refresh_from_db()
    return fresh(case), dispatch


def redispatch_clock(dispatch: Dispatch) -> Deadline:
    return Deadline.objects.get(dispatch=dispatch, stage=Stage.REDISPATCH)


# --- returning ------------------------------------------------------------------------------


def test_the_captain_returns_a_waiting_dispatch_with_a_reason(org, time_machine):
    case = whistled(org)
    dispatch = team_dispatch(case)
    version = case.version
    time_machine.move_to(T0 + timedelta(minutes=10), tick=False)
    return_dispatch(
        user=org.captain,
        dispatch_id=dispatch.pk,
        reason=Reason.WRONG_PLACE,
        note="  The pile is in the next village  ",
        expected_version=version,
    )
    dispatch.refresh_from_db()
    assert (dispatch.state, dispatch.returned_by, dispatch.returned_at) == (
        Dispatch.State.RETURNED,
        org.captain,
        T0 + timedelta(minutes=10),
    )
    assert (dispatch.return_reason, dispatch.return_note) == (
        Reason.WRONG_PLACE,
        "The pile is in the next village",
    )
    assert not dispatch.on_board  # the boards' copy followed: off the team's board
    case = fresh(case)
    assert case.status == Status.DISPATCHED  # the department is still on it
    assert case.version == version + 1
    event = case.events.get(action="return_dispatch")
    assert (event.actor, event.dispatch, event.public) == (org.captain, dispatch, False)
    assert event.data == {
        "handler": org.team.code,
        "return_reason": "wrong_place",
        "note": "The pile is in the next village",
    }
    # The report-in clock is done; the committee's re-dispatch clock runs on the dispatch.
    report_clock = Deadline.objects.get(dispatch=dispatch, stage=Stage.REPORT_IN)
    assert report_clock.met_at == T0 + timedelta(minutes=10)
    clock = redispatch_clock(dispatch)
    assert (clock.started_at, clock.met_at, clock.fired_at) == (dispatch.returned_at, None, None)
    assert clock.due_at > clock.started_at
    # The town committee is told, with the reason; the team is no longer on the case.
    assert "dispatch_returned" in kinds_for(org.town_committee, case)
    told = Notification.objects.get(recipient=org.town_committee, kind="dispatch_returned")
    assert told.data["reason"] == "The pile is in the next village"
    assert "dispatch_returned" not in kinds_for(org.city_committee, case)


def test_a_member_and_a_liaison_may_return_their_dispatch(org):
    case = whistled(org)
    return_dispatch(
        user=org.member, dispatch_id=team_dispatch(case).pk, reason=Reason.OTHER, note="Not us"
    )
    return_dispatch(
        user=org.liaison,
        dispatch_id=department_dispatch(case).pk,
        reason=Reason.DUPLICATE,
        note="Same as another case",
    )
    states = set(fresh(case).dispatches.values_list("state", flat=True))
    assert states == {Dispatch.State.RETURNED}
    assert Deadline.objects.filter(case=case, stage=Stage.REDISPATCH, met_at=None).count() == 2


@pytest.mark.parametrize(
    ("reason", "note", "field"),
    [
        ("", "Not ours", "return_reason"),
        ("because", "Not ours", "return_reason"),
        (Reason.NOT_OUR_DUTY, "   ", "note"),
        (Reason.NOT_OUR_DUTY, "x" * 4001, "note"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(org, reason, note, field):
    case = whistled(org)
    dispatch = team_dispatch(case)
    with pytest.raises(InvalidInput) as refused:
        return_dispatch(user=org.captain, dispatch_id=dispatch.pk, reason=reason, note=note)
    assert field in refused.value.fields
    dispatch.refresh_from_db()
    assert (dispatch.state, dispatch.returned_at, dispatch.return_reason) == (
        Dispatch.State.WAITING,
        None,
        "",
    )
    assert fresh(case).version == case.version
    assert not Event.objects.filter(case=case, action="return_dispatch").exists()
    assert not Deadline.objects.filter(case=case, stage=Stage.REDISPATCH).exists()


def test_after_the_report_in_limit_only_the_town_may_withdraw_it(org, time_machine):
    case = whistled(org)
    dispatch = team_dispatch(case)
    time_machine.move_to(dispatch.report_in_due, tick=False)
    with pytest.raises(IllegalTransition) as refused:
        return_dispatch(user=org.captain, dispatch_id=dispatch.pk, reason=Reason.OTHER, note="x")
    with translation.override("en"):
        assert "withdraw the dispatch" in str(refused.value.message)
    dispatch.refresh_from_db()
    assert dispatch.state == Dispatch.State.WAITING


def test_a_dispatch_reported_in_cannot_be_returned(org):
    case = in_progress(org)
    with pytest.raises(IllegalTransition):
        return_dispatch(
            user=org.captain, dispatch_id=team_dispatch(case).pk, reason=Reason.OTHER, note="x"
        )


def test_only_the_dispatched_unit_returns_its_dispatch(org):
    case = whistled(org)
    dispatch = team_dispatch(case)
    for user in (org.town_committee, org.village_officer, org.liaison, org.city_committee):
        with pytest.raises(NotAllowed):
            return_dispatch(user=user, dispatch_id=dispatch.pk, reason=Reason.OTHER, note="x")
    with pytest.raises(NotInScope):  # another town's captain does not see the case
        return_dispatch(
            user=org.other_captain, dispatch_id=dispatch.pk, reason=Reason.OTHER, note="x"
        )
    dispatch.refresh_from_db()
    assert dispatch.state == Dispatch.State.WAITING


def test_the_returning_captain_is_no_longer_on_the_case(org):
    case = whistled(org)
    report_in(user=org.liaison, dispatch_id=department_dispatch(case).pk)
    assert "resolve" in available_actions(user=org.captain, case=fresh(case))
    return_dispatch(
        user=org.captain, dispatch_id=team_dispatch(case).pk, reason=Reason.OTHER, note="x"
    )
    left = available_actions(user=org.captain, case=fresh(case))
    assert "resolve" not in left and "request_consultation" not in left


# --- the re-dispatch clock -------------------------------------------------------------------


def test_adding_a_dispatch_meets_the_redispatch_clock(org, time_machine):
    case, dispatch = returned(org)
    time_machine.move_to(T0 + timedelta(minutes=30), tick=False)
    second = TeamFactory(region=org.town, kind=Team.Kind.PROFESSIONAL)
    add_dispatch(user=org.town_committee, case_id=case.pk, team_id=second.pk)
    assert redispatch_clock(dispatch).met_at == T0 + timedelta(minutes=30)


def test_a_redispatch_clock_that_passes_is_overdue_and_tells_the_committee(org, time_machine):
    case, dispatch = returned(org)
    clock = redispatch_clock(dispatch)

    def told(user, kind: str) -> bool:
        return Notification.objects.filter(
            recipient=user, case=case, kind=kind, data__stage=Stage.REDISPATCH
        ).exists()

    time_machine.move_to(clock.warn_at, tick=False)
    sweep.sweep(now=clock.warn_at)
    assert told(org.town_committee, "deadline_warning")
    assert not told(org.captain, "deadline_warning")
    time_machine.move_to(clock.due_at, tick=False)
    assert sweep.sweep(now=clock.due_at) >= 1
    clock.refresh_from_db()
    assert clock.fired_at == clock.due_at
    overdue = Event.objects.get(case=case, action="overdue", data__stage=Stage.REDISPATCH)
    assert (overdue.dispatch, overdue.actor_label) == (dispatch, "timer")
    assert told(org.town_committee, "overdue")
    assert not told(org.captain, "overdue")  # the committee's clock, not the team's
    assert not told(org.city_committee, "overdue")


def test_nobody_on_the_case_may_postpone_the_committees_clock(org):
    case, dispatch = returned(org)
    for user in (org.liaison, org.captain):
        with pytest.raises(NotAllowed):
            request_postponement(
                user=user,
                case_id=case.pk,
                deadline_id=redispatch_clock(dispatch).pk,
                amount=1,
                unit=TimeUnit.WORKING_DAYS,
                reason="Busy",
            )


# --- the committee's ruling ------------------------------------------------------------------


def test_an_upheld_return_leaves_the_committee_to_dispatch_elsewhere(org, time_machine):
    case, dispatch = returned(org)
    time_machine.move_to(T0 + timedelta(minutes=20), tick=False)
    result = review_return(
        user=org.town_committee,
        dispatch_id=dispatch.pk,
        ruling=Ruling.UPHELD,
        note="Right: the water bureau",
    )
    assert result == dispatch
    dispatch.refresh_from_db()
    assert (dispatch.state, dispatch.return_ruling, dispatch.return_ruled_by) == (
        Dispatch.State.RETURNED,
        Ruling.UPHELD,
        org.town_committee,
    )
    assert dispatch.return_ruled_at == T0 + timedelta(minutes=20)
    event = Event.objects.get(case=case, action="uphold_return")
    assert event.data == {
        "handler": org.team.code,
        "ruling": "upheld",
        "note": "Right: the water bureau",
    }
    assert "return_upheld" in kinds_for(org.captain, case)
    assert redispatch_clock(dispatch).met_at is None  # still the committee's to dispatch
    assert fresh(case).dispatches.count() == 2

    with pytest.raises(IllegalTransition):  # one ruling per return
        review_return(user=org.town_committee, dispatch_id=dispatch.pk, ruling=Ruling.OVERRULED)


def test_an_overruled_return_gives_the_same_unit_the_case_back(org, time_machine):
    case, dispatch = returned(org)
    time_machine.move_to(T0 + timedelta(minutes=20), tick=False)
    again = review_return(user=org.town_committee, dispatch_id=dispatch.pk, ruling=Ruling.OVERRULED)
    assert again.pk != dispatch.pk
    again.refresh_from_db()
    assert (again.team, again.origin, again.state) == (
        org.team,
        Dispatch.Origin.OVERRULED,
        Dispatch.State.WAITING,
    )
    assert again.dispatched_at == T0 + timedelta(minutes=20)
    assert again.on_board
    fresh_clock = Deadline.objects.get(dispatch=again, stage=Stage.REPORT_IN)
    assert (fresh_clock.started_at, fresh_clock.met_at) == (again.dispatched_at, None)
    assert fresh_clock.due_at == again.report_in_due
    assert redispatch_clock(dispatch).met_at == T0 + timedelta(minutes=20)
    dispatch.refresh_from_db()
    assert dispatch.return_ruling == Ruling.OVERRULED
    event = Event.objects.get(case=case, action="overrule_return")
    assert (event.dispatch, event.data["ruling"], event.data["dispatch"]) == (
        dispatch,
        "overruled",
        again.pk,
    )
    assert {"return_overruled", "case_whistled"} <= set(kinds_for(org.captain, case))
    # The team is on the case again and reports in as before.
    report_in(user=org.captain, dispatch_id=again.pk)
    assert fresh(case).status == Status.IN_PROGRESS
    assert actions(case)[-3:] == ["return_dispatch", "overrule_return", "report_in"]


@pytest.mark.parametrize("ruling", ["", "maybe"])
def test_a_ruling_must_be_upheld_or_overruled(org, ruling):
    _case, dispatch = returned(org)
    with pytest.raises(InvalidInput) as refused:
        review_return(user=org.town_committee, dispatch_id=dispatch.pk, ruling=ruling)
    assert "return_ruling" in refused.value.fields
    dispatch.refresh_from_db()
    assert dispatch.return_ruling == ""


def test_only_the_committee_at_the_case_level_rules(org):
    _case, dispatch = returned(org)
    for user in (org.captain, org.member, org.village_officer, org.city_committee):
        with pytest.raises(NotAllowed):
            review_return(user=user, dispatch_id=dispatch.pk, ruling=Ruling.UPHELD)


def test_a_dispatch_not_returned_has_no_ruling(org):
    case = whistled(org)
    with pytest.raises(IllegalTransition):
        review_return(
            user=org.town_committee,
            dispatch_id=department_dispatch(case).pk,
            ruling=Ruling.UPHELD,
        )


def test_a_dispatch_the_city_added_is_the_city_committees(org, time_machine):
    case = in_progress(org)
    request_consultation(user=org.captain, case_id=case.pk, reason="Needs the bureau")
    escalate_case(user=org.town_committee, case_id=case.pk, reason="Beyond the town")
    decide_consultation(
        user=org.city_committee,
        case_id=case.pk,
        decision="The bureau clears it",
        tasks=[Task(action="Clear", due_at=T0 + timedelta(days=5), team_id=org.team.pk)],
    )
    case = fresh(case)
    assert case.level == Level.CITY
    decided = case.dispatches.get(origin=Dispatch.Origin.DECISION)
    Notification.objects.all().delete()
    return_dispatch(user=org.captain, dispatch_id=decided.pk, reason=Reason.OTHER, note="x")
    assert "dispatch_returned" in kinds_for(org.city_committee, case)
    assert "dispatch_returned" not in kinds_for(org.town_committee, case)
    with pytest.raises(NotAllowed):
        review_return(user=org.town_committee, dispatch_id=decided.pk, ruling=Ruling.UPHELD)
    review_return(user=org.city_committee, dispatch_id=decided.pk, ruling=Ruling.UPHELD)
    # The city committee dispatches elsewhere itself.
    second = TeamFactory(region=org.town, kind=Team.Kind.PROFESSIONAL)
    add_dispatch(user=org.city_committee, case_id=case.pk, team_id=second.pk)
    decided.refresh_from_db()
    assert redispatch_clock(decided).met_at is not None
