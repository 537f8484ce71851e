"""Transfers (移交) in the facts and the indicators: a dispatch ended by a transfer is cancelled,
so it is held against its unit in no rate (not even one already late), the unit it moved to
counts from its own report-in clock, a case moved to another village counts for that village;
the rebuild from the events gives exactly the incremental facts."""

from datetime import date, timedelta

import pytest

from assessment import selectors
from assessment.models import CaseFact, DispatchFact
from assessment.periods import custom
from assessment.services import rebuild_all_facts, stale_case_ids
from cases.models import Deadline, Dispatch
from cases.services import (
    accept_case,
    file_whistle,
    report_in,
    transfer_case,
    transfer_dispatch,
    whistle_to_town,
)
from checklists.models import Stage
from teams.models import Role, Team
from tests.assessment.facts_steps import Driver, eager_celery, snapshot  # noqa: F401
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import LAT, LNG, T0
from tests.factories import MembershipFactory, TeamFactory, UserFactory

SUMMER = custom(date(2025, 6, 1), date(2025, 8, 31))


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def drive(django_capture_on_commit_callbacks, time_machine, eager_celery):  # noqa: F811
    return Driver(django_capture_on_commit_callbacks, time_machine)


def whistle(drive, org):  # noqa: F811
    case = drive.filed(
        file_whistle,
        user=org.grid_worker,
        item=org.item,
        description="Garbage piled beside the bridge",
        latitude=LAT,
        longitude=LNG,
    )
    drive(accept_case, user=org.village_officer, case_id=case.pk)
    drive(whistle_to_town, user=org.village_officer, case_id=case.pk, note="Too big")
    return case


@pytest.fixture
def transfers(org, drive) -> dict:  # noqa: F811
    """Two whistles: one whose team let its report-in limit pass before the town moved the
    dispatch to its professional team, which reports in on time; one the town moved to its
    other village with both dispatches still waiting."""
    paths = {}
    case = whistle(drive, org)
    late = case.dispatches.get(team=org.team)
    clock = Deadline.objects.get(dispatch=late, stage=Stage.REPORT_IN)
    drive.sweep_at(clock.due_at + timedelta(seconds=1))
    second = TeamFactory(region=org.town, kind=Team.Kind.PROFESSIONAL)
    new = drive(
        transfer_dispatch,
        user=org.town_committee,
        dispatch_id=late.pk,
        team_id=second.pk,
        reason="Bridges are the professional team's",
    )
    drive.later(minutes=5)
    captain = UserFactory(username="cap3")
    MembershipFactory(user=captain, role=Role.TEAM_CAPTAIN, team=second)
    drive(report_in, user=captain, dispatch_id=new.pk)
    paths["dispatch"] = (case, late, new, second)

    case = whistle(drive, org)
    drive.later(minutes=10)
    drive(
        transfer_case,
        user=org.town_committee,
        case_id=case.pk,
        village_id=org.other_village.pk,
        reason="Filed in the wrong village",
    )
    paths["case"] = (case,)
    return paths


def test_a_transferred_dispatch_is_cancelled_in_the_facts(org, transfers):  # noqa: F811
    _case, late, new, second = transfers["dispatch"]
    old = DispatchFact.objects.get(pk=late.pk)
    assert old.cancelled and old.late  # late before the transfer, and cancelled by it
    fact = DispatchFact.objects.get(pk=new.pk)
    assert (fact.team_id, fact.origin, fact.cancelled, fact.late) == (
        second.pk,
        Dispatch.Origin.TRANSFER,
        False,
        False,
    )
    (case,) = transfers["case"]
    moved = CaseFact.objects.get(pk=case.pk)
    assert (moved.village_id, moved.town_id) == (org.other_village.pk, org.town.pk)
    assert all(fact.cancelled for fact in DispatchFact.objects.filter(case_fact_id=case.pk))


def test_the_old_unit_is_not_held_to_a_dispatch_transferred_away(org, transfers):  # noqa: F811
    values = selectors.indicators(
        user=org.supervisor, unit_type="team", unit_id=org.team.pk, period=SUMMER
    )
    # Its two dispatches (one late) were transferred away: it answers for none of them.
    response = values["response_rate"]
    assert (response.numerator, response.denominator) == (0, 0)
    due = selectors.cases_behind(
        user=org.supervisor,
        indicator_key="rework_rate",
        part="denominator",
        unit_type="team",
        unit_id=org.team.pk,
        period=SUMMER,
    )
    assert due.count() == 0
    _case, _late, _new, second = transfers["dispatch"]
    values = selectors.indicators(
        user=org.supervisor, unit_type="team", unit_id=second.pk, period=SUMMER
    )
    response = values["response_rate"]
    assert (response.numerator, response.denominator) == (1, 1)


def test_rebuild_gives_exactly_the_incremental_facts_of_transfers(org, transfers):  # noqa: F811
    incremental = snapshot()
    assert stale_case_ids() == []
    assert rebuild_all_facts(batch_size=1) == len(transfers)
    assert snapshot() == incremental
