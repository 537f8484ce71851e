"""Dispatch actions (POST /api/dispatches/{id}/<action>/), postponement decisions and the
dispatch list: each returns the updated case; scope 404, role 403, stale 409."""

import pytest

from cases.models import Dispatch, Event, Postponement, Status
from cases.services import report_in, request_postponement
from tests.api.conftest import png
from tests.api.steps import fresh, post, team_dispatch
from tests.cases.engine_steps import accepted, department_dispatch, whistled

pytestmark = pytest.mark.django_db


def reported(org):
    case = whistled(org)
    dispatch = team_dispatch(case)
    report_in(user=org.captain, dispatch_id=dispatch.pk)
    return fresh(case), dispatch


def dispatch_url(dispatch, name: str) -> str:
    return f"/api/dispatches/{dispatch.pk}/{name.replace('_', '-')}/"


def test_report_in(org, api):
    case = whistled(org)
    dispatch = team_dispatch(case)
    response = post(
        api(org.captain), dispatch_url(dispatch, "report_in"), {"version": case.version}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == Status.IN_PROGRESS
    (row,) = [d for d in response.json()["dispatches"] if d["id"] == dispatch.pk]
    assert row["state"] == Dispatch.State.REPORTED
    assert Dispatch.objects.get(pk=dispatch.pk).reported_in_by == org.captain


def test_the_liaison_reports_in_for_the_department(org, api):
    case = whistled(org)
    dispatch = department_dispatch(case)
    response = post(
        api(org.liaison), dispatch_url(dispatch, "report_in"), {"version": case.version}
    )
    assert response.status_code == 200
    assert Dispatch.objects.get(pk=dispatch.pk).state == Dispatch.State.REPORTED


def test_assign(org, api):
    case, dispatch = reported(org)
    body = {"version": case.version, "assignee": org.member.pk}
    response = post(api(org.captain), dispatch_url(dispatch, "assign"), body)
    assert response.status_code == 200, response.json()
    assert Dispatch.objects.get(pk=dispatch.pk).assignee == org.member
    # A user who is not in the team cannot be assigned: the field says so.
    body = {"version": fresh(case).version, "assignee": org.liaison.pk}
    response = post(api(org.captain), dispatch_url(dispatch, "assign"), body)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["assignee"]


def test_handle_with_photos(org, api):
    case, dispatch = reported(org)
    body = {"version": case.version, "note": "Talked to the owner", "photos": [png(), png("b.png")]}
    response = post(api(org.member), dispatch_url(dispatch, "handle"), body, multipart=True)
    assert response.status_code == 200, response.json()
    assert Dispatch.objects.get(pk=dispatch.pk).handling_note
    assert len(response.json()["attachments"]) == 2


def test_resolve_part(org, api):
    case = whistled(org)
    dispatch = department_dispatch(case)
    report_in(user=org.liaison, dispatch_id=dispatch.pk)
    body = {"version": fresh(case).version, "note": "Fined", "legal_instrument_number": "F-1"}
    response = post(api(org.liaison), dispatch_url(dispatch, "resolve_part"), body)
    assert response.status_code == 200, response.json()
    assert Dispatch.objects.get(pk=dispatch.pk).state == Dispatch.State.RESOLVED


def test_cancel(org, api):
    case = whistled(org)
    dispatch = department_dispatch(case)
    body = {"version": case.version, "reason": "Sent to the wrong bureau"}
    response = post(api(org.town_committee), dispatch_url(dispatch, "cancel"), body)
    assert response.status_code == 200, response.json()
    assert Dispatch.objects.get(pk=dispatch.pk).state == Dispatch.State.CANCELLED
    assert Event.objects.filter(case=case, action="cancel_dispatch").count() == 1


ACTIONS = {
    "report_in": lambda org, case: {},
    "assign": lambda org, case: {"assignee": org.member.pk},
    "handle": lambda org, case: {"note": "Visited"},
    "resolve_part": lambda org, case: {"note": "Done", "legal_instrument_number": "N-1"},
    "cancel": lambda org, case: {"reason": "Wrong team"},
}


@pytest.mark.parametrize("name", ACTIONS)
def test_dispatch_actions_outside_the_scope_are_not_found(org, api, name):
    case = whistled(org)
    dispatch = team_dispatch(case)
    body = {"version": case.version, **ACTIONS[name](org, case)}
    for outsider in (org.other_captain, org.other_grid_worker):
        response = post(api(outsider), dispatch_url(dispatch, name), body)
        assert response.status_code == 404, response.json()
    assert fresh(case).version == case.version


@pytest.mark.parametrize("name", ACTIONS)
def test_dispatch_actions_of_others_are_forbidden(org, api, name):
    case = whistled(org)
    dispatch = team_dispatch(case)
    body = {"version": case.version, **ACTIONS[name](org, case)}
    response = post(api(org.supervisor), dispatch_url(dispatch, name), body)
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "forbidden"
    assert Dispatch.objects.get(pk=dispatch.pk).state == Dispatch.State.WAITING


@pytest.mark.parametrize("name", ACTIONS)
def test_dispatch_actions_refuse_a_stale_version(org, api, name):
    case, dispatch = reported(org) if name != "report_in" else (whistled(org), None)
    dispatch = dispatch or team_dispatch(case)
    actor = org.town_committee if name == "cancel" else org.captain
    body = {"version": case.version - 1, **ACTIONS[name](org, case)}
    response = post(api(actor), dispatch_url(dispatch, name), body)
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "stale"
    assert fresh(case).version == case.version


def test_postponement_decision(org, api):
    case = accepted(org)
    deadline = case.deadlines.get(stage="village_handling")
    postponement = request_postponement(
        user=org.village_officer,
        case_id=case.pk,
        deadline_id=deadline.pk,
        amount=1,
        unit="working_days",
        reason="Owner away",
    )
    path = f"/api/postponements/{postponement.pk}/decide/"
    assert post(api(org.other_captain), path, {"approve": True}).status_code == 404
    assert post(api(org.village_officer), path, {"approve": True}).status_code == 403
    stale = post(api(org.town_committee), path, {"approve": True, "version": case.version - 1})
    assert stale.status_code == 409
    response = post(api(org.town_committee), path, {"approve": True, "note": "Once"})
    assert response.status_code == 200, response.json()
    assert Postponement.objects.get(pk=postponement.pk).decision == "approved"
    assert response.json()["id"] == case.pk
    again = post(api(org.town_committee), path, {"approve": False})
    assert again.status_code == 409
    assert post(api(org.town_committee), "/api/postponements/999999/decide/", {}).status_code == 404


def test_the_dispatch_list_shows_only_visible_dispatches(org, api):
    case = whistled(org)
    response = api(org.captain).get("/api/dispatches/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["id"] for row in rows} == set(case.dispatches.values_list("pk", flat=True))
    (team_row,) = [row for row in rows if row["team"]]
    assert team_row["available_actions"] == ["report_in", "assign", "return_dispatch"]
    assert api(org.other_captain).get("/api/dispatches/").json()["count"] == 0
    assert api(org.other_grid_worker).get("/api/dispatches/").json()["count"] == 0

    filtered = api(org.town_committee).get(f"/api/dispatches/?department={org.department.pk}")
    assert [row["department"]["id"] for row in filtered.json()["results"]] == [org.department.pk]
    assert api(org.captain).get("/api/dispatches/?state=reported").json()["count"] == 0
    assert api(org.captain).get("/api/dispatches/?state=nonsense").status_code == 400

    dispatch = team_dispatch(case)
    assert api(org.captain).get(f"/api/dispatches/{dispatch.pk}/").json()["id"] == dispatch.pk
    assert api(org.other_captain).get(f"/api/dispatches/{dispatch.pk}/").status_code == 404
