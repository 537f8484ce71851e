"""Transfers (移交): a case filed in the wrong place moved to the right village by the level that
owns it, screened there again with fresh clocks, its dispatches ended without a penalty; a
dispatch routed to the wrong unit moved to the right team or department with a fresh report-in
clock. Every refusal changes nothing."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import translation

from cases import sweep
from cases.errors import IllegalTransition, InvalidInput, NotAllowed, NotInScope
from cases.models import Case, Deadline, Dispatch, Event, Level, Notification, Status
from cases.services import (
    Task,
    decide_consultation,
    escalate_case,
    reject_case,
    request_consultation,
    resolve_case,
    transfer_case,
    transfer_dispatch,
)
from cases.workflow import available_actions, available_dispatch_actions
from checklists.models import Stage
from teams.models import Department, Grid, Region, Role, Team, User
from tests.cases.engine_steps import (
    T0,
    accepted,
    file_case,
    fresh,
    in_progress,
    kinds_for,
    png,
    team_dispatch,
    whistled,
)
from tests.factories import (
    CityFactory,
    GridFactory,
    MembershipFactory,
    TeamFactory,
    TownFactory,
    UserFactory,
    VillageFactory,
    square_polygon,
)


@pytest.fixture(autouse=True)
def _english():
    """The refusals are read in English here (the default language is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def holder(username: str, role: str, **place: object) -> User:
    user = UserFactory(username=username)
    MembershipFactory(user=user, role=role, **place)
    return user


@dataclass
class Elsewhere:
    """The places a case may be moved to, and who answers for them."""

    far_village: Region  # a village of the org's other town
    far_grid: Grid
    far_officer: User
    far_town_committee: User
    near_officer: User  # the officer of the org's other village (same town)
    foreign_village: Region  # a village of another city


@pytest.fixture
def elsewhere(org) -> Elsewhere:
    far_village = VillageFactory(parent=org.other_town)
    far_grid = GridFactory(village=far_village, polygon=square_polygon(120.90, 30.50))
    foreign_village = VillageFactory(parent=TownFactory(parent=CityFactory(code="XX")))
    GridFactory(village=foreign_village, polygon=square_polygon(121.50, 30.50))
    return Elsewhere(
        far_village=far_village,
        far_grid=far_grid,
        far_officer=holder("far-vo", Role.VILLAGE_OFFICER, region=far_village),
        far_town_committee=holder("far-town", Role.TOWN_COMMITTEE, region=org.other_town),
        near_officer=holder("near-vo", Role.VILLAGE_OFFICER, region=org.other_village),
        foreign_village=foreign_village,
    )


def clocks(case: Case) -> list[tuple]:
    return list(
        Deadline.objects.filter(case=case)
        .order_by("pk")
        .values_list("pk", "stage", "dispatch_id", "started_at", "met_at", "fired_at")
    )


def state_of(case: Case) -> tuple:
    """Everything a refused transfer must leave as it was."""
    row = fresh(case)
    return (
        row.status,
        row.level,
        row.version,
        row.village_id,
        row.town_id,
        row.grid_id,
        sorted(row.dispatches.values_list("pk", "state", "team_id", "department_id")),
        Event.objects.filter(case=case).count(),
        clocks(case),
        Notification.objects.filter(case=case).count(),
    )


# --- a case to another village ----------------------------------------------------------------


def test_the_town_committee_moves_a_filed_whistle_to_another_village(org, elsewhere, time_machine):
    case = file_case(org)
    version = case.version
    old_screening = Deadline.objects.get(case=case, stage=Stage.SCREENING)
    time_machine.move_to(T0 + timedelta(minutes=15), tick=False)
    transfer_case(
        user=org.town_committee,
        case_id=case.pk,
        village_id=org.other_village.pk,
        reason="  The bridge is on the other bank  ",
        expected_version=version,
    )
    case = fresh(case)
    assert (case.status, case.level, case.version) == (Status.FILED, Level.VILLAGE, version + 1)
    # The pin lies in no grid of the new village: the case takes its first grid.
    assert (case.village, case.town, case.grid) == (org.other_village, org.town, org.other_grid)
    event = Event.objects.get(case=case, action="transfer")
    assert (event.actor, event.from_status, event.to_status, event.public) == (
        org.town_committee,
        Status.FILED,
        Status.FILED,
        True,
    )
    assert event.data["reason"] == "The bridge is on the other bank"
    assert (event.data["from_village"], event.data["to_village"]) == (
        org.village.code,
        org.other_village.code,
    )
    assert (event.data["from_town"], event.data["to_town"]) == (org.town.code, org.town.code)
    assert event.data["ended"] == []
    # The old screening clock is done; a fresh one runs by the item's screening limit.
    old_screening.refresh_from_db()
    assert (old_screening.met_at, old_screening.fired_at) == (T0 + timedelta(minutes=15), None)
    new_screening = Deadline.objects.get(case=case, stage=Stage.SCREENING, met_at=None)
    assert new_screening.started_at == T0 + timedelta(minutes=15)
    assert new_screening.due_at - new_screening.started_at == (
        old_screening.due_at - old_screening.started_at
    )
    # The new village screens it; the old one is told it has gone and no longer sees it.
    assert kinds_for(elsewhere.near_officer, case) == ["case_transferred"]
    told = Notification.objects.get(recipient=elsewhere.near_officer, kind="case_transferred")
    assert told.data["reason"] == "The bridge is on the other bank"
    assert "case_transferred_away" in kinds_for(org.village_officer, case)
    assert "case_transferred" not in kinds_for(org.town_committee, case)  # its own town
    assert "accept" in available_actions(user=elsewhere.near_officer, case=case)
    with pytest.raises(NotInScope):
        transfer_case(
            user=org.village_officer, case_id=case.pk, village_id=org.village.pk, reason="Back"
        )


def test_the_city_moves_a_dispatched_case_to_another_town(org, elsewhere, time_machine):
    case = in_progress(org)  # the team reported in; the department still waits
    time_machine.move_to(T0 + timedelta(hours=1), tick=False)
    transfer_case(
        user=org.city_committee,
        case_id=case.pk,
        village_id=elsewhere.far_village.pk,
        reason="Filed in the wrong town",
    )
    case = fresh(case)
    assert (case.status, case.level) == (Status.FILED, Level.VILLAGE)
    assert (case.village, case.town, case.city, case.grid) == (
        elsewhere.far_village,
        org.other_town,
        org.city,
        elsewhere.far_grid,
    )
    # Every open dispatch ended, off the boards; every clock of the wrong place is done.
    dispatches = list(case.dispatches.all())
    assert {d.state for d in dispatches} == {Dispatch.State.CANCELLED}
    assert not any(d.on_board for d in dispatches)
    running = Deadline.objects.filter(case=case, met_at=None, fired_at=None)
    assert list(running.values_list("stage", "dispatch")) == [(Stage.SCREENING, None)]
    event = Event.objects.get(case=case, action="transfer")
    assert (event.from_status, event.from_level, event.to_level) == (
        Status.IN_PROGRESS,
        Level.TOWN,
        Level.VILLAGE,
    )
    assert sorted(event.data["ended"]) == sorted([org.team.code, org.department.code])
    assert event.data["to_town"] == org.other_town.code
    # The units are told their dispatch ended; the new town and village that it is theirs.
    assert "dispatch_transferred" in kinds_for(org.captain, case)
    assert "dispatch_transferred" in kinds_for(org.liaison, case)
    assert "case_transferred" in kinds_for(elsewhere.far_officer, case)
    assert "case_transferred" in kinds_for(elsewhere.far_town_committee, case)
    # The team is off the case; the new village screens it, then whistles it to its own town.
    assert available_actions(user=org.captain, case=case) == []
    assert {"accept", "whistle"} <= set(available_actions(user=elsewhere.far_officer, case=case))


def test_a_city_case_is_the_city_committees_to_move(org, elsewhere):
    case = in_progress(org)
    request_consultation(user=org.captain, case_id=case.pk, reason="Needs the city")
    escalate_case(user=org.town_committee, case_id=case.pk, reason="Beyond the town")
    decide_consultation(
        user=org.city_committee,
        case_id=case.pk,
        decision="The other town's village handles it",
        tasks=[Task(action="Clear", due_at=T0 + timedelta(days=5), team_id=org.team.pk)],
    )
    case = fresh(case)
    assert (case.level, case.status) == (Level.CITY, Status.IN_PROGRESS)
    with pytest.raises(NotAllowed):
        transfer_case(
            user=org.town_committee, case_id=case.pk, village_id=org.other_village.pk, reason="x"
        )
    transfer_case(
        user=org.city_committee,
        case_id=case.pk,
        village_id=elsewhere.far_village.pk,
        reason="Belongs to the far village",
    )
    case = fresh(case)
    assert (case.level, case.status, case.town) == (Level.VILLAGE, Status.FILED, org.other_town)
    # The decision's task clock ended with its dispatch.
    assert not Deadline.objects.filter(case=case, stage=Stage.HANDLING, met_at=None).exists()


@pytest.mark.parametrize(
    ("target", "reason", "field"),
    [
        (None, "Wrong place", "village"),
        ("own", "Wrong place", "village"),  # the same village
        ("far", "Wrong place", "village"),  # another town: outside the town committee's reach
        ("foreign", "Wrong place", "village"),  # another city
        ("town", "Wrong place", "village"),  # a town is not a village
        ("near", "   ", "reason"),
        ("near", "x" * 4001, "reason"),
    ],
)
def test_bad_transfers_are_refused_and_change_nothing(org, elsewhere, target, reason, field):
    case = whistled(org)
    villages = {
        None: None,
        "own": org.village.pk,
        "far": elsewhere.far_village.pk,
        "foreign": elsewhere.foreign_village.pk,
        "town": org.other_town.pk,
        "near": org.other_village.pk,
    }
    before = state_of(case)
    with pytest.raises(InvalidInput) as refused:
        transfer_case(
            user=org.town_committee, case_id=case.pk, village_id=villages[target], reason=reason
        )
    assert set(refused.value.fields) == {field}
    assert state_of(case) == before


def test_both_mistakes_are_named_at_once(org):
    case = file_case(org)
    with pytest.raises(InvalidInput) as refused:
        transfer_case(user=org.town_committee, case_id=case.pk, village_id=None, reason="")
    assert set(refused.value.fields) == {"village", "reason"}


def test_a_village_without_a_grid_cannot_take_a_case(org):
    empty = VillageFactory(parent=org.town)
    case = file_case(org)
    before = state_of(case)
    with pytest.raises(InvalidInput) as refused:
        transfer_case(user=org.town_committee, case_id=case.pk, village_id=empty.pk, reason="x")
    assert "village" in refused.value.fields
    assert state_of(case) == before


def test_the_pin_chooses_the_grid_of_the_new_village(org):
    # The other village's second grid borders the grid worker's (120.695-120.705).
    second = GridFactory(village=org.other_village, polygon=square_polygon(120.71, 30.50))
    # Filed in the grid worker's own grid, with a pin 50 m across the border: within the
    # tolerance of a GPS fix, in the other village's grid.
    case = file_case(org, grid=org.grid, latitude=30.501, longitude=120.7055)
    assert fresh(case).grid == org.grid
    transfer_case(
        user=org.town_committee, case_id=case.pk, village_id=org.other_village.pk, reason="x"
    )
    assert fresh(case).grid == second


def test_a_rejected_or_resolved_case_is_not_transferred(org):
    rejected = file_case(org)
    reject_case(user=org.village_officer, case_id=rejected.pk, reason="Not for whistling")
    resolved = in_progress(org)
    resolve_case(user=org.captain, case_id=resolved.pk, note="Cleared", photos=[png()])
    for case in (rejected, resolved):
        before = state_of(case)
        with pytest.raises(IllegalTransition):
            transfer_case(
                user=org.town_committee,
                case_id=case.pk,
                village_id=org.other_village.pk,
                reason="Wrong place",
            )
        assert state_of(case) == before
        assert "transfer" not in available_actions(user=org.town_committee, case=fresh(case))


def test_only_the_owning_committee_transfers(org, elsewhere):
    case = accepted(org)
    for user in (org.village_officer, org.grid_worker, org.supervisor):
        with pytest.raises(NotAllowed):
            transfer_case(
                user=user, case_id=case.pk, village_id=org.other_village.pk, reason="Wrong place"
            )
        assert "transfer" not in available_actions(user=user, case=case)
    with pytest.raises(NotInScope):  # another town's committee does not see the case
        transfer_case(
            user=elsewhere.far_town_committee,
            case_id=case.pk,
            village_id=elsewhere.far_village.pk,
            reason="Ours",
        )
    assert fresh(case).village == org.village
    for user in (org.town_committee, org.city_committee):
        assert "transfer" in available_actions(user=user, case=case)


def test_a_late_dispatch_ended_by_a_transfer_stays_off_the_sweep(org, elsewhere, time_machine):
    case = whistled(org)
    dispatch = team_dispatch(case)
    transfer_case(
        user=org.town_committee, case_id=case.pk, village_id=org.other_village.pk, reason="x"
    )
    time_machine.move_to(dispatch.report_in_due + timedelta(minutes=1), tick=False)
    sweep.sweep(now=dispatch.report_in_due + timedelta(minutes=1))
    dispatch.refresh_from_db()
    assert not dispatch.late
    assert not Event.objects.filter(case=case, action__in=["report_in_late", "overdue"]).exists()


# --- a dispatch to another unit ---------------------------------------------------------------


@pytest.fixture
def second_team(org) -> Team:
    return TeamFactory(region=org.town, kind=Team.Kind.PROFESSIONAL)


def test_the_town_moves_a_dispatch_to_the_right_team(org, second_team, time_machine):
    second_captain = holder("cap3", Role.TEAM_CAPTAIN, team=second_team)
    case = whistled(org)
    old = team_dispatch(case)
    version = case.version
    time_machine.move_to(T0 + timedelta(minutes=30), tick=False)
    new = transfer_dispatch(
        user=org.town_committee,
        dispatch_id=old.pk,
        team_id=second_team.pk,
        reason="Bridges are the professional team's",
        expected_version=version,
    )
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, old.on_board) == (Dispatch.State.CANCELLED, False)
    assert (new.team, new.origin, new.state, new.on_board) == (
        second_team,
        Dispatch.Origin.TRANSFER,
        Dispatch.State.WAITING,
        True,
    )
    assert new.dispatched_at == T0 + timedelta(minutes=30)
    # The old unit's report-in clock is done; the new unit's starts now by the item's limit.
    old_clock = Deadline.objects.get(dispatch=old, stage=Stage.REPORT_IN)
    assert old_clock.met_at == T0 + timedelta(minutes=30)
    new_clock = Deadline.objects.get(dispatch=new, stage=Stage.REPORT_IN)
    assert (new_clock.started_at, new_clock.met_at, new_clock.due_at) == (
        new.dispatched_at,
        None,
        new.report_in_due,
    )
    assert new_clock.due_at - new_clock.started_at == old_clock.due_at - old_clock.started_at
    case = fresh(case)
    assert (case.status, case.version) == (Status.DISPATCHED, version + 1)
    event = Event.objects.get(case=case, action="transfer_dispatch")
    assert (event.dispatch, event.actor) == (old, org.town_committee)
    assert event.data == {
        "reason": "Bridges are the professional team's",
        "handler": org.team.code,
        "to_handler": second_team.code,
        "dispatch": new.pk,
    }
    assert "dispatch_transferred" in kinds_for(org.captain, case)
    assert "case_whistled" in kinds_for(second_captain, case)
    # The new team reports in; the old one has nothing left to do.
    assert "report_in" in available_dispatch_actions(user=second_captain, dispatch=new)
    assert available_dispatch_actions(user=org.captain, dispatch=old) == []


def test_a_reported_dispatch_may_go_to_a_department(org):
    case = in_progress(org)
    old = team_dispatch(case)
    other = Department.objects.create(
        code="HN-WB",
        kind=org.department.kind,
        region=org.town,
        name_zh="水务站",
        name_en="Water station",
    )
    new = transfer_dispatch(
        user=org.town_committee, dispatch_id=old.pk, department_id=other.pk, reason="Water's"
    )
    assert (new.department, new.team) == (other, None)
    # The case stays in progress: the department reports in on its own clock.
    assert fresh(case).status == Status.IN_PROGRESS


@pytest.mark.parametrize(
    ("target", "reason", "field"),
    [
        ({}, "Wrong unit", "handler"),  # neither
        ({"team_id": "own"}, "Wrong unit", "handler"),  # the same unit
        ({"team_id": "far"}, "Wrong unit", "handler"),  # another town's team
        ({"department_id": "dispatched"}, "Wrong unit", "handler"),  # already on the case
        ({"team_id": "second", "department_id": "dispatched"}, "Wrong unit", "handler"),
        ({"team_id": "second"}, "  ", "reason"),
    ],
)
def test_bad_dispatch_transfers_are_refused_and_change_nothing(
    org, second_team, target, reason, field
):
    case = whistled(org)
    dispatch = team_dispatch(case)
    ids = {
        "own": org.team.pk,
        "far": org.other_team.pk,
        "dispatched": org.department.pk,
        "second": second_team.pk,
    }
    before = state_of(case)
    with pytest.raises(InvalidInput) as refused:
        transfer_dispatch(
            user=org.town_committee,
            dispatch_id=dispatch.pk,
            reason=reason,
            **{key: ids[value] for key, value in target.items()},
        )
    assert set(refused.value.fields) == {field}
    assert state_of(case) == before


def test_only_the_committee_at_the_case_level_moves_a_dispatch(org, second_team):
    case = whistled(org)
    dispatch = team_dispatch(case)
    for user in (org.captain, org.liaison, org.village_officer, org.city_committee):
        with pytest.raises(NotAllowed):
            transfer_dispatch(
                user=user, dispatch_id=dispatch.pk, team_id=second_team.pk, reason="x"
            )
    with pytest.raises(NotInScope):
        transfer_dispatch(
            user=org.other_captain, dispatch_id=dispatch.pk, team_id=second_team.pk, reason="x"
        )
    dispatch.refresh_from_db()
    assert dispatch.state == Dispatch.State.WAITING


def test_an_ended_dispatch_is_not_moved(org, second_team):
    case = whistled(org)
    dispatch = team_dispatch(case)
    transfer_dispatch(
        user=org.town_committee, dispatch_id=dispatch.pk, team_id=second_team.pk, reason="x"
    )
    before = state_of(case)
    with pytest.raises(IllegalTransition) as refused:
        transfer_dispatch(
            user=org.town_committee, dispatch_id=dispatch.pk, team_id=org.team.pk, reason="y"
        )
    assert "still with its unit" in str(refused.value.message)
    assert state_of(case) == before
