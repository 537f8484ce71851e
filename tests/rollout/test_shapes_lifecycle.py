"""The whole life of a whistle on the demo shapes, each built by importing its example files
(docs/examples/haining, docs/examples/longgang, and docs/examples/wenzhou on four levels): filed
by a grid worker, screened and whistled by the village, dispatched by the service-area rules,
reported in, consulted at the town level, escalated to the city level (on four levels on to the
prefecture's committee, which sits on Wenzhou's chain), decided, handled,
verified, evaluated, closed, and assessed from its events; who may see it follows each shape's
organisation. On two levels (docs/examples/pinghu, and Haining taken to two levels by its levels
file) the same life stops at the town: its committee decides last."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import translation
from shapely.geometry import shape

from assessment.models import CaseFact
from assessment.services import refresh_case_facts
from cases.access import access_case, visible_cases
from cases.errors import IllegalTransition, NotInScope
from cases.models import Dispatch, Level, Satisfaction, Status
from cases.services import (
    Task,
    accept_case,
    decide_consultation,
    escalate_case,
    escalate_to_prefecture,
    evaluate_case,
    file_whistle,
    report_in,
    request_consultation,
    resolve_case,
    verify_case,
    whistle_to_town,
)
from checklists.models import Item
from consultation.forms import decision_kinds
from rollout.demo import build_demo_city
from teams.levels import levels_in_use, on_chain
from teams.models import Grid, Membership, Role, User
from tests.cases.engine_steps import T0, png
from tests.rollout.helpers import csv_bytes, load

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Cast:
    """Who does what in one demo shape, by username, and where the whistle is blown."""

    shape: str
    grid: str
    worker: str
    officer: str
    captain: str
    team: str  # the unit the captain leads, which the service-area rule must choose
    town_committee: str
    city_committee: str
    member: str  # sees the case through the team (Longgang: stationed in the community)
    outsider: str  # a captain of a unit that does not serve the place: must not see it
    prefecture_committee: str = ""  # four levels, its committee on the chain: decides last


CASTS = [
    Cast(
        shape="haining",
        grid="HN-XS-01-01",
        worker="grid1",
        officer="village1",
        captain="captain1",
        team="HN-XS-CLE",
        town_committee="town1",
        city_committee="city1",
        member="member1",
        outsider="captain2",
    ),
    Cast(
        shape="longgang",
        grid="LG-CB-01-01",
        worker="lg-grid1",
        officer="lg-village1",
        captain="lg-captain2",
        team="LG-ZF-A2",
        town_committee="lg-street1",
        city_committee="lg-district1",
        member="lg-member1",
        outsider="captain-lg-zf-a1",
    ),
    # Four levels: Cangnan, a county of the prefecture of Wenzhou, beside Longgang.
    Cast(
        shape="wenzhou",
        grid="CN-LX-01-01",
        worker="cn-grid1",
        officer="cn-village1",
        captain="cn-captain1",
        team="CN-LX-CLE",
        town_committee="cn-town1",
        city_committee="cn-county1",
        member="cn-member1",
        outsider="cn-captain2",
        prefecture_committee="wz-city1",
    ),
]


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def user(username: str) -> User:
    return User.objects.get(username=username)


def inside(grid_code: str) -> dict[str, float]:
    point = shape(Grid.objects.get(code=grid_code).polygon).representative_point()
    return {"latitude": point.y, "longitude": point.x}


@pytest.mark.parametrize("cast", CASTS, ids=[c.shape for c in CASTS])
def test_a_whistle_lives_its_whole_life_on_each_shape(cast):
    build_demo_city(shape=cast.shape)
    worker, officer, captain = user(cast.worker), user(cast.officer), user(cast.captain)
    town_committee, city_committee = user(cast.town_committee), user(cast.city_committee)

    # Filed from the grid worker's phone, at a point of their grid.
    case = file_whistle(
        user=worker,
        item=Item.objects.get(code="SAN-01"),
        description="Rubbish piled by the river bridge",
        **inside(cast.grid),
    ).case
    assert case.grid.code == cast.grid
    assert case.town_id == case.village.parent_id and case.city_id == case.town.parent_id

    # Screened and whistled by the village: the unit serving the place reports in.
    accept_case(user=officer, case_id=case.pk)
    case = whistle_to_town(user=officer, case_id=case.pk, note="Too big for us")
    team_dispatches = list(case.dispatches.filter(team__isnull=False))
    assert [d.team.code for d in team_dispatches] == [cast.team]
    report_in(user=captain, dispatch_id=team_dispatches[0].pk)

    # Who sees it: the team (and its stationed member), never a unit elsewhere.
    assert visible_cases(user=user(cast.member)).filter(pk=case.pk).exists()
    with pytest.raises(NotInScope):
        access_case(user=user(cast.outsider), pk=case.pk)

    # Consulted at the town level, escalated to the city, decided there.
    case = request_consultation(user=captain, case_id=case.pk, reason="The owner resists")
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.TOWN)
    case = escalate_case(user=town_committee, case_id=case.pk, reason="Needs the city")
    top, deciding = Level.CITY, city_committee
    if cast.prefecture_committee:
        # Four levels: the county cannot decide it either; the prefecture's committee does.
        assert case.level == Level.CITY and on_chain("prefecture")
        escalate_to_prefecture(user=city_committee, case_id=case.pk, reason="Spans two counties")
        top, deciding = Level.PREFECTURE, user(cast.prefecture_committee)
    else:
        assert not on_chain("prefecture")
    due = T0 + timedelta(days=3)
    decide_consultation(
        user=deciding,
        case_id=case.pk,
        decision="Clear it jointly",
        tasks=[Task(action="Remove the heap", due_at=due, team_id=team_dispatches[0].team_id)],
    )
    case.refresh_from_db()
    assert (case.status, case.level) == (Status.IN_PROGRESS, top)
    task = case.dispatches.get(origin=Dispatch.Origin.DECISION)
    report_in(user=captain, dispatch_id=task.pk)

    # Handled, verified by the grid worker, evaluated: closed.
    resolve_case(user=captain, case_id=case.pk, note="Cleared", photos=[png()])
    verify_case(user=worker, case_id=case.pk, passed=True)
    evaluate_case(user=worker, case_id=case.pk, satisfaction=Satisfaction.SATISFIED)
    case.refresh_from_db()
    assert case.status == Status.CLOSED

    # Assessed from its events.
    assert refresh_case_facts(case_id=case.pk)
    fact = CaseFact.objects.get(case_id=case.pk)
    assert (fact.closed, fact.whistled, fact.escalated, fact.max_level) == (
        True,
        True,
        True,
        top,
    )
    assert (fact.town_id, fact.village_id, fact.satisfaction) == (
        case.town_id,
        case.village_id,
        Satisfaction.SATISFIED,
    )


def test_longgang_dispatches_an_item_of_a_speciality_to_its_professional_brigade_too():
    """MKT-02 goes to comprehensive and professional units: the area brigade by coverage, the
    market supervision brigade by its aspect, across the whole district."""
    build_demo_city(shape="longgang")
    for grid, area_brigade in (("LG-CB-01-01", "LG-ZF-A2"), ("LG-LJ-03-02", "LG-ZF-A5")):
        worker = Grid.objects.get(code=grid).memberships.get(role="grid_worker").user
        case = file_whistle(
            user=worker,
            item=Item.objects.get(code="MKT-02"),
            description="Unlicensed stall",
            **inside(grid),
        ).case
        officer = case.village.memberships.get(role="village_officer").user
        accept_case(user=officer, case_id=case.pk)
        case = whistle_to_town(user=officer, case_id=case.pk, note="")
        teams = sorted(case.dispatches.filter(team__isnull=False).values_list("team__code"))
        assert teams == [(area_brigade,), ("LG-ZF-P1",)]


def live_on_two_levels(*, grid: str, worker: str, officer: str, captain: str, street: str):
    """A whistle's whole life where the middle committee decides last: filed, screened,
    whistled, reported in, consulted; escalation refused, by the committee and by its decision;
    decided at the town, handled, verified, evaluated, closed and assessed at the town."""
    worker_, officer_, captain_, street_ = (user(n) for n in (worker, officer, captain, street))
    case = file_whistle(
        user=worker_,
        item=Item.objects.get(code="SAN-01"),
        description="Rubbish piled by the market gate",
        **inside(grid),
    ).case
    accept_case(user=officer_, case_id=case.pk)
    case = whistle_to_town(user=officer_, case_id=case.pk, note="Too big for us")
    team_dispatches = list(case.dispatches.filter(team__isnull=False))
    report_in(user=captain_, dispatch_id=team_dispatches[0].pk)
    case = request_consultation(user=captain_, case_id=case.pk, reason="The owner resists")
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.TOWN)
    with translation.override("en"), pytest.raises(IllegalTransition) as refused:
        escalate_case(user=street_, case_id=case.pk, reason="Needs more")
    with translation.override("en"):
        assert "not on this deployment's escalation chain" in str(refused.value)
    assert "escalate" not in [value for value, _label in decision_kinds("town")]
    decide_consultation(
        user=street_,
        case_id=case.pk,
        decision="Clear it jointly",
        tasks=[
            Task(
                action="Remove the heap",
                due_at=T0 + timedelta(days=3),
                team_id=team_dispatches[0].team_id,
            )
        ],
    )
    case.refresh_from_db()
    assert (case.status, case.level) == (Status.IN_PROGRESS, Level.TOWN)
    report_in(user=captain_, dispatch_id=case.dispatches.get(origin=Dispatch.Origin.DECISION).pk)
    resolve_case(user=captain_, case_id=case.pk, note="Cleared", photos=[png()])
    verify_case(user=worker_, case_id=case.pk, passed=True)
    evaluate_case(user=worker_, case_id=case.pk, satisfaction=Satisfaction.SATISFIED)
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    assert refresh_case_facts(case_id=case.pk)
    fact = CaseFact.objects.get(case_id=case.pk)
    assert (fact.closed, fact.whistled, fact.escalated, fact.max_level, fact.solved_by) == (
        True,
        True,
        False,
        Level.TOWN,
        "consultation",
    )
    return case, [d.team.code for d in team_dispatches]


def test_pinghu_lives_a_whistle_on_two_levels():
    """Pinghu's demo (docs/examples/pinghu): a street over its communities, the top tier out of
    use. The street committee decides last; the case never climbs past the street; the whole
    area's supervisor sees it, another community's officer does not."""
    demo = build_demo_city(shape="pinghu")
    assert levels_in_use() == ("town", "village") and not on_chain("city")
    assert demo.counts["towns"] == 1 and demo.counts["villages"] == 6
    assert "city_committee" not in Membership.objects.values_list("role", flat=True)
    case, teams = live_on_two_levels(
        grid="PH-01-01",
        worker="ph-grid1",
        officer="ph-community1",
        captain="ph-captain1",
        street="ph-street1",
    )
    assert (case.village.code, case.town.code, case.city.code) == ("PH-01", "PH-S", "PH")
    assert case.number.startswith("PH-") and teams == ["PH-CLE"]
    assert access_case(user=user("ph-supervisor1"), pk=case.pk).pk == case.pk
    with pytest.raises(NotInScope):
        access_case(user=user("ph-community2"), pk=case.pk)


def test_haining_goes_to_two_levels_and_a_whistle_lives_on_them():
    """Haining's demo goes to two levels through the levels import once its city committee has
    no staff; the whistles after that live on two levels."""
    build_demo_city(shape="haining")
    Membership.objects.filter(role=Role.CITY_COMMITTEE).delete()
    rows = [
        ["level", "name_en", "plural_en", "name_zh", "in_use"],
        ["city", "whole area", "whole areas", "全辖区", "false"],
    ]
    load("levels", "levels.csv", csv_bytes(rows))
    assert levels_in_use() == ("town", "village")
    _case, teams = live_on_two_levels(
        grid="HN-XS-01-01", worker="grid1", officer="village1", captain="captain1", street="town1"
    )
    assert teams == ["HN-XS-CLE"]
