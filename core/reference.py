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
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

from core.replica import primary_reads

logger = logging.getLogger(__name__)

T = TypeVar("T")

VERSION_CACHE_KEY = "whistle:reference:version"
_UNKNOWN = object()
_MISSING = object()


@dataclass
class Stamp:
    """When a process's copy was read, under which shared version, and last compared."""

    version: object
    loaded_at: float
    checked_at: float


class SharedVersion:
    """A version token in the Django cache (Redis) that every process compares its copy with.

    A copy is used until the token moves, compared at most every `check_setting` seconds, and
    never longer than `max_age_setting` seconds whatever the token says: a cache that is down,
    or a change made outside Django, delays an edit and never loses it. Shared by this module
    and the working calendar (cases.calendar)."""

    def __init__(
        self,
        key: str,
        *,
        check_setting: str,
        max_age_setting: str,
        max_age_default: float,
        what: str,
    ) -> None:
        self.key = key
        self.check_setting = check_setting
        self.max_age_setting = max_age_setting
        self.max_age_default = max_age_default
        self.what = what

    def _read(self) -> object:
        try:
            return cache.get(self.key)
        except Exception:  # the token is an optimisation: the maximum age still applies
            logger.warning("Could not read the %s version from the cache", self.what, exc_info=True)
            return _UNKNOWN

    def publish(self) -> None:
        """Tell every process to drop its copy."""
        try:
            cache.set(self.key, uuid.uuid4().hex, timeout=None)
        except Exception:  # the maximum age still applies
            logger.warning(
                "Could not publish the %s version to the cache", self.what, exc_info=True
            )

    def still_current(self, stamp: Stamp | None) -> bool:
        """Whether the copy under `stamp` may still be used (it is then marked compared)."""
        if stamp is None:
            return False
        now = time.monotonic()
        if now - stamp.loaded_at >= getattr(settings, self.max_age_setting, self.max_age_default):
            return False
        if now - stamp.checked_at < getattr(settings, self.check_setting, 1.0):
            return True
        version = self._read()
        if version is _UNKNOWN or version == stamp.version:
            stamp.checked_at = now
            return True
        return False

    def new_stamp(self) -> Stamp:
        """The stamp of a copy read now."""
        version = self._read()
        now = time.monotonic()
        return Stamp(
            version=None if version is _UNKNOWN else version, loaded_at=now, checked_at=now
        )


_VERSION = SharedVersion(
    VERSION_CACHE_KEY,
    check_setting="WHISTLE_REFERENCE_CHECK_SECONDS",
    max_age_setting="WHISTLE_REFERENCE_MAX_AGE_SECONDS",
    max_age_default=30.0,
    what="reference",
)


@dataclass
class _Copy:
    stamp: Stamp
    values: dict[Hashable, Any] = field(default_factory=dict)


_lock = threading.Lock()
_copy: _Copy | None = None


def _current() -> _Copy:
    """This process's copy, dropped when the shared token moved or it is too old."""
    global _copy
    held = _copy
    if held is not None and _VERSION.still_current(held.stamp):
        return held
    fresh = _Copy(stamp=_VERSION.new_stamp())
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
    _VERSION.publish()


def _changed_in_this_transaction() -> bool:
    """Whether the open transaction of this thread changed reference rows (its commit hook
    is queued; a rollback, also of a savepoint, removes it)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return False
    return any(hook[1] is _publish for hook in connection.run_on_commit)


# Per thread: how many changes it made, so that a copy kept inside its own changing transaction
# (`cached(..., in_transaction=True)`) is read again after each of them.
_thread = threading.local()


def changed() -> None:
    """Reference rows changed (or will, in the open transaction): forget every copy of them."""
    _drop()
    _thread.changes = getattr(_thread, "changes", 0) + 1
    if not _changed_in_this_transaction():
        transaction.on_commit(_publish, robust=True)


def cached(key: Hashable, load: Callable[[], T], *, in_transaction: bool = False) -> T:
    """`load()`'s result for `key`, read once per process until reference data changes.

    `load` must return plain values (tuples of field values, lists, dicts), never model
    instances: the result is shared by every thread of the process. None (nothing found) is
    not kept. Inside a transaction that changed reference rows the thread reads the database,
    every time, unless `in_transaction`: then it keeps its own copy until its next change (for
    values read by every label of a page; a savepoint rolled back after changing them leaves
    that copy as it was until the thread's next change)."""
    if _changed_in_this_transaction():
        if not in_transaction:
            return load()
        token = getattr(_thread, "changes", 0)
        kept = getattr(_thread, "kept", {})
        hit = kept.get(key)
        if hit is not None and hit[0] == token:
            return hit[1]
        value = load()
        _thread.kept = {**kept, key: (token, value)}
        return value
    held = _current()
    value = held.values.get(key, _MISSING)
    if value is _MISSING:
        # What every process keeps is read on the primary: a copy read on a replica that is
        # behind would be kept after the edit's version token came (core.replica).
        with primary_reads():
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


def on_change(**kwargs: Any) -> None:
    """A signal receiver that calls changed() (post_save, post_delete, m2m_changed)."""
    changed()


def track(*tracked: type[models.Model]) -> None:
    """Call changed() on every save and delete of these models (AppConfig.ready), and, for a
    many-to-many field's own table (`Model.field.through`), on every change of its lists
    (add, remove, clear and set send m2m_changed, not a save)."""
    for model in tracked:
        post_save.connect(on_change, sender=model, dispatch_uid=f"reference-save-{model}")
        post_delete.connect(on_change, sender=model, dispatch_uid=f"reference-delete-{model}")
        if model._meta.auto_created:
            m2m_changed.connect(on_change, sender=model, dispatch_uid=f"reference-m2m-{model}")


# A flush (the end of a transactional test) or a migration may rewrite every table.
post_migrate.connect(on_change, dispatch_uid="reference-migrate")
