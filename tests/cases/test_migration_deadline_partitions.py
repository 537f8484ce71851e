"""An existing database migrates to the partitioned deadlines and back (migration cases 0027)
without losing or changing a clock, and goes on after it: every deadline keeps its id, case,
times and state, every postponement its deadline, and the next deadline's id follows."""

import pytest
from django.db import connection

from cases import partitions
from cases.models import Case, Deadline, Postponement
from cases.services import resolve_case
from checklists.models import Stage
from tests.cases.conftest import org
from tests.cases.engine_steps import T0, in_progress, png, postponed
from tests.migrating import latest_of, layout, migrate_to, partitioned_layout

__all__ = ["org"]

BEFORE = [("cases", "0026_prefecture_level")]


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def _rows() -> tuple[list, list]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, case_id, dispatch_id, stage, started_at, warn_at, due_at, met_at, "
            "fired_at, paused_at, postponed FROM cases_deadline ORDER BY id"
        )
        deadlines = cursor.fetchall()
        cursor.execute("SELECT id, deadline_id, decision FROM cases_postponement ORDER BY id")
        return deadlines, cursor.fetchall()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_deadlines_cross_the_partition_migration_without_losing_one(org):
    case = in_progress(org)
    other = in_progress(org, description="Broken street light")
    handling = Deadline.objects.get(case=case, stage=Stage.HANDLING, dispatch=None)
    asked = postponed(org, case, handling)
    before = _rows()
    assert len(before[0]) >= 6 and before[1] == [(asked.pk, handling.pk, "approved")]
    latest = latest_of()
    postgres = connection.vendor == "postgresql"
    assert layout("cases_deadline", "case_filed_at") == partitioned_layout()

    migrate_to(BEFORE)
    try:
        assert layout("cases_deadline", "case_filed_at") == "one table"
        assert _rows() == before
    finally:
        migrate_to(latest)

    assert layout("cases_deadline", "case_filed_at") == partitioned_layout()
    assert _rows() == before
    for each in (case, other):
        each = Case.objects.get(pk=each.pk)
        filed = set(Deadline.objects.filter(case=each).values_list("case_filed_at", flat=True))
        assert filed == {each.filed_at}
    assert Postponement.objects.get(pk=asked.pk).deadline.pk == handling.pk
    if postgres:
        # The migration made the month of the cases it found, and put their clocks there.
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT tableoid::regclass::text FROM cases_deadline")
            assert [name for (name,) in cursor.fetchall()] == ["cases_deadline_2025_06"]
        assert partitions.state(table=partitions.DEADLINES, now=T0).default_rows == 0
    # The clocks go on: resolving starts the verification clock, its id after the last.
    last = max(row[0] for row in before[0])
    resolve_case(user=org.captain, case_id=other.pk, note="Cleared", photos=[png()])
    verification = Deadline.objects.get(case=other, stage=Stage.VERIFICATION)
    assert verification.pk > last
    assert verification.case_filed_at == Case.objects.get(pk=other.pk).filed_at
