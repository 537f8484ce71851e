"""One error shape in the request's language; token authentication (django-rest-knox: kept
hashed, expiring), revocation, the admin's list and the page where users create, list and
revoke their own tokens."""

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from teams.models import User
from teams.tokens import create_api_token
from tests.api.steps import filed, post
from tests.tokens import api_token

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
    token = api_token(org.grid_worker)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT_LANGUAGE="en")
    assert client.get("/api/cases/").status_code == 200
    AuthToken.objects.filter(user=org.grid_worker).delete()
    response = client.get("/api/cases/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response.headers["WWW-Authenticate"] == "Token"


def test_tokens_are_stored_hashed_never_in_clear(org):
    token = create_api_token(user=org.grid_worker)
    stored = AuthToken.objects.get(user=org.grid_worker)
    assert len(token) == 64
    assert stored.digest == hash_token(token) and token not in stored.digest
    assert stored.token_key == token[:15]  # the lookup prefix knox keeps, not the token
    columns = {field.attname for field in AuthToken._meta.concrete_fields}
    values = AuthToken.objects.filter(pk=stored.pk).values(*columns).get()
    assert not any(token == str(value) for value in values.values())


def test_a_token_expires(org, settings, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    token = create_api_token(user=org.grid_worker)
    expiry = AuthToken.objects.get(user=org.grid_worker).expiry
    assert expiry == timezone.now() + timedelta(days=90)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    time_machine.move_to(expiry - timedelta(minutes=1), tick=False)
    assert client.get("/api/cases/").status_code == 200
    time_machine.move_to(expiry + timedelta(minutes=1), tick=False)
    assert client.get("/api/cases/").status_code == 401
    assert not AuthToken.objects.filter(user=org.grid_worker).exists()


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


def test_the_admin_shows_a_token_by_its_first_characters_only(org, client):
    assert AuthToken in admin.site._registry
    token = api_token(org.grid_worker)
    stored = AuthToken.objects.get(user=org.grid_worker)
    admin_user = User.objects.create_superuser("root", "root@example.test", "pw-for-admin")
    client.force_login(admin_user)
    page = client.get("/admin/knox/authtoken/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert token[:8] + "…" in html
    assert token[:9] not in html  # the rest is nowhere (the digest in the link is one-way)
    assert stored.token_key not in html


def test_a_token_added_in_the_admin_is_shown_once_and_expires(org, client):
    admin_user = User.objects.create_superuser("root", "root@example.test", "pw-for-admin")
    client.force_login(admin_user)
    form = client.get("/admin/knox/authtoken/add/", HTTP_ACCEPT_LANGUAGE="en")
    assert form.status_code == 200
    expiry = (timezone.localtime() + timedelta(days=30)).replace(microsecond=0)
    added = client.post(
        "/admin/knox/authtoken/add/",
        {
            "user": org.captain.pk,
            "expiry_0": expiry.strftime("%Y-%m-%d"),
            "expiry_1": expiry.strftime("%H:%M:%S"),
        },
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    stored = AuthToken.objects.get(user=org.captain)
    shown = re.search(r"shown only now: ([0-9a-f]{64})", added.content.decode())
    assert shown and hash_token(shown.group(1)) == stored.digest
    assert stored.expiry is not None
    again = client.get("/admin/knox/authtoken/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert shown.group(1) not in again


def test_the_token_page_creates_shows_once_lists_and_revokes(org, client):
    client.force_login(org.captain)
    page = client.get(reverse("tokens"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert b'data-testid="create-token"' in page.content
    assert not AuthToken.objects.filter(user=org.captain).exists()

    created = client.post(reverse("tokens"), {"action": "create"}, HTTP_ACCEPT_LANGUAGE="en")
    first = re.search(r'data-testid="token-key">([0-9a-f]{64})<', created.content.decode())
    assert first
    first = first.group(1)
    shown_again = client.get(reverse("tokens"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert first not in shown_again
    assert f"<code>{first[:8]}…</code>" in shown_again  # listed by its first characters
    assert shown_again.count('data-testid="token-row"') == 1

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert api.get("/api/notifications/").status_code == 200

    second_page = client.post(reverse("tokens"), {"action": "create"}).content.decode()
    second = re.search(r'data-testid="token-key">([0-9a-f]{64})<', second_page).group(1)
    assert AuthToken.objects.filter(user=org.captain).count() == 2
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {second}")

    revoked = client.post(reverse("tokens"), {"action": "revoke", "prefix": first[:8]})
    assert revoked.status_code == 302
    assert api.get("/api/notifications/").status_code == 401
    assert other.get("/api/notifications/").status_code == 200

    revoked_all = client.post(reverse("tokens"), {"action": "revoke-all"})
    assert revoked_all.status_code == 302
    assert other.get("/api/notifications/").status_code == 401
    assert not AuthToken.objects.filter(user=org.captain).exists()


def test_nobody_revokes_another_users_token(org, client):
    token = api_token(org.grid_worker)
    client.force_login(org.captain)
    client.post(reverse("tokens"), {"action": "revoke", "prefix": token[:8]})
    client.post(reverse("tokens"), {"action": "revoke-all"})
    assert AuthToken.objects.filter(user=org.grid_worker).count() == 1


def test_a_user_holds_at_most_ten_tokens(org, client):
    client.force_login(org.captain)
    for _ in range(10):
        client.post(reverse("tokens"), {"action": "create"})
    refused = client.post(
        reverse("tokens"), {"action": "create"}, HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    assert "You already hold 10 API tokens" in refused.content.decode()
    assert AuthToken.objects.filter(user=org.captain).count() == 10


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


def test_a_request_reads_only_the_token_it_presents(org, time_machine):
    """knox would read every token of the user on each request; here one statement finds the
    token and its user, and another user's expired token is left for their next creation."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    time_machine.move_to(timezone.now(), tick=False)
    old = create_api_token(user=org.grid_worker)
    time_machine.move_to(timezone.now() + timedelta(days=91), tick=False)
    token = create_api_token(user=org.grid_worker)  # removes the expired one
    assert AuthToken.objects.filter(user=org.grid_worker).count() == 1
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/me/alerts/").status_code == 200
    token_reads = [q["sql"] for q in queries.captured_queries if "knox_authtoken" in q["sql"]]
    assert len(token_reads) == 1, token_reads
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/api/me/alerts/").status_code == 401
