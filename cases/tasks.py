"""Celery tasks of the case engine: thin wrappers that call the services."""

from celery import shared_task

from cases import notifications, timers


@shared_task
def deliver_notifications(notification_ids: list[int]) -> int:
    """Deliver freshly committed notifications through the configured channels."""
    return notifications.deliver(notification_ids=notification_ids)


@shared_task
def deliver_pending_mail() -> int:
    """Periodic sweep: mail what was not sent after commit (broker down, SMTP failure)."""
    return notifications.deliver_pending_mail()


@shared_task
def sweep_deadlines() -> int:
    """Periodic sweep: fire every due deadline once. It keeps no lock of its own: each firing
    takes the case's row lock and re-checks the deadline, so overlapping sweeps are safe."""
    return timers.sweep()
