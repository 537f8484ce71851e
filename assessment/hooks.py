"""The assessment's subscription to the case engine's domain event: refresh a case's facts
after commit (docs/architecture.md)."""

import logging
from typing import Any

from assessment.tasks import refresh_case_facts, refresh_cases_facts
from cases import batching

logger = logging.getLogger(__name__)


def on_case_changed(*, case_id: int, **_kwargs: Any) -> None:
    """Receiver of cases.signals.case_changed, sent after the change committed."""
    enqueue_fact_refresh(case_id)


def enqueue_fact_refresh(case_id: int) -> None:
    """Queue the refresh of one case's facts (once per timer batch for a batch's cases)."""
    batching.send("refresh_case_facts", [case_id], _publish_refresh)


def _publish_refresh(case_ids: list[int]) -> None:
    """A broker that is down costs only a warning: the periodic stale-facts sweep refreshes
    the cases later."""
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    try:
        if len(case_ids) == 1:
            refresh_case_facts.delay(case_ids[0])
        else:
            refresh_cases_facts.delay(case_ids)
    except (OperationalError, RedisError, OSError) as error:
        logger.warning("Could not queue the fact refresh of cases %s: %s", case_ids, error)
