"""The records that must not change once written are refused UPDATE and DELETE by the database
itself, on PostgreSQL and SQLite alike, whatever the client (core.db_roles): a town's
evaluation (corrections are new rows), a spot check's draw, a decided agenda item, a recorded
revisit. The one change a written-once row allows is its outcome, from pending, once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from assessment import scoring
from assessment.models import TownEvaluation
from assessment.periods import period_for
from assessment.services import record_town_evaluation
from consultation.models import AgendaItem, Consultation
from core.db_roles import APPEND_ONLY_TABLES, WRITTEN_ONCE_TABLES
from spotchecks.models import SpotCheck, SpotCheckCase
from spotchecks.services import record_revisit
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0
from tests.consultation.conftest import in_consultation
from tests.spotchecks.steps import closed_cases, draw

TODAY = T0.date()


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def refused(change) -> None:
    """The statement fails in the database and the test's transaction stays usable."""
    with pytest.raises(DatabaseError), transaction.atomic():
        change()


def triggers_on(table: str) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
            )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
@pytest.mark.parametrize("table", [*APPEND_ONLY_TABLES, *WRITTEN_ONCE_TABLES])
def test_every_append_only_table_has_its_triggers_after_all_migrations(table):
    # SQLite rebuilds a table for most schema changes and loses its triggers on the way: a
    # later migration that does so without putting them back fails here.
    expected = 1 if connection.vendor == "postgresql" else 2
    assert len(triggers_on(table)) >= expected, table


def test_a_town_evaluation_given_again_is_a_new_row_and_none_can_be_rewritten(org):  # noqa: F811
    def evaluate(score):
        return record_town_evaluation(
            user=org.town_committee,
            town_id=org.town.pk,
            department_id=org.department.pk,
            month=TODAY,
            score=score,
        )

    first = evaluate(90)
    correction = evaluate(40)
    assert correction.replaces_id == first.pk
    # The score in force is the correction's; the first stays as it was given.
    month = period_for("month", TODAY)
    assert scoring.town_evaluations(department_ids=[org.department.pk], period=month) == {
        org.department.pk: 40.0
    }
    assert TownEvaluation.objects.get(pk=first.pk).score == Decimal("90.00")

    rows = TownEvaluation.objects.filter(pk=first.pk)
    refused(lambda: rows.update(score=100))
    refused(lambda: rows.delete())
    refused(lambda: TownEvaluation.objects.filter(pk=correction.pk).update(note="tampered"))
    assert list(TownEvaluation.objects.order_by("pk").values_list("score", flat=True)) == [
        Decimal("90.00"),
        Decimal("40.00"),
    ]


def test_a_decided_agenda_item_is_final(org):  # noqa: F811
    case = in_consultation(org)
    meeting = Consultation.objects.create(
        level=Consultation.Level.TOWN,
        region=org.town,
        scheduled_at=timezone.now() + timedelta(days=1),
        called_by=org.town_committee,
    )
    item = AgendaItem.objects.create(consultation=meeting, case=case)
    rows = AgendaItem.objects.filter(pk=item.pk)
    # Pending, it may not move to another case; its decision is written once.
    refused(lambda: rows.update(case=in_consultation(org, description="Another pile")))
    rows.update(decision=AgendaItem.Decision.CLOSE, decision_text="Closed by the committee")

    refused(lambda: rows.update(decision=AgendaItem.Decision.TASKS))
    refused(lambda: rows.update(decision_text="Rewritten"))
    refused(lambda: rows.delete())
    refused(lambda: meeting.delete())  # the cascade reaches the decided item
    assert rows.get().decision_text == "Closed by the committee"


def test_a_spot_check_and_a_recorded_revisit_are_final(org):  # noqa: F811
    closed_cases(org, 2)
    spot_check = draw(org, size=2, seed=7)
    first, second = spot_check.cases.order_by("position")
    draws = SpotCheck.objects.filter(pk=spot_check.pk)
    refused(lambda: draws.update(seed=8))
    refused(lambda: draws.update(population=[]))
    refused(lambda: draws.delete())

    record_revisit(user=org.supervisor, case_id=first.case_id, outcome="confirmed")
    recorded = SpotCheckCase.objects.filter(pk=first.pk)
    assert recorded.get().outcome == SpotCheckCase.Outcome.CONFIRMED
    refused(lambda: recorded.update(outcome=SpotCheckCase.Outcome.FALSE_REPLY))
    refused(lambda: recorded.update(note="Nobody went"))
    refused(lambda: recorded.delete())
    # A pending one keeps the case it was drawn for.
    pending = SpotCheckCase.objects.filter(pk=second.pk)
    refused(lambda: pending.update(case_id=first.case_id))
    assert recorded.get().outcome == SpotCheckCase.Outcome.CONFIRMED
    assert SpotCheck.objects.get().seed == 7
