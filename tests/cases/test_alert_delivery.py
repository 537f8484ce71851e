"""Who gets what, how, end to end: cases.alerting's plan carried out by the delivery framework
against the stand-in SMS gateway (tests/cases/standins.py), under a moving clock: an urgent
alert texted at once, or after the escalation delay only if still unread; a normal alert held
until the end of the quiet hours; routine news kept in the inbox."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from cases import notifications
from cases.channels import delivery
from cases.models import Delivery, DeliveryStatus, SkipReason
from teams.models import AlertPreference
from tests.cases.standins import ALIYUN, StandIn, configure
from tests.cases.test_notifications import make_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 10:00 on a working morning, Beijing time.
MORNING = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def gateway(settings):
    settings.LANGUAGE_CODE = "en"
    settings.TIME_ZONE = "Asia/Shanghai"
    settings.WHISTLE_URGENT_ESCALATION_MINUTES = 15
    with StandIn(ALIYUN) as stand_in:
        configure(settings, stand_in)
        settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "sms"]
        yield stand_in
    assert stand_in.problems == []


def captain(**preference):
    user = UserFactory(phone="13800138000")
    if preference:
        AlertPreference.objects.create(user=user, **preference)
    return user


def tell(user, kind):
    (notice,) = notifications.notify(recipients=[user], kind=kind, case=make_case(), data={})
    return notice


def sms_of(notice) -> Delivery:
    return Delivery.objects.get(notification=notice, channel="sms")


def test_an_urgent_alert_is_texted_at_once_by_default(gateway):
    with time_machine.travel(MORNING, tick=False):
        notice = tell(captain(), notifications.CASE_WHISTLED)
        assert sms_of(notice).only_if_unread is False
        assert delivery.send(channel="sms") == 1
    assert sms_of(notice).status == DeliveryStatus.SENT
    assert [send["phone"] for send in gateway.sends] == ["13800138000"]


def test_an_unread_urgent_alert_is_texted_after_the_escalation_delay(gateway):
    user = captain(channels=[], urgent_sms=False)  # not texted at once
    with time_machine.travel(MORNING, tick=False):
        notice = tell(user, notifications.CASE_WHISTLED)
        row = sms_of(notice)
        assert row.only_if_unread is True
        assert row.not_before == MORNING + timedelta(minutes=15)
        assert delivery.send(channel="sms") == 0
    with time_machine.travel(MORNING + timedelta(minutes=14), tick=False):
        assert delivery.send(channel="sms") == 0  # not yet
    assert gateway.sends == []
    with time_machine.travel(MORNING + timedelta(minutes=16), tick=False):
        assert delivery.send(channel="sms") == 1
    assert sms_of(notice).status == DeliveryStatus.SENT
    assert len(gateway.sends) == 1


def test_an_urgent_alert_read_in_time_is_not_texted(gateway):
    user = captain(channels=[], urgent_sms=False)
    with time_machine.travel(MORNING, tick=False):
        notice = tell(user, notifications.CASE_WHISTLED)
    with time_machine.travel(MORNING + timedelta(minutes=5), tick=False):
        assert notifications.mark_read(user=user, notification_ids=[notice.pk]) == 1
    with time_machine.travel(MORNING + timedelta(minutes=16), tick=False):
        delivery.send(channel="sms")
    row = sms_of(notice)
    assert (row.status, row.skip_reason) == (DeliveryStatus.SKIPPED, SkipReason.READ)
    assert gateway.sends == []


def test_a_normal_alert_waits_for_the_end_of_the_quiet_hours(gateway):
    user = captain(channels=["sms"], quiet_start=time(22), quiet_end=time(7))
    late_evening = datetime(2026, 3, 10, 23, 30, tzinfo=SHANGHAI)
    with time_machine.travel(late_evening, tick=False):
        notice = tell(user, notifications.CASE_RESOLVED)  # verify on site: normal
        row = sms_of(notice)
        assert timezone.localtime(row.not_before, SHANGHAI) == datetime(
            2026, 3, 11, 7, 0, tzinfo=SHANGHAI
        )
        assert delivery.describe(row) == "SMS: planned for 07:00"
        assert delivery.send(channel="sms") == 0
    with time_machine.travel(datetime(2026, 3, 11, 7, 1, tzinfo=SHANGHAI), tick=False):
        assert delivery.send(channel="sms") == 1
    assert len(gateway.sends) == 1
    # An urgent alert in the same quiet hours goes at once.
    with time_machine.travel(late_evening, tick=False):
        urgent = tell(user, notifications.DISPATCH_URGED)
        assert delivery.send(channel="sms") == 1
    assert sms_of(urgent).status == DeliveryStatus.SENT


def test_routine_news_stays_in_the_inbox(gateway):
    notice = tell(captain(channels=["sms"]), notifications.CASE_CLOSED)
    assert not Delivery.objects.filter(notification=notice).exists()
    assert delivery.send(channel="sms") == 0
    assert gateway.sends == []
