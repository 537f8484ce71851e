"""Reading cases: the list (only visible rows, filters, ordering, pagination), the detail with
the user's actions and the trace."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case
from tests.api.steps import filed, team_dispatch
from tests.cases.engine_steps import accepted, whistled

pytestmark = pytest.mark.django_db


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["number"] for row in response.json()["results"]]


def test_each_user_lists_only_the_cases_in_scope(org, api):
    mine = filed(org)
    theirs = filed(org, user=org.other_grid_worker, latitude=30.50, longitude=120.80)
    assert numbers(api(org.grid_worker).get("/api/cases/")) == [mine.number]
    assert numbers(api(org.other_grid_worker).get("/api/cases/")) == [theirs.number]
    assert numbers(api(org.village_officer).get("/api/cases/")) == [mine.number]
    assert set(numbers(api(org.town_committee).get("/api/cases/"))) == {mine.number, theirs.number}
    assert numbers(api(org.other_captain).get("/api/cases/")) == []
    # A team member and a department see a case once it is dispatched to them.
    assert numbers(api(org.member).get("/api/cases/")) == []
    assert numbers(api(org.liaison).get("/api/cases/")) == []
    whistled_case = whistled(org, description="Rubble on the road")
    assert numbers(api(org.member).get("/api/cases/")) == [whistled_case.number]
    assert numbers(api(org.liaison).get("/api/cases/")) == [whistled_case.number]


def test_filters_and_ordering(org, api):
    first = filed(org)
    second = accepted(org, description="Rubble on the road")
    client = api(org.town_committee)
    assert numbers(client.get("/api/cases/?status=village_handling")) == [second.number]
    assert numbers(client.get("/api/cases/?status=filed")) == [first.number]
    assert numbers(client.get(f"/api/cases/?number={first.number.lower()}")) == [first.number]
    assert numbers(client.get("/api/cases/?ordering=filed_at")) == [first.number, second.number]
    assert numbers(client.get("/api/cases/?ordering=-filed_at")) == [second.number, first.number]
    assert len(numbers(client.get(f"/api/cases/?item={org.item.pk}&grid={org.grid.pk}"))) == 2
    assert numbers(client.get(f"/api/cases/?village={org.other_village.pk}")) == []
    assert len(numbers(client.get(f"/api/cases/?town={org.town.pk}&level=village"))) == 2
    assert numbers(client.get("/api/cases/?source=hotline")) == []
    today = timezone.localdate()
    assert len(numbers(client.get(f"/api/cases/?filed_after={today}"))) == 2
    assert numbers(client.get(f"/api/cases/?filed_before={today}")) == []
    tomorrow = today + timedelta(days=1)
    assert len(numbers(client.get(f"/api/cases/?filed_before={tomorrow}"))) == 2
    assert numbers(client.get("/api/cases/?light=red")) == []
    assert len(numbers(client.get("/api/cases/?light=green"))) == 2


def test_bad_filters_are_refused_with_the_fields(org, api):
    response = api(org.town_committee).get("/api/cases/?status=bogus&filed_after=yesterday")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"status", "filed_after"}


def test_pagination(org, api):
    for index in range(3):
        filed(org, description=f"Garbage heap {index}", latitude=30.50 + index * 0.001)
    client = api(org.village_officer)
    first = client.get("/api/cases/").json()
    assert first["count"] == 3 and first["next"] is None and len(first["results"]) == 3
    response = client.get("/api/cases/?page=2")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_detail_shows_version_dispatches_deadlines_and_the_users_actions(org, api):
    case = whistled(org)
    body = api(org.captain).get(f"/api/cases/{case.pk}/").json()
    assert body["version"] == case.version
    assert body["status"] == "dispatched" and body["level"] == "town"
    assert {d["id"] for d in body["dispatches"]} == set(
        case.dispatches.values_list("pk", flat=True)
    )
    team_row = next(d for d in body["dispatches"] if d["id"] == team_dispatch(case).pk)
    assert team_row["available_actions"] == ["report_in", "assign", "return_dispatch"]
    running = [d for d in body["deadlines"] if d["running"]]
    assert running and all(d["light"] in ("green", "yellow", "red") for d in running)
    assert all(isinstance(d["time_left_seconds"], int) for d in running)
    assert body["light"] == "green"
    # The captain on the case also speaks to the public about it (cases/workflow/updates.py).
    # It may also ask the committee to suspend the case (挂账, cases/workflow/longterm.py).
    assert body["available_actions"] == [
        "request_postponement",
        "request_suspension",
        "post_update",
        "publish_photo",
        "publish_case",
    ]
    town = api(org.town_committee).get(f"/api/cases/{case.pk}/").json()
    assert "add_dispatch" in town["available_actions"]
    assert api(org.supervisor).get(f"/api/cases/{case.pk}/").json()["available_actions"] == []


def test_the_detail_outside_the_scope_is_not_found(org, api):
    case = filed(org)
    for outsider in (org.other_grid_worker, org.other_captain, org.member, org.liaison):
        response = api(outsider).get(f"/api/cases/{case.pk}/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert api(org.grid_worker).get("/api/cases/abc/").status_code == 404


def test_the_trace(org, api):
    case = whistled(org)
    response = api(org.village_officer).get(f"/api/cases/{case.pk}/events/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["action"] for row in rows] == ["file", "accept", "whistle"]
    assert rows[1]["actor"] == "vo" and rows[1]["label"] == "accepted"
    assert rows[2]["data"]["note"] == "Too big for us"
    assert api(org.other_grid_worker).get(f"/api/cases/{case.pk}/events/").status_code == 404


def test_anonymous_requests_are_refused(org, client):
    case = filed(org)
    for path in ("/api/cases/", f"/api/cases/{case.pk}/", "/api/regions/"):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
    assert Case.objects.count() == 1
