"""The village's verbs: accept, reject, solve on the spot, whistle up to the town."""

from datetime import timedelta

import pytest

from cases.errors import IllegalTransition, InvalidInput, NotAllowed, StaleCase
from cases.models import Attachment, Case, Deadline, Dispatch, Level, Status
from cases.services import accept_case, reject_case, resolve_on_spot, whistle_to_town
from cases.services.village import create_dispatch
from checklists.models import Stage, TimeUnit
from tests.cases.engine_steps import T0, accepted, actions, at, file_case, fresh, kinds_for, png
from tests.factories import TeamFactory


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def deadline(case: Case, stage: str, dispatch: Dispatch | None = None) -> Deadline:
    return Deadline.objects.get(case=case, stage=stage, dispatch=dispatch)


# --- accept ---------------------------------------------------------------------------------


def test_accept_starts_village_handling(org, time_machine):
    case = file_case(org)
    time_machine.move_to(T0 + timedelta(minutes=10), tick=False)
    accept_case(user=org.village_officer, case_id=case.pk, expected_version=1)
    case = fresh(case)
    assert (case.status, case.level, case.version) == (Status.VILLAGE_HANDLING, Level.VILLAGE, 2)
    event = case.events.get(action="accept")
    assert (event.actor, event.from_status, event.to_status) == (
        org.village_officer,
        Status.FILED,
        Status.VILLAGE_HANDLING,
    )
    screening = deadline(case, Stage.SCREENING)
    assert screening.met_at == T0 + timedelta(minutes=10)
    handling = deadline(case, Stage.VILLAGE_HANDLING)
    assert (handling.amount, handling.unit) == (1, TimeUnit.WORKING_DAYS)
    assert handling.started_at == T0 + timedelta(minutes=10)
    # One working day (7.5 office hours) from Tuesday 09:10 is Wednesday 09:10.
    assert handling.due_at == at(2025, 6, 11, 9, 10)
    assert handling.met_at is None


def test_accept_only_by_the_village_officer_and_only_once(org):
    case = file_case(org)
    for user in (org.grid_worker, org.town_committee, org.supervisor):
        with pytest.raises(NotAllowed):
            accept_case(user=user, case_id=case.pk)
    assert fresh(case).status == Status.FILED
    accept_case(user=org.village_officer, case_id=case.pk)
    with pytest.raises(IllegalTransition):
        accept_case(user=org.village_officer, case_id=case.pk)
    with pytest.raises(StaleCase):
        accept_case(user=org.village_officer, case_id=case.pk, expected_version=1)
    assert actions(case) == ["file", "accept"]


# --- reject ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_needs_a_reason(org, reason):
    case = file_case(org)
    with pytest.raises(InvalidInput) as error:
        reject_case(user=org.village_officer, case_id=case.pk, reason=reason)
    assert "reason" in error.value.fields
    case = fresh(case)
    assert (case.status, case.version, case.rejection_reason) == (Status.FILED, 1, "")
    assert actions(case) == ["file"]
    assert kinds_for(org.grid_worker) == []


def test_reject_stores_reason_and_redirect_and_tells_the_reporter(org):
    case = file_case(org)
    reject_case(
        user=org.village_officer,
        case_id=case.pk,
        reason=" Not on the list ",
        redirect="Ask the property company",
        expected_version=1,
    )
    case = fresh(case)
    assert case.status == Status.REJECTED
    assert (case.rejection_reason, case.redirect) == ("Not on the list", "Ask the property company")
    event = case.events.get(action="reject")
    assert event.data == {"reason": "Not on the list", "redirect": "Ask the property company"}
    assert event.public
    assert kinds_for(org.grid_worker, case) == ["case_rejected"]
    assert deadline(case, Stage.SCREENING).met_at == T0
    assert not case.deadlines.filter(met_at__isnull=True).exists()


# --- solve on the spot ---------------------------------------------------------------------


def test_resolve_on_the_spot_needs_a_note_and_a_photo(org):
    case = accepted(org)
    for note, photos in (("", [png()]), ("Cleared it", []), ("  ", None)):
        with pytest.raises(InvalidInput):
            resolve_on_spot(user=org.village_officer, case_id=case.pk, note=note, photos=photos)
    case = fresh(case)
    assert (case.status, case.version, case.resolved_at) == (Status.VILLAGE_HANDLING, 2, None)
    assert Attachment.objects.count() == 0
    assert actions(case) == ["file", "accept"]


def test_resolve_on_the_spot(org, time_machine):
    case = accepted(org)
    time_machine.move_to(T0 + timedelta(hours=2), tick=False)
    resolve_on_spot(
        user=org.village_officer, case_id=case.pk, note="Swept and bagged", photos=[png()]
    )
    case = fresh(case)
    assert (case.status, case.level, case.resolved_level) == (
        Status.RESOLVED,
        Level.VILLAGE,
        Level.VILLAGE,
    )
    assert case.resolved_at == T0 + timedelta(hours=2)
    assert case.resolution_note == "Swept and bagged"
    event = case.events.get(action="resolve_on_spot")
    attachment = Attachment.objects.get()
    assert (attachment.event, attachment.purpose) == (event, "evidence")
    assert deadline(case, Stage.VILLAGE_HANDLING).met_at == T0 + timedelta(hours=2)
    verification = deadline(case, Stage.VERIFICATION)
    assert verification.due_at == at(2025, 6, 11, 11, 0)  # one working day later
    assert "case_resolved" in kinds_for(org.grid_worker, case)


def test_resolve_on_the_spot_only_from_village_handling(org):
    case = file_case(org)
    with pytest.raises(IllegalTransition):
        resolve_on_spot(user=org.village_officer, case_id=case.pk, note="Done", photos=[png()])
    assert fresh(case).status == Status.FILED
    assert Attachment.objects.count() == 0


# --- whistle to the town -------------------------------------------------------------------


def test_whistle_dispatches_the_default_handlers_of_the_town(org, time_machine):
    TeamFactory(region=org.other_town, kind="comprehensive")  # never dispatched: another town
    case = accepted(org)
    time_machine.move_to(T0 + timedelta(hours=1), tick=False)
    whistle_to_town(user=org.village_officer, case_id=case.pk, note="Too big", expected_version=2)
    case = fresh(case)
    assert (case.status, case.level, case.version) == (Status.DISPATCHED, Level.TOWN, 3)
    dispatches = list(case.dispatches.order_by("id"))
    assert [(d.team, d.department) for d in dispatches] == [
        (org.team, None),
        (None, org.department),
    ]
    now = T0 + timedelta(hours=1)
    for dispatch in dispatches:
        assert (dispatch.state, dispatch.origin, dispatch.dispatched_at) == (
            Dispatch.State.WAITING,
            Dispatch.Origin.WHISTLE,
            now,
        )
        report = deadline(case, Stage.REPORT_IN, dispatch)
        assert (report.amount, report.unit) == (2, TimeUnit.WORKING_HOURS)
        assert report.due_at == dispatch.report_in_due == at(2025, 6, 10, 12, 0)
    handling = deadline(case, Stage.HANDLING)
    # 4 working hours from 10:00: two before lunch, two from 13:30.
    assert handling.due_at == at(2025, 6, 10, 15, 30)
    assert deadline(case, Stage.VILLAGE_HANDLING).met_at == now
    event = case.events.get(action="whistle")
    assert event.data == {
        "note": "Too big",
        "teams": [org.team.code],
        "departments": [org.department.code],
    }
    assert (event.from_level, event.to_level) == (Level.VILLAGE, Level.TOWN)
    assert kinds_for(org.captain, case) == ["case_whistled"]
    assert kinds_for(org.liaison, case) == ["case_whistled"]
    assert kinds_for(org.town_committee, case) == ["case_whistled"]
    assert kinds_for(org.other_captain) == []


def test_whistle_straight_from_filed(org):
    case = file_case(org)
    whistle_to_town(user=org.village_officer, case_id=case.pk)
    case = fresh(case)
    assert case.status == Status.DISPATCHED
    assert deadline(case, Stage.SCREENING).met_at == T0
    assert not case.deadlines.filter(stage=Stage.VILLAGE_HANDLING).exists()


def test_a_team_of_another_town_is_never_dispatched(org):
    case = accepted(org)
    with pytest.raises(InvalidInput):
        create_dispatch(case=case, handler=org.other_team)
    assert not Dispatch.objects.filter(team=org.other_team).exists()


def test_whistle_only_by_the_village_officer(org):
    case = accepted(org)
    with pytest.raises(NotAllowed):
        whistle_to_town(user=org.captain, case_id=case.pk)
    case = fresh(case)
    assert (case.status, case.level) == (Status.VILLAGE_HANDLING, Level.VILLAGE)
    assert not case.dispatches.exists()
