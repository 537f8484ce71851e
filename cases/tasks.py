"""Celery tasks of the case engine: thin wrappers that call the services."""

from celery import shared_task

from cases import notifications


@shared_task
def deliver_notifications(notification_ids: list[int]) -> int:
    """Deliver freshly committed notifications through the configured channels."""
    return notifications.deliver(notification_ids=notification_ids)


@shared_task
def deliver_pending_mail() -> int:
    """Periodic sweep: mail what was not sent after commit (broker down, SMTP failure)."""
    return notifications.deliver_pending_mail()
