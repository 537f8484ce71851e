"""An existing database migrates to the partitioned event log and back (migration cases 0025)
without losing or changing an event, and goes on writing after it: every event keeps its id,
case, time and chain link, the photos keep their step, and the next event's id follows."""

import pytest
from django.db import connection

from cases import partitions, trace
from cases.models import Attachment, Case, Event
from cases.services import verify_case
from tests.cases.conftest import org
from tests.cases.engine_steps import T0, in_progress, resolved_by_team
from tests.migrating import latest_of, layout, migrate_to, partitioned_layout

__all__ = ["org"]

BEFORE = [("cases", "0024_level_names_stage"), ("spotchecks", "0002_append_only")]


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def _rows() -> tuple[list, list]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, case_id, dispatch_id, action, created_at, chain_hash FROM cases_event "
            "ORDER BY id"
        )
        events = cursor.fetchall()
        cursor.execute("SELECT id, event_id FROM cases_attachment ORDER BY id")
        return events, cursor.fetchall()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_log_crosses_the_partition_migration_without_losing_an_event(org):
    case = resolved_by_team(org)
    other = in_progress(org, description="Broken street light")
    before = _rows()
    assert len(before[0]) >= 8 and any(event_id for _pk, event_id in before[1])
    latest = latest_of()
    postgres = connection.vendor == "postgresql"
    assert layout("cases_event", "case_filed_at") == partitioned_layout()

    migrate_to(BEFORE)
    try:
        assert layout("cases_event", "case_filed_at") == "one table"
        assert _rows() == before
    finally:
        migrate_to(latest)

    assert layout("cases_event", "case_filed_at") == partitioned_layout()
    assert _rows() == before
    for each in (case, other):
        each = Case.objects.get(pk=each.pk)
        assert set(Event.objects.filter(case=each).values_list("case_filed_at", flat=True)) == {
            each.filed_at
        }
    if postgres:
        # The migration made the month of the cases it found, and put their events there.
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT tableoid::regclass::text FROM cases_event")
            assert [name for (name,) in cursor.fetchall()] == ["cases_event_2025_06"]
        assert partitions.state(now=T0).default_rows == 0
    # The log goes on: the next event's id follows the last, its chain verifies.
    last = max(pk for pk, *_rest in before[0])
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True)
    assert Event.objects.of_case(Case.objects.get(pk=case.pk)).latest("id").pk > last
    assert list(trace.broken_links()) == []
    assert Attachment.objects.filter(event__isnull=False).count() == sum(
        1 for _pk, event_id in before[1] if event_id
    )
