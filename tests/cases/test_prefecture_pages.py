"""The pages a member of the prefecture's committee uses (four levels, its committee on the
escalation chain): the menu and the second factor, the consultation queue of its cities' cases
escalated to it, the supervision page's returns it rules on, the suspended cases, the case
list, the spot checks; and the town's pages treat a prefecture case as above the town, as they
treat a city case."""

from datetime import timedelta

import pytest
from django.urls import reverse

from cases.models import Dispatch, Level, Status
from cases.open311.selectors import service_request
from cases.selectors_pages.board import town_command
from cases.selectors_pages.supervision import (
    returns_page,
    returns_to_rule_on,
    supervision_scope,
)
from cases.services import Task, decide_consultation, return_dispatch, suspend_case
from consultation import selectors as consultation_selectors
from teams.navigation import links_for
from teams.privilege import is_privileged
from teams.selectors import user_roles
from tests.cases.engine_steps import T0, fresh
from tests.cases.prefecture import at_the_city, at_the_prefecture, four_levels

COMMITTEE_PAGES = (
    "consultation:queue",
    "cases:supervision",
    "cases:suspended",
    "consultation:hotspots",
    "spotchecks:list",
    "cases:list",
)


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def decided_with_a_task(org, prefecture):
    """A prefecture case its committee sent back to the org's team."""
    case = at_the_prefecture(org)
    task = Task(action="Clear it", due_at=T0 + timedelta(days=10), team_id=org.team.pk)
    decide_consultation(user=prefecture.member, case_id=case.pk, decision="Clear", tasks=[task])
    return fresh(case), case.dispatches.get(origin=Dispatch.Origin.DECISION)


def queue_of(user) -> list:
    seats = consultation_selectors.committee_seats(user=user)
    return [row.case for row in consultation_selectors.queue(user=user, seats=seats)[1]]


def test_the_prefecture_committee_s_menu_opens_its_pages_behind_a_second_factor(client, org):
    prefecture = four_levels(org)
    member = prefecture.member
    assert is_privileged(user=member)
    names = {link.url_name for link in links_for(user=member, roles=user_roles(user=member))}
    assert set(COMMITTEE_PAGES) <= names
    # The assessment's and the policy lab's pages take the role too (their own tests).
    assert {"assessment:overview", "policylab:index"} <= names
    assert "cases:command" not in names  # the town's
    client.force_login(member)
    for name in COMMITTEE_PAGES:
        assert client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en").status_code == 200, name


def test_a_prefecture_case_waits_in_the_prefecture_s_queue_and_no_other(org):
    prefecture = four_levels(org)
    case = at_the_prefecture(org)
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.PREFECTURE)
    assert queue_of(prefecture.member) == [case]
    assert queue_of(org.town_committee) == []
    assert queue_of(org.city_committee) == []
    assert queue_of(prefecture.other_member) == []
    city_case = at_the_city(org, description="Second heap")
    assert queue_of(org.city_committee) == [city_case]
    assert queue_of(prefecture.member) == [case]


def test_the_queue_page_lists_the_case_for_the_prefecture_committee_only(client, org):
    prefecture = four_levels(org)
    case = at_the_prefecture(org)
    client.force_login(prefecture.member)
    html = client.get(reverse("consultation:queue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert case.number in html
    client.force_login(prefecture.other_member)
    html = client.get(reverse("consultation:queue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert case.number not in html


def test_the_town_command_leaves_a_suspended_prefecture_case_to_the_prefecture(client, org):
    prefecture = four_levels(org)
    case = at_the_prefecture(org)
    suspend_case(
        user=prefecture.member,
        case_id=case.pk,
        reason="Waits for the court",
        review_on=(T0 + timedelta(days=30)).date(),
    )
    assert fresh(case).status == Status.SUSPENDED
    command = town_command(user=org.town_committee, towns=[org.town.pk], pages={})
    assert list(command.suspended.object_list) == []
    assert list(command.consultations.object_list) == []
    client.force_login(prefecture.member)
    rows = client.get(reverse("cases:suspended"), HTTP_ACCEPT_LANGUAGE="en").context["rows"]
    assert [row.case.pk for row in rows] == [case.pk]
    client.force_login(prefecture.other_member)
    assert client.get(reverse("cases:suspended")).status_code == 403


def test_the_prefecture_committee_rules_on_the_returns_of_its_cases(client, org):
    prefecture = four_levels(org)
    case, dispatch = decided_with_a_task(org, prefecture)
    return_dispatch(
        user=org.captain,
        dispatch_id=dispatch.pk,
        reason=Dispatch.ReturnReason.NOT_OUR_DUTY,
        note="The county's bureau owns it",
    )
    town = supervision_scope(user=org.town_committee)
    assert list(returns_to_rule_on(scope=town)) == []
    city = returns_page(scope=supervision_scope(user=org.city_committee), page=None)
    assert [(d.pk, d.may_rule) for d in city.object_list] == [(dispatch.pk, False)]
    mine = returns_page(scope=supervision_scope(user=prefecture.member), page=None)
    assert [(d.pk, d.may_rule) for d in mine.object_list] == [(dispatch.pk, True)]
    client.force_login(prefecture.member)
    html = client.get(reverse("cases:supervision"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'data-testid="rule-{dispatch.pk}"' in html
    assert case.number in html


def test_the_case_list_shows_the_cities_cases_to_the_prefecture_committee(client, org):
    prefecture = four_levels(org)
    case = at_the_prefecture(org)
    client.force_login(prefecture.member)
    response = client.get(reverse("cases:list"), HTTP_ACCEPT_LANGUAGE="en")
    assert case.number in response.content.decode()
    response = client.get(reverse("cases:list"), {"level": "prefecture"}, HTTP_ACCEPT_LANGUAGE="en")
    assert case.number in response.content.decode()
    client.force_login(prefecture.other_member)
    response = client.get(reverse("cases:list"), HTTP_ACCEPT_LANGUAGE="en")
    assert case.number not in response.content.decode()


def test_open311_names_the_prefecture_as_the_agency_of_a_prefecture_case(org):
    prefecture = four_levels(org)
    case = at_the_prefecture(org)
    row = service_request(city=org.city, service_request_id=case.number)
    assert row["agency_responsible"] == prefecture.region.name
    city_case = at_the_city(org, description="Second heap")
    row = service_request(city=org.city, service_request_id=city_case.number)
    assert row["agency_responsible"] == org.city.name
