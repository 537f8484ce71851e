"""The spot-check API: draw (POST /api/spot-checks/), list and read the samples, and record a
revisit (POST /api/cases/{id}/record-spot-check/): 201/200, 400 for bad input with nothing
changed, 403 for another role, 404 outside the scope, 409 for a second outcome; the draw
honours the Idempotency-Key and the schema documents every route."""

import pytest

from cases.models import Event, Status
from spotchecks.models import SpotCheck, SpotCheckCase
from tests.api.conftest import client_for, png
from tests.api.steps import post
from tests.cases.engine_steps import T0, fresh
from tests.security.scenario import build_org
from tests.spotchecks.steps import DAY, closed_cases, draw, not_an_image

SPOT_CHECKS = "/api/spot-checks/"
Outcome = SpotCheckCase.Outcome


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def body(org, **change) -> dict:
    data = {
        "team": org.team.pk,
        "closed_from": DAY.isoformat(),
        "closed_to": DAY.isoformat(),
        "size": 2,
    }
    data.update(change)
    return data


def revisit_path(case) -> str:
    return f"/api/cases/{case.pk}/record-spot-check/"


def test_the_supervisor_draws_once_per_idempotency_key(org):
    closed_cases(org, 3)
    client = client_for(org.supervisor)
    first = post(client, SPOT_CHECKS, body(org, seed=99), HTTP_IDEMPOTENCY_KEY="draw-1")
    assert first.status_code == 201, first.json()
    again = post(client, SPOT_CHECKS, body(org, seed=99), HTTP_IDEMPOTENCY_KEY="draw-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert SpotCheck.objects.count() == 1
    data = first.json()
    assert (data["size"], data["seed"], data["team_id"], data["city_id"]) == (
        2,
        99,
        org.team.pk,
        org.city.pk,
    )
    assert len(data["population"]) == 3
    assert [row["outcome"] for row in data["cases"]] == ["pending", "pending"]
    listed = client.get(SPOT_CHECKS).json()
    assert [row["id"] for row in listed["results"]] == [data["id"]]
    read = client_for(org.city_committee).get(f"{SPOT_CHECKS}{data['id']}/")
    assert read.status_code == 200 and read.json()["cases"] == data["cases"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"size": 4}, "size"),
        ({"size": 0}, "size"),
        ({"team": None}, "team"),
        ({"seed": -1}, "seed"),
    ],
)
def test_a_bad_draw_is_refused_and_nothing_drawn(org, change, field):
    closed_cases(org, 3)
    response = post(client_for(org.supervisor), SPOT_CHECKS, body(org, **change))
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not SpotCheck.objects.exists()


def test_only_supervisors_draw_and_the_scope_hides_other_cities(org):
    closed_cases(org, 1)
    for role in ("captain", "city_committee", "town_committee"):
        response = post(client_for(getattr(org, role)), SPOT_CHECKS, body(org, size=1))
        assert response.status_code == 403, role
    spot_check = draw(org, size=1)
    other = build_org(prefix="x", city_code="SZ", lng=121.50)
    assert client_for(other.supervisor).get(f"{SPOT_CHECKS}{spot_check.pk}/").status_code == 404
    assert client_for(other.supervisor).get(SPOT_CHECKS).json()["results"] == []
    assert client_for(org.captain).get(f"{SPOT_CHECKS}{spot_check.pk}/").status_code == 403


def test_the_revisit_is_recorded_through_the_case_route(org):
    case, other = closed_cases(org, 2)
    draw(org, size=2)
    client = client_for(org.supervisor)
    refused = post(
        client,
        revisit_path(case),
        {
            "version": fresh(case).version,
            "outcome": "false_reply",
            "note": "Back",
            "photos": [not_an_image()],
        },
        multipart=True,
    )
    assert refused.status_code == 400 and "photos" in refused.json()["fields"]
    assert fresh(case).status == Status.CLOSED
    response = post(
        client,
        revisit_path(case),
        {
            "version": fresh(case).version,
            "outcome": "false_reply",
            "note": "Back",
            "photos": [png()],
        },
        multipart=True,
        HTTP_IDEMPOTENCY_KEY="revisit-1",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == Status.DISPATCHED
    assert Event.objects.filter(case=case, action="spot_check_failed").count() == 1
    twice = post(
        client, revisit_path(case), {"version": fresh(case).version, "outcome": "confirmed"}
    )
    assert twice.status_code == 409
    forbidden = post(
        client_for(org.town_committee),
        revisit_path(other),
        {"version": fresh(other).version, "outcome": "confirmed"},
    )
    assert forbidden.status_code == 403
    bad = post(client, revisit_path(other), {"version": fresh(other).version, "outcome": "maybe"})
    assert bad.status_code == 400 and "outcome" in bad.json()["fields"]
    assert SpotCheckCase.objects.get(case=other).outcome == Outcome.PENDING


def test_the_schema_documents_the_spot_check_routes(org):
    schema = client_for(org.supervisor).get("/api/schema/?format=json").json()
    assert {"get", "post"} <= set(schema["paths"][SPOT_CHECKS])
    assert "get" in schema["paths"]["/api/spot-checks/{id}/"]
    entry = schema["paths"]["/api/cases/{id}/record-spot-check/"]["post"]
    assert entry["operationId"] == "cases_record_spot_check"
    assert "Idempotency-Key" in {p["name"] for p in entry["parameters"]}
    draw_entry = schema["paths"][SPOT_CHECKS]["post"]
    assert "Idempotency-Key" in {p["name"] for p in draw_entry["parameters"]}
