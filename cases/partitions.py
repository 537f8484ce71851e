"""The event log's monthly partitions on PostgreSQL (docs/architecture.md, "Partitioned
history"; migration cases 0025).

The log is partitioned by its case's filing time, a partition per month of the deployment's
time zone, plus a default partition that catches an event whose month has none yet. The beat
creates this month and the next ones ahead (`create_ahead`, every 6 hours); the same call
moves any caught rows into months of their own. An operator archives a month whose cases are
all over by detaching its partition (`archive_month`, `manage.py event_partitions`): the table
stays in the database under its name until it is dumped and dropped, and `restore_month` puts
it back.

On SQLite the log is one table: nothing here has anything to do, and says so.
"""

import datetime
import re
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases.models import Case
from cases.models.case import Status

TABLE = "cases_event"
MONTHS_AHEAD = 3
# An operator's DETACH waits this long for the log's readers and writers, then gives up (and
# can be run again): it never queues the officers' writes behind it for longer.
LOCK_TIMEOUT = "3s"
NAME = re.compile(r"^cases_event_(\d{4})_(\d{2})$")
# A month whose cases are all in one of these is over: nothing more is written to it.
OVER = (Status.CLOSED, Status.REJECTED)


class PartitionError(Exception):
    """A month cannot be archived or restored as asked; the message says why."""


@dataclass(frozen=True)
class State:
    """What the log's partitions are: the months attached, how many follow the current one
    without a gap, the rows the default partition holds, and the months detached."""

    months: list[datetime.date]
    ahead: int
    default_rows: int
    detached: list[datetime.date] = field(default_factory=list)


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def month_of(moment: datetime.datetime) -> datetime.date:
    """The first day of the deployment's month holding this moment."""
    local = timezone.localtime(moment, zoneinfo.ZoneInfo(settings.TIME_ZONE))
    return local.date().replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month + datetime.timedelta(days=32)).replace(day=1)


def partition_name(month: datetime.date) -> str:
    return f"{TABLE}_{month:%Y_%m}"


def create_ahead(*, months: int = MONTHS_AHEAD, now: datetime.datetime | None = None) -> int:
    """Create the partitions of this month and the `months` after it, and give rows the
    default partition caught months of their own; how many partitions were created."""
    first = month_of(now or timezone.now())
    last = first
    for _step in range(months):
        last = next_month(last)
    return create_months(first=first, last=last)


def create_months(*, first: datetime.date, last: datetime.date) -> int:
    """Create the partitions of the months from `first` to `last` that have none (and of the
    months of rows the default partition caught); how many were created. Safe at any time and
    from two beats at once: the owner's function (migration cases 0025) takes the table's
    lock to move caught rows, and leaves a partition that exists as it is."""
    if not is_partitioned():
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        # ALTER TABLE refuses a table with deferred foreign-key checks still pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT whistle_event_partitions(%s, %s, %s)", [first, last, settings.TIME_ZONE]
        )
        return cursor.fetchone()[0]


def state(*, now: datetime.datetime | None = None) -> State | None:
    """The partitions as they are; None where the log is not partitioned."""
    if not is_partitioned():
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        attached = {name for (name,) in cursor.fetchall()}
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' "
            "AND relname LIKE 'cases\\_event\\_%%' AND NOT relispartition "
            "AND relnamespace = to_regnamespace(current_schema())"
        )
        loose = {name for (name,) in cursor.fetchall()}
        # The application's role may not read a partition by name: the owner's function counts.
        cursor.execute("SELECT whistle_event_default_rows()")
        default_rows = cursor.fetchone()[0]
    months = sorted(_month(name) for name in attached if NAME.match(name))
    month, ahead = month_of(now or timezone.now()), 0
    while next_month(month) in months:
        month, ahead = next_month(month), ahead + 1
    detached = sorted(_month(name) for name in loose if NAME.match(name))
    return State(months=months, ahead=ahead, default_rows=default_rows, detached=detached)


def archived_month_of(case: Case) -> str:
    """ "2025-06" when the case's filing month has no partition in the log: it was archived
    (detached, and perhaps dropped since); else "". Asked only of a case whose history reads
    empty, which every case has once filed."""
    current = state()
    if current is None:
        return ""
    month = month_of(case.filed_at)
    return "" if month in current.months else f"{month:%Y-%m}"


def _month(name: str) -> datetime.date:
    year, month = NAME.match(name).groups()
    return datetime.date(int(year), int(month), 1)


def _bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(month, datetime.time(), tzinfo=zone)
    end = datetime.datetime.combine(next_month(month), datetime.time(), tzinfo=zone)
    return start, end


@contextmanager
def _catalogue_change() -> Iterator[CursorWrapper]:
    """A transaction for an operator's DETACH or ATTACH: deferred foreign-key checks done first
    (ALTER TABLE refuses a table with some pending), and at most LOCK_TIMEOUT of waiting."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        yield cursor


@dataclass(frozen=True)
class Archive:
    """One month taken out of the log (or that would be, on a dry run)."""

    month: datetime.date
    table: str
    cases: int
    events: int


def archive_month(
    *, month: datetime.date, dry_run: bool = False, now: datetime.datetime | None = None
) -> Archive:
    """Detach one month's partition: its events leave the log and stay in the database as the
    table `cases_event_YYYY_MM`, for `pg_dump -t` and a DROP by the operator. Refused while a
    case filed that month is still open (its history would be cut) and for the current month
    or later. Run as the owner of the tables (like `migrate`): the application's role may not."""
    if not is_partitioned():
        raise PartitionError(_("The event log is partitioned on PostgreSQL only."))
    month = month.replace(day=1)
    name = partition_name(month)
    current = state()
    if month not in current.months:
        raise PartitionError(
            _("%(month)s has no partition in the log.") % {"month": f"{month:%Y-%m}"}
        )
    if month >= month_of(now or timezone.now()):
        raise PartitionError(
            _("%(month)s is this month or later: only past months can be archived.")
            % {"month": f"{month:%Y-%m}"}
        )
    start, end = _bounds(month)
    filed = Case.objects.filter(filed_at__gte=start, filed_at__lt=end)
    still_open = filed.exclude(status__in=OVER).count()
    if still_open:
        raise PartitionError(
            ngettext(
                "%(count)d case filed in %(month)s is not closed yet: its history would be "
                "cut. Archive the month once it is closed.",
                "%(count)d cases filed in %(month)s are not closed yet: their history would "
                "be cut. Archive the month once they are closed.",
                still_open,
            )
            % {"count": still_open, "month": f"{month:%Y-%m}"}
        )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(name)}")  # noqa: S608
        events = cursor.fetchone()[0]
    archive = Archive(month=month, table=name, cases=filed.count(), events=events)
    if not dry_run:
        with _catalogue_change() as cursor:
            cursor.execute(
                f"ALTER TABLE {TABLE} DETACH PARTITION {connection.ops.quote_name(name)}"
            )
    return archive


def restore_month(*, month: datetime.date) -> str:
    """Attach an archived month's table again (after it was restored from a dump, or before
    it was dropped): its cases' histories are read again."""
    if not is_partitioned():
        raise PartitionError(_("The event log is partitioned on PostgreSQL only."))
    month = month.replace(day=1)
    name = partition_name(month)
    if month not in state().detached:
        raise PartitionError(
            _("There is no archived table %(table)s to restore.") % {"table": name}
        )
    start, end = _bounds(month)
    with _catalogue_change() as cursor:
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {connection.ops.quote_name(name)} "
            "FOR VALUES FROM (%s) TO (%s)",
            [start, end],
        )
    return name
