"""Comprehensive investigations through the API, as the pages run them: the town committee
plans one, the team in charge records the visit and each finding becomes a case; seen by the
town, the team, the departments taking part and the city, by nobody else (404)."""

import pytest

from cases.models import Case, Source
from checklists.models import Aspect, Item
from consultation.models import Finding, Investigation
from tests.api.conftest import client_for

pytestmark = pytest.mark.usefixtures("clock")

LIST = "/api/investigations/"


def post(user, url, body=None, **headers):
    return client_for(user).post(url, body or {}, format="json", **headers)


def plan_body(org, **changes) -> dict:
    environment = Aspect.objects.get(pk=org.item.aspect_id)
    other = Aspect.objects.exclude(pk=environment.pk).order_by("order").first()
    body = {
        "place_name": "Riverside printing plant",
        "address": "1 River Road",
        "grid": org.grid.pk,
        "planned_for": "2025-06-10T15:00:00+08:00",
        "team": org.team.pk,
        "aspects": [environment.pk, other.pk],
        "departments": [org.department.pk],
        "hotspot_item": org.item.pk,
        "hotspot_grid": org.grid.pk,
    }
    body.update(changes)
    return body


def planned(org) -> dict:
    response = post(org.town_committee, LIST, plan_body(org))
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_town_plans_a_joint_visit(org):
    body = planned(org)
    investigation = Investigation.objects.get()
    assert (body["id"], body["status"], body["town_id"]) == (
        investigation.pk,
        "planned",
        org.town.pk,
    )
    assert {row["unit"] for row in body["attendance"]} == {org.team.name, org.department.name}
    assert len(body["checks"]) == 2
    own = next(c for c in body["checks"] if c["aspect_id"] == org.item.aspect_id)
    assert org.item.pk in [item["id"] for item in own["items"]]
    assert org.captain.notifications.filter(kind="investigation_planned").exists()


def test_only_the_town_plans_and_bad_input_changes_nothing(org):
    assert post(org.captain, LIST, plan_body(org)).status_code == 403
    assert post(org.supervisor, LIST, plan_body(org)).status_code == 403
    response = post(
        org.town_committee,
        LIST,
        plan_body(org, aspects=[], team=org.other_team.pk, grid=org.other_grid.pk + 999),
    )
    assert response.status_code == 400
    assert {"aspects", "team", "grid"} <= set(response.json()["fields"])
    response = post(org.town_committee, LIST, plan_body(org, planned_for="2025-06-01T09:00"))
    assert response.status_code == 400 and "planned_for" in response.json()["fields"]
    response = post(org.town_committee, LIST, plan_body(org, latitude=95))
    assert response.status_code == 400 and "latitude" in response.json()["fields"]
    assert post(org.town_committee, LIST, plan_body(org, town=org.other_town.pk)).status_code == 403
    assert not Investigation.objects.exists()


def test_planning_twice_with_one_key_plans_once(org):
    first = post(org.town_committee, LIST, plan_body(org), HTTP_IDEMPOTENCY_KEY="plan-1")
    again = post(org.town_committee, LIST, plan_body(org), HTTP_IDEMPOTENCY_KEY="plan-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert Investigation.objects.count() == 1


def test_who_sees_an_investigation(org):
    body = planned(org)
    url = f"{LIST}{body['id']}/"
    for user in (org.town_committee, org.captain, org.member, org.liaison, org.supervisor):
        client = client_for(user)
        assert [row["id"] for row in client.get(LIST).json()["results"]] == [body["id"]], user
        assert client.get(url).status_code == 200, user
    for user in (org.other_captain, org.village_officer, org.grid_worker):
        client = client_for(user)
        assert client.get(LIST).json()["results"] == [], user
        assert client.get(url).status_code == 404, user
    assert client_for(org.town_committee).get(f"{LIST}999999/").status_code == 404


def record_body(org, body: dict, *, item=None, finding="Waste water into the river") -> dict:
    own, other = sorted(body["checks"], key=lambda c: c["aspect_id"] != org.item.aspect_id)
    return {
        "attendance": [
            {"id": row["id"], "present": row["team_id"] is not None, "people": "Li Hong"}
            for row in body["attendance"]
        ],
        "checks": [
            {"id": own["id"], "checked": True, "finding": finding, "item": item or org.item.pk},
            {"id": other["id"], "checked": True},
        ],
        "notes": "Two teams, one visit",
    }


def test_the_team_records_the_visit_and_findings_become_cases(org):
    body = planned(org)
    url = f"{LIST}{body['id']}/record/"
    response = post(org.captain, url, record_body(org, body))
    assert response.status_code == 200, response.json()
    recorded = response.json()
    assert recorded["status"] == "done" and len(recorded["findings"]) == 1
    case = Case.objects.get(pk=recorded["findings"][0]["case_id"])
    assert (case.source, case.description, case.reporter) == (
        Source.INVESTIGATION,
        "Waste water into the river",
        org.captain,
    )
    assert recorded["findings"][0]["case_number"] == case.number
    assert post(org.captain, url, record_body(org, body)).status_code == 409


def test_recording_is_refused_outside_the_role_and_for_bad_input(org):
    body = planned(org)
    url = f"{LIST}{body['id']}/record/"
    assert post(org.member, url, record_body(org, body)).status_code == 403
    assert post(org.supervisor, url, record_body(org, body)).status_code == 403
    assert post(org.other_captain, url, record_body(org, body)).status_code == 404
    wrong_item = Item.objects.exclude(aspect_id=org.item.aspect_id).first()
    response = post(org.captain, url, record_body(org, body, item=wrong_item.pk))
    assert response.status_code == 400
    assert "checks.0.item" in response.json()["fields"], response.json()
    response = post(org.captain, url, {"checks": [{"id": 2**40, "checked": True}]})
    assert response.status_code == 400
    response = post(org.captain, url, {"attendance": "all"})
    assert response.status_code == 400
    assert [field.split(".")[0] for field in response.json()["fields"]] == ["attendance"]
    assert Investigation.objects.get().status == Investigation.Status.PLANNED
    assert not Case.objects.filter(source=Source.INVESTIGATION).exists()


def test_a_retried_record_files_each_finding_once(org):
    body = planned(org)
    url = f"{LIST}{body['id']}/record/"
    first = post(org.captain, url, record_body(org, body), HTTP_IDEMPOTENCY_KEY="rec-1")
    again = post(org.captain, url, record_body(org, body), HTTP_IDEMPOTENCY_KEY="rec-1")
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Finding.objects.count() == 1
