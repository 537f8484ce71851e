"""The assessment facts' monthly partitions (cases.partitions, migration assessment 0017,
docs/architecture.md "Partitioned history").

On PostgreSQL a case's facts lie in the partition of its filing month and a dispatch's in the
partition of the month it was sent; a refresh writes over the same rows (the key names the
month); the beat's task gives facts the default partition caught a month of their own; a
period's counts read the period's months, and its cases' dispatches no month before it; an
archived month keeps its facts for the dashboards. On SQLite the facts are one table each, and
the refresh writes over the same rows there too."""

import datetime
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment import indicators
from assessment.models import CaseFact, DispatchFact
from assessment.periods import Period
from assessment.selectors import ranking
from assessment.services import refresh_case_facts
from cases import partitions
from cases.services import resolve_case, verify_case
from cases.tasks import create_event_partitions
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0, in_progress, png
from tests.cases.partitioned import (
    POSTGRES,
    _months_of_an_empty_migrate,  # noqa: F401
    partitions_holding,
)

pytestmark = pytest.mark.django_db

JUNE = datetime.date(2025, 6, 1)  # T0's month
JUNE_PERIOD = Period(date(2025, 6, 1), date(2025, 7, 1), "month")
FACTS = (partitions.CASE_FACTS, partitions.DISPATCH_FACTS)


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def facts_of(case) -> tuple[list, list]:
    cases = list(
        CaseFact.objects.filter(case=case).values_list("case_id", "filed_at", "closed", "town_id")
    )
    dispatches = list(
        DispatchFact.objects.filter(case_fact_id=case.pk)
        .order_by("pk")
        .values_list("dispatch_id", "dispatched_at", "team_id", "department_id", "resolved_at")
    )
    return cases, dispatches


def scanned(sql: str, params=()) -> set[str]:
    """The partitions PostgreSQL reads running the statement: planned scans it did not prune
    when it ran a correlated subquery for a row (runtime pruning) say "never executed"."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, params)
        lines = [row[0] for row in cursor.fetchall()]
    return {
        match.group(1)
        for line in lines
        if "never executed" not in line
        for match in [re.search(r" on (assessment_\w+?_(?:\d{4}_\d{2}|default))\b", line)]
        if match
    }


def test_the_facts_of_a_case_and_its_dispatches_carry_its_filing_month(org):  # noqa: F811
    case = in_progress(org)
    assert refresh_case_facts(case_id=case.pk)
    cases, dispatches = facts_of(case)
    assert cases == [(case.pk, case.filed_at, False, org.town.pk)]
    assert len(dispatches) == case.dispatches.count() >= 1
    assert sorted(row[1] for row in dispatches) == sorted(
        case.dispatches.values_list("dispatched_at", flat=True)
    )
    for table in FACTS:
        assert partitions.is_partitioned(table) is POSTGRES
    if POSTGRES:
        # June 2025 has no partition in the test database: the default ones caught them.
        assert partitions_holding(partitions.CASE_FACTS, case) == {"assessment_casefact_default"}


def test_a_refresh_writes_over_the_same_rows_in_the_cases_month(org):  # noqa: F811
    """The upsert's key is the row and its month: refreshing again, after the case moved on,
    changes the rows in place and adds none."""
    if POSTGRES:
        partitions.create_months(first=JUNE, last=datetime.date(2025, 8, 1))
    case = in_progress(org)
    assert refresh_case_facts(case_id=case.pk)
    before = facts_of(case)
    assert refresh_case_facts(case_id=case.pk)
    assert facts_of(case) == before
    resolve_case(user=org.captain, case_id=case.pk, note="Cleared", photos=[png()])
    verify_case(user=org.village_officer, case_id=case.pk, passed=True)
    assert refresh_case_facts(case_id=case.pk)
    cases, dispatches = facts_of(case)
    assert CaseFact.objects.count() == 1 and cases[0][2] is True
    assert DispatchFact.objects.count() == len(dispatches) == len(before[1])
    assert [row[0] for row in dispatches] == [row[0] for row in before[1]]
    if POSTGRES:
        assert partitions_holding(partitions.CASE_FACTS, case) == {"assessment_casefact_2025_06"}
        assert partitions_holding(partitions.DISPATCH_FACTS, case) == {
            "assessment_dispatchfact_2025_06"
        }


def test_the_beats_task_gives_caught_facts_their_month(org):  # noqa: F811
    case = in_progress(org)
    assert refresh_case_facts(case_id=case.pk)
    before = facts_of(case)
    if not POSTGRES:
        assert create_event_partitions() == 0
        assert all(partitions.state(table=table) is None for table in FACTS)
        return
    assert partitions.state(table=partitions.CASE_FACTS, now=T0).default_rows == 1
    caught = partitions.state(table=partitions.DISPATCH_FACTS, now=T0).default_rows
    assert caught == len(before[1]) >= 1

    assert create_event_partitions() >= 16  # June and three months ahead, in four tables
    for table in FACTS:
        state = partitions.state(table=table, now=T0)
        assert JUNE in state.months and state.default_rows == 0
        assert state.ahead >= partitions.MONTHS_AHEAD
    assert partitions_holding(partitions.CASE_FACTS, case) == {"assessment_casefact_2025_06"}
    assert partitions_holding(partitions.DISPATCH_FACTS, case) == {
        "assessment_dispatchfact_2025_06"
    }
    assert facts_of(case) == before
    # Every month, the new default one included, has the facts' indexes.
    with connection.cursor() as cursor:
        for table in FACTS:
            cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", [table])
            indexes = cursor.fetchone()[0]
            assert indexes >= 9
            for part in (f"{table}_2025_06", f"{table}_default"):
                cursor.execute(
                    "SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", [part]
                )
                assert cursor.fetchone()[0] == indexes, part


def test_a_periods_counts_read_its_months_alone(org):  # noqa: F811
    case = in_progress(org)
    assert refresh_case_facts(case_id=case.pk)
    town = indicators.unit_case_facts(unit_type="town", unit_id=org.town.pk, period=JUNE_PERIOD)
    team = indicators.unit_case_facts(unit_type="team", unit_id=org.team.pk, period=JUNE_PERIOD)
    assert list(town.values_list("pk", flat=True)) == [case.pk]
    assert list(team.values_list("pk", flat=True)) == [case.pk]
    # A team's cases are found by their dispatch facts sent since the period began.
    assert "dispatched_at" in str(team.query)
    if not POSTGRES:
        return
    partitions.create_months(first=datetime.date(2025, 4, 1), last=datetime.date(2025, 8, 1))
    for read in (town, team):
        sql, params = read.query.sql_with_params()
        assert scanned(sql, params) >= {"assessment_casefact_2025_06"}
        assert all(name.endswith("_2025_06") for name in scanned(sql, params))
    # The teams' ranking counts their cases in grouped queries over both tables: the period's
    # months of the case facts and none other; the dispatch facts from the period's month on
    # (a case is dispatched after it is filed: indicators.dispatched_from), none before it.
    with CaptureQueriesContext(connection) as statements:
        rows = ranking(user=org.town_committee, unit_type="team", period=JUNE_PERIOD)
    assert org.team.pk in {row.unit_id for row in rows}
    grouped = [
        scanned(q["sql"])
        for q in statements.captured_queries
        if "assessment_dispatchfact" in q["sql"] and "GROUP BY" in q["sql"]
    ]
    assert len(grouped) >= 2
    assert any({f"{table}_2025_06" for table in FACTS} <= read for read in grouped)
    for read in grouped:
        assert not {name for name in read if name.endswith(("_2025_04", "_2025_05"))}, read
        cases = {name for name in read if name.startswith(partitions.CASE_FACTS)}
        assert cases <= {"assessment_casefact_2025_06"}, read


def test_an_archived_month_keeps_its_facts(org):  # noqa: F811
    """Archiving detaches a month's events and clocks; the dashboards of past years still
    count its cases."""
    if not POSTGRES:
        return
    partitions.create_months(first=JUNE, last=datetime.date(2025, 9, 1))
    case = in_progress(org)
    resolve_case(user=org.captain, case_id=case.pk, note="Cleared", photos=[png()])
    verify_case(user=org.village_officer, case_id=case.pk, passed=True)
    assert refresh_case_facts(case_id=case.pk)
    before = facts_of(case)
    archive = partitions.archive_month(
        month=JUNE, now=datetime.datetime(2025, 8, 2, tzinfo=datetime.UTC)
    )
    assert archive.events >= 1
    try:
        assert facts_of(case) == before
        town = indicators.unit_case_facts(unit_type="town", unit_id=org.town.pk, period=JUNE_PERIOD)
        assert list(town.values_list("pk", flat=True)) == [case.pk]
    finally:
        partitions.restore_month(month=JUNE)
