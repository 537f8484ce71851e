"""Celery tasks of the case engine: thin wrappers that call the services. The delivery of
fresh notifications is queued by cases.notifications itself (its task sits there)."""

from celery import shared_task

from cases import notifications, sweep, uploads


@shared_task
def deliver_pending_mail() -> int:
    """Periodic sweep: mail what was not sent after commit (broker down, SMTP failure)."""
    return notifications.deliver_pending_mail()


@shared_task
def sweep_deadlines() -> int:
    """Periodic sweep: hand every due deadline to the workers in batches (a few are fired at
    once). It keeps no lock of its own: each firing takes the case's row lock and re-checks
    the deadline, so overlapping sweeps and redelivered batches are safe."""
    return sweep.hand_out(send=_queue_firing)


@shared_task
def fire_deadlines(deadline_ids: list[int]) -> int:
    """Fire one batch of due deadlines handed out by the sweep."""
    return sweep.fire_deadlines(deadline_ids=deadline_ids)


def _queue_firing(deadline_ids: list[int]) -> None:
    fire_deadlines.delay(deadline_ids)


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
