"""Mail sent before the delivery framework becomes a sent mail Delivery; mail still owed (the
old sweep's window: recent, unmailed, recipient with an address) becomes a pending one, so the
new sweep sends it. `emailed_at` stays, written when a mail delivery is sent."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

BATCH = 5000


def forwards(apps, schema_editor):
    Notification = apps.get_model("cases", "Notification")
    Delivery = apps.get_model("cases", "Delivery")
    now = timezone.now()
    mailed = Notification.objects.filter(emailed_at__isnull=False).values_list(
        "pk", "emailed_at", "created_at"
    )
    rows = []
    for pk, emailed_at, created_at in mailed.iterator(chunk_size=BATCH):
        rows.append(
            Delivery(
                notification_id=pk,
                channel="mail",
                status="sent",
                attempts=1,
                not_before=created_at,
                sent_at=emailed_at,
                created_at=created_at,
                updated_at=now,
            )
        )
        if len(rows) >= BATCH:
            Delivery.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    owed = (
        Notification.objects.filter(
            emailed_at__isnull=True,
            created_at__gte=now - timedelta(days=2),
            recipient__is_active=True,
        )
        .exclude(recipient__email="")
        .values_list("pk", "created_at")
    )
    for pk, created_at in owed.iterator(chunk_size=BATCH):
        rows.append(
            Delivery(
                notification_id=pk,
                channel="mail",
                status="pending",
                not_before=now,
                created_at=created_at,
                updated_at=now,
            )
        )
        if len(rows) >= BATCH:
            Delivery.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)


def backwards(apps, schema_editor):
    """The mail stamps stay on the notifications; the delivery table goes with 0020."""


class Migration(migrations.Migration):
    dependencies = [("cases", "0020_delivery")]

    operations = [migrations.RunPython(forwards, backwards)]
