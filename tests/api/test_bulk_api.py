"""Bulk actions through the API (POST /api/cases/bulk/ and /api/dispatches/bulk/): one result per
row with its own status code and message, a refused row does not stop the others, a row
outside the scope is "not found", and an Idempotency-Key replays the first answer without
performing anything again."""

from datetime import timedelta

import pytest

from cases.models import Case, Dispatch, Event, IdempotencyKey, Status
from cases.services import accept_case
from tests.api.steps import post
from tests.cases.engine_steps import T0, file_case, team_dispatch, whistled

pytestmark = pytest.mark.django_db

CASES = "/api/cases/bulk/"
DISPATCHES = "/api/dispatches/bulk/"


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def filed(org, n: int) -> Case:
    return file_case(
        org,
        description=f"Garbage heap {n}",
        latitude=30.4965 + n * 0.001,
        longitude=120.6965,
    )


def elsewhere(org) -> Case:
    return file_case(
        org,
        user=org.other_grid_worker,
        grid=org.other_grid,
        latitude=30.50,
        longitude=120.80,
        description="Broken street light",
    )


def statuses(response) -> dict[int, int]:
    return {row["id"]: row["status"] for row in response.json()["results"]}


def test_bulk_accept_answers_per_row(org, api):
    first, second = filed(org, 0), filed(org, 1)
    accept_case(user=org.village_officer, case_id=second.pk)
    outside = elsewhere(org)
    response = post(
        api(org.village_officer),
        CASES,
        {"action": "accept", "ids": [first.pk, second.pk, outside.pk]},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["done"], body["refused"]) == (1, 2)
    assert body["results"] == [
        {"id": first.pk, "status": 200, "code": "done", "message": "The case was accepted."},
        {
            "id": second.pk,
            "status": 409,
            "code": "illegal_transition",
            "message": "This action is not possible in the case's current state.",
        },
        {"id": outside.pk, "status": 404, "code": "not_found", "message": "No such case."},
    ]
    assert Case.objects.get(pk=first.pk).status == Status.VILLAGE_HANDLING
    assert Case.objects.get(pk=outside.pk).status == Status.FILED


def test_a_role_that_may_not_is_not_allowed_per_row(org, api):
    case = filed(org, 0)
    response = post(api(org.grid_worker), CASES, {"action": "accept", "ids": [case.pk]})
    assert response.status_code == 200
    assert statuses(response) == {case.pk: 403}
    assert response.json()["results"][0]["code"] == "forbidden"


def test_messages_come_in_the_requests_language(org, api):
    case = filed(org, 0)
    accept_case(user=org.village_officer, case_id=case.pk)
    client = api(org.village_officer, language="zh-hans")
    response = post(client, CASES, {"action": "accept", "ids": [case.pk]})
    (row,) = response.json()["results"]
    assert row["status"] == 409
    assert "This action is not possible" not in row["message"]


def test_idempotency_key_replays_and_performs_nothing_twice(org, api):
    first, second = filed(org, 0), filed(org, 1)
    client = api(org.village_officer)
    body = {"action": "accept", "ids": [first.pk, second.pk]}
    once = post(client, CASES, body, HTTP_IDEMPOTENCY_KEY="bulk-1")
    assert once.status_code == 200
    assert statuses(once) == {first.pk: 200, second.pk: 200}
    again = post(client, CASES, body, HTTP_IDEMPOTENCY_KEY="bulk-1")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == once.json()  # not 409 "already accepted": nothing ran again
    assert Event.objects.filter(action="accept").count() == 2
    assert IdempotencyKey.objects.filter(key="bulk-1").count() == 1
    other = post(
        client, CASES, {"action": "accept", "ids": [first.pk]}, HTTP_IDEMPOTENCY_KEY="bulk-1"
    )
    assert other.status_code == 422


def test_bulk_assign_and_urge_on_dispatches(org, api, time_machine):
    one, two = (team_dispatch(whistled(org, description=f"Heap {n}")) for n in range(2))
    department = two.case.dispatches.get(department__isnull=False)
    response = post(
        api(org.captain),
        DISPATCHES,
        {
            "action": "assign",
            "ids": [one.pk, department.pk, two.pk],
            "data": {"assignee": org.member.pk},
        },
    )
    assert response.status_code == 200
    assert statuses(response) == {one.pk: 200, department.pk: 403, two.pk: 200}
    assert Dispatch.objects.filter(assignee=org.member).count() == 2

    time_machine.move_to(one.clock_due_at + timedelta(minutes=1), tick=False)
    urge = {"action": "urge", "ids": [one.pk, two.pk], "data": {"note": "Report in now"}}
    assert post(api(org.captain), DISPATCHES, urge).json()["refused"] == 2
    response = post(api(org.supervisor), DISPATCHES, urge)
    assert statuses(response) == {one.pk: 200, two.pk: 200}
    assert Event.objects.filter(action="urge").count() == 2


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (CASES, {"action": "accept", "ids": []}, "ids"),
        (CASES, {"action": "resolve", "ids": [1]}, "action"),
        (CASES, {"action": "accept", "ids": list(range(1, 102))}, "ids"),
        (DISPATCHES, {"action": "assign", "ids": [1]}, "data.assignee"),
        (DISPATCHES, {"action": "urge", "ids": [1], "data": {"note": " "}}, "data.note"),
        (DISPATCHES, {"action": "accept", "ids": [1]}, "action"),
    ],
)
def test_bad_bodies_are_refused_whole(org, api, path, body, field):
    case = filed(org, 0)
    response = post(api(org.village_officer), path, body)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert Case.objects.get(pk=case.pk).status == Status.FILED


def test_the_schema_documents_the_bulk_routes(org, api):
    schema = api(org.village_officer).get("/api/schema/?format=json").json()
    for path, operation in ((CASES, "cases_bulk"), (DISPATCHES, "dispatches_bulk")):
        entry = schema["paths"][path]["post"]
        assert entry["operationId"] == operation
        assert "Idempotency-Key" in {p["name"] for p in entry["parameters"]}
