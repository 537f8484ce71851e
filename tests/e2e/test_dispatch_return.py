"""A dispatch returned (退回) in real browsers: the captain returns it from the board with a
reason, the town committee sees who returned it and why, upholds the return and dispatches
another team, whose board then has the case."""

import pytest

from cases.models import Deadline, Dispatch, Event
from cases.services import accept_case, file_whistle, whistle_to_town
from checklists.models import Stage
from teams.models import Role, Team
from tests.e2e.helpers import messages_text, shot, submit
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def whistled(org):
    """A whistle accepted and whistled to the town through the services (the test is about
    what the town does with it)."""
    case = file_whistle(
        user=org.grid_worker,
        item=org.item,
        description="Rubbish in the canal by the mill",
        grid=org.grid,
        latitude=30.5002,
        longitude=120.7003,
    ).case
    accept_case(user=org.village_officer, case_id=case.pk)
    return whistle_to_town(user=org.village_officer, case_id=case.pk, note="Too big for us")


def test_a_captain_returns_a_dispatch_and_the_town_dispatches_again(browsing, org):
    case = whistled(org)
    dispatch = case.dispatches.get(team=org.team)
    water = TeamFactory(
        region=org.town, kind=Team.Kind.PROFESSIONAL, name_en="Water team", name_zh="水务队"
    )
    MembershipFactory(user=UserFactory(username="water"), role=Role.TEAM_CAPTAIN, team=water)

    # --- the captain returns the dispatch from the board ------------------------------------
    captain = browsing.page("cap", phone=False)
    captain.goto("/board/")
    row = captain.locator("tr[data-testid^='dispatch-']", has_text=case.number)
    row.get_by_test_id("return_dispatch").click()
    form = captain.get_by_test_id("form-return_dispatch")
    form.locator("[name=return_reason]").select_option("not_our_duty")
    form.locator("[name=note]").fill("The canal is the water team's")
    shot(captain, "return-01-return-form")
    submit(captain, form.get_by_test_id("submit-return_dispatch"))
    captain.wait_for_url("**/board/**")
    assert messages_text(captain)
    assert captain.locator("tr[data-testid^='dispatch-']", has_text=case.number).count() == 0
    dispatch.refresh_from_db()
    assert (dispatch.state, dispatch.returned_by) == (Dispatch.State.RETURNED, org.captain)

    # --- the town committee sees who returned it and why, and upholds it ----------------------
    town = browsing.page("town", phone=False)
    town.goto(f"/cases/{case.pk}/")
    returned = town.locator(f"[data-dispatch='{dispatch.pk}']")
    assert "cap" in returned.get_by_test_id("returned").inner_text()
    assert "The canal is the water team's" in returned.get_by_test_id("return-reason").inner_text()
    shot(town, "return-02-case-returned")
    returned.get_by_test_id("review_return").click()
    form = town.get_by_test_id("form-review_return")
    form.locator("input[name=return_ruling][value=upheld]").check()
    form.locator("[name=note]").fill("Right: the water team")
    submit(town, form.get_by_test_id("submit-review_return"))
    assert messages_text(town)
    returned = town.locator(f"[data-dispatch='{dispatch.pk}']")
    assert returned.get_by_test_id("return-ruling").count() == 1

    # --- and dispatches the water team instead -------------------------------------------------
    town.get_by_test_id("add_dispatch").first.click()
    form = town.get_by_test_id("form-add_dispatch")
    form.locator("[name=team]").select_option(str(water.pk))
    form.locator("[name=task]").fill("Clear the canal")
    submit(town, form.get_by_test_id("submit-add_dispatch"))
    assert messages_text(town)
    shot(town, "return-03-dispatched-again")
    assert case.dispatches.filter(team=water, state=Dispatch.State.WAITING).count() == 1
    clock = Deadline.objects.get(dispatch=dispatch, stage=Stage.REDISPATCH)
    assert clock.met_at is not None and clock.fired_at is None
    actions = list(
        Event.objects.filter(case=case)
        .order_by("created_at", "pk")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == ["return_dispatch", "uphold_return", "add_dispatch"]
    timeline = town.get_by_test_id("event").evaluate_all(
        "items => items.map(item => item.dataset.action)"
    )
    assert timeline[-3:] == ["return_dispatch", "uphold_return", "add_dispatch"]

    # --- the water team's captain has it on the board ----------------------------------------
    other = browsing.page("water", phone=False)
    other.goto("/board/")
    assert other.locator("tr[data-testid^='dispatch-']", has_text=case.number).count() == 1
