"""What a board row says about its dispatch, in a real browser (issue 19, item 15): a unit
that never reported in is "report-in overdue", never "reported in late"; a case back for rework
carries a marker; a requested postponement or consultation shows as pending and its button is
not offered again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import timers
from cases.models import Deadline, Dispatch
from cases.services.closing import verify_case
from cases.services.committee import request_postponement
from cases.services.handling import request_consultation
from checklists.models import Stage, TimeUnit
from tests.cases.engine_steps import in_progress, png, resolved_by_team, team_dispatch, whistled
from tests.e2e.helpers import shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def report_in_passed(dispatch: Dispatch) -> None:
    """The report-in limit is moved into the past and fired, as the sweep would."""
    now = timezone.now()
    Deadline.objects.filter(dispatch=dispatch, stage=Stage.REPORT_IN).update(
        started_at=now - timedelta(hours=2),
        warn_at=now - timedelta(hours=1),
        due_at=now - timedelta(minutes=10),
        fired_at=now - timedelta(minutes=9),
    )
    Dispatch.objects.filter(pk=dispatch.pk).update(
        report_in_due=now - timedelta(minutes=10), late=True
    )
    timers.sync_dispatch_board(case=dispatch.case)


def test_a_unit_that_never_reported_in_is_overdue_not_late(browsing, org):
    case = whistled(org)
    team = team_dispatch(case)
    report_in_passed(team)

    captain = browsing.page("cap")
    captain.goto("/board/")
    row = captain.get_by_test_id(f"dispatch-{team.pk}")
    text = row.inner_text()
    assert "reported in late" not in text
    assert row.get_by_test_id("report-in-overdue").is_visible()
    shot(captain, "en-board-report-in-overdue")


def test_a_rework_case_is_marked_on_the_board(browsing, org):
    case = resolved_by_team(org)
    verify_case(
        user=org.grid_worker, case_id=case.pk, passed=False, reason="Still there", photos=[png()]
    )
    team = team_dispatch(case)

    captain = browsing.page("cap", language="zh")
    captain.goto("/board/")
    row = captain.get_by_test_id(f"dispatch-{team.pk}")
    assert row.get_by_test_id("rework").is_visible()
    assert "1" in row.get_by_test_id("rework").inner_text()
    shot(captain, "zh-board-rework")


def test_a_requested_postponement_is_pending_and_not_offered_again(browsing, org):
    case = whistled(org)
    team = team_dispatch(case)
    captain = browsing.page("cap", phone=False)
    captain.goto("/board/")
    row = captain.get_by_test_id(f"dispatch-{team.pk}")
    assert row.get_by_test_id("request_postponement").count() == 1
    assert row.get_by_test_id("postponement-pending").count() == 0

    clock = Deadline.objects.get(dispatch=team, stage=Stage.REPORT_IN)
    request_postponement(
        user=org.captain,
        case_id=case.pk,
        deadline_id=clock.pk,
        amount=2,
        unit=TimeUnit.NATURAL_HOURS,
        reason="The road is closed",
    )
    captain.goto("/board/")
    row = captain.get_by_test_id(f"dispatch-{team.pk}")
    assert row.get_by_test_id("postponement-pending").is_visible()
    assert row.get_by_test_id("request_postponement").count() == 0
    shot(captain, "en-board-postponement-pending")


def test_a_requested_consultation_is_pending_on_the_board(browsing, org):
    case = in_progress(org)
    team = team_dispatch(case)
    request_consultation(user=org.captain, case_id=case.pk, reason="Needs the town")

    captain = browsing.page("cap", phone=False)
    captain.goto("/board/")
    row = captain.get_by_test_id(f"dispatch-{team.pk}")
    assert row.get_by_test_id("consultation-pending").is_visible()
    assert row.get_by_test_id("request_consultation").count() == 0
    shot(captain, "en-board-consultation-pending")
