"""One error shape in the request's language; token authentication, revocation and the page
where users create and revoke their own token."""

import pytest
from django.contrib import admin
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.steps import filed, post

pytestmark = pytest.mark.django_db


def test_errors_come_in_the_requested_language(org, api):
    case = filed(org)
    body = {"version": case.version}
    english = post(api(org.supervisor), f"/api/cases/{case.pk}/accept/", body).json()
    chinese = post(
        api(org.supervisor, language="zh-hans"), f"/api/cases/{case.pk}/accept/", body
    ).json()
    assert english == {
        "code": "forbidden",
        "message": "You are not allowed to do this.",
        "fields": {},
    }
    assert chinese["code"] == "forbidden"
    assert chinese["message"] == "您无权执行此操作。"
    invalid = post(
        api(org.village_officer, language="zh-hans"), f"/api/cases/{case.pk}/reject/", {}
    )
    assert invalid.status_code == 400
    assert invalid.json()["message"] == "请更正以下错误。"
    assert invalid.json()["fields"]["version"]


def test_a_token_signs_in_and_a_revoked_token_does_not(org):
    token = Token.objects.create(user=org.grid_worker)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_ACCEPT_LANGUAGE="en")
    assert client.get("/api/cases/").status_code == 200
    token.delete()
    response = client.get("/api/cases/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response.headers["WWW-Authenticate"] == "Token"


def test_the_pages_session_signs_in_too(org, client):
    client.force_login(org.grid_worker)
    assert client.get("/api/cases/").status_code == 200
    # A session POST needs the CSRF token, as every page form does.
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(org.grid_worker)
    response = strict.post("/api/notifications/read/", {"all": True}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_administrators_manage_tokens_in_the_admin():
    assert Token in admin.site._registry or any(
        model.__name__ == "TokenProxy" for model in admin.site._registry
    )


def test_the_token_page_creates_shows_once_and_revokes(org, client):
    client.force_login(org.captain)
    page = client.get(reverse("tokens"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert b'data-testid="create-token"' in page.content
    assert not Token.objects.filter(user=org.captain).exists()

    created = client.post(reverse("tokens"), {"action": "create"}, HTTP_ACCEPT_LANGUAGE="en")
    token = Token.objects.get(user=org.captain)
    assert token.key.encode() in created.content
    shown_again = client.get(reverse("tokens"), HTTP_ACCEPT_LANGUAGE="en")
    assert token.key.encode() not in shown_again.content
    assert b'data-testid="revoke-token"' in shown_again.content

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/notifications/").status_code == 200

    replaced = client.post(reverse("tokens"), {"action": "create"})
    new_key = Token.objects.get(user=org.captain).key
    assert new_key != token.key and new_key.encode() in replaced.content
    assert api.get("/api/notifications/").status_code == 401

    revoked = client.post(reverse("tokens"), {"action": "revoke"})
    assert revoked.status_code == 302
    assert not Token.objects.filter(user=org.captain).exists()


def test_the_token_page_needs_a_signed_in_user(client):
    response = client.get(reverse("tokens"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_navigation_offers_the_token_page_to_every_role(org):
    from teams import navigation
    from teams.models import Role

    for role in Role.values:
        links = navigation.links_for(user=org.grid_worker, roles={role})
        assert "tokens" in {link.url_name for link in links}
