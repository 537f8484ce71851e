"""What the town's team and the departments do: report in, assign, record handling, resolve,
ask for a consultation; what the town command does to dispatches."""

from datetime import timedelta

import pytest

from cases.errors import IllegalTransition, InvalidInput, NotAllowed, NotInScope, StaleCase
from cases.models import Attachment, Deadline, Dispatch, Level, Status
from cases.services import (
    add_dispatch,
    assign_dispatch,
    cancel_dispatch,
    record_handling,
    report_in,
    request_consultation,
    resolve_case,
    resolve_dispatch,
)
from checklists.models import Stage
from teams.models import Department, DepartmentKind
from tests.cases.engine_steps import (
    T0,
    actions,
    at,
    department_dispatch,
    fresh,
    in_progress,
    kinds_for,
    png,
    team_dispatch,
    whistled,
)


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def market(org) -> Department:
    return Department.objects.create(
        code="T-MS",
        kind=DepartmentKind.objects.get(code="market_supervision"),
        region=org.town,
        name_zh="市场监管所",
        name_en="Market supervision office",
    )


# --- report in ------------------------------------------------------------------------------


def test_first_report_in_moves_the_case_later_ones_keep_it(org, time_machine):
    case = whistled(org)
    team, department = team_dispatch(case), department_dispatch(case)
    time_machine.move_to(T0 + timedelta(minutes=20), tick=False)
    report_in(user=org.captain, dispatch_id=team.pk, expected_version=case.version)
    case = fresh(case)
    assert (case.status, case.version) == (Status.IN_PROGRESS, 4)
    team.refresh_from_db()
    assert (team.state, team.reported_in_by, team.late) == (
        Dispatch.State.REPORTED,
        org.captain,
        False,
    )
    assert team.reported_in_at == T0 + timedelta(minutes=20)
    assert Deadline.objects.get(dispatch=team, stage=Stage.REPORT_IN).met_at == team.reported_in_at
    # The department's clock still runs.
    assert Deadline.objects.get(dispatch=department, stage=Stage.REPORT_IN).met_at is None

    report_in(user=org.liaison, dispatch_id=department.pk)
    case = fresh(case)
    assert (case.status, case.version) == (Status.IN_PROGRESS, 5)
    events = list(case.events.filter(action="report_in").order_by("id"))
    assert [(e.dispatch, e.from_status, e.to_status, e.actor) for e in events] == [
        (team, Status.DISPATCHED, Status.IN_PROGRESS, org.captain),
        (department, Status.IN_PROGRESS, Status.IN_PROGRESS, org.liaison),
    ]
    assert events[0].data == {"handler": org.team.code, "late": False}


def test_report_in_after_the_limit_is_late(org, time_machine):
    case = whistled(org)
    dispatch = team_dispatch(case)
    assert dispatch.report_in_due == at(2025, 6, 10, 11, 0)
    time_machine.move_to(at(2025, 6, 10, 11, 0), tick=False)
    report_in(user=org.captain, dispatch_id=dispatch.pk)
    dispatch.refresh_from_db()
    assert dispatch.late is False  # exactly at the limit is on time
    time_machine.move_to(at(2025, 6, 10, 11, 1), tick=False)
    other = department_dispatch(case)
    report_in(user=org.liaison, dispatch_id=other.pk)
    other.refresh_from_db()
    assert other.late is True
    assert fresh(case).events.filter(action="report_in").last().data["late"] is True


def test_a_team_member_may_report_in_for_the_team(org):
    """handles_dispatch lets members of the dispatched team report in, not only the captain."""
    case = whistled(org)
    dispatch = team_dispatch(case)
    report_in(user=org.member, dispatch_id=dispatch.pk)
    dispatch.refresh_from_db()
    assert (dispatch.state, dispatch.reported_in_by) == (Dispatch.State.REPORTED, org.member)
    assert fresh(case).status == Status.IN_PROGRESS


def test_who_may_not_report_in(org):
    case = whistled(org)
    team, department = team_dispatch(case), department_dispatch(case)
    with pytest.raises(NotInScope):
        report_in(user=org.other_captain, dispatch_id=team.pk)  # another town: no such case
    with pytest.raises(NotAllowed):
        report_in(user=org.liaison, dispatch_id=team.pk)  # not the liaison's dispatch
    with pytest.raises(NotAllowed):
        report_in(user=org.captain, dispatch_id=department.pk)
    with pytest.raises(NotAllowed):
        report_in(user=org.town_committee, dispatch_id=team.pk)
    with pytest.raises(StaleCase):
        report_in(user=org.captain, dispatch_id=team.pk, expected_version=case.version - 1)
    case = fresh(case)
    assert (case.status, case.version) == (Status.DISPATCHED, 3)
    assert not Dispatch.objects.filter(state=Dispatch.State.REPORTED).exists()
    report_in(user=org.captain, dispatch_id=team.pk)
    with pytest.raises(IllegalTransition):
        report_in(user=org.captain, dispatch_id=team.pk)
    assert actions(case).count("report_in") == 1


# --- assign and record handling ------------------------------------------------------------


def test_the_captain_assigns_a_member_of_the_team(org):
    case = in_progress(org)
    dispatch = team_dispatch(case)
    version = fresh(case).version
    assign_dispatch(user=org.captain, dispatch_id=dispatch.pk, assignee_id=org.member.pk)
    dispatch.refresh_from_db()
    assert dispatch.assignee == org.member
    event = case.events.get(action="assign")
    assert (event.dispatch, event.data) == (dispatch, {"assignee": org.member.username})
    assert fresh(case).version == version + 1
    assert kinds_for(org.member, case) == ["case_assigned"]


def test_assigning_an_outsider_or_by_a_non_captain_is_refused(org):
    case = in_progress(org)
    dispatch = team_dispatch(case)
    for outsider in (org.liaison, org.other_captain, org.grid_worker):
        with pytest.raises(InvalidInput):
            assign_dispatch(user=org.captain, dispatch_id=dispatch.pk, assignee_id=outsider.pk)
    with pytest.raises(NotAllowed):
        assign_dispatch(user=org.member, dispatch_id=dispatch.pk, assignee_id=org.member.pk)
    with pytest.raises(NotAllowed):  # a department dispatch has no members to assign
        assign_dispatch(
            user=org.captain, dispatch_id=department_dispatch(case).pk, assignee_id=org.member.pk
        )
    dispatch.refresh_from_db()
    assert dispatch.assignee is None
    assert "assign" not in actions(case)


def test_record_handling_after_report_in(org):
    case = whistled(org)
    dispatch = team_dispatch(case)
    with pytest.raises(IllegalTransition):
        record_handling(user=org.captain, dispatch_id=dispatch.pk, note="On our way")
    report_in(user=org.captain, dispatch_id=dispatch.pk)
    with pytest.raises(InvalidInput):
        record_handling(user=org.captain, dispatch_id=dispatch.pk, note=" ")
    record_handling(user=org.captain, dispatch_id=dispatch.pk, note="Arrived", photos=[png()])
    record_handling(user=org.member, dispatch_id=dispatch.pk, note="Owner told to clear it")
    dispatch.refresh_from_db()
    assert dispatch.handling_note == "Arrived\nOwner told to clear it"
    assert dispatch.handled_at == T0
    events = list(case.events.filter(action="handle").order_by("id"))
    assert [e.data["note"] for e in events] == ["Arrived", "Owner told to clear it"]
    attachment = Attachment.objects.get()
    assert (attachment.event, attachment.dispatch, attachment.purpose) == (
        events[0],
        dispatch,
        "handling",
    )
    assert fresh(case).status == Status.IN_PROGRESS


# --- resolving -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "photos", "instrument"),
    [("", "photo", ""), ("Cleared", None, ""), ("", None, ""), ("  ", None, "  ")],
)
def test_resolve_needs_evidence(org, note, photos, instrument):
    case = in_progress(org)
    before = fresh(case)
    with pytest.raises(InvalidInput):
        resolve_case(
            user=org.captain,
            case_id=case.pk,
            note=note,
            photos=[png()] if photos else None,
            legal_instrument_number=instrument,
        )
    after = fresh(case)
    assert (after.status, after.version, after.resolved_at) == (
        Status.IN_PROGRESS,
        before.version,
        None,
    )
    assert Attachment.objects.count() == 0
    assert not Deadline.objects.filter(stage=Stage.VERIFICATION).exists()


def test_the_captain_resolves_with_photos_and_a_note(org, time_machine):
    case = in_progress(org)
    time_machine.move_to(at(2025, 6, 10, 14, 0), tick=False)
    resolve_case(user=org.captain, case_id=case.pk, note="Cleared away", photos=[png()])
    case = fresh(case)
    assert (case.status, case.level, case.resolved_level) == (
        Status.RESOLVED,
        Level.TOWN,
        Level.TOWN,
    )
    assert (case.resolved_at, case.resolution_note) == (at(2025, 6, 10, 14, 0), "Cleared away")
    assert set(case.dispatches.values_list("state", flat=True)) == {Dispatch.State.RESOLVED}
    assert not case.deadlines.exclude(stage=Stage.VERIFICATION).filter(met_at__isnull=True).exists()
    verification = case.deadlines.get(stage=Stage.VERIFICATION)
    assert verification.due_at == at(2025, 6, 11, 14, 0)
    event = case.events.get(action="resolve")
    assert Attachment.objects.get().event == event
    assert kinds_for(org.grid_worker, case) == ["case_resolved"]


def test_a_legal_instrument_number_is_evidence_enough(org):
    case = in_progress(org)
    resolve_case(
        user=org.captain, case_id=case.pk, note="", legal_instrument_number="HN-ZF-2025-017"
    )
    case = fresh(case)
    assert (case.status, case.legal_instrument_number) == (Status.RESOLVED, "HN-ZF-2025-017")
    assert case.events.get(action="resolve").data["legal_instrument_number"] == "HN-ZF-2025-017"


@pytest.mark.parametrize("role", ["liaison", "member", "town_committee"])
def test_only_a_captain_of_a_dispatched_team_resolves(org, role):
    case = in_progress(org)
    report_in(user=org.liaison, dispatch_id=department_dispatch(case).pk)
    with pytest.raises(NotAllowed):
        resolve_case(user=getattr(org, role), case_id=case.pk, note="Done", photos=[png()])
    assert fresh(case).status == Status.IN_PROGRESS


def test_a_department_resolves_its_own_part(org):
    case = in_progress(org)
    dispatch = department_dispatch(case)
    with pytest.raises(IllegalTransition):
        resolve_dispatch(user=org.liaison, dispatch_id=dispatch.pk, note="Done", photos=[png()])
    report_in(user=org.liaison, dispatch_id=dispatch.pk)
    with pytest.raises(InvalidInput):
        resolve_dispatch(user=org.liaison, dispatch_id=dispatch.pk, note="Done")
    resolve_dispatch(
        user=org.liaison, dispatch_id=dispatch.pk, note="Fined the owner", photos=[png()]
    )
    dispatch.refresh_from_db()
    assert (dispatch.state, dispatch.resolved_at) == (Dispatch.State.RESOLVED, T0)
    assert fresh(case).status == Status.IN_PROGRESS
    assert case.events.get(action="resolve_dispatch").dispatch == dispatch
    assert not dispatch.deadlines.filter(met_at__isnull=True).exists()


# --- consultation ---------------------------------------------------------------------------


def test_the_captain_asks_the_town_for_a_consultation(org, time_machine):
    case = in_progress(org)
    time_machine.move_to(at(2025, 6, 10, 10, 0), tick=False)
    with pytest.raises(InvalidInput):
        request_consultation(user=org.captain, case_id=case.pk, reason="")
    with pytest.raises(NotAllowed):
        request_consultation(user=org.liaison, case_id=case.pk, reason="Too hard")
    assert fresh(case).status == Status.IN_PROGRESS
    request_consultation(user=org.captain, case_id=case.pk, reason="Needs the bureau")
    case = fresh(case)
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.TOWN)
    assert case.events.get(action="request_consultation").data == {"reason": "Needs the bureau"}
    assert case.deadlines.get(stage=Stage.HANDLING, dispatch=None).met_at == at(2025, 6, 10, 10, 0)
    consultation = case.deadlines.get(stage=Stage.TOWN_CONSULTATION)
    assert consultation.due_at == at(2025, 6, 13, 10, 0)  # 3 working days: Friday
    assert kinds_for(org.town_committee, case) == ["case_whistled", "consultation_requested"]


# --- the town command's dispatches -------------------------------------------------------------


def test_the_town_committee_adds_a_dispatch(org, market):
    case = in_progress(org)
    with pytest.raises(NotAllowed):
        add_dispatch(user=org.captain, case_id=case.pk, department_id=market.pk)
    with pytest.raises(InvalidInput):
        add_dispatch(user=org.town_committee, case_id=case.pk, team_id=org.other_team.pk)
    with pytest.raises(InvalidInput):  # already dispatched there
        add_dispatch(user=org.town_committee, case_id=case.pk, department_id=org.department.pk)
    with pytest.raises(InvalidInput):
        add_dispatch(
            user=org.town_committee,
            case_id=case.pk,
            team_id=org.team.pk,
            department_id=market.pk,
        )
    dispatch = add_dispatch(
        user=org.town_committee, case_id=case.pk, department_id=market.pk, task="Check the licence"
    )
    assert (dispatch.origin, dispatch.task, dispatch.state) == (
        Dispatch.Origin.ADDED,
        "Check the licence",
        Dispatch.State.WAITING,
    )
    assert dispatch.deadlines.get(stage=Stage.REPORT_IN).due_at == dispatch.report_in_due
    assert case.events.get(action="add_dispatch").data == {
        "handler": market.code,
        "task": "Check the licence",
    }
    assert case.dispatches.count() == 3
    assert fresh(case).status == Status.IN_PROGRESS


def test_add_dispatch_refused_before_the_town_has_the_case(org, market):
    from tests.cases.engine_steps import accepted

    case = accepted(org)
    with pytest.raises(IllegalTransition):
        add_dispatch(user=org.town_committee, case_id=case.pk, department_id=market.pk)
    assert not case.dispatches.exists()


def test_the_town_committee_cancels_a_dispatch(org):
    case = whistled(org)
    dispatch = department_dispatch(case)
    with pytest.raises(InvalidInput):
        cancel_dispatch(user=org.town_committee, dispatch_id=dispatch.pk, reason="")
    with pytest.raises(NotAllowed):
        cancel_dispatch(user=org.captain, dispatch_id=dispatch.pk, reason="Wrong")
    cancel_dispatch(user=org.town_committee, dispatch_id=dispatch.pk, reason="Not theirs")
    dispatch.refresh_from_db()
    assert dispatch.state == Dispatch.State.CANCELLED
    assert dispatch.deadlines.get(stage=Stage.REPORT_IN).met_at == T0
    assert case.events.get(action="cancel_dispatch").data == {
        "handler": org.department.code,
        "reason": "Not theirs",
    }
    assert "dispatch_cancelled" in kinds_for(org.liaison, case)
    with pytest.raises(IllegalTransition):
        cancel_dispatch(user=org.town_committee, dispatch_id=dispatch.pk, reason="Again")
    with pytest.raises(IllegalTransition):
        report_in(user=org.liaison, dispatch_id=dispatch.pk)
