"""The event log's monthly partitions (cases.partitions, migration cases 0025,
docs/architecture.md "Partitioned history").

On PostgreSQL each event lies in the partition of its case's filing month, a case's history is
read from that partition alone, the beat's task makes the months ahead and gives rows the
default partition caught a month of their own, and a month of closed cases is archived by
detaching its partition and can be attached again. On SQLite the log is one table: each event
still carries its case's filing time, and the partition calls say there is nothing to do."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import translation

from cases import partitions, trace
from cases.models import Case, Event
from cases.services import resolve_case, verify_case
from cases.tasks import create_event_partitions
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0, at, in_progress, png, resolved_by_team
from tests.cases.partitioned import (
    POSTGRES,
    _months_of_an_empty_migrate,  # noqa: F401
    partitions_holding,
)

pytestmark = pytest.mark.django_db

JUNE = datetime.date(2025, 6, 1)  # T0's month


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def partition_of_each_event(case: Case) -> set[str]:
    return partitions_holding("cases_event", case)


def closed(org) -> Case:  # noqa: F811
    case = resolved_by_team(org)
    return verify_case(user=org.grid_worker, case_id=case.pk, passed=True)


def history(case: Case) -> list[tuple]:
    return list(Event.objects.of_case(case).values_list("pk", "action", "chain_hash"))


def test_every_event_carries_its_cases_filing_time(org):  # noqa: F811
    case = in_progress(org)
    events = list(Event.objects.filter(case=case))
    assert len(events) >= 3
    assert {event.case_filed_at for event in events} == {case.filed_at}
    assert [e.pk for e in Event.objects.of_case(case)] == [e.pk for e in events]
    assert list(Event.objects.of_cases([case])) == events
    assert partitions.is_partitioned() is POSTGRES


def test_the_task_gives_caught_events_their_month_and_makes_the_months_ahead(org):  # noqa: F811
    """The test database's months are the current ones: June 2025's events are caught by the
    default partition, until the beat's task makes June's partition and moves them there."""
    case = in_progress(org)
    before = history(case)
    if not POSTGRES:
        assert create_event_partitions() == 0 and partitions.state() is None
        return
    assert partition_of_each_event(case) == {"cases_event_default"}
    assert partitions.state(now=T0).default_rows == len(before)

    created = create_event_partitions()
    # June 2025 for the caught rows, and T0's months ahead (July to September 2025).
    state = partitions.state(now=T0)
    assert created >= 4
    assert {JUNE, datetime.date(2025, 9, 1)} <= set(state.months)
    assert state.ahead >= partitions.MONTHS_AHEAD and state.default_rows == 0
    assert partition_of_each_event(case) == {"cases_event_2025_06"}
    assert history(case) == before
    # Every month, the new default one included, has the log's indexes, valid.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bool_and(indisvalid), count(*) FROM pg_index "
            "WHERE indrelid = 'cases_event'::regclass"
        )
        valid, indexes = cursor.fetchone()
        assert valid and indexes == 7
        for table in ("cases_event_2025_06", "cases_event_2025_09", "cases_event_default"):
            cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", [table])
            assert cursor.fetchone()[0] == indexes, table
    assert list(trace.broken_links(case_ids=[case.pk])) == []
    # Again: nothing left to do, and the case goes on writing into its month.
    assert create_event_partitions() == 0
    resolve_case(user=org.captain, case_id=case.pk, note="Cleared", photos=[png()])
    assert partition_of_each_event(case) == {"cases_event_2025_06"}
    assert len(history(case)) == len(before) + 1


def test_a_case_page_reads_its_months_partition_alone(org):  # noqa: F811
    case = in_progress(org)
    if not POSTGRES:
        assert "case_filed_at" in str(Event.objects.of_case(case).query)
        return
    partitions.create_months(first=JUNE, last=datetime.date(2025, 8, 1))
    plan = Event.objects.of_case(case).explain()
    assert "cases_event_2025_06" in plan
    assert "cases_event_2025_07" not in plan and "cases_event_default" not in plan
    # An unbounded read of the log would visit every month: the page's does not.
    assert "cases_event_2025_07" in Event.objects.filter(case_id=case.pk).explain()


def test_a_month_of_closed_cases_is_archived_and_restored(org, client):  # noqa: F811
    open_case = in_progress(org)
    done = closed(org)
    done_history = history(done)
    if not POSTGRES:
        with pytest.raises(partitions.PartitionError):
            partitions.archive_month(month=JUNE)
        out = StringIO()
        call_command("event_partitions", "--archive-before", "2025-07", stdout=out)
        assert "PostgreSQL" in out.getvalue()  # in either language
        return
    partitions.create_months(first=JUNE, last=datetime.date(2025, 9, 1))
    # The current month and what follows are never archived.
    with translation.override("en"), pytest.raises(partitions.PartitionError, match="past months"):
        partitions.archive_month(month=JUNE)
    # A month later: June is past, but one of its cases is still open.
    with translation.override("en"), pytest.raises(partitions.PartitionError, match="1 case filed"):
        partitions.archive_month(month=JUNE, now=at(2025, 7, 2, 9, 0))
    resolve_case(user=org.captain, case_id=open_case.pk, note="Cleared", photos=[png()])
    verify_case(user=org.grid_worker, case_id=open_case.pk, passed=True)
    events = len(done_history) + len(history(open_case))

    dry = partitions.archive_month(month=JUNE, dry_run=True, now=at(2025, 7, 2, 9, 0))
    assert (dry.table, dry.cases) == ("cases_event_2025_06", 2)
    assert JUNE in partitions.state().months  # a dry run changes nothing

    archive = partitions.archive_month(month=JUNE, now=at(2025, 7, 2, 9, 0))
    assert (archive.events, archive.cases) == (events, 2)
    state = partitions.state()
    assert JUNE not in state.months and state.detached == [JUNE]
    assert history(done) == []  # its history left the log with the month
    # Its page says so, in the user's language, and shows the rest of the record.
    client.force_login(org.captain)
    page = client.get(reverse("cases:detail", args=[done.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "archived with the cases filed in 2025-06" in page.content.decode()
    assert done.number in page.content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM cases_event_2025_06 WHERE case_id = %s", [done.pk])
        assert cursor.fetchone()[0] == len(done_history)

    assert partitions.restore_month(month=JUNE) == "cases_event_2025_06"
    assert history(done) == done_history
    assert partitions.state().detached == []
    page = client.get(reverse("cases:detail", args=[done.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "archived with" not in page.content.decode()
    with translation.override("en"), pytest.raises(partitions.PartitionError, match="no archived"):
        partitions.restore_month(month=JUNE)


def test_the_command_lists_creates_and_archives(org):  # noqa: F811
    case = closed(org)
    out = StringIO()
    with translation.override("en"):
        call_command("event_partitions", create=True, stdout=out)
    text = out.getvalue()
    if not POSTGRES:
        assert (
            text.strip() == "The event log is one table here: it is partitioned on PostgreSQL only."
        )
        return
    assert "Partitions created: " in text and "Months in the log: " in text
    assert "2025-06" in text and "Events in the default partition: 0." in text
    for rows in ("Deadlines", "Case facts", "Dispatch facts"):
        assert f"{rows} in the default partition: 0." in text
    with translation.override("en"), pytest.raises(CommandError, match="not a month"):
        call_command("event_partitions", "--archive-before", "June")
    out = StringIO()
    with translation.override("en"):
        call_command("event_partitions", "--archive-before", "2025-06", "--dry-run", stdout=out)
    assert "No partition before 2025-06." in out.getvalue()
    assert history(case)


def test_the_beat_makes_the_months_ahead_four_times_a_day(settings):
    from whistle.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["create-event-partitions"]
    assert entry["task"] == "cases.tasks.create_event_partitions"
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 6 * 3600.0
