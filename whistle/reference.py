"""Reference data (the checklist, the regions and grids) kept in each process.

Filing a whistle reads the same rows every time: the item, its time limits, the screening
rules, the grid with its village, town and city. They change only when someone edits them, so
each process keeps what it read, and every edit drops those copies everywhere:

- the save and delete of a tracked model (signals, see `track`) and the update and bulk writes
  of its queryset (`ReferenceQuerySet`) call `changed()`;
- `changed()` drops this process's copy at once; after the commit it drops it again and puts a
  new version token in the Django cache (Redis), and every other process drops its copy when it
  next compares tokens, at most WHISTLE_REFERENCE_CHECK_SECONDS (1 s) later;
- until its transaction ends, the thread that made the change reads the database and keeps
  nothing: it sees its own uncommitted edit, and a rollback leaves no trace in the copy;
- whatever the token says, a copy is dropped after WHISTLE_REFERENCE_MAX_AGE_SECONDS (30 s), so
  a Redis that is down, or a change made outside Django (psql, a migration), delays an edit and
  never loses it.

Only rows (field values) are kept; every read builds new model instances, so a caller can
change what it gets without touching the copy.
"""

import copy
import logging
import threading
import time
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete, post_migrate, post_save

logger = logging.getLogger(__name__)

T = TypeVar("T")

VERSION_CACHE_KEY = "whistle:reference:version"
_UNKNOWN = object()
_MISSING = object()


@dataclass
class _Copy:
    version: object
    loaded_at: float
    checked_at: float
    values: dict[Hashable, Any] = field(default_factory=dict)


_lock = threading.Lock()
_copy: _Copy | None = None


def _shared_version() -> object:
    try:
        return cache.get(VERSION_CACHE_KEY)
    except Exception:  # the token is an optimisation: the maximum age still applies
        logger.warning("Could not read the reference version from the cache", exc_info=True)
        return _UNKNOWN


def _current() -> _Copy:
    """This process's copy, dropped when the shared token moved or it is too old."""
    global _copy
    now = time.monotonic()
    held = _copy
    max_age = getattr(settings, "WHISTLE_REFERENCE_MAX_AGE_SECONDS", 30.0)
    if held is not None and now - held.loaded_at < max_age:
        if now - held.checked_at < getattr(settings, "WHISTLE_REFERENCE_CHECK_SECONDS", 1.0):
            return held
        version = _shared_version()
        if version is _UNKNOWN or version == held.version:
            held.checked_at = now
            return held
    else:
        version = _shared_version()
    fresh = _Copy(version=None if version is _UNKNOWN else version, loaded_at=now, checked_at=now)
    with _lock:
        _copy = fresh
    return fresh


def _drop() -> None:
    global _copy
    with _lock:
        _copy = None


def _publish() -> None:
    """After the commit: drop this process's copy and tell the others to drop theirs."""
    _drop()
    try:
        cache.set(VERSION_CACHE_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:  # the maximum age still applies
        logger.warning("Could not publish the reference version to the cache", exc_info=True)


def _changed_in_this_transaction() -> bool:
    """Whether the open transaction of this thread changed reference rows (its commit hook
    is queued; a rollback, also of a savepoint, removes it)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return False
    return any(hook[1] is _publish for hook in connection.run_on_commit)


def changed() -> None:
    """Reference rows changed (or will, in the open transaction): forget every copy of them."""
    _drop()
    if not _changed_in_this_transaction():
        transaction.on_commit(_publish, robust=True)


def cached(key: Hashable, load: Callable[[], T]) -> T:
    """`load()`'s result for `key`, read once per process until reference data changes.

    `load` must return plain values (tuples of field values, lists, dicts), never model
    instances: the result is shared by every thread of the process. None (nothing found) is
    not kept."""
    if _changed_in_this_transaction():
        return load()
    held = _current()
    value = held.values.get(key, _MISSING)
    if value is _MISSING:
        value = load()
        if value is not None:  # what does not exist is not kept: ids sent by anyone
            held.values[key] = value
    return value


def fields_of(model: type[models.Model], *, leave_out: tuple[str, ...] = ()) -> list[str]:
    """The attribute names of the model's concrete fields, in their order, minus `leave_out`."""
    return [f.attname for f in model._meta.concrete_fields if f.name not in leave_out]


def row_of(instance: models.Model, names: list[str]) -> tuple:
    return tuple(getattr(instance, name) for name in names)


def instance(model: type[T], names: list[str], row: tuple) -> T:
    """A new model instance from a kept row, as if read from the database; the fields left
    out of the row are deferred (read on first use). Lists and dicts are copied."""
    values = [copy.deepcopy(v) if isinstance(v, list | dict) else v for v in row]
    return model.from_db(transaction.get_connection().alias, names, values)


class ReferenceQuerySet(models.QuerySet):
    """The querysets of reference models: bulk writes, which send no signal, call changed()."""

    def update(self, **kwargs: Any) -> int:
        changed()
        return super().update(**kwargs)

    update.alters_data = True

    def bulk_create(self, *args: Any, **kwargs: Any) -> list:
        changed()
        return super().bulk_create(*args, **kwargs)

    bulk_create.alters_data = True

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        changed()
        return super().bulk_update(*args, **kwargs)

    bulk_update.alters_data = True

    def _raw_delete(self, *args: Any, **kwargs: Any) -> int:
        changed()
        return super()._raw_delete(*args, **kwargs)

    _raw_delete.alters_data = True


def _on_change(**kwargs: Any) -> None:
    changed()


def track(*tracked: type[models.Model]) -> None:
    """Call changed() on every save and delete of these models (AppConfig.ready)."""
    for model in tracked:
        post_save.connect(_on_change, sender=model, dispatch_uid=f"reference-save-{model}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"reference-delete-{model}")


# A flush (the end of a transactional test) or a migration may rewrite every table.
post_migrate.connect(_on_change, dispatch_uid="reference-migrate")
