"""Every URL refuses a POST without a CSRF token, except the ones that are exempt by design
(listed below with the reason): the REST API with token authentication and Open311 filing
with an api_key. Forms are asked with a signed-in session (the sign-in form and the language
switch anonymously too), as a forged cross-site POST would come."""

import pytest
from django.http import HttpResponseForbidden
from django.test import Client
from django.urls import NoReverseMatch, reverse

from tests.cases.conftest import org
from tests.security.scenario import build_objects
from tests.security.test_permission_matrix import TARGETS, url_names
from tests.tokens import api_token

__all__ = ["org"]

pytestmark = pytest.mark.django_db

MARK = "csrf-refused-by-django"

# Exempt from Django's CSRF check, by design.
EXEMPT = {
    "open311-requests": "POST files a request for a client system that sends its api_key; "
    "no cookie is involved",
    "open311-support": "POST adds a caller's “me too” for a client system that sends its "
    "api_key; no cookie is involved",
}
# DRF views are exempt from Django's middleware; DRF checks CSRF itself for users signed in by
# session and never for token clients, whose browser cannot be made to send the header.
DRF_VIEWS = ("api:", "api-schema", "api-docs", "api-redoc")


def csrf_failed(request, reason=""):
    return HttpResponseForbidden(f"{MARK}: {reason}")


@pytest.fixture
def objects(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CSRF_FAILURE_VIEW = "tests.security.test_csrf.csrf_failed"
    return build_objects(org)


def _url(name: str, objects) -> str:
    target = TARGETS[name]
    kwargs = target.args(objects) if target.args else {}
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:  # pragma: no cover - a target whose arguments no longer fit
        pytest.fail(f"cannot build {name} with {kwargs}")


def test_every_form_refuses_a_post_without_a_token(org, objects):
    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(org.town_committee)
    anonymous = Client(enforce_csrf_checks=True)
    names = [*url_names(), "set_language"]
    refused, let_through = [], []
    for name in sorted(names):
        if name.startswith(DRF_VIEWS) or name in EXEMPT or name == "set_language":
            continue
        url = _url(name, objects)
        for client in (signed_in, anonymous):
            response = client.post(url, {"description": "forged"})
            if response.status_code == 403 and MARK in response.content.decode():
                refused.append(name)
            else:
                let_through.append(f"{name} {url}: {response.status_code}")
    language = anonymous.post(reverse("set_language"), {"language": "en"})
    assert language.status_code == 403 and MARK in language.content.decode()
    assert not let_through, "\n".join(let_through)
    assert len(set(refused)) > 40


def test_the_api_checks_csrf_for_session_users_but_not_for_tokens(org, objects):
    session = Client(enforce_csrf_checks=True)
    session.force_login(org.town_committee)
    forged = session.post(
        "/api/notifications/read/", {"all": True}, content_type="application/json"
    )
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["message"]

    token = api_token(org.town_committee)
    with_token = Client(enforce_csrf_checks=True).post(
        "/api/notifications/read/",
        {"all": True},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert with_token.status_code == 200


@pytest.mark.parametrize("name", sorted(EXEMPT))
def test_the_exempt_open311_posts_need_their_api_key(objects, name):
    response = Client(enforce_csrf_checks=True).post(
        _url(name, objects), {"service_code": "SAN-01", "account_id": "caller-1"}
    )
    assert response.status_code in (400, 403)
    assert MARK not in response.content.decode()
    assert "api_key" in response.content.decode()


def test_every_page_form_carries_the_token(client, org, objects):
    """The forms the pages render include csrfmiddlewaretoken (one per <form method=post>)."""
    client.force_login(org.town_committee)
    pages = [
        reverse("cases:detail", args=[objects.case.pk]),
        reverse("consultation:detail", args=[objects.consultation.pk]),
        reverse("consultation:call"),
        reverse("tokens"),
        reverse("home"),
    ]
    for url in pages:
        html = client.get(url).content.decode().lower()
        forms = html.count('method="post"')
        assert forms, url
        assert html.count('name="csrfmiddlewaretoken"') >= forms, url
