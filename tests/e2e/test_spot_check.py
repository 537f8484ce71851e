"""A spot check (抽查) in real browsers: the supervisor draws a sample of the team's closed
cases, revisits one, finds it not actually resolved and records it with a photo; the case is
reopened to the same team, whose board has it again, and the case page tells why."""

import pytest

from cases.models import Dispatch, Status
from spotchecks.models import SpotCheck, SpotCheckCase
from tests.e2e.helpers import messages_text, shot, submit
from tests.spotchecks.steps import closed_cases

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_false_reply_found_in_a_spot_check_goes_back_to_the_team(browsing, org, photo):
    closed_cases(org, 3)

    # --- the supervisor draws two of the team's closed cases ---------------------------------
    supervisor = browsing.page("sup", phone=False)
    supervisor.goto("/")
    supervisor.get_by_role("link", name="Spot checks").first.click()
    form = supervisor.get_by_test_id("form-draw")
    form.locator("[name=team]").select_option(str(org.team.pk))
    form.locator("[name=size]").fill("2")
    shot(supervisor, "spotcheck-01-draw-form")
    submit(supervisor, form.get_by_test_id("submit-draw"))
    assert messages_text(supervisor)
    spot_check = SpotCheck.objects.get()
    assert supervisor.url.endswith(f"/spotchecks/{spot_check.pk}/")
    assert str(spot_check.seed) in supervisor.get_by_test_id("spot-check-draw").inner_text()
    drawn = spot_check.cases.order_by("position").first()
    case = drawn.case

    # --- the revisit: not actually resolved, with a photo -----------------------------------------
    revisit = supervisor.get_by_test_id(f"form-revisit-{case.pk}")
    revisit.locator("input[name=outcome][value=false_reply]").check()
    revisit.locator("[name=note]").fill("The rubbish is piled up again")
    revisit.locator("input[type=file][name=photos]").set_input_files(str(photo("still-there")))
    shot(supervisor, "spotcheck-02-revisit")
    submit(supervisor, revisit.get_by_test_id(f"submit-revisit-{case.pk}"))
    assert supervisor.url.endswith(f"/spotchecks/{spot_check.pk}/")
    assert messages_text(supervisor)
    outcome = supervisor.get_by_test_id(f"outcome-{case.pk}").inner_text()
    assert "not actually resolved" in outcome
    assert supervisor.get_by_test_id(f"drawn-{case.pk}").get_by_test_id("revisit-photo").count()
    assert supervisor.get_by_test_id(f"form-revisit-{case.pk}").count() == 0
    shot(supervisor, "spotcheck-03-recorded")
    drawn.refresh_from_db()
    assert drawn.outcome == SpotCheckCase.Outcome.FALSE_REPLY
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED
    again = case.dispatches.filter(team=org.team, state=Dispatch.State.WAITING).get()

    # --- the case page tells what happened --------------------------------------------------------
    supervisor.get_by_test_id(f"drawn-{case.pk}").get_by_role("link", name=case.number).click()
    supervisor.wait_for_url(f"**/cases/{case.pk}/")
    assert "not actually resolved" in supervisor.locator("main").inner_text()

    # --- the same team has the case on its board again ------------------------------------------
    captain = browsing.page("cap", phone=False)
    captain.goto("/board/")
    row = captain.locator("tr[data-testid^='dispatch-']", has_text=case.number)
    assert row.count() == 1
    shot(captain, "spotcheck-04-board")
    submit(captain, row.get_by_test_id("report_in"))
    again.refresh_from_db()
    assert again.state == Dispatch.State.REPORTED
