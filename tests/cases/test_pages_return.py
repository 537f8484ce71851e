"""Returning a dispatch (退回) and ruling on the return through the pages: the buttons on the
case page and the board, the action pages, their refusals, and what the case page shows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Dispatch, Event
from cases.services import return_dispatch, review_return
from tests.cases.test_pages_detail import (
    detail_url,
    dispatch_url,
    dispatched,
    fresh,
    in_progress,
    post,
    team_dispatch,
)

Reason = Dispatch.ReturnReason


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def returned(org) -> Dispatch:
    case = dispatched(org)
    dispatch = team_dispatch(case)
    return_dispatch(
        user=org.captain,
        dispatch_id=dispatch.pk,
        reason=Reason.WRONG_PLACE,
        note="The pile is <b>next door</b>",
    )
    dispatch.refresh_from_db()
    return dispatch


def test_the_captain_returns_a_dispatch_from_the_case_page(client, org):
    case = dispatched(org)
    dispatch = team_dispatch(case)
    client.force_login(org.captain)
    html = client.get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert dispatch_url(dispatch, "return_dispatch") in html
    assert 'data-testid="return_dispatch"' in html
    form = client.get(dispatch_url(dispatch, "return_dispatch"), HTTP_ACCEPT_LANGUAGE="en")
    assert form.status_code == 200
    page = form.content.decode()
    assert 'name="return_reason"' in page and 'name="note"' in page
    assert 'value="not_our_duty"' in page
    assert 'data-testid="submit-return_dispatch"' in page

    response = post(
        client,
        org.captain,
        dispatch_url(dispatch, "return_dispatch"),
        {"version": case.version, "return_reason": "not_our_duty", "note": "Water bureau's bridge"},
    )
    assert response.status_code == 302
    dispatch.refresh_from_db()
    assert (dispatch.state, dispatch.returned_by) == (Dispatch.State.RETURNED, org.captain)

    client.force_login(org.town_committee)
    html = client.get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="returned"' in html
    assert "Water bureau&#x27;s bridge" in html
    assert "not our duty" in html  # the dispatch row and the timeline's details
    assert "returned a dispatch" in html
    assert "Returned because" in html
    assert dispatch_url(dispatch, "review_return") in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"return_reason": "", "note": "Not ours"}, "Choose why the dispatch is returned."),
        ({"return_reason": "not_our_duty", "note": ""}, "Say why the dispatch is returned."),
    ],
)
def test_bad_input_shows_the_form_again_and_changes_nothing(client, org, data, message):
    case = dispatched(org)
    dispatch = team_dispatch(case)
    response = post(
        client,
        org.captain,
        dispatch_url(dispatch, "return_dispatch"),
        {"version": case.version, **data},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    dispatch.refresh_from_db()
    assert dispatch.state == Dispatch.State.WAITING
    assert fresh(case).version == case.version


def test_no_return_button_once_reported_in(client, org):
    case = in_progress(org)
    dispatch = team_dispatch(case)
    client.force_login(org.captain)
    html = client.get(detail_url(case)).content.decode()
    assert dispatch_url(dispatch, "return_dispatch") not in html


def test_the_committee_overrules_a_return_from_its_page(client, org):
    dispatch = returned(org)
    case = fresh(dispatch.case)
    client.force_login(org.town_committee)
    form = client.get(dispatch_url(dispatch, "review_return"), HTTP_ACCEPT_LANGUAGE="en")
    assert form.status_code == 200
    page = form.content.decode()
    assert 'data-testid="return-reason"' in page
    assert "The pile is &lt;b&gt;next door&lt;/b&gt;" in page  # escaped
    assert 'value="upheld"' in page and 'value="overruled"' in page

    response = post(
        client,
        org.town_committee,
        dispatch_url(dispatch, "review_return"),
        {"version": case.version, "return_ruling": "overruled", "note": "It is in your area"},
    )
    assert response.status_code == 302
    again = case.dispatches.get(origin=Dispatch.Origin.OVERRULED)
    assert again.team == org.team
    html = client.get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="return-ruling"' in html
    assert "overruled a return" in html
    assert dispatch_url(dispatch, "review_return") not in html  # one ruling

    # A second ruling is refused.
    again_response = post(
        client,
        org.town_committee,
        dispatch_url(dispatch, "review_return"),
        {"version": fresh(case).version, "return_ruling": "upheld"},
    )
    assert again_response.status_code == 403
    assert Event.objects.filter(case=case, action="overrule_return").count() == 1


def test_the_captain_may_not_rule_on_the_return(client, org):
    dispatch = returned(org)
    client.force_login(org.captain)
    assert client.get(dispatch_url(dispatch, "review_return")).status_code == 403


def test_the_board_offers_the_return(client, org):
    case = dispatched(org)
    dispatch = team_dispatch(case)
    client.force_login(org.captain)
    html = client.get(reverse("cases:board"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert dispatch_url(dispatch, "return_dispatch") in html
    return_dispatch(user=org.captain, dispatch_id=dispatch.pk, reason=Reason.OTHER, note="Not ours")
    html = client.get(reverse("cases:board"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert dispatch_url(dispatch, "return_dispatch") not in html  # off the board


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_supervision_page_lists_the_returns_to_rule_on(client, org, language):
    dispatch = returned(org)
    client.force_login(org.town_committee)
    response = client.get("/supervision/", HTTP_ACCEPT_LANGUAGE=language)
    assert [row.pk for row in response.context["returns"].object_list] == [dispatch.pk]
    html = response.content.decode()
    assert f'data-testid="return-{dispatch.pk}"' in html
    # The town committee rules on its town's returns: the page links the ruling.
    assert reverse("cases:dispatch_act", args=[dispatch.pk, "review_return"]) in html
    # The note is the captain's text, escaped.
    assert "&lt;b&gt;next door&lt;/b&gt;" in html
    assert response.context["returns"].object_list[0].redispatch_due is not None


def test_the_supervisor_follows_the_returns_without_ruling(client, org):
    dispatch = returned(org)
    client.force_login(org.supervisor)
    html = client.get("/supervision/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'data-testid="return-{dispatch.pk}"' in html
    assert f'data-testid="rule-{dispatch.pk}"' not in html


def test_a_ruled_return_leaves_the_supervision_page(client, org):
    dispatch = returned(org)
    review_return(user=org.town_committee, dispatch_id=dispatch.pk, ruling="overruled")
    client.force_login(org.town_committee)
    response = client.get("/supervision/", HTTP_ACCEPT_LANGUAGE="en")
    assert list(response.context["returns"].object_list) == []
    assert b'data-testid="returns-empty"' in response.content


def test_supervision_page_returns_query_count_does_not_grow(client, org):
    def fill(count: int) -> None:
        for _n in range(count):
            case = dispatched(org)
            dispatch = team_dispatch(case)
            return_dispatch(
                user=org.captain,
                dispatch_id=dispatch.pk,
                reason=Reason.NOT_OUR_DUTY,
                note="Not ours",
            )

    client.force_login(org.town_committee)
    fill(2)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/supervision/").context["returns"].object_list) == 2
    fill(6)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/supervision/").context["returns"].object_list) == 8
    assert len(many) == len(few)
