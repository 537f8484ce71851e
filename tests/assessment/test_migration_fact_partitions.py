"""An existing database migrates to the partitioned facts and back (migration assessment 0017)
without losing or changing a fact: every case fact and dispatch fact keeps its values, each
dispatch fact gets its case's filing time, and a refresh after it writes over the same rows."""

import pytest
from django.db import connection

from assessment.models import CaseFact, DispatchFact
from assessment.services import refresh_case_facts
from cases import partitions
from cases.services import resolve_case
from tests.cases.conftest import org
from tests.cases.engine_steps import T0, in_progress, png
from tests.migrating import latest_of, layout, migrate_to

__all__ = ["org"]

BEFORE = [("assessment", "0016_level_names_solved_by"), ("policylab", "0004_level_names_solved_by")]


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def _rows() -> tuple[list, list]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT case_id, filed_at, closed, accepted, town_id, max_level, last_event_id "
            "FROM assessment_casefact ORDER BY case_id"
        )
        cases = cursor.fetchall()
        cursor.execute(
            "SELECT dispatch_id, case_id, team_id, department_id, dispatched_at, reported_in_at "
            "FROM assessment_dispatchfact ORDER BY dispatch_id"
        )
        return cases, cursor.fetchall()


def _partitioned() -> bool:
    """On PostgreSQL, whether both tables are partitioned; on SQLite (one table each either
    way), whether both have the unique pairs the refresh's upsert names."""
    if connection.vendor == "postgresql":
        return {
            layout(partitions.CASE_FACTS, "filed_at"),
            layout(partitions.DISPATCH_FACTS, "dispatched_at"),
        } == {"partitioned"}
    with connection.cursor() as cursor:
        names = set(connection.introspection.get_constraints(cursor, partitions.CASE_FACTS))
        names |= set(connection.introspection.get_constraints(cursor, partitions.DISPATCH_FACTS))
    return {"casefact_case_month", "dispfact_dispatch_month"} <= names


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_facts_cross_the_partition_migration_without_losing_one(org):
    case = in_progress(org)
    other = in_progress(org, description="Broken street light")
    for each in (case, other):
        assert refresh_case_facts(case_id=each.pk)
    before = _rows()
    assert len(before[0]) == 2 and len(before[1]) >= 2
    latest = latest_of()
    postgres = connection.vendor == "postgresql"
    assert _partitioned()

    migrate_to(BEFORE)
    try:
        assert not _partitioned()
        assert _rows() == before
    finally:
        migrate_to(latest)

    assert _partitioned()
    assert _rows() == before
    if postgres:
        # The migration made the month of the facts it found, and put them there.
        with connection.cursor() as cursor:
            for table in (partitions.CASE_FACTS, partitions.DISPATCH_FACTS):
                cursor.execute(f"SELECT DISTINCT tableoid::regclass::text FROM {table}")  # noqa: S608
                assert [name for (name,) in cursor.fetchall()] == [f"{table}_2025_06"]
                assert partitions.state(table=table, now=T0).default_rows == 0
    # The facts go on: a refresh after the case moved writes over its rows, adding none.
    resolve_case(user=org.captain, case_id=other.pk, note="Cleared", photos=[png()])
    assert refresh_case_facts(case_id=other.pk)
    assert CaseFact.objects.count() == 2
    assert DispatchFact.objects.count() == len(before[1])
    resolved = DispatchFact.objects.filter(case_fact_id=other.pk, resolved_at__isnull=False)
    assert resolved.exists()
