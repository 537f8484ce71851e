"""Transfers (移交) through the pages: the buttons for the committee alone, the action pages with
the places and units in its reach, their refusals, and what the case page shows afterwards."""

import re

import pytest

from cases.models import Dispatch, Event, Status
from teams.models import Role, Team
from tests.cases.test_pages_detail import (
    act_url,
    detail_url,
    dispatch_url,
    dispatched,
    filed,
    fresh,
    post,
    team_dispatch,
)
from tests.factories import MembershipFactory, TeamFactory, UserFactory, VillageFactory


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_town_committee_transfers_a_case_from_its_page(client, org):
    case = filed(org)
    client.force_login(org.town_committee)
    html = client.get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert act_url(case, "transfer") in html
    assert 'data-testid="transfer"' in html
    form = client.get(act_url(case, "transfer"), HTTP_ACCEPT_LANGUAGE="en")
    assert form.status_code == 200
    page = form.content.decode()
    assert 'name="village"' in page and 'name="reason"' in page
    # The villages of its town, its own left out; none of another town.
    assert f'value="{org.other_village.pk}"' in page
    assert f'value="{org.village.pk}"' not in page
    far = VillageFactory(parent=org.other_town)
    assert f'value="{far.pk}"' not in client.get(act_url(case, "transfer")).content.decode()

    response = post(
        client,
        org.town_committee,
        act_url(case, "transfer"),
        {
            "version": case.version,
            "village": org.other_village.pk,
            "reason": "The pile is <b>across the river</b>",
        },
    )
    assert response.status_code == 302
    case = fresh(case)
    assert (case.village, case.status) == (org.other_village, Status.FILED)

    html = client.get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The case was transferred" in html  # the done message
    assert "transferred the case" in html  # the timeline's label
    assert "Moved from" in html and "Moved to" in html
    assert org.village.name_en in html and org.other_village.name_en in html
    assert "The pile is &lt;b&gt;across the river&lt;/b&gt;" in html  # the reason, escaped


def test_the_timeline_reads_in_chinese(client, org):
    case = filed(org)
    post(
        client,
        org.town_committee,
        act_url(case, "transfer"),
        {"version": case.version, "village": org.other_village.pk, "reason": "Wrong place"},
    )
    html = client.get(detail_url(case), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert org.other_village.name_zh in html and org.village.name_zh in html


def test_only_the_committee_sees_the_transfer_button(client, org):
    case = filed(org)
    for user in (org.village_officer, org.grid_worker, org.supervisor):
        client.force_login(user)
        html = client.get(detail_url(case)).content.decode()
        assert act_url(case, "transfer") not in html
        assert client.get(act_url(case, "transfer")).status_code == 403
    client.force_login(org.city_committee)
    assert act_url(case, "transfer") in client.get(detail_url(case)).content.decode()


@pytest.mark.parametrize(
    ("village", "reason", "message"),
    [
        ("", "Wrong place", "Choose the village the case moves to."),
        ("other", "", "Say why the case is transferred."),
        ("own", "Wrong place", "Select a valid choice."),  # not offered: the form refuses it
    ],
)
def test_bad_input_shows_the_form_again_and_changes_nothing(client, org, village, reason, message):
    case = filed(org)
    values = {"": "", "other": org.other_village.pk, "own": org.village.pk}
    response = post(
        client,
        org.town_committee,
        act_url(case, "transfer"),
        {"version": case.version, "village": values[village], "reason": reason},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    after = fresh(case)
    assert (after.village, after.version) == (org.village, case.version)
    assert not Event.objects.filter(case=case, action="transfer").exists()


def test_the_town_moves_a_dispatch_to_another_team_from_the_case_page(client, org):
    second = TeamFactory(region=org.town, kind=Team.Kind.PROFESSIONAL)
    captain = UserFactory(username="cap3")
    MembershipFactory(user=captain, role=Role.TEAM_CAPTAIN, team=second)
    case = dispatched(org)
    dispatch = team_dispatch(case)
    client.force_login(org.captain)
    assert dispatch_url(dispatch, "transfer_dispatch") not in (
        client.get(detail_url(case)).content.decode()
    )
    client.force_login(org.town_committee)
    html = client.get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert dispatch_url(dispatch, "transfer_dispatch") in html
    page = client.get(dispatch_url(dispatch, "transfer_dispatch")).content.decode()
    # Another team of the town is offered, not the dispatch's own team.
    teams = re.search(r'<select name="team".*?</select>', page, re.S).group(0)
    assert f'value="{second.pk}"' in teams and f'value="{org.team.pk}"' not in teams

    response = post(
        client,
        org.town_committee,
        dispatch_url(dispatch, "transfer_dispatch"),
        {"version": case.version, "team": second.pk, "reason": "Bridges are theirs"},
    )
    assert response.status_code == 302
    dispatch.refresh_from_db()
    assert dispatch.state == Dispatch.State.CANCELLED
    new = case.dispatches.get(team=second)
    assert new.origin == Dispatch.Origin.TRANSFER
    html = client.get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "transferred a dispatch" in html
    assert "Transferred to" in html and second.name_en in html
    assert "Bridges are theirs" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "Wrong unit"}, "Choose one team or one department."),
        ({"department": "dispatched", "reason": "Wrong unit"}, "already dispatched there"),
        ({"department": "dispatched", "reason": ""}, "Say why the dispatch is moved."),
    ],
)
def test_a_bad_dispatch_transfer_shows_the_message_and_changes_nothing(client, org, data, message):
    case = dispatched(org)
    dispatch = team_dispatch(case)
    body = {**data}
    if body.get("department") == "dispatched":
        body["department"] = org.department.pk
    response = post(
        client,
        org.town_committee,
        dispatch_url(dispatch, "transfer_dispatch"),
        {"version": case.version, **body},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    dispatch.refresh_from_db()
    assert dispatch.state == Dispatch.State.WAITING
    assert fresh(case).version == case.version
