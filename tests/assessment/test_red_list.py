"""The red list (assessment.selectors.red_and_overdue) reads the running clocks past due a chunk
at a time in due order: whatever the chunk, it lists what grouping every such clock by case
lists, the longest overdue first, within the reader's scope, open cases only."""

from datetime import timedelta

import pytest
from django.db.models import Min

from assessment import selectors
from cases import timers
from cases.access import visible_cases
from cases.models import OPEN_STATUSES, Deadline
from cases.services import reject_case
from tests.cases.conftest import org
from tests.cases.engine_steps import T0, file_case, whistled

pytestmark = pytest.mark.django_db
__all__ = ["org"]


def grouped(user, limit: int) -> list[tuple[int, object]]:
    """Every running clock past due grouped by case, in one query: what the list must say."""
    firsts = (
        Deadline.objects.filter(
            timers.current_clock_condition(),
            paused_at__isnull=True,
            due_at__lte=T0 + timedelta(days=30),
        )
        .values("case_id")
        .annotate(since=Min("due_at"))
        .order_by("since", "case_id")
        .values_list("case_id", "since")
    )
    visible = set(
        visible_cases(user=user).filter(status__in=OPEN_STATUSES).values_list("pk", flat=True)
    )
    return [row for row in firsts if row[0] in visible][:limit]


def test_any_chunk_lists_the_same_cases_in_the_same_order(org, time_machine, monkeypatch):
    time_machine.move_to(T0, tick=False)
    cases = []
    for n in range(6):
        time_machine.move_to(T0 + timedelta(minutes=n), tick=False)
        other = {"user": org.other_grid_worker, "latitude": 30.50, "longitude": 120.80}
        cases.append(whistled(org) if n % 3 == 0 else file_case(org, **(other if n % 2 else {})))
    reject_case(user=org.village_officer, case_id=cases[2].pk, reason="Not for whistling")
    time_machine.move_to(T0 + timedelta(days=30), tick=False)

    for user in (org.supervisor, org.village_officer, org.town_committee):
        for limit in (1, 2, 3, 50):
            expected = grouped(user, limit)
            for chunk in (1, 2, 500):
                monkeypatch.setattr(selectors, "RED_FIRST_CHUNK", chunk)
                listed = selectors.red_and_overdue(user=user, limit=limit)
                assert [(case.pk, case.overdue_since) for case in listed] == expected, (
                    user,
                    limit,
                    chunk,
                )
    assert len(grouped(org.supervisor, 50)) == 5  # the rejected whistle is not listed
    assert len(grouped(org.village_officer, 50)) < 5  # the other village's are not its own
    assert grouped(org.village_officer, 50)
