"""A batch of timer firings shares its reference reads and queues its side effects once.

The sweep fires deadlines by the hundred. Each firing reads the same few rows (the item's time
limits and default handlers, the regions, who holds a role there) and, after its commit, queues
a delivery task and a fact refresh. Inside `batch_scope()` those reads are remembered for the
batch and the queued work is sent as one task per kind when the batch ends. Outside a scope
(a request, a test calling a service) everything reads and sends at once, as before.

Only reference data is remembered, and only for one batch (a second or two): an officer
appointed meanwhile is notified from the next batch on.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

# The largest list of ids one queued task carries.
TASK_CHUNK = 500


class BatchScope:
    def __init__(self) -> None:
        self.memo: dict[tuple, Any] = {}
        self.pending: dict[str, tuple[Callable[[list[int]], None], list[int]]] = {}

    def flush(self) -> None:
        pending, self.pending = self.pending, {}
        for send, ids in pending.values():
            unique = list(dict.fromkeys(ids))
            for start in range(0, len(unique), TASK_CHUNK):
                send(unique[start : start + TASK_CHUNK])


_scope: ContextVar[BatchScope | None] = ContextVar("cases_batch_scope", default=None)


@contextmanager
def batch_scope() -> Iterator[BatchScope]:
    """Share reads and merge queued tasks until the block ends (nested scopes join the outer)."""
    current = _scope.get()
    if current is not None:
        yield current
        return
    scope = BatchScope()
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)
        scope.flush()


def remember(key: tuple, compute: Callable[[], T]) -> T:
    """`compute()` once per batch for `key`; every time outside a batch."""
    scope = _scope.get()
    if scope is None:
        return compute()
    try:
        return scope.memo[key]
    except KeyError:
        value = scope.memo[key] = compute()
        return value


def send(kind: str, ids: list[int], sender: Callable[[list[int]], None]) -> None:
    """Queue `ids` with `sender` now, or once for the whole batch when inside one.

    Called after commit, so what a rolled-back firing would have queued never gets here."""
    scope = _scope.get()
    if scope is None:
        sender(ids)
        return
    scope.pending.setdefault(kind, (sender, []))[1].extend(ids)
