"""Closing the loop: verification on site (pass, or fail back to rework) and the whistler's
evaluation, by a logged-in reporter or a citizen with the tracking code."""

from datetime import timedelta

import pytest

from cases.errors import IllegalTransition, InvalidInput, NotAllowed, NotInScope
from cases.models import Attachment, Dispatch, Level, Satisfaction, Source, Status
from cases.services import evaluate_case, file_whistle, resolve_on_spot, verify_case
from checklists.models import Stage
from tests.cases.engine_steps import (
    LAT,
    LNG,
    T0,
    accepted,
    actions,
    department_dispatch,
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


def solved_on_spot(org):
    case = accepted(org)
    return resolve_on_spot(user=org.village_officer, case_id=case.pk, note="Done", photos=[png()])


def closed(org):
    case = resolved_by_team(org)
    return verify_case(user=org.grid_worker, case_id=case.pk, passed=True)


# --- verification ----------------------------------------------------------------------------


def test_verify_pass_closes_the_case(org, time_machine):
    case = resolved_by_team(org)
    time_machine.move_to(T0 + timedelta(hours=3), tick=False)
    verify_case(
        user=org.village_officer,
        case_id=case.pk,
        passed=True,
        reason="Looks clean",
        photos=[png()],
        expected_version=fresh(case).version,
    )
    case = fresh(case)
    assert (case.status, case.closed_at, case.rework_count) == (
        Status.CLOSED,
        T0 + timedelta(hours=3),
        0,
    )
    event = case.events.get(action="verify_pass")
    assert (event.actor, event.data) == (org.village_officer, {"note": "Looks clean"})
    assert Attachment.objects.get(purpose="verification").event == event
    assert case.deadlines.get(stage=Stage.VERIFICATION).met_at == T0 + timedelta(hours=3)
    assert not case.deadlines.filter(met_at__isnull=True, fired_at__isnull=True).exists()
    assert "case_closed" in kinds_for(org.grid_worker, case)  # the whistler hears of it


def test_the_grid_worker_who_verifies_is_not_told_of_their_own_close(org):
    case = closed(org)
    assert fresh(case).status == Status.CLOSED
    assert "case_closed" not in kinds_for(org.grid_worker, case)


def test_who_may_verify(org):
    case = resolved_by_team(org)
    for user in (org.captain, org.town_committee, org.supervisor):
        with pytest.raises(NotAllowed):
            verify_case(user=user, case_id=case.pk, passed=True)
    with pytest.raises(NotInScope):
        verify_case(user=org.other_grid_worker, case_id=case.pk, passed=True)
    assert fresh(case).status == Status.RESOLVED
    assert "verify_pass" not in actions(case)


def test_only_a_resolved_case_is_verified(org):
    case = in_progress(org)
    with pytest.raises(IllegalTransition):
        verify_case(user=org.grid_worker, case_id=case.pk, passed=True)
    assert fresh(case).status == Status.IN_PROGRESS


@pytest.mark.parametrize(("reason", "photos"), [("", True), ("Still dirty", False)])
def test_verify_fail_needs_a_reason_and_a_photo(org, reason, photos):
    case = resolved_by_team(org)
    version = fresh(case).version
    with pytest.raises(InvalidInput):
        verify_case(
            user=org.grid_worker,
            case_id=case.pk,
            passed=False,
            reason=reason,
            photos=[png()] if photos else [],
        )
    case = fresh(case)
    assert (case.status, case.rework_count, case.version) == (Status.RESOLVED, 0, version)
    assert not Attachment.objects.filter(purpose="verification").exists()


def test_verify_fail_sends_a_town_case_back_to_the_team(org, time_machine):
    case = resolved_by_team(org)
    time_machine.move_to(T0 + timedelta(hours=1), tick=False)
    verify_case(
        user=org.grid_worker,
        case_id=case.pk,
        passed=False,
        reason="Half of it is still there",
        photos=[png()],
    )
    case = fresh(case)
    assert (case.status, case.level, case.rework_count) == (Status.IN_PROGRESS, Level.TOWN, 1)
    event = case.events.get(action="verify_fail")
    assert (event.from_status, event.to_status) == (Status.RESOLVED, Status.IN_PROGRESS)
    assert event.data == {"reason": "Half of it is still there", "rework_count": 1}
    assert Attachment.objects.get(purpose="verification").event == event
    # The team that reported in works it again; the department never reported in: it still
    # waits for its report-in, not shown (nor charged) as reported in.
    assert team_dispatch(case).state == Dispatch.State.REPORTED
    assert department_dispatch(case).state == Dispatch.State.WAITING
    assert case.deadlines.get(stage=Stage.VERIFICATION).met_at == T0 + timedelta(hours=1)
    handling = case.deadlines.filter(stage=Stage.HANDLING, met_at__isnull=True, dispatch=None)
    assert handling.get().started_at == T0 + timedelta(hours=1)
    assert "rework" in kinds_for(org.captain, case)
    assert "rework" in kinds_for(org.liaison, case)
    # A second failure counts again.
    from cases.services import resolve_case

    resolve_case(user=org.captain, case_id=case.pk, note="Cleared again", photos=[png()])
    verify_case(user=org.grid_worker, case_id=case.pk, passed=False, reason="No", photos=[png()])
    assert fresh(case).rework_count == 2


def test_verify_fail_sends_a_case_solved_on_the_spot_back_to_the_village(org):
    case = solved_on_spot(org)
    verify_case(
        user=org.grid_worker, case_id=case.pk, passed=False, reason="Not done", photos=[png()]
    )
    case = fresh(case)
    assert (case.status, case.level, case.rework_count) == (
        Status.VILLAGE_HANDLING,
        Level.VILLAGE,
        1,
    )
    assert case.events.get(action="verify_fail").to_status == Status.VILLAGE_HANDLING
    assert case.deadlines.filter(stage=Stage.VILLAGE_HANDLING, met_at__isnull=True).count() == 1
    assert kinds_for(org.village_officer, case) == ["case_filed", "rework"]


# --- evaluation ------------------------------------------------------------------------------


def test_the_whistler_evaluates_once(org):
    case = closed(org)
    with pytest.raises(InvalidInput):
        evaluate_case(user=org.grid_worker, case_id=case.pk, satisfaction="thrilled")
    evaluate_case(
        user=org.grid_worker,
        case_id=case.pk,
        satisfaction=Satisfaction.BASICALLY_SATISFIED,
        comment="Slow but done",
    )
    case = fresh(case)
    assert (case.status, case.satisfaction) == (Status.CLOSED, Satisfaction.BASICALLY_SATISFIED)
    event = case.events.get(action="evaluate")
    assert (event.actor, event.from_status, event.to_status) == (
        org.grid_worker,
        Status.CLOSED,
        Status.CLOSED,
    )
    assert event.data == {"satisfaction": "basically_satisfied", "comment": "Slow but done"}
    with pytest.raises(IllegalTransition):
        evaluate_case(user=org.grid_worker, case_id=case.pk, satisfaction=Satisfaction.SATISFIED)
    assert fresh(case).satisfaction == Satisfaction.BASICALLY_SATISFIED
    assert actions(case).count("evaluate") == 1


def test_only_the_whistler_evaluates(org):
    case = closed(org)
    with pytest.raises(NotAllowed):
        evaluate_case(user=org.village_officer, case_id=case.pk, satisfaction="satisfied")
    with pytest.raises(NotInScope):
        evaluate_case(user=org.other_grid_worker, case_id=case.pk, satisfaction="satisfied")
    assert fresh(case).satisfaction == ""


def test_an_open_case_cannot_be_evaluated(org):
    case = resolved_by_team(org)
    with pytest.raises(IllegalTransition):
        evaluate_case(user=org.grid_worker, case_id=case.pk, satisfaction="satisfied")
    assert fresh(case).satisfaction == ""


def test_a_citizen_evaluates_with_the_tracking_code(org):
    case = file_whistle(
        user=None,
        source=Source.HOTLINE,
        item=org.item,
        description="Garbage behind the school",
        latitude=LAT,
        longitude=LNG,
        contact_phone="12345",
    ).case
    from cases.services import accept_case

    accept_case(user=org.village_officer, case_id=case.pk)
    resolve_on_spot(user=org.village_officer, case_id=case.pk, note="Done", photos=[png()])
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True)
    for code in ("", "WRONGCODE2345678", case.tracking_code.lower()):
        with pytest.raises(NotInScope):
            evaluate_case(user=None, case_id=case.pk, satisfaction="satisfied", tracking_code=code)
    assert fresh(case).satisfaction == ""
    evaluate_case(
        user=None,
        case_id=case.pk,
        satisfaction=Satisfaction.UNSATISFIED,
        tracking_code=case.tracking_code,
    )
    case = fresh(case)
    assert case.satisfaction == Satisfaction.UNSATISFIED
    event = case.events.get(action="evaluate")
    assert (event.actor, event.actor_label, event.public) == (None, "citizen", True)
