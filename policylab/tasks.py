"""Celery tasks of the policy lab: thin wrappers that call the services."""

from celery import shared_task

from policylab import services


@shared_task
def run_replay(replay_id: int) -> str:
    """Replay a queued scenario run (progress kept on the row, cancellable between chunks)."""
    return services.run_replay(replay_id=replay_id)


@shared_task
def resume_stalled_replays() -> int:
    """Periodic: queue again the replays whose worker died or whose message was lost."""
    return services.resume_stalled_replays()
