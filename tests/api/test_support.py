"""A "me too" (附议) through the REST API (POST /api/cases/{id}/support/, a grid worker of the
case's grid) and through Open311 (POST /open311/v2/requests/{id}/support.json, a hotline
caller): counted once per person, Idempotency-Key respected, bad input and the wrong role or
place change nothing."""

import pytest
from django.core.cache import cache
from drf_spectacular.generators import SchemaGenerator

from cases.models import Event, IdempotencyKey, Supporter
from cases.open311.services import create_api_client
from cases.services import reject_case
from teams.models import Role
from tests.api.steps import fresh, post
from tests.cases.engine_steps import accepted, file_case, whistled
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def path(case) -> str:
    return f"/api/cases/{case.pk}/support/"


@pytest.fixture
def neighbour(org):
    user = UserFactory(username="gw-next")
    MembershipFactory(user=user, role=Role.GRID_WORKER, grid=org.grid)
    return user


def test_a_grid_worker_backs_the_case(org, api, neighbour):
    case = accepted(org)
    body = {"version": case.version, "note": "Same pile, north side"}
    response = post(api(neighbour), path(case), body)
    assert response.status_code == 200, response.json()
    assert response.json()["number"] == case.number
    row = Supporter.objects.get(case=case)
    assert (row.user, row.note) == (neighbour, "Same pile, north side")
    assert fresh(case).version == case.version + 1


def test_a_repeat_is_409_with_a_clear_message_and_counts_once(org, api, neighbour):
    case = accepted(org)
    assert post(api(neighbour), path(case), {"version": case.version}).status_code == 200
    again = post(api(neighbour), path(case), {"version": fresh(case).version})
    assert again.status_code == 409, again.json()
    assert "You already support case" in again.json()["message"]
    assert Supporter.objects.filter(case=case).count() == 1


def test_the_idempotency_key_replays_the_first_answer(org, api, neighbour):
    case = accepted(org)
    client = api(neighbour)
    body = {"version": case.version, "note": "me too"}
    first = post(client, path(case), body, HTTP_IDEMPOTENCY_KEY="support-1")
    second = post(client, path(case), body, HTTP_IDEMPOTENCY_KEY="support-1")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Supporter.objects.filter(case=case).count() == 1
    assert Event.objects.filter(case=case, action="support").count() == 1


def test_bad_input_roles_and_scope(org, api, neighbour):
    case = accepted(org)
    too_long = post(api(neighbour), path(case), {"version": case.version, "note": "x" * 1001})
    assert too_long.status_code == 400
    assert "note" in too_long.json()["fields"]
    assert post(api(neighbour), path(case), {"note": "no version"}).status_code == 400
    forbidden = post(api(org.grid_worker), path(case), {"version": case.version})
    assert forbidden.status_code == 403  # the whistler backs no own whistle
    assert forbidden.json()["code"] == "forbidden"
    assert post(api(org.village_officer), path(case), {"version": case.version}).status_code == 403
    outside = post(api(org.other_grid_worker), path(case), {"version": case.version})
    assert outside.status_code == 404
    assert not Supporter.objects.exists()
    assert fresh(case).version == case.version


def test_the_route_is_in_the_openapi_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/cases/{id}/support/"]["post"]
    assert operation["operationId"] == "cases_support"


# --- Open311 ---------------------------------------------------------------------------------


@pytest.fixture
def hotline(org):
    cache.clear()  # the rate-limit windows
    _client, key = create_api_client(name="12345 hotline", jurisdiction_id=org.city.code)
    return key


def support_url(case, fmt: str = "json") -> str:
    return f"/open311/v2/requests/{case.number}/support.{fmt}"


def call(client, case, key, fmt: str = "json", headers=None, **fields):
    data = {"api_key": key, "phone": "13800000000", "first_name": "Mei", **fields}
    data = {name: value for name, value in data.items() if value is not None}
    return client.post(
        support_url(case, fmt), data, headers={"Accept-Language": "en", **(headers or {})}
    )


def test_a_hotline_caller_backs_the_case_once(client, org, hotline):
    case = whistled(org)
    response = call(client, case, hotline, description="Still smelling")
    assert response.status_code == 200, response.content
    [row] = response.json()
    assert row["service_request_id"] == case.number
    assert row["supporters"] == 1
    assert case.number in row["service_notice"]
    supporter = Supporter.objects.get(case=case)
    assert (supporter.caller_reference, supporter.contact_name, supporter.note) == (
        "13800000000",
        "Mei",
        "Still smelling",
    )

    again = call(client, case, hotline)
    assert again.status_code == 409
    assert "already supports" in again.json()[0]["description"]
    other = call(client, case, hotline, account_id="acct-9")
    assert other.status_code == 200
    assert other.json()[0]["supporters"] == 2
    assert Supporter.objects.filter(case=case).count() == 2


def test_the_xml_answer(client, org, hotline):
    case = whistled(org)
    response = call(client, case, hotline, "xml")
    assert response.status_code == 200, response.content
    assert b"<supporters>1</supporters>" in response.content


def test_open311_honours_the_idempotency_key(client, org, hotline):
    case = whistled(org)
    headers = {"Idempotency-Key": "call-77"}
    first = call(client, case, hotline, headers=headers)
    second = call(client, case, hotline, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert Supporter.objects.filter(case=case).count() == 1
    assert IdempotencyKey.objects.filter(key="call-77", endpoint="open311_support").count() == 1


def test_open311_refusals_change_nothing(client, org, hotline):
    case = whistled(org)
    assert call(client, case, "wrong-key").status_code == 403
    assert call(client, case, hotline, phone=None).status_code == 400
    missing = client.post(
        "/open311/v2/requests/HN-1999-000404/support.json", {"api_key": hotline, "phone": "1"}
    )
    assert missing.status_code == 404
    rejected = file_case(org)
    reject_case(user=org.village_officer, case_id=rejected.pk, reason="Not on the list")
    closed = call(client, fresh(rejected), hotline)
    assert closed.status_code == 409
    assert not Supporter.objects.exists()
