"""The delivery framework and its channels against local stand-ins of the providers
(tests/cases/standins.py): delivered, retried, given up, permanent errors, racing workers,
killed claims, one channel failing beside the others."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases import batching, notifications
from cases.channels import delivery, tokens
from cases.models import Delivery, DeliveryStatus, Notification, SkipReason
from teams.models import AlertPreference
from tests.cases.standins import ALIYUN, DINGTALK, TENCENT, WECOM, StandIn, configure
from tests.cases.test_notifications import make_case
from tests.factories import UserFactory
from whistle.celery import app as celery_app

pytestmark = pytest.mark.django_db

# The channel each stand-in serves.
CHANNEL = {ALIYUN: "sms", TENCENT: "sms", DINGTALK: "dingtalk", WECOM: "wecom"}
PROVIDERS = [ALIYUN, TENCENT, DINGTALK, WECOM]


@pytest.fixture(autouse=True)
def _delivery_settings(settings):
    settings.LANGUAGE_CODE = "en"
    settings.WHISTLE_DELIVERY_ATTEMPTS = 3
    settings.WHISTLE_DELIVERY_BACKOFF_SECONDS = 60
    settings.WHISTLE_DELIVERY_TIMEOUT_SECONDS = 2  # the stand-in hangs 5 s on "timeout"
    settings.WHISTLE_DELIVERY_THREADS = 4
    tokens.clear()
    yield
    tokens.clear()


@pytest.fixture(params=PROVIDERS)
def provider(request, settings):
    """A running stand-in of one provider, its channel the only one configured."""
    with StandIn(request.param, hang=5.0) as stand_in:
        configure(settings, stand_in)
        settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", CHANNEL[request.param]]
        yield stand_in
    assert stand_in.problems == []


def reachable_user(n: int = 0, **fields):
    """A user with an address on every channel, who chose every channel (DingTalk and WeCom
    carry only what a user chose: cases.alerting)."""
    suffix = f"{n:04d}"
    values = {
        "phone": f"1380013{suffix}",
        "dingtalk_userid": f"ding{suffix}",
        "wecom_userid": f"wecom{suffix}",
        **fields,
    }
    user = UserFactory(**values)
    AlertPreference.objects.create(user=user, channels=["mail", "sms", "dingtalk", "wecom"])
    return user


def address_of(stand_in: StandIn, request: dict) -> str:
    return request.get("phone") or request.get("user")


def notify(users, kind=notifications.CASE_WHISTLED):
    return notifications.notify(recipients=users, kind=kind, case=make_case(), data={})


def row(notification: Notification, channel: str) -> Delivery:
    return Delivery.objects.get(notification=notification, channel=channel)


def due_again(rows) -> None:
    """Move the clock past the retry wait (as the sweep later finds it due)."""
    Delivery.objects.filter(pk__in=[r.pk for r in rows]).update(
        not_before=timezone.now() - timedelta(seconds=1)
    )


# --- each provider ---------------------------------------------------------------------------


def test_delivered_in_the_providers_format(provider):
    channel = CHANNEL[provider.provider]
    user = reachable_user(1)
    (notice,) = notify([user])
    assert row(notice, channel).status == DeliveryStatus.PENDING

    assert delivery.send(channel=channel) == 1

    stored = row(notice, channel)
    assert stored.status == DeliveryStatus.SENT
    assert stored.attempts == 1 and stored.sent_at is not None and stored.last_error == ""
    (request,) = provider.delivered
    assert stored.provider_id == request["id"]
    case_number = notice.data["number"]
    if provider.provider == ALIYUN:
        assert request["phone"] == user.phone
        assert request["params"] == {"number": case_number, "subject": request["params"]["subject"]}
        assert request["query"]["SignName"] == "吹哨报到"
        assert request["query"]["TemplateCode"] == "SMS_123456789"
    elif provider.provider == TENCENT:
        assert request["phone"] == f"+86{user.phone}"
        assert request["params"][0] == case_number
        assert request["body"]["SmsSdkAppId"] == "1400000001"
        assert request["body"]["TemplateId"] == "1234567"
    elif provider.provider == DINGTALK:
        assert request["user"] == user.dingtalk_userid
        assert request["body"]["agent_id"] == 2000001
        assert case_number in request["body"]["msg"]["text"]["content"]
    else:
        assert request["user"] == user.wecom_userid
        assert request["body"]["agentid"] == 1000002
        assert case_number in request["body"]["text"]["content"]
    # Nothing is due any more: sending again calls nobody.
    assert delivery.send(channel=channel) == 0
    assert len(provider.sends) == 1


@pytest.mark.parametrize("failure", ["fail", "timeout"])
def test_retried_after_a_failure_then_sent(provider, failure):
    channel = CHANNEL[provider.provider]
    (notice,) = notify([reachable_user(2)])
    provider.script = [failure]

    delivery.send(channel=channel)
    stored = row(notice, channel)
    assert stored.status == DeliveryStatus.RETRYING and stored.attempts == 1
    assert stored.last_error
    # Short, and never a credential or an access token (DingTalk and WeCom carry theirs in
    # the URL a timeout would name).
    assert len(stored.last_error) <= 200
    for secret in ("secret", "TOKEN-", "access_token"):
        assert secret not in stored.last_error
    # Not before the backoff: an immediate sweep leaves it alone.
    assert stored.not_before > timezone.now() + timedelta(seconds=50)
    assert delivery.send(channel=channel) == 0

    due_again([stored])
    assert delivery.send(channel=channel) == 1
    stored = row(notice, channel)
    assert stored.status == DeliveryStatus.SENT and stored.attempts == 2
    assert len(provider.delivered) == 1


def test_given_up_after_the_last_retry(provider):
    channel = CHANNEL[provider.provider]
    (notice,) = notify([reachable_user(3)])
    provider.script = ["fail", "fail", "fail", "ok"]

    waits = []
    for _attempt in range(3):
        delivery.send(channel=channel)
        stored = row(notice, channel)
        waits.append(stored.not_before - stored.updated_at)
        due_again([stored])
    stored = row(notice, channel)
    assert stored.status == DeliveryStatus.GIVEN_UP and stored.attempts == 3
    assert stored.last_error
    # The wait doubled between the first two failures.
    assert waits[1] == 2 * waits[0]
    assert delivery.send(channel=channel) == 0
    assert len(provider.sends) == 3 and provider.delivered == []


def test_a_permanent_error_is_not_retried(provider):
    channel = CHANNEL[provider.provider]
    (notice,) = notify([reachable_user(4)])
    provider.script = ["permanent"]

    delivery.send(channel=channel)
    stored = row(notice, channel)
    assert stored.status == DeliveryStatus.GIVEN_UP and stored.attempts == 1
    assert stored.last_error
    due_again([stored])
    assert delivery.send(channel=channel) == 0
    assert len(provider.sends) == 1


def test_no_address_is_skipped_not_failed(provider):
    channel = CHANNEL[provider.provider]
    (notice,) = notify([reachable_user(44, phone="", dingtalk_userid="", wecom_userid="")])
    stored = row(notice, channel)
    assert (stored.status, stored.skip_reason) == (DeliveryStatus.SKIPPED, SkipReason.NO_ADDRESS)
    assert delivery.send(channel=channel) == 0
    assert provider.sends == []


def test_a_killed_workers_claim_is_taken_back_after_its_lease(provider):
    channel = CHANNEL[provider.provider]
    (notice,) = notify([reachable_user(5)])
    # A worker claims the row and dies before sending.
    (lost,) = delivery.claim(channel=channel)
    assert row(notice, channel).status == DeliveryStatus.SENDING
    assert delivery.send(channel=channel) == 0  # the lease still holds

    Delivery.objects.filter(pk=lost.pk).update(not_before=timezone.now() - timedelta(seconds=1))
    assert delivery.send(channel=channel) == 1
    stored = row(notice, channel)
    assert stored.status == DeliveryStatus.SENT and stored.attempts == 2
    # The dead worker's late outcome, were it to come back, changes nothing.
    assert delivery.process(channel=None, rows=[lost]) == {}
    assert row(notice, channel).status == DeliveryStatus.SENT
    assert len(provider.delivered) == 1


# --- the token of DingTalk and WeCom ------------------------------------------------------------


@pytest.mark.parametrize("name", [DINGTALK, WECOM])
def test_the_access_token_is_kept_and_refreshed_when_refused(settings, name):
    with StandIn(name) as stand_in:
        configure(settings, stand_in)
        settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", CHANNEL[name]]
        notify([reachable_user(6), reachable_user(7)])
        settings.WHISTLE_DELIVERY_THREADS = 1
        delivery.send(channel=CHANNEL[name])
        assert stand_in.token_requests == 1  # one token for both messages
        assert len(stand_in.delivered) == 2

        stand_in.script = ["token"]  # 42001: expired
        (notice,) = notify([reachable_user(8)])
        delivery.send(channel=CHANNEL[name])
        assert stand_in.token_requests == 2
        assert row(notice, CHANNEL[name]).status == DeliveryStatus.SENT
        assert stand_in.problems == []


# --- channels side by side ---------------------------------------------------------------------


def test_one_channels_failure_leaves_the_others_delivered(settings, mailoutbox):
    with (
        StandIn(TENCENT) as sms,
        StandIn(DINGTALK) as dingtalk,
        StandIn(WECOM) as wecom,
    ):
        for stand_in in (sms, dingtalk, wecom):
            configure(settings, stand_in)
        settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "mail", "sms", "dingtalk", "wecom"]
        dingtalk.script = ["fail"] * 10
        users = [reachable_user(10), reachable_user(11)]
        created = notify(users)

        assert notifications.deliver(notification_ids=[n.pk for n in created]) == 8

        statuses = {
            (d.notification.recipient_id, d.channel): d.status
            for d in Delivery.objects.select_related("notification")
        }
        for user in users:
            assert statuses[(user.pk, "dingtalk")] == DeliveryStatus.RETRYING
            for name in ("mail", "sms", "wecom"):
                assert statuses[(user.pk, name)] == DeliveryStatus.SENT
        assert sorted(m.to[0] for m in mailoutbox) == sorted(u.email for u in users)
        assert len(sms.delivered) == len(wecom.delivered) == 2
        assert all(n.emailed_at is None for n in created)
        assert Notification.objects.filter(emailed_at__isnull=False).count() == 2


def test_a_step_only_if_unread_is_skipped_once_read(settings, mailoutbox):
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "mail"]
    (notice,) = notify([UserFactory()])
    Delivery.objects.filter(notification=notice).update(only_if_unread=True)
    notifications.mark_all_read(user=notice.recipient)

    delivery.send(channel="mail")
    stored = row(notice, "mail")
    assert (stored.status, stored.skip_reason) == (DeliveryStatus.SKIPPED, SkipReason.READ)
    assert mailoutbox == []


def test_a_channel_removed_from_the_settings_skips_its_rows(settings, mailoutbox):
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "mail"]
    (notice,) = notify([UserFactory()])
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox"]
    delivery.send(channel="mail")
    stored = row(notice, "mail")
    assert (stored.status, stored.skip_reason) == (
        DeliveryStatus.SKIPPED,
        SkipReason.CHANNEL_OFF,
    )
    assert mailoutbox == []


def test_fresh_deliveries_are_queued_per_channel_after_commit(
    settings, django_capture_on_commit_callbacks
):
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "mail", "sms"]
    with batching.batch_scope() as scope:
        with django_capture_on_commit_callbacks(execute=True):
            created = notify([reachable_user(30), reachable_user(31, email="")])
        pending = {kind: list(ids) for kind, (_sender, ids) in scope.pending.items()}
        scope.pending.clear()  # nothing to publish in this test

    rows = Delivery.objects.filter(notification__in=created)
    assert sorted(pending) == ["deliver:mail", "deliver:sms"]
    assert pending["deliver:sms"] == list(
        rows.filter(channel="sms").order_by("pk").values_list("pk", flat=True)
    )
    # The recipient without mail was skipped when stored: nothing to queue for them.
    assert pending["deliver:mail"] == [row(created[0], "mail").pk]
    # A step planned for later (quiet hours) waits for the sweep.
    later = row(created[0], "sms")
    later.not_before = timezone.now() + timedelta(hours=8)
    assert delivery.due_now([later]) == {}


def test_the_task_names_of_before_stay_registered(settings, mailoutbox):
    for name in ("cases.tasks.deliver_notifications", "cases.tasks.deliver_pending_mail"):
        assert name in celery_app.tasks
    # A message queued before the upgrade carries notification ids: their deliveries go.
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "mail"]
    (notice,) = notify([UserFactory()])
    assert celery_app.tasks["cases.tasks.deliver_notifications"](notification_ids=[notice.pk]) == 1
    assert len(mailoutbox) == 1


# --- racing workers ----------------------------------------------------------------------------

RACE_USERS = 40


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("name", [ALIYUN, WECOM])
def test_two_workers_racing_never_send_twice(settings, name):
    """Two workers (threads with their own database connections) send the same due
    deliveries at once: the stand-in sees each address exactly once."""
    settings.WHISTLE_DELIVERY_THREADS = 4
    settings.WHISTLE_DELIVERY_TIMEOUT_SECONDS = 10  # no send may time out under CI's load
    with StandIn(name, delay=0.01) as stand_in:
        configure(settings, stand_in)
        settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", CHANNEL[name]]
        users = [reachable_user(100 + n) for n in range(RACE_USERS)]
        notify(users)
        start = threading.Barrier(2)
        handled = []
        errors = []

        def worker() -> None:
            try:
                start.wait()
                handled.append(delivery.send(channel=CHANNEL[name]))
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
        addresses = [address_of(stand_in, r) for r in stand_in.sends]
        assert len(addresses) == len(set(addresses)) == RACE_USERS
        assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == RACE_USERS
        assert stand_in.problems == []


# --- the data migration -----------------------------------------------------------------------


def test_mail_sent_before_the_framework_becomes_a_sent_delivery(settings):
    import importlib
    import types

    from django.db.migrations.executor import MigrationExecutor

    migration = importlib.import_module("cases.migrations.0021_mail_deliveries")
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox"]
    now = timezone.now()
    mailed, owed, stale, _no_mail = notify(
        [UserFactory(), UserFactory(), UserFactory(), UserFactory(email="")]
    )
    Notification.objects.filter(pk=mailed.pk).update(emailed_at=now)
    Notification.objects.filter(pk=stale.pk).update(created_at=now - timedelta(days=3))
    assert not Delivery.objects.exists()

    apps = MigrationExecutor(connection).loader.project_state(("cases", "0021_mail_deliveries"))
    migration.forwards(apps.apps, types.SimpleNamespace(connection=connection))

    rows = {d.notification_id: d for d in Delivery.objects.all()}
    assert set(rows) == {mailed.pk, owed.pk}
    assert (rows[mailed.pk].status, rows[mailed.pk].sent_at) == (DeliveryStatus.SENT, now)
    assert rows[owed.pk].status == DeliveryStatus.PENDING and rows[owed.pk].channel == "mail"
    # Run twice (a re-applied migration): nothing doubles.
    migration.forwards(apps.apps, types.SimpleNamespace(connection=connection))
    assert Delivery.objects.count() == 2


# --- where the status shows --------------------------------------------------------------------


def test_the_inbox_shows_how_each_notification_travelled(settings, client, mailoutbox):
    with StandIn(ALIYUN) as sms, StandIn(WECOM) as wecom:
        configure(settings, sms)
        configure(settings, wecom)
        settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "mail", "sms", "wecom"]
        user = reachable_user(20, email="")
        wecom.script = ["fail"]
        (notice,) = notify([user])
        notifications.deliver(notification_ids=[notice.pk])

    client.force_login(user)
    page = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    sent_at = timezone.localtime(row(notice, "sms").sent_at).strftime("%H:%M")
    assert f"SMS: sent {sent_at}" in page
    assert "WeCom: failed, retrying" in page
    assert "mail: not sent (no address)" in page
    # A step planned for later reads as such.
    later = timezone.now() + timedelta(hours=2)
    Delivery.objects.filter(notification=notice, channel="sms").update(
        status=DeliveryStatus.PENDING, not_before=later
    )
    planned = timezone.localtime(later).strftime("%H:%M")
    page = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"SMS: planned for {planned}" in page


def test_the_admin_lists_deliveries_with_filters_and_inline(settings, admin_client, mailoutbox):
    settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "mail"]
    (notice,) = notify([UserFactory()])
    notifications.deliver(notification_ids=[notice.pk])
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    listing = admin_client.get("/admin/cases/delivery/", {"status__exact": "sent"})
    assert listing.status_code == 200
    assert "1 delivery" in listing.content.decode()
    assert (
        "0 deliveries"
        in admin_client.get(
            "/admin/cases/delivery/", {"status__exact": "given_up"}
        ).content.decode()
    )
    detail = admin_client.get(f"/admin/cases/notification/{notice.pk}/change/")
    assert detail.status_code == 200
    assert "Deliveries" in detail.content.decode()
