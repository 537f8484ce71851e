"""Long-term cases (挂账) on the pages and the API: the request and decision forms, a new review
date, the list of suspended cases (its rows, its red review dates, its cost, who may open it)
and its link in the navigation."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from cases import sweep
from cases.models import Status, SuspensionRequest
from cases.services import request_suspension, review_suspension, suspend_case
from teams.models import Role
from tests.cases.engine_steps import T0, at, fresh, in_progress
from tests.factories import MembershipFactory, UserFactory
from tests.tokens import api_token

SUSPENDED = "/cases/suspended/"
REVIEW_ON = date(2025, 7, 10)


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def act_url(case, action: str) -> str:
    return reverse("cases:act", args=[case.pk, action])


def spread(org, n: int):
    """A case in progress at its own spot (no duplicate warnings between them)."""
    return in_progress(
        org,
        description=f"Garbage heap {n}",
        latitude=30.4965 + (n % 8) * 0.001,
        longitude=120.6965 + (n // 8) * 0.001,
    )


def asked(org, n: int = 0, review_on: date = REVIEW_ON):
    case = spread(org, n)
    request_suspension(
        user=org.captain, case_id=case.pk, reason=f"Court case {n}", review_on=review_on
    )
    return fresh(case)


def api_client(user) -> APIClient:
    token = api_token(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_url_name():
    assert reverse("cases:suspended") == SUSPENDED


# --- the request and the decision -----------------------------------------------------------


def test_the_captain_requests_from_the_case_page(client, org):
    case = spread(org, 0)
    client.force_login(org.captain)
    detail = client.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert act_url(case, "request_suspension") in detail.content.decode()
    form = client.get(act_url(case, "request_suspension"), HTTP_ACCEPT_LANGUAGE="en")
    assert form.status_code == 200
    page = form.content.decode()
    assert 'name="reason"' in page
    assert 'name="review_on"' in page and 'value="2025-07-10"' in page  # the item's 30 days

    refused = client.post(
        act_url(case, "request_suspension"),
        {"version": case.version, "reason": "Court", "review_on": "2025-06-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 400
    assert "The review date must be in the future." in refused.content.decode()
    refused = client.post(
        act_url(case, "request_suspension"),
        {"version": case.version, "reason": "  ", "review_on": "2025-07-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 400
    assert "Say why the case should be suspended." in refused.content.decode()
    assert not SuspensionRequest.objects.exists()

    done = client.post(
        act_url(case, "request_suspension"),
        {"version": case.version, "reason": "Court case", "review_on": "2025-07-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert done.status_code == 302
    request = SuspensionRequest.objects.get()
    assert (request.case_id, request.review_on) == (case.pk, date(2025, 7, 1))
    # A second request: the button is gone and the page is refused.
    case = fresh(case)
    detail = client.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert act_url(case, "request_suspension") not in detail.content.decode()
    again = client.post(
        act_url(case, "request_suspension"),
        {"version": case.version, "reason": "Again", "review_on": "2025-07-01"},
    )
    assert again.status_code == 403
    assert SuspensionRequest.objects.count() == 1


def test_the_committee_approves_or_refuses_on_the_review_page(client, org):
    case = asked(org)
    client.force_login(org.town_committee)
    detail = client.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert act_url(case, "review_suspension") in detail.content.decode()
    form = client.get(act_url(case, "review_suspension"), HTTP_ACCEPT_LANGUAGE="en")
    page = form.content.decode()
    assert 'data-testid="suspension-request"' in page and "Court case 0" in page
    assert 'value="2025-07-10"' in page

    refused = client.post(
        act_url(case, "review_suspension"),
        {"version": case.version, "approve": "0", "note": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 400
    assert "Say why the request is refused." in refused.content.decode()
    assert SuspensionRequest.objects.get().state == SuspensionRequest.State.PENDING

    done = client.post(
        act_url(case, "review_suspension"),
        {"version": case.version, "approve": "1", "review_on": "2025-07-20", "note": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert done.status_code == 302
    case = fresh(case)
    assert case.status == Status.SUSPENDED
    # Decided: the review page is gone; a new review date and resume are offered instead.
    assert client.get(act_url(case, "review_suspension")).status_code == 403
    detail = client.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    html = detail.content.decode()
    assert act_url(case, "reschedule_review") in html and act_url(case, "resume") in html
    moved = client.post(
        act_url(case, "reschedule_review"),
        {"version": case.version, "review_on": "2025-06-09", "note": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert moved.status_code == 400
    assert "The review date must be in the future." in moved.content.decode()


def test_the_api_routes(org):
    case = spread(org, 0)
    captain, committee = api_client(org.captain), api_client(org.town_committee)
    url = f"/api/cases/{case.pk}/request-suspension/"
    bad = captain.post(url, {"version": case.version, "reason": "Court"}, format="json")
    assert bad.status_code == 400 and "review_on" in bad.json()["fields"]
    assert (
        committee.post(
            url,
            {"version": case.version, "reason": "Court", "review_on": "2025-07-10"},
            format="json",
        ).status_code
        == 403
    )
    ok = captain.post(
        url, {"version": case.version, "reason": "Court", "review_on": "2025-07-10"}, format="json"
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["status"] == Status.IN_PROGRESS
    second = captain.post(
        url,
        {"version": ok.json()["version"], "reason": "Again", "review_on": "2025-07-10"},
        format="json",
    )
    assert second.status_code == 409
    assert "only one request may wait" in second.json()["message"]

    review = f"/api/cases/{case.pk}/review-suspension/"
    assert (
        committee.post(
            review, {"version": ok.json()["version"], "approve": False}, format="json"
        ).status_code
        == 400
    )
    done = committee.post(review, {"version": ok.json()["version"], "approve": True}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == Status.SUSPENDED
    again = committee.post(
        review, {"version": done.json()["version"], "approve": True}, format="json"
    )
    assert again.status_code == 409
    moved = committee.post(
        f"/api/cases/{case.pk}/reschedule-review/",
        {"version": done.json()["version"], "review_on": "2025-08-01"},
        format="json",
    )
    assert moved.status_code == 200, moved.json()


# --- the list of suspended cases ------------------------------------------------------------


def fill(org, start: int, stop: int, *, review_on=REVIEW_ON):
    for n in range(start, stop):
        case = asked(org, n, review_on=review_on + timedelta(days=n))
        review_suspension(user=org.town_committee, case_id=case.pk, approve=True)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("who", ["town_committee", "city_committee", "supervisor"])
def test_the_list_shows_each_suspended_case(client, org, time_machine, who, language):
    first = asked(org, 0, review_on=date(2025, 6, 20))
    review_suspension(user=org.town_committee, case_id=first.pk, approve=True)
    direct = spread(org, 1)
    suspend_case(
        user=org.town_committee, case_id=direct.pk, reason="Owner abroad", review_on=REVIEW_ON
    )
    spread(org, 2)  # in progress: not listed
    time_machine.move_to(at(2025, 6, 25, 9, 0), tick=False)
    sweep.sweep()
    client.force_login(getattr(org, who))

    response = client.get(SUSPENDED, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    html = response.content.decode()
    rows = response.context["rows"]
    assert [row.case.pk for row in rows] == [first.pk, direct.pk]  # earliest review first
    overdue, later = rows
    assert (overdue.review_on, overdue.light, overdue.age_days) == (date(2025, 6, 20), "red", 15)
    assert (overdue.reason, overdue.requested_by) == (
        "Court case 0",
        org.captain.get_full_name() or org.captain.username,
    )
    assert (later.review_on, later.light, later.reason) == (REVIEW_ON, "green", "Owner abroad")
    assert later.requested_by == (org.town_committee.get_full_name() or org.town_committee.username)
    assert f'data-testid="suspended-{first.pk}" data-light="red"' in html
    assert 'data-testid="review-overdue"' in html
    assert first.number in html and "2025-06-20" in html
    if language == "en":
        assert "Suspended cases" in html and "15 days" in html


def test_the_list_costs_the_same_whatever_its_length(client, org):
    client.force_login(org.town_committee)
    fill(org, 0, 2)
    client.get(SUSPENDED)  # warm the caches
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(SUSPENDED).context["rows"]) == 2
    fill(org, 2, 8)
    with CaptureQueriesContext(connection) as many:
        rows = client.get(SUSPENDED).context["rows"]
    assert len(rows) == 8
    assert len(many) == len(few)


def test_who_may_open_the_list_and_its_link(client, org):
    for who in ("grid_worker", "village_officer", "captain", "member", "liaison"):
        client.force_login(getattr(org, who))
        assert client.get(SUSPENDED).status_code == 403
        home = client.get(reverse("cases:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert f'href="{SUSPENDED}"' not in home
    client.force_login(org.town_committee)
    home = client.get(reverse("cases:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="{SUSPENDED}"' in home
    client.logout()
    assert client.get(SUSPENDED).status_code == 302


def test_another_towns_committee_sees_none_of_them(client, org):
    fill(org, 0, 1)
    stranger = UserFactory()
    MembershipFactory(user=stranger, role=Role.TOWN_COMMITTEE, region=org.other_town)
    client.force_login(stranger)
    response = client.get(SUSPENDED)
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert 'data-testid="suspended-empty"' in response.content.decode()
