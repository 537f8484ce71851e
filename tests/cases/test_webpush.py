"""cases.webpush.push against a push service on 127.0.0.1 that checks the VAPID signature and
decrypts the body as a browser would."""

from collections.abc import Iterator

import pytest

from cases.webpush import SubscriptionGone, WebPushFailed, push
from teams.models import PushSubscription
from teams.push import SubscriptionData, subscribe
from tests.factories import UserFactory
from tests.pushservice import PushService, start_push_service, vapid_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def push_service(settings) -> Iterator[PushService]:
    service = start_push_service(settings)
    yield service
    service.stop()


def send(row: PushSubscription, payload: dict) -> None:
    push(endpoint=row.endpoint, p256dh=row.p256dh, auth=row.auth, payload=payload)


def subscription(user, endpoint: str, keys) -> PushSubscription:
    # Stored through the service; the endpoint is the local http service (the page refuses
    # anything but https, so it is not sent through the page).
    row, _created = subscribe(
        user=user,
        subscription=SubscriptionData(endpoint=endpoint, p256dh=keys.p256dh, auth=keys.auth_b64),
    )
    return row


def test_the_browser_decrypts_the_payload_signed_by_the_installation(push_service):
    user = UserFactory()
    endpoint, keys = push_service.subscribe("phone")
    row = subscription(user, endpoint, keys)
    payload = {"title": "案件 W-1 待报到", "body": "Report in", "url": "/board/", "tag": "case-1"}

    send(row, payload)

    assert push_service.refused == []
    [delivery] = push_service.delivered
    assert delivery.payload == payload
    assert delivery.claims["sub"] == "mailto:ops@example.test"
    assert int(delivery.ttl) > 0
    assert PushSubscription.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_says_is_gone_is_reported_as_gone(push_service, status):
    user = UserFactory()
    endpoint, keys = push_service.subscribe("old-phone")
    row = subscription(user, endpoint, keys)
    kept_endpoint, kept_keys = push_service.subscribe("new-phone")
    kept = subscription(user, kept_endpoint, kept_keys)
    push_service.answers["/push/old-phone"] = status

    with pytest.raises(SubscriptionGone):
        send(row, {"title": "t", "body": "b", "url": "/", "tag": "x"})
    send(kept, {"title": "t", "body": "b", "url": "/", "tag": "x"})

    assert [d.payload["title"] for d in push_service.delivered] == ["t"]


@pytest.mark.parametrize("status", [500, 429, 400])
def test_other_failures_raise_for_the_caller_to_retry_and_keep_the_subscription(
    push_service, status
):
    user = UserFactory()
    endpoint, keys = push_service.subscribe("phone")
    row = subscription(user, endpoint, keys)
    push_service.answers["/push/phone"] = status

    with pytest.raises(WebPushFailed) as raised:
        send(row, {"title": "t"})

    assert raised.value.status == status
    assert PushSubscription.objects.filter(pk=row.pk).exists()


def test_an_unreachable_push_service_raises(push_service):
    user = UserFactory()
    endpoint, keys = push_service.subscribe("phone")
    row = subscription(user, endpoint, keys)
    push_service.stop()

    with pytest.raises(WebPushFailed):
        send(row, {"title": "t"})
    assert PushSubscription.objects.filter(pk=row.pk).exists()


def test_a_signature_with_another_key_is_refused_by_the_push_service(push_service, settings):
    user = UserFactory()
    endpoint, keys = push_service.subscribe("phone")
    row = subscription(user, endpoint, keys)
    _public, settings.WHISTLE_VAPID_PRIVATE_KEY = vapid_keys()

    with pytest.raises(WebPushFailed):
        send(row, {"title": "t"})
    assert push_service.delivered == []
    assert push_service.refused == ["signed with another key than the installation's"]
