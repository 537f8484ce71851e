"""Spot checks (抽查): a supervisor draws a reproducible random sample of a unit's closed cases
and records each revisit; "not actually resolved" reopens the case to the same unit as a false
reply (虚假回复). Bad input is refused with nothing changed."""

import pytest
from django.utils import translation

from cases.errors import IllegalTransition, InvalidInput, NotAllowed, NotInScope
from cases.models import Attachment, Deadline, Dispatch, Event, Notification, Status
from cases.services import report_in
from cases.workflow import available_actions
from checklists.models import Stage
from spotchecks.models import SpotCheck, SpotCheckCase
from spotchecks.services import record_revisit, sample
from tests.cases.engine_steps import T0, actions, fresh, kinds_for, team_dispatch
from tests.spotchecks.steps import DAY, closed_cases, draw, not_an_image, png


@pytest.fixture(autouse=True)
def _english():
    """The refusals are read in English here (the default language is Chinese)."""
    with translation.override("en"):
        yield


Outcome = SpotCheckCase.Outcome


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def nothing_drawn() -> None:
    assert not SpotCheck.objects.exists()
    assert not SpotCheckCase.objects.exists()
    assert not Event.objects.filter(action="spot_check_drawn").exists()


# --- the draw -------------------------------------------------------------------------------


def test_the_draw_is_recorded_and_reproducible(org):
    cases = closed_cases(org, 5)
    spot_check = draw(org, size=3, seed=1234)
    ids = sorted(case.pk for case in cases)
    assert spot_check.population == ids
    assert (
        spot_check.seed == 1234 and spot_check.size == 3 and spot_check.drawn_by == org.supervisor
    )
    drawn = list(spot_check.cases.order_by("position").values_list("case_id", flat=True))
    assert drawn == sample(population=ids, size=3, seed=1234)
    assert len(set(drawn)) == 3
    # Each drawn case has the step in its trace and waits for its revisit, with the team's reply.
    for row in spot_check.cases.all():
        assert row.outcome == Outcome.PENDING
        assert row.dispatch == team_dispatch(row.case)
        assert actions(row.case)[-1] == "spot_check_drawn"
    # Revisited and confirmed, the same seed over the same closed cases draws the same sample.
    for case_id in drawn:
        record_revisit(user=org.supervisor, case_id=case_id, outcome=Outcome.CONFIRMED)
    again = draw(org, size=3, seed=1234)
    assert again.population == ids
    assert list(again.cases.order_by("position").values_list("case_id", flat=True)) == drawn


def test_a_new_seed_is_chosen_and_recorded_when_none_is_given(org):
    closed_cases(org, 2)
    spot_check = draw(org, size=2)
    assert 0 <= spot_check.seed < 2**31
    assert sorted(spot_check.cases.values_list("case_id", flat=True)) == spot_check.population


def test_only_the_units_cases_closed_in_the_period_are_drawn(org, time_machine):
    cases = closed_cases(org, 2)
    other_day = DAY.replace(day=DAY.day + 1)
    with pytest.raises(InvalidInput) as refused:
        draw(org, size=1, closed_from=other_day, closed_to=other_day)
    assert "size" in refused.value.fields
    # The department's dispatch was resolved with the case: the same two are its closed cases.
    by_department = draw(org, size=1, team_id=None, department_id=org.department.pk)
    assert by_department.population == [case.pk for case in cases]
    # A case waiting for its revisit is not drawn again.
    (waiting,) = by_department.cases.values_list("case_id", flat=True)
    assert draw(org, size=1).population == [case.pk for case in cases if case.pk != waiting]
    assert by_department.cases.get().dispatch.department == org.department


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"size": 4}, "size"),  # larger than the 3 closed cases
        ({"size": 0}, "size"),
        ({"size": -1}, "size"),
        ({"team_id": None}, "team"),  # no unit
        ({"department_id": 1}, "team"),  # two units
        ({"closed_to": DAY.replace(day=DAY.day - 1)}, "closed_to"),
        ({"seed": 2**40}, "seed"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_drawn(org, change, field):
    closed_cases(org, 3)
    with pytest.raises(InvalidInput) as refused:
        draw(org, **{"size": 2, **change})
    assert field in refused.value.fields
    nothing_drawn()


def test_a_unit_of_another_city_is_refused(org):
    from tests.factories import CityFactory, TeamFactory, TownFactory

    elsewhere = TeamFactory(region=TownFactory(parent=CityFactory(code="SZ")))
    closed_cases(org, 1)
    with pytest.raises(InvalidInput) as refused:
        draw(org, size=1, team_id=elsewhere.pk)
    assert "team" in refused.value.fields
    nothing_drawn()


@pytest.mark.parametrize("role", ["captain", "town_committee", "city_committee", "grid_worker"])
def test_only_supervisors_draw(org, role):
    closed_cases(org, 1)
    with pytest.raises(NotAllowed):
        draw(org, size=1, user=getattr(org, role))
    nothing_drawn()


# --- the revisit ----------------------------------------------------------------------------


def test_a_confirmed_revisit_leaves_the_case_closed_with_an_event(org):
    (case,) = closed_cases(org, 1)
    draw(org, size=1, seed=7)
    version = fresh(case).version
    row = record_revisit(
        user=org.supervisor,
        case_id=case.pk,
        outcome=Outcome.CONFIRMED,
        note="Still clean",
        photos=[png()],
        expected_version=version,
    )
    assert row.outcome == Outcome.CONFIRMED and row.recorded_by == org.supervisor
    case = fresh(case)
    assert case.status == Status.CLOSED
    event = Event.objects.get(case=case, action="spot_check_confirmed")
    assert event.dispatch == team_dispatch(case) and row.event == event
    assert event.attachments.get().purpose == Attachment.Purpose.VERIFICATION
    assert "record_spot_check" not in available_actions(user=org.supervisor, case=case)


def test_not_actually_resolved_reopens_the_case_to_the_same_unit(org):
    (case,) = closed_cases(org, 1)
    draw(org, size=1, seed=7)
    reply = team_dispatch(case)
    row = record_revisit(
        user=org.supervisor,
        case_id=case.pk,
        outcome=Outcome.FALSE_REPLY,
        note="The pile is back",
        photos=[png()],
    )
    case = fresh(case)
    assert row.outcome == Outcome.FALSE_REPLY
    assert case.status == Status.DISPATCHED and case.closed_at is None
    event = Event.objects.get(case=case, action="spot_check_failed")
    assert (event.from_status, event.to_status, event.dispatch) == (
        Status.CLOSED,
        Status.DISPATCHED,
        reply,
    )
    assert event.public and event.attachments.count() == 1
    # A new dispatch to the same team, waiting for its report-in, with fresh clocks.
    again = Dispatch.objects.get(pk=event.data["dispatch"])
    assert again.team == org.team and again.state == Dispatch.State.WAITING and again.on_board
    assert Deadline.objects.filter(dispatch=again, stage=Stage.REPORT_IN, met_at=None).exists()
    assert Deadline.objects.filter(
        case=case, dispatch=None, stage=Stage.HANDLING, met_at=None
    ).exists()
    # The team's captain and the town committee are told.
    assert "false_reply" in kinds_for(org.captain, case)
    assert "false_reply" in kinds_for(org.town_committee, case)
    assert not Notification.objects.filter(recipient=org.supervisor, kind="false_reply").exists()
    # The team reports in on the new dispatch and works the case again.
    report_in(user=org.captain, dispatch_id=again.pk)
    assert fresh(case).status == Status.IN_PROGRESS


def test_the_outcome_is_recorded_once(org):
    (case,) = closed_cases(org, 1)
    draw(org, size=1)
    record_revisit(user=org.supervisor, case_id=case.pk, outcome=Outcome.CONFIRMED)
    events = Event.objects.filter(case=case).count()
    with pytest.raises(IllegalTransition) as refused:
        record_revisit(
            user=org.supervisor,
            case_id=case.pk,
            outcome=Outcome.FALSE_REPLY,
            note="Back",
            photos=[png()],
        )
    assert "already recorded" in str(refused.value.message)
    assert Event.objects.filter(case=case).count() == events
    assert fresh(case).status == Status.CLOSED


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": Outcome.FALSE_REPLY, "note": "", "photos": [png()]}, "note"),
        ({"outcome": Outcome.FALSE_REPLY, "note": "Back"}, "photos"),
        ({"outcome": Outcome.FALSE_REPLY, "note": "Back", "photos": [not_an_image()]}, "photos"),
        ({"outcome": Outcome.CONFIRMED, "photos": [not_an_image()]}, "photos"),
    ],
)
def test_a_bad_revisit_is_refused_and_changes_nothing(org, data, field):
    (case,) = closed_cases(org, 1)
    draw(org, size=1)
    before = (fresh(case).version, Event.objects.filter(case=case).count())
    with pytest.raises(InvalidInput) as refused:
        record_revisit(user=org.supervisor, case_id=case.pk, **data)
    assert field in refused.value.fields
    case = fresh(case)
    assert (case.version, Event.objects.filter(case=case).count()) == before
    assert case.status == Status.CLOSED
    assert SpotCheckCase.objects.get(case=case).outcome == Outcome.PENDING
    # No new dispatch, and no revisit photo stored.
    assert case.dispatches.count() == 2
    assert not Attachment.objects.filter(
        case=case, purpose=Attachment.Purpose.VERIFICATION
    ).exists()


@pytest.mark.parametrize("role", ["captain", "town_committee", "city_committee", "village_officer"])
def test_only_supervisors_record_a_revisit(org, role):
    (case,) = closed_cases(org, 1)
    draw(org, size=1)
    with pytest.raises(NotAllowed):
        record_revisit(user=getattr(org, role), case_id=case.pk, outcome=Outcome.CONFIRMED)
    assert SpotCheckCase.objects.get(case=case).outcome == Outcome.PENDING


def test_a_case_outside_the_scope_does_not_exist(org):
    from tests.security.scenario import build_org

    (case,) = closed_cases(org, 1)
    draw(org, size=1)
    other = build_org(prefix="x", city_code="SZ", lng=121.50)
    with pytest.raises(NotInScope):
        record_revisit(user=other.supervisor, case_id=case.pk, outcome=Outcome.CONFIRMED)


def test_a_case_no_longer_closed_cannot_be_revisited(org):
    from cases.services import reopen_case

    (case,) = closed_cases(org, 1)
    draw(org, size=1)
    reopen_case(user=org.town_committee, case_id=case.pk, reason="The whistler called again")
    with pytest.raises(IllegalTransition):
        record_revisit(user=org.supervisor, case_id=case.pk, outcome=Outcome.CONFIRMED)
