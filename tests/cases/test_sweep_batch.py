"""One batch of the timer (cases.sweep.fire_deadlines): its deadlines are claimed in one
statement and its cases' last links read in one, and still every deadline fires once, a clock
that moved meanwhile is left alone, and every case's chain of events stays whole."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import sweep, trace
from cases.models import Deadline, Event
from checklists.models import Stage
from tests.cases.engine_steps import T0, file_case, whistled

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def statements(queries: CaptureQueriesContext, start: str) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith(start)]


def test_a_batch_claims_together_and_keeps_every_chain_whole(org, time_machine):
    filed = [file_case(org) for _ in range(3)]  # screening due: the timer whistles them up
    both = whistled(org)  # two dispatches: two report-in clocks due at the same moment
    screening = [case.deadlines.get(stage=Stage.SCREENING) for case in filed]
    report_in = list(both.deadlines.filter(stage=Stage.REPORT_IN))
    assert len(report_in) == 2
    due = max(deadline.due_at for deadline in [*screening, *report_in])
    time_machine.move_to(due, tick=False)
    ids = [deadline.pk for deadline in [*screening, *report_in]]

    with CaptureQueriesContext(connection) as queries:
        assert sweep.fire_deadlines(deadline_ids=ids, now=due) == 5

    # The three cases with one clock each in one claim, each of the two clocks of one case in
    # its own (after the firing before it); the last links of all four cases in one read.
    claims = statements(queries, 'UPDATE "cases_deadline" SET fired_at')
    assert len(claims) == 3
    assert len([sql for sql in statements(queries, "SELECT") if "chain_hash" in sql]) == 1
    assert Deadline.objects.filter(pk__in=ids, fired_at=due).count() == 5
    for case in filed:
        assert list(case.events.filter(actor_label="timer").values_list("action", flat=True)) == [
            "whistle"
        ]
    late = both.events.filter(action="report_in_late")
    assert sorted(late.values_list("data__deadline", flat=True)) == sorted(
        deadline.pk for deadline in report_in
    )
    # Each event links to the one before it in its case, the batch's included.
    tally = trace.Tally()
    assert list(trace.broken_links(tally=tally)) == []
    assert (tally.cases, tally.events) == (4, Event.objects.count())

    # Fired once: a second batch of the same ids finds nothing to claim.
    assert sweep.fire_deadlines(deadline_ids=ids, now=due) == 0
    assert Event.objects.filter(actor_label="timer").count() == 5


def test_a_clock_postponed_or_met_after_the_batch_read_it_is_left_alone(org, time_machine):
    cases = [file_case(org) for _ in range(3)]
    read = [case.deadlines.get(stage=Stage.SCREENING) for case in cases]
    due = read[0].due_at
    time_machine.move_to(due, tick=False)
    # Meanwhile: one clock is given more time, one is met.
    Deadline.objects.filter(pk=read[0].pk).update(due_at=due + (due - T0))
    Deadline.objects.filter(pk=read[1].pk).update(met_at=due)

    assert sweep._claim(read, now=due) == {read[2].pk}
    assert sweep._claim(read, now=due) == set()  # and never twice
    assert list(Deadline.objects.filter(fired_at=due).values_list("pk", flat=True)) == [read[2].pk]
