"""Celery tasks of the case engine: thin wrappers that call the services. The delivery tasks
(send_deliveries, send_due_deliveries, sweep_deliveries) are routed to their own queue
(WHISTLE_DELIVERY_QUEUE), so a burst of slow SMS never waits in front of the timer sweep."""

from datetime import datetime

from celery import shared_task
from django.conf import settings

from cases import notifications, partitions, sweep, uploads
from cases.channels import delivery


@shared_task
def send_deliveries(channel: str, delivery_ids: list[int]) -> int:
    """Send fresh deliveries of one channel, queued after the commit that made them."""
    return delivery.send(channel=channel, delivery_ids=delivery_ids)


@shared_task
def send_due_deliveries(channel: str) -> int:
    """Send what is due on one channel (handed out by the sweep) within one sweep period."""
    return delivery.send(channel=channel, budget_seconds=settings.WHISTLE_DELIVERY_SWEEP_SECONDS)


@shared_task
def sweep_deliveries() -> int:
    """Periodic sweep: one task per channel with due deliveries (retries, quiet-hour steps,
    deliveries whose task was never queued, claims of dead workers); returns the count."""
    return len(notifications.sweep_deliveries(send=_queue_channel))


def _queue_channel(channel: str) -> None:
    send_due_deliveries.delay(channel)


@shared_task
def deliver_pending_mail() -> int:
    """The sweep's name before the delivery framework, kept so that messages queued before an
    upgrade still run: the same sweep, over every channel."""
    return sweep_deliveries()


@shared_task
def sweep_deadlines() -> int:
    """Periodic sweep: hand every due deadline to the workers in batches (a few are fired at
    once). It keeps no lock of its own: each firing takes the case's row lock and re-checks
    the deadline, so overlapping sweeps and redelivered batches are safe."""
    return sweep.hand_out(send=_queue_firing)


@shared_task
def fire_deadlines(deadline_ids: list[int], filed: list[str] | None = None) -> int:
    """Fire one batch of due deadlines handed out by the sweep, with the filing times of its
    cases (ISO 8601; none in a batch queued by an older sweep)."""
    months = None if filed is None else [datetime.fromisoformat(value) for value in filed]
    return sweep.fire_handed_out(deadline_ids=deadline_ids, filed=months)


def _queue_firing(deadline_ids: list[int], filed: list[datetime]) -> None:
    fire_deadlines.delay(deadline_ids, [value.isoformat() for value in filed])


@shared_task
def process_photos(attachment_ids: list[int]) -> int:
    """Re-encode the photos of one request without metadata and make their thumbnails (queued
    after commit by cases.uploads: no web request decodes an image)."""
    return uploads.process_photos(attachment_ids=attachment_ids)


@shared_task
def process_waiting_photos() -> int:
    """Periodic catch-up: photos whose processing was never queued (broker down) or lost."""
    return uploads.process_waiting_photos()


@shared_task
def remove_orphan_files() -> int:
    """Periodic sweep: stored case files without a row, past the grace age."""
    return uploads.remove_orphan_files()


@shared_task
def create_event_partitions() -> int:
    """Periodic: the event log's partitions of this month and the next ones (PostgreSQL)."""
    return partitions.create_ahead()
