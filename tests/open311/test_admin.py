"""The admin of API clients: a key is shown once and only its hash kept; a new key replaces
the old one; a revoked client's key no longer works."""

import hashlib

import pytest
from django.contrib.messages import get_messages

from cases.models import ApiClient
from tests.factories import UserFactory
from tests.open311.conftest import post_request, url


@pytest.fixture
def admin_client(client, org):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def shown_key(response, name: str) -> str:
    [message] = [
        str(m)
        for m in get_messages(response.wsgi_request)
        if name in str(m) and "Copy it now" in str(m)
    ]
    return message.split(" is ", 1)[1].split(". Copy", 1)[0]


def test_adding_a_client_shows_its_key_once_and_keeps_only_the_hash(admin_client, org):
    response = admin_client.post(
        "/admin/cases/apiclient/add/",
        {"name": "District hotline", "jurisdiction_id": org.city.code, "rate_limit_per_minute": 30},
        headers={"accept-language": "en"},
    )
    assert response.status_code == 302
    key = shown_key(response, "District hotline")
    client = ApiClient.objects.get(name="District hotline")
    assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert client.key_prefix == key[:8] and key not in client.key_hash
    assert (client.active, client.rate_limit_per_minute) == (True, 30)
    assert key in admin_client.get(response.url).content.decode()  # shown once, here
    page = admin_client.get(f"/admin/cases/apiclient/{client.pk}/change/").content.decode()
    assert key not in page and client.key_prefix in page


def test_a_client_must_name_a_city(admin_client, org):
    response = admin_client.post(
        "/admin/cases/apiclient/add/",
        {"name": "Lost", "jurisdiction_id": org.town.code, "rate_limit_per_minute": 30},
    )
    assert response.status_code == 200
    assert not ApiClient.objects.filter(name="Lost").exists()


def test_new_key_replaces_the_old_and_revoke_stops_it(admin_client, org, hotline):
    changelist = "/admin/cases/apiclient/"
    response = admin_client.post(
        changelist,
        {"action": "issue_new_key", "_selected_action": [hotline.client.pk]},
        headers={"accept-language": "en"},
    )
    assert response.status_code == 302
    new_key = shown_key(response, hotline.client.name)
    assert new_key != hotline.key
    assert post_request(admin_client, hotline).status_code == 403  # the old key
    hotline.key = new_key
    assert post_request(admin_client, hotline).status_code == 200
    admin_client.post(changelist, {"action": "revoke", "_selected_action": [hotline.client.pk]})
    hotline.client.refresh_from_db()
    assert (hotline.client.active, hotline.client.revoked_at is not None) == (False, True)
    assert post_request(admin_client, hotline).status_code == 403
    assert admin_client.get(url("services", "json")).status_code == 200
