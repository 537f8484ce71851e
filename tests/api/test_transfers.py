"""Transfers (移交) through the API: POST /api/cases/{id}/transfer/ moves a case to another
village, POST /api/dispatches/{id}/transfer-dispatch/ a dispatch to another unit; 200 with the
case, 400 for bad input (a place outside the actor's reach, the same place, no reason) with
nothing changed, 403 for another role, 404 outside the scope, 409 for a closed case."""

import pytest

from cases.models import Case, Dispatch, Event
from teams.models import Team
from tests.api.steps import filed, fresh, post, rejected, team_dispatch
from tests.cases.engine_steps import whistled
from tests.factories import TeamFactory, VillageFactory

pytestmark = pytest.mark.django_db


def case_path(case: Case) -> str:
    return f"/api/cases/{case.pk}/transfer/"


def dispatch_path(dispatch: Dispatch) -> str:
    return f"/api/dispatches/{dispatch.pk}/transfer-dispatch/"


def test_the_town_committee_transfers_a_case(org, api):
    case = whistled(org)
    body = {"version": case.version, "village": org.other_village.pk, "reason": "Wrong bank"}
    response = post(api(org.town_committee), case_path(case), body)
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["status"], data["level"]) == ("filed", "village")
    assert (data["village"]["id"], data["grid"]["id"]) == (org.other_village.pk, org.other_grid.pk)
    assert {row["state"] for row in data["dispatches"]} == {"cancelled"}
    assert [row["stage"] for row in data["deadlines"] if row["met_at"] is None] == ["screening"]
    event = api(org.town_committee).get(f"/api/cases/{case.pk}/events/").json()["results"][-1]
    assert event["action"] == "transfer"


@pytest.mark.parametrize(
    ("village", "reason", "field"),
    [
        ("own", "Wrong place", "village"),
        ("far", "Wrong place", "village"),  # a village of another town: outside its reach
        ("missing", "Wrong place", "village"),
        ("other", "  ", "reason"),
    ],
)
def test_bad_input_is_400_and_changes_nothing(org, api, village, reason, field):
    case = whistled(org)
    villages = {
        "own": org.village.pk,
        "far": VillageFactory(parent=org.other_town).pk,
        "missing": 2**40,
        "other": org.other_village.pk,
    }
    body = {"version": case.version, "village": villages[village], "reason": reason}
    response = post(api(org.town_committee), case_path(case), body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    after = fresh(case)
    assert (after.village, after.version, after.status) == (org.village, case.version, case.status)
    assert not Event.objects.filter(case=case, action="transfer").exists()


def test_a_village_is_required_by_the_schema(org, api):
    case = whistled(org)
    response = post(api(org.town_committee), case_path(case), {"version": case.version})
    assert response.status_code == 400
    assert "village" in response.json()["fields"]


def test_a_rejected_case_is_409(org, api):
    case = rejected(org)
    body = {"version": case.version, "village": org.other_village.pk, "reason": "Wrong place"}
    response = post(api(org.town_committee), case_path(case), body)
    assert response.status_code == 409
    assert fresh(case).village == org.village


def test_roles_and_scope(org, api):
    case = filed(org)
    body = {"version": case.version, "village": org.other_village.pk, "reason": "Wrong place"}
    forbidden = post(api(org.village_officer), case_path(case), body)
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "forbidden"
    assert post(api(org.other_captain), case_path(case), body).status_code == 404
    assert fresh(case).village == org.village


def test_the_town_committee_transfers_a_dispatch(org, api):
    second = TeamFactory(region=org.town, kind=Team.Kind.PROFESSIONAL)
    case = whistled(org)
    dispatch = team_dispatch(case)
    body = {"version": case.version, "team": second.pk, "reason": "Theirs"}
    response = post(api(org.town_committee), dispatch_path(dispatch), body)
    assert response.status_code == 200, response.json()
    rows = {row["id"]: row for row in response.json()["dispatches"]}
    assert rows[dispatch.pk]["state"] == "cancelled"
    (new,) = [row for row in rows.values() if row["team"] and row["team"]["id"] == second.pk]
    assert (new["origin"], new["state"]) == ("transfer", "waiting")


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ({"team": "own"}, "team"),
        ({"team": "far"}, "team"),  # another town's team: outside the committee's reach
        ({}, "team"),
    ],
)
def test_a_bad_dispatch_transfer_is_400(org, api, target, field):
    case = whistled(org)
    dispatch = team_dispatch(case)
    ids = {"own": org.team.pk, "far": org.other_team.pk}
    body = {"version": case.version, "reason": "Wrong unit"}
    body.update({key: ids[value] for key, value in target.items()})
    response = post(api(org.town_committee), dispatch_path(dispatch), body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert Dispatch.objects.get(pk=dispatch.pk).state == Dispatch.State.WAITING
    assert fresh(case).version == case.version


def test_dispatch_roles_and_scope(org, api):
    second = TeamFactory(region=org.town, kind=Team.Kind.PROFESSIONAL)
    case = whistled(org)
    dispatch = team_dispatch(case)
    body = {"version": case.version, "team": second.pk, "reason": "Theirs"}
    assert post(api(org.captain), dispatch_path(dispatch), body).status_code == 403
    assert post(api(org.city_committee), dispatch_path(dispatch), body).status_code == 403
    assert post(api(org.other_captain), dispatch_path(dispatch), body).status_code == 404
    assert Dispatch.objects.get(pk=dispatch.pk).state == Dispatch.State.WAITING


def test_the_routes_are_in_the_openapi_schema(api, org):
    schema = api(org.town_committee).get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    operations = {
        operation["operationId"] for methods in paths.values() for operation in methods.values()
    }
    assert {"cases_transfer", "dispatches_transfer_dispatch"} <= operations
