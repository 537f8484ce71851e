"""Celery tasks of the roll-out: thin wrappers that call the services."""

from celery import shared_task

from rollout import runs


@shared_task
def run_import(run_id: int) -> str:
    """Run a queued import run (claimed once, however often the message is delivered)."""
    return runs.run_import(run_id=run_id)


@shared_task
def resume_stalled_imports() -> int:
    """Periodic: queue again the runs whose message was lost or whose worker died."""
    return runs.resume_stalled_imports()
