"""The prefecture's committee on the escalation chain (four levels, teams.levels.on_chain): a
city consultation climbs once more, by the city committee or by the timer; the prefecture's
committee decides it; the levels say whether it sits there, and it leaves only once no open
case is handled at its level."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from cases.errors import IllegalTransition, NotAllowed
from cases.models import Deadline, Event, Level, Status
from cases.services import (
    Task,
    decide_consultation,
    escalate_to_prefecture,
)
from cases.tasks import sweep_deadlines
from checklists.models import Stage, TimeLimit
from rollout.admin_levels import LevelNameForm
from rollout.services import import_org
from teams.levels import level_above, levels_in_use, on_chain
from teams.models import LevelName, Membership, Region, Role, User
from tests.cases.engine_steps import actions, kinds_for
from tests.cases.prefecture import at_the_city
from tests.rollout.helpers import csv_bytes, load
from tests.rollout.test_levels import HEADERS

pytestmark = pytest.mark.django_db

FOUR_LEVELS_ON_CHAIN = [
    HEADERS,
    ["prefecture", "prefecture", "prefectures", "地市", "false", "true", "true"],
    ["city", "county", "counties", "县", "false", "true", "true"],
    ["town", "town", "towns", "镇", "false", "true", "true"],
    ["village", "village", "villages", "村", "false", "true", "true"],
]


def four_levels(org, *, committee: bool = True) -> User:
    """The org's city becomes a county of a prefecture whose committee has one member."""
    rows = [list(row) for row in FOUR_LEVELS_ON_CHAIN]
    rows[1][5] = "true" if committee else "false"
    load("levels", "levels.csv", csv_bytes(rows))
    prefecture = Region.objects.create(
        code="PF", level=Region.Level.PREFECTURE, name_zh="地市", name_en="Prefecture"
    )
    Region.objects.filter(pk=org.city.pk).update(parent=prefecture)
    org.city.refresh_from_db()
    member = User.objects.create_user(username="prefecture1", password="x")
    if committee:
        Membership.objects.create(user=member, role=Role.PREFECTURE_COMMITTEE, region=prefecture)
    return member


def test_the_levels_put_the_prefecture_committee_on_the_chain(org):
    assert not on_chain("prefecture") and level_above("city") is None
    four_levels(org)
    assert levels_in_use() == ("prefecture", "city", "town", "village")
    assert on_chain("prefecture") and level_above("city") == "prefecture"
    assert level_above("town") == "city"


def test_the_city_committee_escalates_and_the_prefecture_committee_decides(org):
    prefect = four_levels(org)
    case = at_the_city(org)
    assert case.level == Level.CITY
    assert "escalate_to_prefecture" not in actions(case)
    # The town committee is no longer the committee at the case's level.
    with pytest.raises(NotAllowed):
        escalate_to_prefecture(user=org.town_committee, case_id=case.pk, reason="Too big")

    # An item without a limit of its own for the prefecture (made after migration checklists
    # 0009 gave every item one) takes its city consultation's.
    TimeLimit.objects.filter(item=org.item, stage=Stage.PREFECTURE_CONSULTATION).delete()
    case = escalate_to_prefecture(
        user=org.city_committee, case_id=case.pk, reason="Spans two counties"
    )
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.PREFECTURE)
    city_clock = Deadline.objects.get(case=case, stage=Stage.CITY_CONSULTATION)
    prefecture_clock = Deadline.objects.get(case=case, stage=Stage.PREFECTURE_CONSULTATION)
    assert city_clock.met_at is not None and prefecture_clock.met_at is None
    assert (prefecture_clock.amount, prefecture_clock.unit) == (city_clock.amount, city_clock.unit)
    assert "case_escalated" in kinds_for(prefect, case)
    event = Event.objects.get(case=case, action="escalate_to_prefecture")
    assert event.data["reason"] == "Spans two counties"

    # Only the prefecture committee decides now, not the city's.
    tasks = [
        Task(action="Clear it", due_at=case.filed_at + timedelta(days=30), team_id=org.team.pk)
    ]
    with pytest.raises(NotAllowed):
        decide_consultation(user=org.city_committee, case_id=case.pk, decision="x", tasks=tasks)
    case = decide_consultation(
        user=prefect, case_id=case.pk, decision="The county's team clears it", tasks=tasks
    )
    assert (case.status, case.level) == (Status.IN_PROGRESS, Level.PREFECTURE)
    assert Deadline.objects.get(case=case, stage=Stage.PREFECTURE_CONSULTATION).met_at is not None


def test_the_case_page_offers_the_escalation_to_the_city_committee(org, client):
    four_levels(org)
    case = at_the_city(org)
    client.force_login(org.city_committee)
    url = reverse("cases:detail", args=[case.pk])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Escalate to the prefecture" in html
    response = client.post(
        reverse("cases:act", args=[case.pk, "escalate_to_prefecture"]),
        {"reason": "Spans two counties", "version": case.version},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.level == Level.PREFECTURE


def test_off_the_chain_the_city_decides_last_and_the_timer_reminds(org, time_machine):
    four_levels(org, committee=False)
    assert not on_chain("prefecture")
    case = at_the_city(org)
    with translation.override("en"), pytest.raises(IllegalTransition) as refused:
        escalate_to_prefecture(user=org.city_committee, case_id=case.pk, reason="Too big")
    with translation.override("en"):
        assert str(refused.value) == (
            "The prefecture committee is not on this deployment's escalation chain."
        )
    deadline = Deadline.objects.get(case=case, stage=Stage.CITY_CONSULTATION)
    time_machine.move_to(deadline.due_at + timedelta(seconds=1), tick=False)
    assert sweep_deadlines.apply().get() >= 1
    case.refresh_from_db()
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.CITY)
    assert Event.objects.get(case=case, action="overdue").data["stage"] == Stage.CITY_CONSULTATION


def test_on_the_chain_the_timer_climbs_to_the_prefecture(org, time_machine):
    prefect = four_levels(org)
    case = at_the_city(org)
    deadline = Deadline.objects.get(case=case, stage=Stage.CITY_CONSULTATION)
    time_machine.move_to(deadline.due_at + timedelta(seconds=1), tick=False)
    assert sweep_deadlines.apply().get() >= 1
    case.refresh_from_db()
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.PREFECTURE)
    climbed = Event.objects.get(case=case, action="escalate_to_prefecture")
    assert climbed.actor is None and climbed.data["stage"] == Stage.CITY_CONSULTATION
    assert "case_escalated" in kinds_for(prefect, case)


def refused(data: bytes) -> list[tuple[int | None, str, str]]:
    with translation.override("en"):
        report = import_org(kind="levels", filename="levels.csv", data=data, dry_run=False)
        return [(e.line, e.column, e.message) for e in report.errors]


def test_the_prefecture_committee_sits_only_above_the_city_committee(org):
    rows = [list(row) for row in FOUR_LEVELS_ON_CHAIN]
    rows[2][5] = "false"  # the county's committee off the chain
    assert refused(csv_bytes(rows)) == [
        (
            2,
            "committee",
            "The committee of the level above the top sits on the escalation chain only above "
            "the top level's committee: keep the top committee on the chain, or take the one "
            "above off it first.",
        )
    ]
    assert not LevelName.objects.exists()


def test_its_staff_need_it_on_the_chain(org):
    four_levels(org, committee=False)
    rows = [
        ["username", "role", "place"],
        [org.city_committee.username, "prefecture_committee", "PF"],
    ]
    with translation.override("en"):
        report = import_org(
            kind="memberships", filename="m.csv", data=csv_bytes(rows), dry_run=False
        )
    assert [e.message for e in report.errors] == [
        "The prefecture committee is not on this deployment's escalation chain: say committee = "
        "true on its row of the levels file, or on the admin page Level names, first."
    ]


def test_it_leaves_the_chain_only_once_no_open_case_is_at_its_level(org):
    four_levels(org)
    case = escalate_to_prefecture(
        user=org.city_committee, case_id=at_the_city(org).pk, reason="Spans two counties"
    )
    rows = [list(row) for row in FOUR_LEVELS_ON_CHAIN]
    rows[1][5] = "false"
    assert refused(csv_bytes(rows)) == [
        (
            2,
            "committee",
            "1 open case is handled at this level: its committee must settle it before it leaves "
            "the escalation chain.",
        )
    ]
    row = LevelName.objects.get(level="prefecture")
    form = LevelNameForm(
        instance=row,
        data={
            "level": "prefecture",
            "name_en": row.name_en,
            "plural_en": row.plural_en,
            "name_zh": row.name_zh,
            "committee": "",
            "in_use": "on",
        },
    )
    with translation.override("en"):
        assert not form.is_valid()
        assert form.errors["committee"] == [
            "1 open case is handled at this level: its committee must settle it before it "
            "leaves the escalation chain."
        ]
    assert on_chain("prefecture") and case.level == Level.PREFECTURE


def test_the_receipt_tells_the_resident_the_chain_goes_to_the_prefecture(org, client):
    four_levels(org)
    case = at_the_city(org)
    client.force_login(org.grid_worker)
    html = client.get(
        reverse("cases:receipt", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "the town, county or prefecture committee takes it up" in html
