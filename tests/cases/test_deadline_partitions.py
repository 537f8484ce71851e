"""The deadlines' monthly partitions (cases.partitions, migration cases 0027,
docs/architecture.md "Partitioned history").

On PostgreSQL each deadline lies in the partition of its case's filing month, beside the case's
events: a case's clocks are read, fired, paused and postponed in that partition alone, the
beat's task gives a clock the default partition caught a month of its own, and a month of
closed cases is archived with its clocks. On SQLite the deadlines are one table: each still
carries its case's filing time, and the partition calls say there is nothing to do."""

import datetime
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from time_machine import travel

from cases import partitions, sweep, timers
from cases.models import Case, Deadline, Dispatch
from cases.services import (
    resolve_case,
    verify_case,
)
from cases.tasks import create_event_partitions
from checklists.models import Stage
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import (
    T0,
    at,
    in_progress,
    png,
    postponed,
    resolved_by_team,
)
from tests.cases.partitioned import (
    POSTGRES,
    _months_of_an_empty_migrate,  # noqa: F401
    partitions_holding,
)

pytestmark = pytest.mark.django_db

JUNE = datetime.date(2025, 6, 1)  # T0's month
DEADLINES = partitions.DEADLINES


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def partition_of_each_clock(case: Case) -> set[str]:
    return partitions_holding("cases_deadline", case)


def clocks(case: Case) -> list[tuple]:
    return list(
        Deadline.objects.of_case(case)
        .order_by("pk")
        .values_list("pk", "stage", "dispatch_id", "due_at", "met_at", "fired_at", "postponed")
    )


def plan(sql: str, params=()) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_every_clock_carries_its_cases_filing_time(org):  # noqa: F811
    case = in_progress(org)
    rows = list(Deadline.objects.filter(case=case).order_by("pk"))
    assert len(rows) >= 3
    assert {deadline.case_filed_at for deadline in rows} == {case.filed_at}
    assert list(Deadline.objects.of_case(case).order_by("pk")) == rows
    assert list(Deadline.objects.of_cases([case]).order_by("pk")) == rows
    assert partitions.is_partitioned(DEADLINES) is POSTGRES


def test_the_task_gives_caught_clocks_their_month_and_the_timer_fires_them_once(
    org,  # noqa: F811
    time_machine,
):
    """The test database's months are the current ones: June 2025's clocks are caught by the
    default partition until the beat's task makes June's partitions and moves them there; the
    sweep then fires a due one in its month, once."""
    case = in_progress(org)
    before = clocks(case)
    if not POSTGRES:
        assert create_event_partitions() == 0
        assert partitions.state(table=DEADLINES) is None
        return
    assert partition_of_each_clock(case) == {"cases_deadline_default"}
    assert partitions.state(table=DEADLINES, now=T0).default_rows == len(before)

    assert create_event_partitions() >= 8  # June and three months ahead, in both tables
    state = partitions.state(table=DEADLINES, now=T0)
    assert JUNE in state.months and state.default_rows == 0
    assert state.ahead >= partitions.MONTHS_AHEAD
    assert partition_of_each_clock(case) == {"cases_deadline_2025_06"}
    assert clocks(case) == before
    # Every month, the new default one included, has the deadlines' indexes, valid.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bool_and(indisvalid), count(*) FROM pg_index "
            "WHERE indrelid = 'cases_deadline'::regclass"
        )
        valid, indexes = cursor.fetchone()
        assert valid and indexes == 8
        for table in ("cases_deadline_2025_06", "cases_deadline_default"):
            cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", [table])
            assert cursor.fetchone()[0] == indexes, table

    # A month on, the handling clock is long past due: the sweep fires it in its month, once.
    handling = Deadline.objects.of_case(case).get(stage=Stage.HANDLING, dispatch=None)
    later = handling.due_at + timedelta(hours=1)
    time_machine.move_to(later, tick=False)
    assert sweep.fire_deadlines(deadline_ids=[handling.pk], now=later) == 1
    assert sweep.fire_deadlines(deadline_ids=[handling.pk], now=later) == 0
    handling = Deadline.objects.of_case(case).get(pk=handling.pk)
    assert handling.fired_at == later
    assert partition_of_each_clock(case) == {"cases_deadline_2025_06"}


def test_a_cases_clocks_are_read_and_written_in_its_months_partition_alone(org):  # noqa: F811
    case = in_progress(org)
    if not POSTGRES:
        assert "case_filed_at" in str(Deadline.objects.of_case(case).query)
        return
    partitions.create_months(first=JUNE, last=datetime.date(2025, 8, 1))
    read = Deadline.objects.of_case(case).explain()
    assert "cases_deadline_2025_06" in read
    assert "cases_deadline_2025_07" not in read and "cases_deadline_default" not in read
    # An unbounded read would visit every month: the case's own do not.
    assert "cases_deadline_2025_07" in Deadline.objects.filter(case_id=case.pk).explain()

    # What the services write under the case's lock names the month too: the board's copy of
    # each dispatch's clock, and the firing's claim of one deadline.
    with CaptureQueriesContext(connection) as statements:
        timers.sync_dispatch_board(case=case)
    board = plan(statements.captured_queries[-1]["sql"])
    assert "cases_deadline_2025_06" in board
    assert "cases_deadline_2025_07" not in board and "cases_deadline_default" not in board
    handling = Deadline.objects.of_case(case).get(stage=Stage.HANDLING, dispatch=None)
    with CaptureQueriesContext(connection) as statements:
        Deadline.objects.filter(pk=handling.pk, case_filed_at=handling.case_filed_at).update(
            claimed_until=None
        )
    claim = plan(statements.captured_queries[-1]["sql"])
    assert "cases_deadline_2025_06" in claim and "cases_deadline_2025_07" not in claim


def test_pausing_and_postponing_write_the_clock_in_its_partition(org):  # noqa: F811
    """A postponement moves the clock once, found and locked in the case's month."""
    case = in_progress(org)
    if POSTGRES:
        partitions.create_months(first=JUNE, last=datetime.date(2025, 8, 1))
    handling = Deadline.objects.of_case(case).get(stage=Stage.HANDLING, dispatch=None)
    asked = postponed(org, case, handling)
    moved = Deadline.objects.of_case(case).get(pk=handling.pk)
    assert moved.postponed and moved.due_at > handling.due_at
    assert moved.postponements.get().pk == asked.pk
    if POSTGRES:
        assert partition_of_each_clock(case) == {"cases_deadline_2025_06"}
    assert timers.pause_deadlines(case=case) >= 1
    assert Deadline.objects.of_case(case).get(pk=handling.pk).paused_at == timezone.now()
    assert timers.resume_deadlines(case=case) >= 1
    assert Deadline.objects.of_case(case).get(pk=handling.pk).paused_at is None


def test_a_month_is_archived_and_restored_with_its_clocks(org, client):  # noqa: F811
    done = resolved_by_team(org)
    verify_case(user=org.grid_worker, case_id=done.pk, passed=True)
    done_clocks = clocks(done)
    assert done_clocks
    if not POSTGRES:
        return
    partitions.create_months(first=JUNE, last=datetime.date(2025, 9, 1))
    july = at(2025, 7, 2, 9, 0)
    out = StringIO()
    with translation.override("en"), travel(july, tick=False):
        call_command("event_partitions", "--archive-before", "2025-07", "--dry-run", stdout=out)
    assert f"Would detach cases_deadline_2025_06: {len(done_clocks)} deadlines." in out.getvalue()

    archive = partitions.archive_month(month=JUNE, now=july)
    assert (archive.deadline_table, archive.deadlines) == (
        "cases_deadline_2025_06",
        len(done_clocks),
    )
    assert partitions.state(table=DEADLINES).detached == [JUNE]
    assert clocks(done) == []  # its clocks left with the month, as its history did
    client.force_login(org.captain)
    page = client.get(reverse("cases:detail", args=[done.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and done.number in page.content.decode()

    partitions.restore_month(month=JUNE)
    assert clocks(done) == done_clocks
    assert partitions.state(table=DEADLINES).detached == []


def test_a_new_case_after_archiving_writes_into_its_own_month(org):  # noqa: F811
    """Archiving a month leaves the months after it alone: a case filed in July starts its
    clocks in July's partition."""
    if not POSTGRES:
        return
    partitions.create_months(first=JUNE, last=datetime.date(2025, 9, 1))
    done = resolved_by_team(org)
    verify_case(user=org.grid_worker, case_id=done.pk, passed=True)
    partitions.archive_month(month=JUNE, now=at(2025, 7, 2, 9, 0))
    with travel(at(2025, 7, 3, 9, 0), tick=False):
        july_case = in_progress(org)
        resolve_case(user=org.captain, case_id=july_case.pk, note="Cleared", photos=[png()])
    assert partition_of_each_clock(july_case) == {"cases_deadline_2025_07"}


def test_a_handed_out_batch_names_its_months_after_one_read(org, time_machine):  # noqa: F811
    """A worker's batch reads its filing times once, by id; every other statement of the
    firing about the deadlines names the month (the partition key)."""
    case = in_progress(org)
    handling = Deadline.objects.of_case(case).get(stage=Stage.HANDLING, dispatch=None)
    later = handling.due_at + timedelta(hours=1)
    time_machine.move_to(later, tick=False)
    with CaptureQueriesContext(connection) as statements:
        assert sweep.fire_handed_out(deadline_ids=[handling.pk], now=later) == 1
    about_clocks = [q["sql"] for q in statements.captured_queries if "cases_deadline" in q["sql"]]
    unnamed = [sql for sql in about_clocks if "case_filed_at" not in sql.split("WHERE", 1)[-1]]
    assert len(about_clocks) >= 4
    assert len(unnamed) == 1 and unnamed[0].startswith("SELECT DISTINCT")


def test_reads_of_running_clocks_across_cases_start_at_the_oldest_open_case(
    org,  # noqa: F811
    time_machine,
):
    """The board and the red list read only the months from the oldest open case's on
    (timers.running_since): the older months are left out of their plans."""
    assert timers.running_since() is None
    case = in_progress(org)
    time_machine.move_to(T0 + timedelta(hours=2), tick=False)
    later = in_progress(org, description="Broken street light")
    assert timers.running_since() == case.filed_at < later.filed_at
    if not POSTGRES:
        return
    partitions.create_months(first=datetime.date(2025, 4, 1), last=datetime.date(2025, 8, 1))
    since = timers.running_since()
    running = Deadline.objects.filter(
        timers.current_clock_condition(since=since), case_filed_at__gte=since
    )
    assert {deadline.case_id for deadline in running} == {case.pk, later.pk}
    plan = running.explain()
    assert "cases_deadline_2025_06" in plan
    assert "cases_deadline_2025_04" not in plan and "cases_deadline_2025_05" not in plan
    # A clock's dispatch is looked up by its key: PostgreSQL never hashes the dispatches of a
    # state (a scan of the whole history's dispatches before the first clock).
    assert "hashed" not in plan and "Seq Scan on cases_dispatch" not in plan
    # The board reads no deadline per row: each dispatch keeps the id of the clock it shows.
    handling = Deadline.objects.of_case(case).get(stage=Stage.HANDLING, dispatch=None)
    reported = Dispatch.objects.get(case=case, state=Dispatch.State.REPORTED)
    assert reported.clock_deadline_id == handling.pk
