"""A delivery worker killed mid-send: its claim is taken back once the lease ends, and the
message goes exactly once more (a real Celery worker process, killed with SIGKILL)."""

import pytest
from django.utils import timezone

from cases import notifications
from cases.channels import delivery
from cases.models import Delivery, DeliveryStatus
from cases.tasks import send_deliveries
from tests.cases.standins import ALIYUN, StandIn, configure
from tests.cases.test_notifications import make_case
from tests.factories import UserFactory
from tests.workers import isolated_broker, running_workers, wait_for

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LEASE_SECONDS = 3


def test_a_killed_workers_claim_is_taken_back_after_its_lease(settings, monkeypatch, tmp_path):
    with StandIn(ALIYUN, hang=60) as gateway:
        environment = {
            "WHISTLE_NOTIFICATION_CHANNELS": "inbox,sms",
            "WHISTLE_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
            "WHISTLE_DELIVERY_TIMEOUT_SECONDS": "30",
        }
        configure(environment, gateway)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)  # the worker process's settings
        configure(settings, gateway)
        settings.WHISTLE_NOTIFICATION_CHANNELS = ["inbox", "sms"]
        (notice,) = notifications.notify(
            recipients=[UserFactory(phone="13800138000")],
            kind=notifications.CASE_WHISTLED,
            case=make_case(),
            data={},
        )
        sms = Delivery.objects.get(notification=notice, channel="sms")
        gateway.script = ["timeout"]  # the gateway never answers the first send

        with (
            isolated_broker(tmp_path) as broker,
            running_workers(count=1, broker=broker, tmp_path=tmp_path) as (worker,),
        ):
            send_deliveries.apply_async(args=["sms", [sms.pk]], queue=f"{broker.queue}-deliveries")
            wait_for(lambda: len(gateway.sends) == 1, timeout=60, what="the first send")
            sms.refresh_from_db()
            assert sms.status == DeliveryStatus.SENDING and sms.attempts == 1
            worker.process.kill()
            worker.process.wait(timeout=10)

        # After the lease, the sweep's send takes it back, once.
        wait_for(
            lambda: Delivery.objects.get(pk=sms.pk).not_before <= timezone.now(),
            timeout=LEASE_SECONDS + 10,
            what="the lease to end",
        )
        assert delivery.send(channel="sms") == 1
        sms.refresh_from_db()
        assert sms.status == DeliveryStatus.SENT and sms.attempts == 2
        assert len(gateway.sends) == 2 and len(gateway.delivered) == 1
        assert gateway.problems == []
