"""Heavy reads on a PostgreSQL streaming replica, with read-your-writes and a freshness bound.

DATABASE_REPLICA_URL (optional) names a read-only replica as the `replica` database. Dashboards,
exports, rankings, drill-down lists, the policy lab and the assessment API read there
(`reads_replica` on their views, `api_reads_replica` on API actions, `read_on_replica` around
other reads), so supervisors' heavy reads never queue in front of
the officers' writes. Everything else, and every write, uses the primary.

A read goes to the replica only when all of these hold, decided once when the read begins
(`choose`), never per query:
- the replica answers (it is probed at most every WHISTLE_REPLICA_CHECK_SECONDS per process);
- it is at most WHISTLE_REPLICA_MAX_LAG_SECONDS behind: caught up with the primary's WAL
  position read just before, or else as old as its last replayed commit;
- it has replayed the reader's own last write: each successful write request records the
  primary's WAL position for its user in the shared cache (`RecordWritesMiddleware`), and the
  replica must have replayed past it. The record lasts longer than the lag bound, so once it
  is gone a replica within the bound holds the write anyway.
Otherwise the read uses the primary, and the page says why (`Freshness`). A replica that fails
mid-read is marked down and the read is done again on the primary.

Reads inside a transaction on the primary stay there (they must see its own writes), and so do
sessions, sign-in and the other apps that are not Whistle's (PRIMARY_ONLY_APPS).
docs/architecture.md, "Many machines".
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.checks import Warning, register
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.connection import ConnectionDoesNotExist
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

T = TypeVar("T")

REPLICA = "replica"
# What a database that is down or restarting raises (as core.unavailable).
DATABASE_ERRORS = (InterfaceError, OperationalError)
# Django's and the libraries' own tables (sessions, sign-in, lockout, two factors, tokens) are
# always read on the primary: a session made a moment ago must be found.
PRIMARY_ONLY_APPS = frozenset(
    {
        "admin",
        "auth",
        "axes",
        "contenttypes",
        "django_celery_results",
        "guardian",
        "knox",
        "otp_static",
        "otp_totp",
        "sessions",
    }
)

# Why a read went where it went (shown on the dashboards).
REASONS = {
    "replica": _("read from the reporting copy"),
    "not_configured": _("read from the main database"),
    "down": _("read from the main database: the reporting copy does not answer"),
    "lagging": _("read from the main database: the reporting copy is behind"),
    "own_write": _("read from the main database: your latest change has not reached the copy"),
}

_reading: ContextVar[str | None] = ContextVar("whistle_replica_reading", default=None)


@dataclass(frozen=True)
class ReplicaState:
    """What the last probe of the replica found."""

    answers: bool
    lag_seconds: float  # inf when it does not answer or has replayed nothing yet
    replay_lsn: int | None
    probed_at: float


def _not_answering(at: float) -> ReplicaState:
    return ReplicaState(answers=False, lag_seconds=float("inf"), replay_lsn=None, probed_at=at)


@dataclass(frozen=True)
class Freshness:
    """Where one read went, and how fresh its numbers are."""

    source: str  # REPLICA or DEFAULT_DB_ALIAS
    reason: str  # a key of REASONS
    lag_seconds: float
    read_at: datetime

    @property
    def on_replica(self) -> bool:
        return self.source == REPLICA

    @property
    def label(self) -> str:
        return str(REASONS[self.reason])


def configured() -> bool:
    try:
        connections[REPLICA]
    except ConnectionDoesNotExist:
        return False
    return True


def _lsn(text: str | None) -> int | None:
    """A PostgreSQL WAL position ('16/B374D848') as a number, to compare."""
    if not text:
        return None
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _primary_lsn() -> int | None:
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        # The insert position, not the written one: with synchronous_commit off a commit may
        # still sit in the WAL buffers, which the written position does not count yet.
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        return _lsn(cursor.fetchone()[0])


def _probe() -> ReplicaState:
    """Ask the replica how far it has replayed; compare with the primary's position."""
    now = time.monotonic()
    replica = connections[REPLICA]
    try:
        if replica.vendor != "postgresql":
            replica.ensure_connection()
            return ReplicaState(answers=True, lag_seconds=0.0, replay_lsn=None, probed_at=now)
        primary_lsn = _primary_lsn()
        with replica.cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
                " EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())"
            )
            in_recovery, replay_text, since_commit = cursor.fetchone()
    except DATABASE_ERRORS:
        logger.warning("The read replica does not answer", exc_info=True)
        _forget(replica)
        return _not_answering(now)
    if not in_recovery:  # a "replica" that is a primary (a managed read endpoint) is current
        return ReplicaState(answers=True, lag_seconds=0.0, replay_lsn=None, probed_at=now)
    replay_lsn = _lsn(replay_text)
    if replay_lsn is not None and primary_lsn is not None and replay_lsn >= primary_lsn:
        lag = 0.0
    elif since_commit is None:  # nothing replayed since it started: unknown, so too old
        lag = float("inf")
    else:
        lag = max(float(since_commit), 0.0)
    return ReplicaState(answers=True, lag_seconds=lag, replay_lsn=replay_lsn, probed_at=now)


def _forget(connection: Any) -> None:
    with suppress(DATABASE_ERRORS):
        connection.close()


_state_lock = threading.Lock()
_state: ReplicaState | None = None


def replica_state(*, fresh: bool = False) -> ReplicaState:
    """The replica's state, probed at most every WHISTLE_REPLICA_CHECK_SECONDS per process."""
    global _state
    with _state_lock:
        state = _state
        if (
            fresh
            or state is None
            or time.monotonic() - state.probed_at >= settings.WHISTLE_REPLICA_CHECK_SECONDS
        ):
            state = _state = _probe()
        return state


def mark_down() -> None:
    """A read on the replica failed: use the primary until the next probe."""
    global _state
    with _state_lock:
        _state = _not_answering(time.monotonic())
    if configured():
        _forget(connections[REPLICA])


def _written_key(user_id: int) -> str:
    return f"whistle:replica:written:{user_id}"


def record_write(*, user_id: int) -> None:
    """Remember the primary's WAL position after this user's write, for their next reads."""
    if not configured():
        return
    try:
        lsn = _primary_lsn()
    except DATABASE_ERRORS:
        return
    if lsn is None:
        return
    keep = settings.WHISTLE_REPLICA_MAX_LAG_SECONDS + settings.WHISTLE_REPLICA_CHECK_SECONDS + 60
    try:
        cache.set(_written_key(user_id), lsn, timeout=keep)
    except Exception:  # without the record the bound still holds the write within its time
        logger.warning("Could not record a write's position in the cache", exc_info=True)


def _written(user_id: int | None) -> int | None:
    if user_id is None:
        return None
    try:
        return cache.get(_written_key(user_id))
    except Exception:
        return None


def _on_primary(reason: str) -> Freshness:
    return Freshness(DEFAULT_DB_ALIAS, reason, 0.0, timezone.now())


def choose(*, user_id: int | None) -> Freshness:
    """Where a reader's heavy read goes now."""
    if not configured():
        return _on_primary("not_configured")
    state = replica_state()
    if not state.answers:
        return _on_primary("down")
    if state.lag_seconds > settings.WHISTLE_REPLICA_MAX_LAG_SECONDS:
        return _on_primary("lagging")
    written = _written(user_id)
    if written is not None and state.replay_lsn is not None and state.replay_lsn < written:
        return _on_primary("own_write")
    return Freshness(REPLICA, "replica", state.lag_seconds, timezone.now())


@contextmanager
def replica_reads(*, user_id: int | None) -> Iterator[Freshness]:
    """Within the block, Whistle's reads outside a transaction go where `choose` says."""
    freshness = choose(user_id=user_id)
    token = _reading.set(REPLICA if freshness.on_replica else None)
    try:
        yield freshness
    finally:
        _reading.reset(token)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Within the block every read uses the primary (a read that must see the latest)."""
    token = _reading.set(None)
    try:
        yield
    finally:
        _reading.reset(token)


def read_on_replica(*, user_id: int | None, read: Callable[[Freshness], T]) -> T:
    """`read(freshness)` where `choose` says; a replica failing mid-read is marked down and the
    read is done again on the primary (reads only: doing one twice changes nothing)."""
    with replica_reads(user_id=user_id) as freshness:
        if not freshness.on_replica:
            return read(freshness)
        try:
            return read(freshness)
        except DATABASE_ERRORS:
            logger.warning("A read on the replica failed; reading again on the primary")
            mark_down()
    with primary_reads():
        return read(_on_primary("down"))


def reads_replica(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A GET view whose reads may use the replica; `request.freshness` says where they went.

    Put it below @login_required, so that the session and the user are read on the primary
    first."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)

        def render(freshness: Freshness) -> HttpResponse:
            request.freshness = freshness
            return view(request, *args, **kwargs)

        return read_on_replica(user_id=getattr(request.user, "pk", None), read=render)

    return wrapped


def api_reads_replica(method: Callable[..., Any]) -> Callable[..., Any]:
    """An API viewset's read action whose reads may use the replica (after DRF has
    authenticated the caller); the answer's headers say where it was read and how far behind
    it may be (X-Whistle-Read-From: replica|primary, X-Whistle-Lag-Seconds)."""

    @wraps(method)
    def wrapped(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        def answer(freshness: Freshness) -> Any:
            response = method(self, request, *args, **kwargs)
            response["X-Whistle-Read-From"] = "replica" if freshness.on_replica else "primary"
            response["X-Whistle-Lag-Seconds"] = f"{freshness.lag_seconds:.0f}"
            return response

        return read_on_replica(user_id=getattr(request.user, "pk", None), read=answer)

    return wrapped


@register("core")
def check_replica(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """A replica needs the shared cache for read-your-writes across machines."""
    if not configured() or getattr(settings, "REDIS_URL", ""):
        return []
    return [
        Warning(
            gettext(
                "DATABASE_REPLICA_URL is set without REDIS_URL: a user's latest change is "
                "known only to the machine that made it, so a page on another machine may read "
                "the replica before the change reached it (within WHISTLE_REPLICA_MAX_LAG_SECONDS)."
            ),
            hint=gettext("Set REDIS_URL on every web machine, as for several machines anyway."),
            id="core.W001",
        )
    ]


class ReplicaRouter:
    """Sends reads to the replica inside `replica_reads` only; writes and migrations to the
    primary."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        alias = _reading.get()
        if alias is None or model._meta.app_label in PRIMARY_ONLY_APPS:
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        return alias

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # both databases hold the same rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA  # a replica is written by replication only


class RecordWritesMiddleware:
    """After a signed-in user's successful write request, records the primary's WAL position
    for them (read-your-writes on the replica)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.method not in ("GET", "HEAD", "OPTIONS")
            and response.status_code < 400
            and configured()
        ):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                record_write(user_id=user.pk)
        return response


def freshness(request: HttpRequest) -> dict[str, Freshness | None]:
    """Context processor: where the page's heavy reads went (includes/freshness.html)."""
    return {"freshness": getattr(request, "freshness", None)}
