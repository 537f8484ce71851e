"""Returned dispatches (退回) in the facts and the indicators: per unit the returns, the upheld
and the overruled ones; an overruled return is held against the unit (overruled_return_rate,
whose drill-down lists exactly its cases), an upheld one is neither late nor unanswered; the
rebuild from the events gives exactly the incremental facts."""

from datetime import date, timedelta

import pytest

from assessment import selectors
from assessment.models import CaseFact, DispatchFact
from assessment.periods import custom
from assessment.services import rebuild_all_facts, stale_case_ids
from cases.models import Deadline, Dispatch, Event
from cases.services import (
    accept_case,
    add_dispatch,
    file_whistle,
    report_in,
    return_dispatch,
    review_return,
    whistle_to_town,
)
from checklists.models import Stage
from teams.models import Team
from tests.assessment.facts_steps import Driver, eager_celery, snapshot  # noqa: F401
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import LAT, LNG, T0
from tests.factories import TeamFactory

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


def give_back(drive, org, case) -> Dispatch:  # noqa: F811
    dispatch = case.dispatches.get(team=org.team)
    drive(
        return_dispatch,
        user=org.captain,
        dispatch_id=dispatch.pk,
        reason=Dispatch.ReturnReason.NOT_OUR_DUTY,
        note="The water bureau's",
    )
    return dispatch


@pytest.fixture
def returns(org, drive) -> dict:  # noqa: F811
    """Three whistles whose team returns its dispatch: upheld (the town dispatches another of
    its teams instead), overruled (the team gets it back and reports in), and left alone (the
    re-dispatch clock fires)."""
    paths = {}
    case = whistle(drive, org)
    dispatch = give_back(drive, org, case)
    drive.later(minutes=10)
    drive(review_return, user=org.town_committee, dispatch_id=dispatch.pk, ruling="upheld")
    second = TeamFactory(region=org.town, kind=Team.Kind.PROFESSIONAL)
    drive(add_dispatch, user=org.town_committee, case_id=case.pk, team_id=second.pk)
    paths["upheld"] = (case, dispatch)

    case = whistle(drive, org)
    dispatch = give_back(drive, org, case)
    drive.later(minutes=10)
    again = drive(
        review_return, user=org.town_committee, dispatch_id=dispatch.pk, ruling="overruled"
    )
    drive(report_in, user=org.captain, dispatch_id=again.pk)
    paths["overruled"] = (case, dispatch)

    case = whistle(drive, org)
    dispatch = give_back(drive, org, case)
    clock = Deadline.objects.get(dispatch=dispatch, stage=Stage.REDISPATCH)
    drive.sweep_at(clock.due_at + timedelta(seconds=1))
    paths["left"] = (case, dispatch)
    return paths


def test_the_facts_of_a_return_and_its_ruling(org, returns):  # noqa: F811
    upheld = DispatchFact.objects.get(pk=returns["upheld"][1].pk)
    assert (upheld.returned, upheld.return_upheld, upheld.return_overruled) == (True, True, False)
    assert not upheld.late and not upheld.reported_on_time and not upheld.cancelled
    overruled = DispatchFact.objects.get(pk=returns["overruled"][1].pk)
    assert (overruled.returned, overruled.return_upheld, overruled.return_overruled) == (
        True,
        False,
        True,
    )
    case = returns["overruled"][0]
    again = DispatchFact.objects.get(dispatch__case=case, origin=Dispatch.Origin.OVERRULED)
    assert not again.returned and again.reported_on_time
    left = DispatchFact.objects.get(pk=returns["left"][1].pk)
    assert (left.returned, left.return_upheld, left.return_overruled) == (True, False, False)
    # The committee let its re-dispatch clock pass: the case is overdue (the others are not).
    assert CaseFact.objects.get(pk=returns["left"][0].pk).overdue
    overdue = Event.objects.get(case=returns["left"][0], action="overdue")
    assert overdue.data["stage"] == Stage.REDISPATCH
    upheld_clock = Deadline.objects.get(dispatch=returns["upheld"][1], stage=Stage.REDISPATCH)
    assert upheld_clock.met_at is not None and upheld_clock.fired_at is None


def test_an_overruled_return_is_held_against_the_team(org, returns):  # noqa: F811
    values = selectors.indicators(
        user=org.supervisor, unit_type="team", unit_id=org.team.pk, period=SUMMER
    )
    rate = values["overruled_return_rate"]
    # The team received 4 dispatches: the 3 it returned and the overruled case's new one.
    assert (rate.numerator, rate.denominator) == (1, 4)
    assert rate.value == pytest.approx(0.25)
    # Returned dispatches are not unanswered: the response rate counts the one it still had.
    response = values["response_rate"]
    assert (response.numerator, response.denominator) == (1, 1)
    for part, expected in (("numerator", 1), ("denominator", 4)):  # a row per dispatch
        behind = selectors.cases_behind(
            user=org.supervisor,
            indicator_key="overruled_return_rate",
            part=part,
            unit_type="team",
            unit_id=org.team.pk,
            period=SUMMER,
        )
        assert behind.count() == expected, part
    behind = selectors.cases_behind(
        user=org.supervisor,
        indicator_key="overruled_return_rate",
        part="numerator",
        unit_type="team",
        unit_id=org.team.pk,
        period=SUMMER,
    )
    assert list(behind.values_list("pk", flat=True)) == [returns["overruled"][0].pk]
    # The department returned nothing.
    department = selectors.indicators(
        user=org.supervisor, unit_type="department", unit_id=org.department.pk, period=SUMMER
    )
    assert department["overruled_return_rate"].numerator == 0


def test_a_returned_case_counts_for_the_team_only_when_it_has_it_again(org, returns):  # noqa: F811
    due = selectors.cases_behind(
        user=org.supervisor,
        indicator_key="rework_rate",
        part="denominator",
        unit_type="team",
        unit_id=org.team.pk,
        period=SUMMER,
    )
    # Only the overruled case is the team's again; the upheld and the left ones are not.
    assert list(due.values_list("pk", flat=True)) == [returns["overruled"][0].pk]


def test_rebuild_gives_exactly_the_incremental_facts_of_returns(org, returns):  # noqa: F811
    incremental = snapshot()
    assert stale_case_ids() == []
    assert rebuild_all_facts(batch_size=2) == len(returns)
    assert snapshot() == incremental
