"""Pressing a late unit in real browsers: the town committee urges a team whose report-in
limit has passed, from the case page, and the team's captain sees the urge on the board."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import timers
from cases.models import Deadline, Dispatch, Event
from checklists.models import Stage
from tests.cases.engine_steps import team_dispatch, whistled
from tests.e2e.helpers import messages_text, shot, submit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def report_in_passed(dispatch: Dispatch) -> None:
    """The live server runs on the real clock: the team's report-in limit is moved into the
    past, and the boards' copy follows, as the sweep would find it."""
    now = timezone.now()
    Deadline.objects.filter(dispatch=dispatch, stage=Stage.REPORT_IN).update(
        started_at=now - timedelta(hours=2),
        warn_at=now - timedelta(hours=1),
        due_at=now - timedelta(minutes=10),
    )
    Dispatch.objects.filter(pk=dispatch.pk).update(report_in_due=now - timedelta(minutes=10))
    timers.sync_dispatch_board(case=dispatch.case)


def test_the_committee_urges_a_late_unit_and_the_captain_sees_it(browsing, org):
    case = whistled(org)
    team = team_dispatch(case)
    report_in_passed(team)

    committee = browsing.page("town", phone=False)
    committee.goto(f"/cases/{case.pk}/")
    unit = committee.locator(f'[data-testid="dispatch"][data-dispatch="{team.pk}"]')
    with committee.expect_navigation(wait_until="load"):
        unit.get_by_test_id("urge").click()
    committee.locator("#id_note").fill("Report in now: the heap blocks the bridge")
    shot(committee, "en-urge-form")
    submit(committee, committee.get_by_test_id("submit-urge"))
    assert "The unit was urged." in messages_text(committee)
    assert Event.objects.filter(action="urge", dispatch=team).count() == 1

    captain = browsing.page("cap")
    captain.goto("/board/")
    row = captain.get_by_test_id(f"dispatch-{team.pk}")
    assert row.get_attribute("data-light") == "red"
    assert "×1" in row.get_by_test_id("urged").inner_text()
    shot(captain, "en-board-urged")
    captain.goto("/notifications/")
    assert f"Urged: {case.number}" in captain.locator("main").inner_text()
