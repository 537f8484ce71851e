"""Today's database migrates to the configurable levels and back without losing a case, an
event or a fact: the level migrations add the names' table and change choices only, and the
pages of a migrated database say the default names until the deployment sets its own."""

import pytest
from django.db import connection
from django.utils import translation

from assessment.models import CaseFact
from assessment.services import refresh_case_facts
from cases.models import Case, Event
from tests.cases.conftest import org
from tests.cases.engine_steps import in_progress
from tests.migrating import latest_of, migrate_to

__all__ = ["org"]

# The last migration of each app before the levels could be named.
BEFORE = [
    ("teams", "0010_grid_multipolygon"),
    ("cases", "0021_mail_deliveries"),
    ("assessment", "0014_period_as_of"),
    ("consultation", "0003_meeting_clerk"),
    ("checklists", "0007_team_speciality"),
    ("policylab", "0002_copied_columns_plain"),
    ("rollout", "0001_initial"),
]


def _rows() -> tuple[list, list, list]:
    return (
        list(Case.objects.order_by("pk").values_list("pk", "status", "level", "resolved_level")),
        list(Event.objects.order_by("pk").values_list("pk", "action", "to_level", "chain_hash")),
        list(CaseFact.objects.order_by("case_id").values_list("case_id", "max_level")),
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_cases_events_and_facts_cross_the_level_migrations(org):
    case = in_progress(org)
    refresh_case_facts(case_id=case.pk)
    before = _rows()
    assert before[0] and len(before[1]) >= 3 and before[2]
    latest = latest_of()
    migrate_to(BEFORE)
    try:
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
        assert "teams_levelname" not in tables
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM cases_event")
            assert cursor.fetchone()[0] == len(before[1])
    finally:
        migrate_to(latest)
    assert _rows() == before
    with translation.override("en"):
        assert Case.objects.get(pk=case.pk).get_level_display() == "town"
    with translation.override("zh-hans"):
        assert Case.objects.get(pk=case.pk).get_level_display() == "镇(街道)"
