"""The answer to a filing is built from the rows the filing wrote, without reading the case
back: it must be exactly what reading the case returns, and the filing must stay cheap in
statements (the intake benchmark, bench.intake, measures its speed)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case, IdempotencyKey, Notification
from tests.api.conftest import png
from tests.api.steps import post

LAT, LNG = 30.50, 120.70
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    """The detail shows the time left on the screening clock: the same instant for both."""
    time_machine.move_to(NOON, tick=False)


def _filing(org, **extra) -> dict:
    return {"item": org.item.pk, "description": "Garbage by the bridge", **extra}


@pytest.mark.django_db
def test_the_filing_answer_is_the_case_as_read(org, api):
    client = api(org.grid_worker)
    first = post(client, "/api/cases/", _filing(org, latitude=LAT, longitude=LNG))

    def body() -> dict:
        return _filing(
            org,
            latitude=LAT,
            longitude=LNG + 0.0001,
            address="Bridge",
            photos=[png(), png("b.png")],
        )

    second = post(client, "/api/cases/", body(), multipart=True, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201, second.json()
    answer = second.json()
    read = client.get(f"/api/cases/{answer['id']}/")
    assert read.status_code == 200
    assert answer == read.json()
    # What the answer shows is what was filed.
    case = Case.objects.get(pk=answer["id"])
    assert answer["number"] == case.number and not case.number.startswith("~")
    assert answer["possible_duplicate_of"] == {
        "id": first.json()["id"],
        "number": first.json()["number"],
    }
    assert [d["stage"] for d in answer["deadlines"]] == ["screening"]
    assert answer["deadlines"][0]["running"] and answer["deadlines"][0]["postponements"] == []
    assert len(answer["attachments"]) == 2 and answer["dispatches"] == []
    assert answer["available_actions"] == read.json()["available_actions"]
    # The stored answer of the key is the same, and so is a retry.
    assert IdempotencyKey.objects.get(key="k-1").response_body == answer
    again = post(client, "/api/cases/", body(), multipart=True, HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.json() == answer and again.headers["Idempotent-Replayed"] == "true"
    # The officers were told with the case's real number.
    assert {n.data["number"] for n in Notification.objects.filter(case=case)} == {case.number}


@pytest.mark.django_db
def test_numbers_follow_each_other_without_gaps(org, api):
    client = api(org.grid_worker)
    numbers = [
        post(client, "/api/cases/", _filing(org, grid=org.grid.pk)).json()["number"]
        for _ in range(3)
    ]
    refused = post(client, "/api/cases/", _filing(org, grid=org.grid.pk, description=""))
    assert refused.status_code == 400
    numbers.append(post(client, "/api/cases/", _filing(org, grid=org.grid.pk)).json()["number"])
    serials = [int(number.rsplit("-", 1)[1]) for number in numbers]
    assert serials == list(range(serials[0], serials[0] + 4))
    assert sorted(Case.objects.values_list("number", flat=True)) == sorted(numbers)


@pytest.mark.django_db
def test_a_filing_costs_few_statements(org, api):
    client = api(org.grid_worker)
    post(client, "/api/cases/", _filing(org, grid=org.grid.pk))  # token, caches
    with CaptureQueriesContext(connection) as queries:
        response = post(
            client,
            "/api/cases/",
            _filing(org, latitude=LAT, longitude=LNG),
            HTTP_IDEMPOTENCY_KEY="cheap",
        )
    assert response.status_code == 201
    statements = [q["sql"] for q in queries.captured_queries]
    # Authentication, the claim, validation reads, duplicate check, the writes, the number,
    # the stored answer: no read-back of the case and no second claim. The village officers'
    # notice adds their alert preferences and its deliveries (cases.channels.delivery).
    assert len(statements) <= 22, "\n".join(statements)
    assert IdempotencyKey.objects.filter(key="cheap").count() == 1
