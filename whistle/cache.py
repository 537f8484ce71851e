"""The shared cache on Redis, optional: when Redis is down, the cache misses instead of failing.

The database is the source of truth; the cache only holds the calendar's version token and
the Open311 rate-limit counters. A request must not fail because Redis stopped, so every
connection error reads as a miss (get returns the default, add/set store nothing, incr counts
from one: rate limits are not enforced while Redis is down). After a failure the process
leaves Redis alone for BREAKER_SECONDS instead of waiting on its timeout call after call.
"""

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
BREAKER_SECONDS = 5.0


class DegradingRedisCache(RedisCache):
    """RedisCache whose connection errors are misses (and a short pause of Redis use)."""

    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, error: Exception) -> None:
        with self._lock:
            was_up = self._available()
            self._down_until = time.monotonic() + BREAKER_SECONDS
        if was_up:
            logger.warning(
                "Cache unavailable, reading as a miss for %ss: %s", BREAKER_SECONDS, error
            )

    def _call(self, method: str, fallback: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._available():
            return fallback
        try:
            return getattr(super(), method)(*args, **kwargs)
        except REDIS_DOWN as error:
            self._failed(error)
            return fallback

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        return self._call("add", False, key, value, timeout, version)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._call("get", default, key, default, version)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._call("set", None, key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._call("touch", False, key, timeout, version)

    def delete(self, key: Any, version: Any = None) -> bool:
        return self._call("delete", False, key, version)

    def get_many(self, keys: Any, version: Any = None) -> dict:
        return self._call("get_many", {}, keys, version)

    def has_key(self, key: Any, version: Any = None) -> bool:
        return self._call("has_key", False, key, version)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        return self._call("incr", delta, key, delta, version)

    def set_many(self, data: dict, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list:
        return self._call("set_many", list(data), data, timeout, version)

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._call("delete_many", None, keys, version)

    def clear(self) -> bool:
        return self._call("clear", False)
