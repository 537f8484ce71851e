"""The policy lab in a real browser: the supervisor opens the lab from the navigation, makes a
scenario from the rules in force, doubles a time limit in the editor and saves it (the cell is
highlighted with the limit in force beside it), requests a replay of this month and sees it
finished with its tally. Celery runs eagerly here (tests/e2e/conftest.py), so the replay runs
right after its request; the page still shows its progress and state."""

import pytest
from django.utils import timezone

from assessment.services import rebuild_all_facts
from checklists.models import Stage
from policylab.models import Replay, Scenario
from tests.assessment.dashboards_steps import closed_by_team, closed_on_spot
from tests.cases.engine_steps import accepted, file_case, resolved_by_team
from tests.e2e.helpers import messages_text, shot, submit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def seed_cases(org) -> None:
    file_case(org)
    accepted(org)
    closed_on_spot(org)
    closed_by_team(org)
    resolved_by_team(org)
    rebuild_all_facts()


def test_a_supervisor_edits_a_limit_and_replays_this_month(browsing, org):
    seed_cases(org)
    limit = org.item.time_limits.get(stage=Stage.VILLAGE_HANDLING)

    page = browsing.page("sup", phone=False)
    page.goto("/")
    page.get_by_role("link", name="Policy lab").first.click()
    page.wait_for_url("**/lab/")
    form = page.get_by_test_id("new-scenario")
    form.locator("[name=name]").fill("Village handling doubled")
    submit(page, page.get_by_test_id("create-scenario"))
    scenario = Scenario.objects.get()
    assert page.url.endswith(f"/lab/scenarios/{scenario.pk}/")
    assert messages_text(page)

    # --- the editor: double the village's handling limit of the item ----------------------------
    cell = page.get_by_test_id(f"cell-{org.item.pk}-{Stage.VILLAGE_HANDLING}")
    field = cell.locator(f"[name=limit_{org.item.pk}_{Stage.VILLAGE_HANDLING}]")
    assert field.input_value() == str(limit.amount)
    assert cell.get_attribute("data-changed") is None
    doubled = limit.amount * 2
    field.fill(str(doubled))
    submit(page, page.get_by_test_id("save-scenario"))
    assert "The scenario is saved." in messages_text(page)
    cell = page.get_by_test_id(f"cell-{org.item.pk}-{Stage.VILLAGE_HANDLING}")
    assert cell.get_attribute("data-changed") == "true"
    assert f"in force: {limit.amount}" in cell.inner_text()
    shot(page, "lab-01-scenario-editor")
    scenario.refresh_from_db()
    assert {"item": org.item.pk, "stage": Stage.VILLAGE_HANDLING, "amount": doubled}.items() <= {
        **next(
            row
            for row in scenario.limits
            if (row["item"], row["stage"]) == (org.item.pk, Stage.VILLAGE_HANDLING)
        )
    }.items()

    # --- request a replay of this month over the city -----------------------------------------
    page.get_by_test_id("request-replay").click()
    page.wait_for_url(f"**/lab/scenarios/{scenario.pk}/replay/")
    form = page.get_by_test_id("replay-form")
    form.locator("[name=name]").fill("This month, doubled")
    form.locator("[name=kind]").select_option("month")
    form.locator("[name=anchor]").fill(timezone.localdate().isoformat())
    submit(page, page.get_by_test_id("start-replay"))
    replay = Replay.objects.get()
    assert page.url.endswith(f"/lab/replays/{replay.pk}/")

    # The replay ran right after its request (eager Celery); the page polls until it is done.
    progress = page.get_by_test_id("replay-progress")
    page.wait_for_selector('[data-testid="replay-progress"][data-state="done"]')
    assert "Done" in progress.inner_text() or "done" in progress.inner_text()
    page.wait_for_selector('[data-testid="tally"]')
    replay.refresh_from_db()
    assert replay.state == Replay.State.DONE
    assert page.get_by_test_id("tally-cases").inner_text() == str(replay.summary["tally"]["cases"])
    assert page.get_by_test_id("compare-link").get_attribute("href") == (
        f"/lab/compare/?replay={replay.pk}"
    )
    assert "This month, doubled" in page.get_by_test_id("replay-name").inner_text()
    shot(page, "lab-02-replay-done")
