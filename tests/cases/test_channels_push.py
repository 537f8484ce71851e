"""The push channel of the delivery framework against a local push service that checks the
VAPID signature and decrypts each alert as the browser would (tests/pushservice.py):
delivered to every browser of a user, retried after a failure, given up after the last retry,
a gone subscription dropped, never sent twice when two workers race."""

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases import notifications
from cases.channels import delivery
from cases.models import Delivery, DeliveryStatus, SkipReason
from teams.models import PushSubscription
from teams.push import SubscriptionData, subscribe
from tests.cases.test_notifications import make_case
from tests.factories import UserFactory
from tests.pushservice import PushService, start_push_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def push_service(settings) -> Iterator[PushService]:
    settings.LANGUAGE_CODE = "en"
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "push"]
    settings.WHISTLE_DELIVERY_ATTEMPTS = 3
    settings.WHISTLE_DELIVERY_THREADS = 4
    service = start_push_service(settings)
    yield service
    service.stop()
    assert service.refused == []


def phone(service: PushService, user, name: str) -> PushSubscription:
    endpoint, keys = service.subscribe(name)
    row, _created = subscribe(
        user=user,
        subscription=SubscriptionData(endpoint=endpoint, p256dh=keys.p256dh, auth=keys.auth_b64),
    )
    return row


def whistle_to(users):
    """An urgent notification (a whistle to report in for): push goes at once."""
    return notifications.notify(
        recipients=users, kind=notifications.CASE_WHISTLED, case=make_case(), data={}
    )


def push_row(notice) -> Delivery:
    return Delivery.objects.get(notification=notice, channel="push")


def test_delivered_to_every_browser_of_the_user(push_service):
    user = UserFactory()
    phone(push_service, user, "phone")
    phone(push_service, user, "tablet")
    (notice,) = whistle_to([user])
    assert push_row(notice).status == DeliveryStatus.PENDING

    assert delivery.send(channel="push") == 1

    row = push_row(notice)
    assert row.status == DeliveryStatus.SENT and row.attempts == 1
    assert row.provider_id == "2 of 2 browsers"
    assert sorted(d.path for d in push_service.delivered) == ["/push/phone", "/push/tablet"]
    payload = push_service.delivered[0].payload
    assert notice.data["number"] in payload["title"]
    assert payload["tag"] == f"case-{notice.data['number']}"
    assert payload["url"] == f"/cases/{notice.case_id}/"
    assert delivery.send(channel="push") == 0  # nothing due any more
    assert len(push_service.delivered) == 2


def test_a_user_without_a_subscription_is_skipped_not_failed(push_service):
    (notice,) = whistle_to([UserFactory()])
    row = push_row(notice)
    assert (row.status, row.skip_reason) == (DeliveryStatus.SKIPPED, SkipReason.NO_ADDRESS)
    assert delivery.send(channel="push") == 0
    assert push_service.delivered == []


def test_a_gone_subscription_is_dropped_and_the_others_reached(push_service):
    user = UserFactory()
    old = phone(push_service, user, "old-phone")
    new = phone(push_service, user, "new-phone")
    push_service.answers["/push/old-phone"] = 410
    (notice,) = whistle_to([user])

    delivery.send(channel="push")

    assert push_row(notice).status == DeliveryStatus.SENT
    assert push_row(notice).provider_id == "1 of 2 browsers"
    assert not PushSubscription.objects.filter(pk=old.pk).exists()
    assert PushSubscription.objects.filter(pk=new.pk).exists()


def test_every_subscription_gone_gives_up_at_once(push_service):
    user = UserFactory()
    gone = phone(push_service, user, "phone")
    push_service.answers["/push/phone"] = 404
    (notice,) = whistle_to([user])

    delivery.send(channel="push")

    row = push_row(notice)
    assert row.status == DeliveryStatus.GIVEN_UP and row.attempts == 1
    assert "gone" in row.last_error
    assert not PushSubscription.objects.filter(pk=gone.pk).exists()


def test_retried_after_a_failure_then_given_up_after_the_last_retry(push_service):
    user = UserFactory()
    phone(push_service, user, "phone")
    push_service.answers["/push/phone"] = 503
    (notice,) = whistle_to([user])

    for attempt in (1, 2):
        delivery.send(channel="push")
        row = push_row(notice)
        assert row.status == DeliveryStatus.RETRYING and row.attempts == attempt
        assert row.last_error == "push: HTTP 503"
        assert row.not_before > timezone.now()  # not before the backoff
        assert delivery.send(channel="push") == 0
        Delivery.objects.filter(pk=row.pk).update(not_before=timezone.now() - timedelta(seconds=1))

    delivery.send(channel="push")
    row = push_row(notice)
    assert row.status == DeliveryStatus.GIVEN_UP and row.attempts == 3
    assert push_service.delivered == []
    assert PushSubscription.objects.filter(user=user).exists()  # a failure is not "gone"


def test_retried_after_a_failure_then_sent(push_service):
    user = UserFactory()
    phone(push_service, user, "phone")
    push_service.answers["/push/phone"] = 500
    (notice,) = whistle_to([user])
    delivery.send(channel="push")
    assert push_row(notice).status == DeliveryStatus.RETRYING

    del push_service.answers["/push/phone"]
    Delivery.objects.filter(notification=notice).update(not_before=timezone.now())
    assert delivery.send(channel="push") == 1
    assert push_row(notice).status == DeliveryStatus.SENT
    assert [d.path for d in push_service.delivered] == ["/push/phone"]


RACE_USERS = 12


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_racing_never_send_twice(push_service):
    """Two workers (threads with their own database connections) send the same due push
    deliveries at once: every browser receives its alert exactly once."""
    users = [UserFactory() for _ in range(RACE_USERS)]
    for n, user in enumerate(users):
        phone(push_service, user, f"phone-{n}")
    whistle_to(users)
    start = threading.Barrier(2)
    handled, errors = [], []

    def worker() -> None:
        try:
            start.wait()
            handled.append(delivery.send(channel="push"))
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(handled) == RACE_USERS
    paths = [d.path for d in push_service.delivered]
    assert len(paths) == len(set(paths)) == RACE_USERS
    assert Delivery.objects.filter(channel="push", status=DeliveryStatus.SENT).count() == RACE_USERS
