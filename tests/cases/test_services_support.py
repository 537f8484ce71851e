"""A "me too" (附议): a grid worker of the village backs an open case instead of filing a
duplicate, once per person; a hotline caller once per caller reference; the whistler is told;
wrong role, wrong place and wrong state change nothing."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from cases.errors import IllegalTransition, InvalidInput, NotAllowed, NotInScope, StaleCase
from cases.models import Event, Source, Status, Supporter
from cases.services import (
    reject_case,
    support_case,
    support_case_for_caller,
)
from cases.workflow import available_actions
from teams.models import Role
from tests.cases.engine_steps import (
    T0,
    accepted,
    actions,
    file_case,
    fresh,
    kinds_for,
    resolved_by_team,
    whistled,
)
from tests.factories import GridFactory, MembershipFactory, UserFactory, square_polygon


@pytest.fixture(autouse=True)
def _english():
    """The refusals are read in English here (the default language is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def neighbour(org):
    """A second grid worker of the case's grid."""
    user = UserFactory(username="gw-next", first_name="Li", last_name="Na")
    MembershipFactory(user=user, role=Role.GRID_WORKER, grid=org.grid)
    return user


def test_a_grid_worker_of_the_village_backs_an_open_case(org, neighbour):
    case = accepted(org)
    version = case.version
    assert "support" in available_actions(user=neighbour, case=case)

    support_case(user=neighbour, case_id=case.pk, note=" Same pile ", expected_version=version)

    row = Supporter.objects.get(case=case)
    assert (row.user, row.source, row.note, row.caller_reference) == (
        neighbour,
        Source.GRID_WORKER,
        "Same pile",
        "",
    )
    assert row.supported_at == T0
    event = Event.objects.get(case=case, action="support")
    assert (event.actor, event.data) == (
        neighbour,
        {"source": Source.GRID_WORKER, "note": "Same pile", "supporters": 1},
    )
    assert event.public is False
    after = fresh(case)
    assert after.version == version + 1
    assert after.status == Status.VILLAGE_HANDLING  # a "me too" moves nothing
    assert kinds_for(org.grid_worker, case) == ["case_supported"]


def test_a_repeated_me_too_does_not_double_the_count(org, neighbour):
    case = accepted(org)
    support_case(user=neighbour, case_id=case.pk)
    version = fresh(case).version

    with pytest.raises(IllegalTransition) as refused:
        support_case(user=neighbour, case_id=case.pk, note="again")

    assert case.number in str(refused.value.message)
    assert "once per person" in str(refused.value.message)
    assert Supporter.objects.filter(case=case).count() == 1
    assert actions(case).count("support") == 1
    assert fresh(case).version == version


def test_the_database_refuses_a_second_row_for_the_same_person(org, neighbour):
    case = accepted(org)
    support_case(user=neighbour, case_id=case.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Supporter.objects.create(
            case=case, user=neighbour, source=Source.GRID_WORKER, supported_at=T0
        )


def test_the_whistler_and_other_roles_may_not_and_nothing_changes(org):
    case = accepted(org)
    for user in (org.grid_worker, org.village_officer, org.town_committee):
        assert "support" not in available_actions(user=user, case=case)
        with pytest.raises(NotAllowed):
            support_case(user=user, case_id=case.pk)
    assert not Supporter.objects.exists()
    assert "support" not in actions(case)


def test_a_grid_worker_of_another_grid_does_not_see_the_case(org):
    case = accepted(org)
    next_door = UserFactory(username="gw-next-grid")
    grid = GridFactory(village=org.village, polygon=square_polygon(120.72, 30.50))
    MembershipFactory(user=next_door, role=Role.GRID_WORKER, grid=grid)
    for user in (org.other_grid_worker, next_door):
        with pytest.raises(NotInScope):
            support_case(user=user, case_id=case.pk)
    assert not Supporter.objects.exists()


@pytest.mark.parametrize("state", ["rejected", "resolved"])
def test_a_rejected_or_resolved_case_takes_no_me_too(org, neighbour, state):
    if state == "rejected":
        case = file_case(org)
        reject_case(user=org.village_officer, case_id=case.pk, reason="Not on the list")
    else:
        case = resolved_by_team(org)
    case = fresh(case)
    assert "support" not in available_actions(user=neighbour, case=case)
    with pytest.raises(IllegalTransition) as refused:
        support_case(user=neighbour, case_id=case.pk)
    assert "not yet resolved" in str(refused.value.message)
    assert not Supporter.objects.exists()


def test_a_stale_version_is_refused(org, neighbour):
    case = accepted(org)
    with pytest.raises(StaleCase):
        support_case(user=neighbour, case_id=case.pk, expected_version=case.version - 1)
    assert not Supporter.objects.exists()


def test_a_too_long_note_changes_nothing(org, neighbour):
    case = accepted(org)
    with pytest.raises(InvalidInput) as refused:
        support_case(user=neighbour, case_id=case.pk, note="x" * 1001)
    assert "note" in refused.value.fields
    assert not Supporter.objects.exists()


def test_hotline_callers_count_once_each(org):
    case = whistled(org)
    support_case_for_caller(
        case_id=case.pk, caller_reference="13800000000", contact_name="Wang", note="Still there"
    )
    support_case_for_caller(case_id=case.pk, caller_reference="13900000000")
    with pytest.raises(IllegalTransition) as refused:
        support_case_for_caller(case_id=case.pk, caller_reference="13800000000")
    assert "This caller already supports" in str(refused.value.message)

    rows = list(Supporter.objects.filter(case=case).values_list("source", "caller_reference"))
    assert rows == [(Source.HOTLINE, "13800000000"), (Source.HOTLINE, "13900000000")]
    events = Event.objects.filter(case=case, action="support").order_by("id")
    assert [(e.actor, e.actor_label, e.data["supporters"]) for e in events] == [
        (None, Source.HOTLINE, 1),
        (None, Source.HOTLINE, 2),
    ]


def test_a_hotline_caller_needs_a_reference(org):
    case = whistled(org)
    with pytest.raises(InvalidInput) as refused:
        support_case_for_caller(case_id=case.pk, caller_reference="  ")
    assert "caller_reference" in refused.value.fields
    assert not Supporter.objects.exists()
