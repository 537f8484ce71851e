"""Who sees which case (404 outside one's scope) and who may act (403 in scope), object grants,
and two people acting on the same case at once."""

import threading

import pytest
from django.db import connection
from guardian.shortcuts import assign_perm

from cases.access import access_case, forget_scope, visible_among, visible_cases
from cases.errors import IllegalTransition, NotAllowed, NotInScope, StaleCase
from cases.models import Case, Event, Source, Status
from cases.services import accept_case, file_whistle, reject_case
from teams.models import Role
from tests.cases.engine_steps import (
    LAT,
    T0,
    actions,
    file_case,
    fresh,
    whistled,
)
from tests.factories import (
    GridFactory,
    MembershipFactory,
    UserFactory,
    VillageFactory,
    square_polygon,
)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def cases(org):
    """`here`: in org.grid, whistled to the town's team and the department; `next_door`: in the
    other village of the same town, only filed; `far`: in the other town, from the hotline."""
    far_grid = GridFactory(
        village=VillageFactory(parent=org.other_town),
        polygon=square_polygon(121.00, 30.50),
    )
    here = whistled(org)
    next_door = file_case(org, user=org.other_grid_worker, latitude=30.50, longitude=120.80)
    far = file_whistle(
        user=None,
        source=Source.HOTLINE,
        item=org.item,
        description="Garbage",
        latitude=30.50,
        longitude=121.00,
    ).case
    assert far.grid == far_grid and far.town == org.other_town
    return here, next_door, far


def seen(user) -> set[int]:
    """The cases the user may see; visible_among, deciding most of them without a query,
    must find the same among all cases."""
    visible = set(visible_cases(user=user).values_list("pk", flat=True))
    among = visible_among(user=user, cases=list(Case.objects.order_by("pk")))
    assert {case.pk for case in among} == visible
    return visible


# --- scope ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("grid_worker", {"here"}),
        ("other_grid_worker", {"next_door"}),
        ("village_officer", {"here"}),
        ("captain", {"here", "next_door"}),
        ("other_captain", {"far"}),
        ("liaison", {"here"}),
        ("member", {"here"}),
        ("town_committee", {"here", "next_door"}),
        ("city_committee", {"here", "next_door", "far"}),
        ("supervisor", {"here", "next_door", "far"}),
    ],
)
def test_each_role_sees_its_own_scope(org, cases, role, expected):
    here, next_door, far = cases
    names = {"here": here.pk, "next_door": next_door.pk, "far": far.pk}
    user = getattr(org, role)
    assert seen(user) == {names[name] for name in expected}
    for name, pk in names.items():
        if name in expected:
            assert access_case(user=user, pk=pk).pk == pk
        else:
            with pytest.raises(NotInScope) as error:
                access_case(user=user, pk=pk)
            assert error.value.http_status == 404


def test_a_liaison_and_a_member_see_a_case_only_once_dispatched(org):
    case = file_case(org)
    assert case.pk not in seen(org.liaison)
    assert case.pk not in seen(org.member)
    from cases.services import whistle_to_town

    whistle_to_town(user=org.village_officer, case_id=case.pk)
    assert case.pk in seen(org.liaison)
    assert case.pk in seen(org.member)


def test_nobody_without_a_place_sees_anything(org, cases):
    stranger = UserFactory(username="stranger")
    assert seen(stranger) == set()
    org.supervisor.is_active = False
    forget_scope(org.supervisor)
    assert seen(org.supervisor) == set()


def test_a_guardian_grant_shows_one_case_to_an_outsider(org, cases):
    here, next_door, far = cases
    lawyer = UserFactory(username="lawyer")
    assign_perm("cases.view_case", lawyer, next_door)
    assert seen(lawyer) == {next_door.pk}
    assert access_case(user=lawyer, pk=next_door.pk) == next_door
    with pytest.raises(NotInScope):
        access_case(user=lawyer, pk=here.pk)
    # A grant adds to a scope: the other town's captain now sees one case of this town.
    assign_perm("cases.view_case", org.other_captain, here)
    assert seen(org.other_captain) == {far.pk, here.pk}


# --- in scope but not allowed, and out of scope ------------------------------------------------


def test_the_supervisor_reads_but_changes_nothing(org):
    case = file_case(org)
    before = Case.objects.values().get(pk=case.pk)
    with pytest.raises(NotAllowed) as error:
        accept_case(user=org.supervisor, case_id=case.pk)
    assert error.value.http_status == 403
    assert Case.objects.values().get(pk=case.pk) == before
    assert actions(case) == ["file"]
    assert case.deadlines.count() == 1


def test_out_of_scope_is_not_found(org):
    case = file_case(org)
    with pytest.raises(NotInScope):
        accept_case(user=org.other_captain, case_id=case.pk)
    with pytest.raises(NotInScope):  # a second village officer of another village
        officer = UserFactory(username="vo2")
        MembershipFactory(user=officer, role=Role.VILLAGE_OFFICER, region=org.other_village)
        accept_case(user=officer, case_id=case.pk)
    with pytest.raises(NotInScope):
        accept_case(user=org.village_officer, case_id=999_999)
    assert fresh(case).status == Status.FILED
    assert actions(case) == ["file"]


# --- stale forms and concurrency ------------------------------------------------------------


@pytest.fixture
def second_officer(org):
    officer = UserFactory(username="vo-b")
    MembershipFactory(user=officer, role=Role.VILLAGE_OFFICER, region=org.village)
    return officer


def test_a_form_loaded_before_a_change_is_refused(org, second_officer):
    case = file_case(org)
    version = case.version
    accept_case(user=org.village_officer, case_id=case.pk, expected_version=version)
    with pytest.raises(StaleCase) as error:
        accept_case(user=second_officer, case_id=case.pk, expected_version=version)
    assert error.value.http_status == 409
    with pytest.raises(StaleCase):
        reject_case(user=second_officer, case_id=case.pk, reason="Dup", expected_version=version)
    case = fresh(case)
    assert (case.status, case.version) == (Status.VILLAGE_HANDLING, version + 1)
    assert actions(case) == ["file", "accept"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_officers_accepting_at_once_accept_once(org, second_officer):
    """Real threads with their own database connections: the row lock (PostgreSQL) or the
    write lock (SQLite) makes the second wait and then find the case already changed."""
    case = file_case(org, latitude=LAT)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def accept(user) -> None:
        try:
            barrier.wait(timeout=10)
            accept_case(user=user, case_id=case.pk, expected_version=case.version)
            outcomes[user.username] = "accepted"
        except Exception as error:  # the test inspects what was raised
            outcomes[user.username] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=accept, args=(user,))
        for user in (org.village_officer, second_officer)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    results = list(outcomes.values())
    assert results.count("accepted") == 1, results
    (refused,) = [result for result in results if result != "accepted"]
    assert isinstance(refused, StaleCase | IllegalTransition), refused
    case = fresh(case)
    assert (case.status, case.version) == (Status.VILLAGE_HANDLING, 2)
    assert Event.objects.filter(case=case, action="accept").count() == 1
