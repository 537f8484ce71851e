"""Access tokens of the work-messaging APIs, kept per process until shortly before expiry."""

import threading
import time
from collections.abc import Callable

# Refreshed this long before the provider says it expires (clocks drift, requests take time).
MARGIN_SECONDS = 300.0

_lock = threading.Lock()
_tokens: dict[tuple, tuple[str, float]] = {}


def get(key: tuple, fetch: Callable[[], tuple[str, float]]) -> str:
    """The cached token for `key`, or a fresh one from `fetch()` -> (token, expires_in s).
    One fetch at a time per process: the worker's threads share the token."""
    with _lock:
        cached = _tokens.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        token, expires_in = fetch()
        _tokens[key] = (token, time.monotonic() + max(expires_in - MARGIN_SECONDS, 30.0))
        return token


def forget(key: tuple, token: str) -> None:
    """Drop `token` (the provider said it is invalid or expired) unless already replaced."""
    with _lock:
        cached = _tokens.get(key)
        if cached is not None and cached[0] == token:
            del _tokens[key]


def clear() -> None:
    with _lock:
        _tokens.clear()
