"""Celery tasks of the access audit: thin wrappers that call the services."""

from celery import shared_task

from audit import services


@shared_task
def purge_access_records() -> int:
    """Periodic (beat, daily): delete the audit records older than the retention."""
    return services.purge_access_records()
