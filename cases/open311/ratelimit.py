"""Fixed-window rate limits in the shared cache (Redis in production), so every process of
every machine counts the same window."""

import time

from django.core.cache import cache
from django.http import HttpRequest

from core.clientaddr import client_address


def hit(*, bucket: str, limit: int, window_seconds: int) -> tuple[bool, int]:
    """Count one hit in the current window; (allowed, seconds until the window ends)."""
    now = time.time()
    window = int(now // window_seconds)
    key = f"whistle:ratelimit:{bucket}:{window}"
    retry_after = max(1, int((window + 1) * window_seconds - now))
    cache.add(key, 0, timeout=window_seconds + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds + 5)
        count = 1
    return count <= limit, retry_after


def client_bucket(request: HttpRequest) -> str:
    """The client's address as a bucket name: core.clientaddr, the one notion of the address
    that the login lockout and the audit trail use too (trusted proxies skipped)."""
    return client_address(request) or "unknown"
