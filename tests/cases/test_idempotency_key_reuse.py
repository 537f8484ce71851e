"""The same Idempotency-Key with a different body is refused with 422 and files nothing, on
every entry point (the REST API already did, cases.api.idempotency): Open311 filing and its
"me too", and the filing page (a clear message; the form gets a new key). A true retry still
returns the first answer."""

import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse

from cases.errors import IdempotencyKeyReused
from cases.models import Case, IdempotencyKey, Supporter
from cases.open311.services import create_api_client
from cases.services import file_whistle
from tests.api.conftest import client_for
from tests.cases.engine_steps import whistled

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


@pytest.fixture
def key(org) -> str:
    return create_api_client(name="12345 hotline", jurisdiction_id=org.city.code)[1]


def open311_post(client, key: str, fmt: str = "json", **fields):
    data = {
        "api_key": key,
        "service_code": "SAN-01",
        "lat": "30.5",
        "long": "120.7",
        "description": "Garbage piled beside the bridge",
        **fields,
    }
    return client.post(
        f"/open311/v2/requests.{fmt}",
        data,
        headers={"Idempotency-Key": "call-42", "Accept-Language": "en"},
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_filing_answers_422_for_another_complaint(client, org, key, fmt):
    first = open311_post(client, key, fmt)
    assert first.status_code == 200, first.content
    retry = open311_post(client, key, fmt)
    assert retry.status_code == 200  # a true retry: the first answer
    other = open311_post(client, key, fmt, description="A second, different complaint")
    assert other.status_code == 422, other.content
    assert b"Idempotency-Key" in other.content
    assert Case.objects.count() == 1
    assert not Case.objects.filter(description="A second, different complaint").exists()


def test_open311_support_answers_422_for_another_caller(client, org, key):
    case = whistled(org)
    path = f"/open311/v2/requests/{case.number}/support.json"
    headers = {"Idempotency-Key": "call-77", "Accept-Language": "en"}
    first = client.post(path, {"api_key": key, "phone": "13800000000"}, headers=headers)
    assert first.status_code == 200, first.content
    assert client.post(path, {"api_key": key, "phone": "13800000000"}, headers=headers).json() == (
        first.json()
    )
    other = client.post(path, {"api_key": key, "phone": "13900000000"}, headers=headers)
    assert other.status_code == 422, other.content
    assert Supporter.objects.filter(case=case).count() == 1


def test_the_service_refuses_another_whistle_under_the_same_key(org):
    first = file_whistle(
        user=org.grid_worker,
        item=org.item,
        description="Garbage",
        grid=org.grid,
        idempotency_key="k-1",
    )
    again = file_whistle(
        user=org.grid_worker,
        item=org.item,
        description="Garbage",
        grid=org.grid,
        idempotency_key="k-1",
    )
    assert (again.case, again.created) == (first.case, False)
    with pytest.raises(IdempotencyKeyReused):
        file_whistle(
            user=org.grid_worker,
            item=org.item,
            description="Broken street lamp",
            grid=org.grid,
            idempotency_key="k-1",
        )
    assert Case.objects.count() == 1


def test_the_filing_page_says_so_and_files_nothing(client, org):
    client.force_login(org.grid_worker)
    data = {
        "item": str(org.item.pk),
        "description": "Garbage piled beside the bridge",
        "latitude": "30.5",
        "longitude": "120.7",
        "idempotency_key": uuid.uuid4().hex,
    }
    assert client.post(reverse("cases:file"), data, **EN).status_code == 302
    changed = {**data, "description": "Broken street lamp by the school"}
    response = client.post(reverse("cases:file"), changed, **EN)
    assert response.status_code == 422
    assert "already used for a different request" in response.content.decode()
    assert Case.objects.count() == 1
    # The form keeps the input with a new key: sent again, it is filed as a new whistle.
    new_key = response.context["form"]["idempotency_key"].value()
    assert new_key != data["idempotency_key"]
    resent = client.post(reverse("cases:file"), {**changed, "idempotency_key": new_key}, **EN)
    assert resent.status_code == 302
    assert Case.objects.filter(description="Broken street lamp by the school").count() == 1


def test_the_api_keeps_answering_422(org):
    api = client_for(org.grid_worker)
    body = {"item": org.item.pk, "description": "Garbage", "grid": org.grid.pk}
    headers = {"Idempotency-Key": "api-1"}
    assert api.post("/api/cases/", body, format="json", headers=headers).status_code == 201
    other = api.post("/api/cases/", {**body, "description": "Lamp"}, format="json", headers=headers)
    assert other.status_code == 422
    assert IdempotencyKey.objects.filter(key="api-1").count() == 1
