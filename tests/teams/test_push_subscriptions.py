"""The JSON endpoints behind "turn on alerts on this phone": the signed-in user's own
subscription only, checked input with a clear message, one row per browser."""

import json
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django.urls import reverse

from teams.models import PushSubscription
from tests.factories import UserFactory
from tests.pushservice import BrowserKeys, b64url

pytestmark = pytest.mark.django_db

ENDPOINT = "https://push.example.test/send/abc123"


def browser_subscription(endpoint: str = ENDPOINT) -> dict:
    """What PushSubscription.toJSON() gives in a browser."""
    keys = BrowserKeys(private_key=ec.generate_private_key(ec.SECP256R1()), auth=os.urandom(16))
    return {
        "endpoint": endpoint,
        "expirationTime": None,
        "keys": {"p256dh": keys.p256dh, "auth": keys.auth_b64},
    }


def signed_in(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf, HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14)")
    client.force_login(user)
    return client


def post(client: Client, name: str, body) -> tuple[int, dict]:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    response = client.post(
        reverse(name), data=data, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    return response.status_code, response.json()


def test_subscribing_keeps_the_browsers_subscription_for_the_user():
    user = UserFactory()
    body = browser_subscription()

    status, answer = post(signed_in(user), "push_subscribe", body)

    assert status == 201
    assert answer["ok"] is True
    row = PushSubscription.objects.get()
    assert row.user == user
    assert row.endpoint == ENDPOINT
    assert row.p256dh == body["keys"]["p256dh"]
    assert row.auth == body["keys"]["auth"]
    assert "Android" in row.user_agent


def test_subscribing_again_does_not_duplicate():
    user = UserFactory()
    client = signed_in(user)
    first = browser_subscription()
    again = browser_subscription()  # the same browser, new keys

    assert post(client, "push_subscribe", first)[0] == 201
    assert post(client, "push_subscribe", first)[0] == 200
    assert post(client, "push_subscribe", again)[0] == 200

    row = PushSubscription.objects.get()
    assert row.p256dh == again["keys"]["p256dh"]


def test_a_phone_passed_to_another_user_alerts_the_user_signed_in():
    first, second = UserFactory(), UserFactory()
    body = browser_subscription()
    post(signed_in(first), "push_subscribe", body)

    post(signed_in(second), "push_subscribe", body)

    assert list(PushSubscription.objects.values_list("user", flat=True)) == [second.pk]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "not valid JSON"),
        ([], "JSON object"),
        ({"keys": {}}, "https address"),
        ({**browser_subscription(), "endpoint": "http://push.example.test/x"}, "https address"),
        ({**browser_subscription(), "endpoint": "https://" + "a" * 1000 + ".test/"}, "https"),
        ({"endpoint": ENDPOINT}, "no keys"),
        ({"endpoint": ENDPOINT, "keys": {"p256dh": "abc", "auth": "x"}}, "P-256"),
        (
            {
                "endpoint": ENDPOINT,
                "keys": {**browser_subscription()["keys"], "auth": b64url(b"1")},
            },
            "16 bytes",
        ),
        ({"endpoint": ENDPOINT, "keys": {**browser_subscription()["keys"], "auth": 7}}, "16 bytes"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_stored(body, message):
    status, answer = post(signed_in(UserFactory()), "push_subscribe", body)

    assert status == 400
    assert answer["ok"] is False
    assert message in answer["message"]
    assert not PushSubscription.objects.exists()


def test_the_message_is_in_the_users_language():
    client = signed_in(UserFactory())
    response = client.post(
        reverse("push_subscribe"),
        data="[]",
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    assert response.status_code == 400
    assert response.json()["message"]
    assert response.headers["Content-Language"] == "zh-hans"


def test_removing_takes_only_the_users_own_subscription():
    owner, other = UserFactory(), UserFactory()
    post(signed_in(owner), "push_subscribe", browser_subscription())

    status, answer = post(signed_in(other), "push_unsubscribe", {"endpoint": ENDPOINT})

    assert status == 404
    assert answer["ok"] is False
    assert PushSubscription.objects.filter(user=owner).count() == 1

    status, _answer = post(signed_in(owner), "push_unsubscribe", {"endpoint": ENDPOINT})
    assert status == 200
    assert not PushSubscription.objects.exists()


def test_removing_needs_an_endpoint():
    status, answer = post(signed_in(UserFactory()), "push_unsubscribe", {"endpont": ENDPOINT})
    assert status == 400
    assert "endpoint" in answer["message"]


def test_the_endpoints_need_a_sign_in_and_the_form_token():
    body = json.dumps(browser_subscription())
    anonymous = Client()
    response = anonymous.post(reverse("push_subscribe"), body, content_type="application/json")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]

    forged = signed_in(UserFactory(), csrf=True)
    response = forged.post(reverse("push_subscribe"), body, content_type="application/json")
    assert response.status_code == 403
    response = forged.post(
        reverse("push_unsubscribe"), json.dumps({"endpoint": ENDPOINT}), "application/json"
    )
    assert response.status_code == 403
    assert not PushSubscription.objects.exists()

    assert Client().get(reverse("push_subscribe")).status_code in (302, 405)
