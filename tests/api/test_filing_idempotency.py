"""Filing through the API and the Idempotency-Key on every POST: a retry returns the first
response and files nothing twice, also when the copies arrive at once (real threads with their
own connections, on SQLite and PostgreSQL alike)."""

import threading

import pytest
from django.db import connection

from cases.models import Case, Event, IdempotencyKey
from tests.api.conftest import client_for, png
from tests.api.steps import filed, fresh, post

LAT, LNG = 30.50, 120.70


def filing(org, **extra) -> dict:
    return {"item": org.item.pk, "description": "Garbage by the bridge", **extra}


@pytest.mark.django_db
def test_a_grid_worker_files_by_location_or_grid(org, api):
    client = api(org.grid_worker)
    response = post(
        client, "/api/cases/", filing(org, latitude=LAT, longitude=LNG, address="Bridge")
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert (case.status, case.grid, case.reporter, case.source) == (
        "filed",
        org.grid,
        org.grid_worker,
        "grid_worker",
    )
    assert body["number"] == case.number and body["address"] == "Bridge"

    by_grid = post(client, "/api/cases/", filing(org, grid=org.grid.pk, description="Rubble"))
    assert by_grid.status_code == 201
    assert Case.objects.count() == 2


@pytest.mark.django_db
def test_filing_with_photos(org, api):
    body = filing(org, grid=org.grid.pk, photos=[png(), png("second.png")])
    response = post(api(org.grid_worker), "/api/cases/", body, multipart=True)
    assert response.status_code == 201, response.json()
    assert [a["purpose"] for a in response.json()["attachments"]] == ["filing", "filing"]


@pytest.mark.django_db
def test_filing_refusals(org, api):
    client = api(org.grid_worker)
    response = post(client, "/api/cases/", {"description": ""})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"item"}
    response = post(client, "/api/cases/", filing(org, description=""))
    assert response.status_code == 400
    assert set(response.json()["fields"]) >= {"description"}
    response = post(client, "/api/cases/", filing(org, latitude=LAT))
    assert response.status_code == 400
    assert "location" in response.json()["fields"]
    # Outside the grids of the worker: forbidden. Not a grid worker at all: forbidden.
    response = post(client, "/api/cases/", filing(org, grid=org.other_grid.pk))
    assert response.status_code == 403
    response = post(api(org.village_officer), "/api/cases/", filing(org, grid=org.grid.pk))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_screening_refuses_a_dispute_with_where_to_go(org, api):
    from checklists.models import ScreeningRule

    rule = ScreeningRule.objects.filter(active=True).first()
    assert rule is not None
    keyword = rule.keyword_list()[0]
    response = post(
        api(org.grid_worker),
        "/api/cases/",
        filing(org, grid=org.grid.pk, description=f"He {keyword} me money"),
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "screening_refused"
    assert body["fields"]["redirect"]
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_a_retried_filing_returns_the_first_response_and_files_once(org, api):
    client = api(org.grid_worker)
    body = filing(org, latitude=LAT, longitude=LNG)
    first = post(client, "/api/cases/", body, HTTP_IDEMPOTENCY_KEY="key-1")
    again = post(client, "/api/cases/", body, HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Case.objects.count() == 1

    reused = post(
        client, "/api/cases/", filing(org, grid=org.grid.pk), HTTP_IDEMPOTENCY_KEY="key-1"
    )
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1

    # Another user's key of the same name is theirs alone.
    other = post(
        api(org.other_grid_worker),
        "/api/cases/",
        filing(org, grid=org.other_grid.pk),
        HTTP_IDEMPOTENCY_KEY="key-1",
    )
    assert other.status_code == 201
    assert Case.objects.count() == 2


@pytest.mark.django_db
def test_a_retried_multipart_filing_is_recognised(org, api):
    client = api(org.grid_worker)
    responses = [
        post(
            client,
            "/api/cases/",
            filing(org, grid=org.grid.pk, photos=[png()]),
            multipart=True,
            HTTP_IDEMPOTENCY_KEY="photo-key",
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[1].headers["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_errors_are_stored_and_replayed_too(org, api):
    case = filed(org)
    client = api(org.village_officer)
    path = f"/api/cases/{case.pk}/reject/"
    first = post(client, path, {"version": case.version}, HTTP_IDEMPOTENCY_KEY="r-1")
    assert first.status_code == 400
    again = post(client, path, {"version": case.version}, HTTP_IDEMPOTENCY_KEY="r-1")
    assert again.status_code == 400 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_a_retried_action_acts_once(org, api):
    case = filed(org)
    client = api(org.village_officer)
    path = f"/api/cases/{case.pk}/accept/"
    first = post(client, path, {"version": case.version}, HTTP_IDEMPOTENCY_KEY="a-1")
    again = post(client, path, {"version": case.version}, HTTP_IDEMPOTENCY_KEY="a-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert Event.objects.filter(case=case, action="accept").count() == 1
    assert fresh(case).version == case.version + 1
    # Without the key the same request is simply stale now.
    assert post(client, path, {"version": case.version}).status_code == 409
    # The key is per endpoint: the same key on another action is a new request.
    other = post(
        client,
        f"/api/cases/{case.pk}/whistle/",
        {"version": case.version + 1},
        HTTP_IDEMPOTENCY_KEY="a-1",
    )
    assert other.status_code == 200
    assert IdempotencyKey.objects.filter(key="a-1", user=org.village_officer).count() == 2


@pytest.mark.django_db
def test_notifications_read_is_idempotent_as_every_post(org, api):
    client = api(org.village_officer)
    filed(org)
    first = post(client, "/api/notifications/read/", {"all": True}, HTTP_IDEMPOTENCY_KEY="n-1")
    again = post(client, "/api/notifications/read/", {"all": True}, HTTP_IDEMPOTENCY_KEY="n-1")
    assert first.json() == again.json() == {"marked": 1, "unread": 0}
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_an_overlong_key_is_refused(org, api):
    response = post(
        api(org.grid_worker),
        "/api/cases/",
        filing(org, grid=org.grid.pk),
        HTTP_IDEMPOTENCY_KEY="k" * 129,
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]
    assert Case.objects.count() == 0


def _at_once(count: int, request) -> list:
    """Run `request()` in `count` threads released together; each returns its response."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=20)
            results[index] = request()
        except Exception as error:  # the test inspects what was raised
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_retries_of_a_filing_file_exactly_one_case(org):
    client_for(org.grid_worker)  # the token exists before the threads start
    body = filing(org, latitude=LAT, longitude=LNG)

    def send():
        client = client_for(org.grid_worker)
        return post(client, "/api/cases/", body, HTTP_IDEMPOTENCY_KEY="same-key")

    responses = _at_once(4, send)
    assert all(not isinstance(r, Exception) for r in responses), responses
    assert [r.status_code for r in responses] == [201] * 4, [r.content for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 3
    assert Case.objects.count() == 1
    assert Event.objects.filter(action="file").count() == 1
    assert IdempotencyKey.objects.filter(key="same-key").count() == 1  # the API claim


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_retries_of_an_action_act_once(org):
    case = filed(org)
    client_for(org.village_officer)

    def send():
        client = client_for(org.village_officer)
        return post(
            client,
            f"/api/cases/{case.pk}/accept/",
            {"version": case.version},
            HTTP_IDEMPOTENCY_KEY="accept-once",
        )

    responses = _at_once(3, send)
    assert all(not isinstance(r, Exception) for r in responses), responses
    assert [r.status_code for r in responses] == [200] * 3
    bodies = [r.json() for r in responses]
    assert all(body == bodies[0] for body in bodies)  # the same JSON (jsonb orders keys)
    assert bodies[0]["status"] == "village_handling"
    assert Event.objects.filter(case=case, action="accept").count() == 1
