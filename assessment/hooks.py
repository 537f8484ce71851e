"""The case engine's one call into the assessment: refresh a case's facts after commit."""

import logging

logger = logging.getLogger(__name__)


def enqueue_fact_refresh(case_id: int) -> None:
    """Queue the refresh of one case's facts. A broker that is down costs only a warning: the
    periodic stale-facts sweep refreshes the case later."""
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    from assessment.tasks import refresh_case_facts

    try:
        refresh_case_facts.delay(case_id)
    except (OperationalError, RedisError, OSError) as error:
        logger.warning("Could not queue the fact refresh of case %s: %s", case_id, error)
