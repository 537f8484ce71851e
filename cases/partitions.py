"""The monthly partitions of the event log, the deadlines and the assessment facts on
PostgreSQL (docs/architecture.md, "Partitioned history"; migrations cases 0025 and 0027,
assessment 0017).

Each has a partition per month of the deployment's time zone, plus a default partition that
catches a row whose month has none yet. The events, the clocks and the case facts are
partitioned by their case's filing time, so a case's lie in the same month's partitions; the
dispatch facts by when the dispatch was sent, the time a period's dispatch counts select them
by. A case's events and clocks are archived together; the facts stay for the dashboards of
past years. The beat
creates this month and the next ones ahead (`create_ahead`, every 6 hours); the same call
moves any caught rows into months of their own. An operator archives a month whose cases are
all over by detaching its partitions (`archive_month`, `manage.py event_partitions`): the
tables stay in the database under their names until they are dumped and dropped, and
`restore_month` puts them back.

On SQLite each is one table: nothing here has anything to do, and says so.
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
DEADLINES = "cases_deadline"
CASE_FACTS = "assessment_casefact"
DISPATCH_FACTS = "assessment_dispatchfact"
# Every table partitioned by month, which the beat keeps months ahead for.
TABLES = (TABLE, DEADLINES, CASE_FACTS, DISPATCH_FACTS)
MONTHS_AHEAD = 3
# An operator's DETACH waits this long for the log's readers and writers, then gives up (and
# can be run again): it never queues the officers' writes behind it for longer.
LOCK_TIMEOUT = "3s"
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


def is_partitioned(table: str = TABLE) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def month_of(moment: datetime.datetime) -> datetime.date:
    """The first day of the deployment's month holding this moment."""
    local = timezone.localtime(moment, zoneinfo.ZoneInfo(settings.TIME_ZONE))
    return local.date().replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month + datetime.timedelta(days=32)).replace(day=1)


def partition_name(month: datetime.date, table: str = TABLE) -> str:
    return f"{table}_{month:%Y_%m}"


def create_ahead(*, months: int = MONTHS_AHEAD, now: datetime.datetime | None = None) -> int:
    """Create the partitions of this month and the `months` after it, and give rows the
    default partition caught months of their own; how many partitions were created."""
    first = month_of(now or timezone.now())
    last = first
    for _step in range(months):
        last = next_month(last)
    return create_months(first=first, last=last)


def create_months(*, first: datetime.date, last: datetime.date) -> int:
    """Create the partitions of the months from `first` to `last` that have none, in every
    partitioned table (and of the months of rows a default partition caught); how many were
    created. Safe at any time and from two beats at once: the owner's function (migrations
    cases 0027, assessment 0017) takes a table's lock to move caught rows, and leaves a
    partition that exists as it is."""
    made = 0
    for table in TABLES:
        if not is_partitioned(table):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            # ALTER TABLE refuses a table with deferred foreign-key checks still pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "SELECT whistle_partitions(%s, %s, %s, %s)",
                [table, first, last, settings.TIME_ZONE],
            )
            made += cursor.fetchone()[0]
    return made


def state(*, table: str = TABLE, now: datetime.datetime | None = None) -> State | None:
    """The partitions of the log (or of another of TABLES) as they are; None where the table
    is not partitioned."""
    if not is_partitioned(table):
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [table],
        )
        attached = {name for (name,) in cursor.fetchall()}
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND NOT relispartition "
            "AND relname ~ %s AND relnamespace = to_regnamespace(current_schema())",
            [_name_pattern(table).pattern],
        )
        loose = {name for (name,) in cursor.fetchall()}
        # The application's role may not read a partition by name: the owner's function counts.
        cursor.execute("SELECT whistle_default_rows(%s)", [table])
        default_rows = cursor.fetchone()[0]
    months = sorted(_month(table, name) for name in attached if _name_pattern(table).match(name))
    month, ahead = month_of(now or timezone.now()), 0
    while next_month(month) in months:
        month, ahead = next_month(month), ahead + 1
    detached = sorted(_month(table, name) for name in loose)
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


def _name_pattern(table: str) -> re.Pattern:
    return re.compile(rf"^{table}_(\d{{4}})_(\d{{2}})$")


def _month(table: str, name: str) -> datetime.date:
    year, month = _name_pattern(table).match(name).groups()
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
    """One month taken out of the log and the deadlines (or that would be, on a dry run)."""

    month: datetime.date
    table: str
    cases: int
    events: int
    deadline_table: str = ""
    deadlines: int = 0


def archive_month(
    *, month: datetime.date, dry_run: bool = False, now: datetime.datetime | None = None
) -> Archive:
    """Detach one month's partitions: its events leave the log and its cases' clocks leave the
    deadlines, and stay in the database as the tables `cases_event_YYYY_MM` and
    `cases_deadline_YYYY_MM`, for `pg_dump -t` and a DROP by the operator. Refused while a
    case filed that month is still open (its history would be cut, its clocks still run) and
    for the current month or later. Run as the owner of the tables (like `migrate`): the
    application's role may not."""
    if not is_partitioned():
        raise PartitionError(_("The event log is partitioned on PostgreSQL only."))
    month = month.replace(day=1)
    name = partition_name(month)
    if month not in state().months:
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
    clocks = _deadline_partition(month, attached=True)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(name)}")  # noqa: S608
        events = cursor.fetchone()[0]
        deadlines = 0
        if clocks:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(clocks)}")  # noqa: S608
            deadlines = cursor.fetchone()[0]
    archive = Archive(
        month=month,
        table=name,
        cases=filed.count(),
        events=events,
        deadline_table=clocks,
        deadlines=deadlines,
    )
    if not dry_run:
        with _catalogue_change() as cursor:
            cursor.execute(
                f"ALTER TABLE {TABLE} DETACH PARTITION {connection.ops.quote_name(name)}"
            )
            if clocks:
                cursor.execute(
                    f"ALTER TABLE {DEADLINES} DETACH PARTITION {connection.ops.quote_name(clocks)}"
                )
    return archive


def restore_month(*, month: datetime.date) -> str:
    """Attach an archived month's tables again (after they were restored from a dump, or
    before they were dropped): its cases' histories and clocks are read again."""
    if not is_partitioned():
        raise PartitionError(_("The event log is partitioned on PostgreSQL only."))
    month = month.replace(day=1)
    name = partition_name(month)
    if month not in state().detached:
        raise PartitionError(
            _("There is no archived table %(table)s to restore.") % {"table": name}
        )
    clocks = _deadline_partition(month, attached=False)
    start, end = _bounds(month)
    with _catalogue_change() as cursor:
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {connection.ops.quote_name(name)} "
            "FOR VALUES FROM (%s) TO (%s)",
            [start, end],
        )
        if clocks:
            cursor.execute(
                f"ALTER TABLE {DEADLINES} ATTACH PARTITION {connection.ops.quote_name(clocks)} "
                "FOR VALUES FROM (%s) TO (%s)",
                [start, end],
            )
    return name


def _deadline_partition(month: datetime.date, *, attached: bool) -> str:
    """The deadlines' partition of the month, attached (or detached) as asked; "" if none (a
    database whose deadlines are one table, or a month whose events were archived before the
    deadlines were partitioned: its clocks stayed attached)."""
    current = state(table=DEADLINES)
    if current is None:
        return ""
    months = current.months if attached else current.detached
    return partition_name(month, DEADLINES) if month in months else ""
