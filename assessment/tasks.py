"""Celery tasks of the assessment: thin wrappers that call the services."""

from celery import shared_task

from assessment import services


@shared_task
def refresh_case_facts(case_id: int) -> bool:
    """Recompute one case's facts after a change was committed."""
    return services.refresh_case_facts(case_id=case_id)


@shared_task
def refresh_cases_facts(case_ids: list[int]) -> int:
    """Recompute the facts of the cases a batch of timer firings changed."""
    return services.refresh_cases_facts(case_ids=case_ids)


@shared_task
def refresh_stale_facts(whole_history: bool = False) -> int:
    """Periodic: refresh the facts that the after-commit refresh missed (broker down, lost
    message, timer events that do not touch the case row); daily over the whole history."""
    return services.refresh_stale_facts(whole_history=whole_history)


@shared_task
def keep_overview_counts() -> int:
    """Periodic: recount the stored overview counts of every city and town whose facts
    changed."""
    return services.keep_overview_counts()
