"""The policy lab's scenario pages (/lab/, /lab/scenarios/<pk>/): the list, a new scenario,
the editor that starts from the rules in force (a changed limit highlighted with the value in
force beside it), saving limits per item and per aspect, the calendar, the yellow light and
the scheme; a bad scenario is refused field by field with nothing saved; who may open it."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from checklists.models import Item, Stage, TimeUnit
from policylab.forms import ScenarioForm
from policylab.models import Scenario
from policylab.rules import limits_in_force
from teams.models import Membership, Role
from tests.factories import UserFactory
from tests.policylab.conftest import Lab
from tests.security.scenario import build_org

INDEX = reverse("policylab:index")


def editor(scenario: Scenario) -> str:
    return reverse("policylab:scenario", args=[scenario.pk])


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def form_data(scenario: Scenario) -> dict:
    """What the editor's form sends when nothing is changed (its fields as shown)."""
    form = ScenarioForm(scenario=scenario, in_force=limits_in_force())
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else str(value)
    return data


def first_limit(scenario: Scenario) -> dict:
    return scenario.limits[0]


def cell(item: int, stage: str) -> str:
    return f"limit_{item}_{stage}"


def test_the_editor_shows_the_rules_in_force(lab: Lab):
    client = signed_in(lab.org.supervisor)
    response = client.get(editor(lab.scenario))
    assert response.status_code == 200
    page = response.content.decode()
    in_force = limits_in_force()
    assert in_force and lab.scenario.limits == in_force
    for row in in_force:
        if row["stage"] == Stage.PREFECTURE_CONSULTATION:
            # Three levels: the prefecture's limits are kept but not offered (its committee is
            # not on the chain; tests/policylab/test_replay_prefecture.py).
            assert f'name="{cell(row["item"], row["stage"])}"' not in page
            continue
        field = re.search(rf'name="{cell(row["item"], row["stage"])}" value="([^"]*)"', page)
        assert field is not None and field.group(1) == str(row["amount"])
        selected = re.search(
            rf'<select name="unit_{row["item"]}_{row["stage"]}"[^>]*>(.*?)</select>',
            page,
            re.S,
        )
        assert f'value="{row["unit"]}" selected' in selected.group(1)
    # Nothing differs from the rules in force yet.
    assert 'data-changed="true"' not in page
    assert "Set for every item of this aspect" in page
    for label in ("On-time closure rate", "per overdue case", "Extra holidays"):
        assert label in page


def test_a_scenario_is_made_from_the_list(lab: Lab):
    client = signed_in(lab.org.supervisor)
    page = client.get(INDEX).content.decode()
    assert 'data-testid="new-scenario"' in page and lab.scenario.name in page
    response = client.post(reverse("policylab:scenario_new"), {"name": "Report-in 60 min"})
    made = Scenario.objects.get(name="Report-in 60 min")
    assert response.status_code == 302 and response["Location"] == editor(made)
    assert made.city == lab.org.city and made.limits == limits_in_force()

    refused = client.post(reverse("policylab:scenario_new"), {"name": "  "})
    assert refused.status_code == 400 and "Give it a name." in refused.content.decode()
    assert Scenario.objects.count() == 2


def test_saving_limits_per_item_and_per_aspect_the_calendar_and_weights(lab: Lab):
    scenario = lab.scenario
    client = signed_in(lab.org.supervisor)
    data = form_data(scenario)
    changed = first_limit(scenario)
    data[cell(changed["item"], changed["stage"])] = str(changed["amount"] * 2)
    data[f"unit_{changed['item']}_{changed['stage']}"] = TimeUnit.WORKING_DAYS
    # Every item of another aspect and stage at once.
    other = next(
        row
        for row in scenario.limits
        if Item.objects.get(pk=row["item"]).aspect_id
        != Item.objects.get(pk=changed["item"]).aspect_id
    )
    aspect_id = Item.objects.get(pk=other["item"]).aspect_id
    aspect_items = set(Item.objects.filter(aspect_id=aspect_id).values_list("pk", flat=True))
    data[f"aspect_{aspect_id}_{other['stage']}"] = "7"
    data[f"aspectunit_{aspect_id}_{other['stage']}"] = TimeUnit.NATURAL_DAYS
    data["holidays"] = "2025-07-01\n\n2025-07-02 \n"
    data["workdays"] = "2025-06-29"
    data["yellow_at_percent"] = "60"
    data["name"] = "Slower report-in"
    data["town_evaluation_weight"] = "0.5"
    data["weight_on_time_closure_rate"] = "3"
    data["floor_on_time_closure_rate"] = "0.9"
    data["ceiling_on_time_closure_rate"] = ""
    data["deduction_per_overdue_case"] = "2"

    response = client.post(editor(scenario), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    scenario.refresh_from_db()
    limits = {(row["item"], row["stage"]): (row["amount"], row["unit"]) for row in scenario.limits}
    assert limits[(changed["item"], changed["stage"])] == (
        changed["amount"] * 2,
        TimeUnit.WORKING_DAYS,
    )
    for (item, stage), value in limits.items():
        if item in aspect_items and stage == other["stage"]:
            assert value == (7, TimeUnit.NATURAL_DAYS)
    assert scenario.holidays == ["2025-07-01", "2025-07-02"]
    assert scenario.workdays == ["2025-06-29"]
    assert scenario.yellow_at_percent == 60
    assert scenario.name == "Slower report-in"
    weights = {row["key"]: row for row in scenario.scheme["indicators"]}
    assert weights["on_time_closure_rate"]["weight"] == "3"
    assert weights["on_time_closure_rate"]["floor"] == "0.9"
    assert scenario.scheme["town_evaluation_weight"] == "0.5"
    assert {"kind": "per_overdue_case", "points": "2"} in scenario.scheme["deductions"]

    # The editor now highlights the changed limit and shows the value in force beside it.
    page = client.get(editor(scenario)).content.decode()
    changed_cell = re.search(
        rf'<td class="lab-changed"[^>]*data-testid="cell-{changed["item"]}-{changed["stage"]}"'
        r"(.*?)</td>",
        page,
        re.S,
    )
    assert changed_cell is not None
    assert f"in force: {changed['amount']}" in changed_cell.group(1)
    assert "The scenario is saved." in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"limit": "0"}, "limit", "A time limit must be more than zero (0 given)."),
        ({"limit": "-5"}, "limit", "A time limit must be more than zero (-5 given)."),
        ({"holidays": "2025-13-01"}, "holidays", "“2025-13-01” is not a date (YYYY-MM-DD)."),
        (
            {"holidays": "2025-07-01", "workdays": "2025-07-01"},
            "workdays",
            "A day cannot be both a holiday and a working day: 2025-07-01.",
        ),
        ({"weights": "0"}, "scheme", "The weights must add up to more than zero"),
        (
            {"yellow_at_percent": "150"},
            "yellow_at_percent",
            "The yellow light comes at a share of the limit between 1 and 99%.",
        ),
    ],
)
def test_a_bad_scenario_says_why_at_its_field_and_changes_nothing(lab: Lab, change, field, message):
    scenario = lab.scenario
    before = Scenario.objects.filter(pk=scenario.pk).values().get()
    client = signed_in(lab.org.supervisor)
    data = form_data(scenario)
    data["name"] = "Renamed, but not saved"
    row = first_limit(scenario)
    if "limit" in change:
        data[cell(row["item"], row["stage"])] = change["limit"]
    for name in ("holidays", "workdays", "yellow_at_percent"):
        if name in change:
            data[name] = change[name]
    if "weights" in change:
        keys = [name for name in data if name.startswith("weight_")]
        for name in keys:
            data[name] = ""
        data["weight_on_time_closure_rate"] = "0"
        data["weight_closure_rate"] = "0"

    response = client.post(editor(scenario), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    # The message is at its field: the limit's cell, the calendar field, the scheme section.
    if field == "limit":
        where = re.search(
            rf'data-testid="cell-{row["item"]}-{row["stage"]}"(.*?)</td>', page, re.S
        ).group(1)
        assert "field-error" in where and message in where
        assert f'value="{change["limit"]}"' in where  # what was typed is kept
    elif field == "scheme":
        where = re.search(r'data-testid="scheme-errors">(.*?)</div>', page, re.S).group(1)
        assert message in where
    else:
        assert f'id="id_{field}_error"' in page
        error = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</small>', page, re.S).group(1)
        assert message in error.replace("&quot;", '"')
    assert "Renamed, but not saved" in page
    assert Scenario.objects.filter(pk=scenario.pk).values().get() == before


def test_a_zero_for_every_item_of_an_aspect_is_refused(lab: Lab):
    scenario = lab.scenario
    before = scenario.limits
    client = signed_in(lab.org.supervisor)
    data = form_data(scenario)
    aspect_id = Item.objects.get(pk=first_limit(scenario)["item"]).aspect_id
    data[f"aspect_{aspect_id}_{first_limit(scenario)['stage']}"] = "0"
    response = client.post(editor(scenario), data)
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    scenario.refresh_from_db()
    assert scenario.limits == before


def test_deleting_a_scenario(lab: Lab):
    client = signed_in(lab.org.supervisor)
    response = client.post(reverse("policylab:scenario_delete", args=[lab.scenario.pk]))
    assert response.status_code == 302 and response["Location"] == INDEX
    assert not Scenario.objects.exists()


def test_the_editor_is_for_the_lab_roles_of_the_scenario_s_city(lab: Lab):
    scenario = lab.scenario
    urls = [
        ("get", editor(scenario)),
        ("post", reverse("policylab:scenario_delete", args=[scenario.pk])),
        ("get", reverse("policylab:replay_new", args=[scenario.pk])),
    ]
    other = build_org(prefix="x", city_code="SZ", lng=121.50)
    for method, url in urls:
        # Another city's supervisor: the scenario does not exist for them.
        assert getattr(signed_in(other.supervisor), method)(url).status_code == 404
        # In the city but without a lab role: refused.
        for user in (lab.org.town_committee, lab.org.captain):
            assert getattr(signed_in(user), method)(url).status_code == 403
        anonymous = getattr(Client(), method)(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert signed_in(lab.org.city_committee).get(editor(scenario)).status_code == 200
    assert Scenario.objects.filter(pk=scenario.pk).exists()
    # The list: refused without a lab role, empty of other cities' scenarios.
    assert signed_in(lab.org.captain).get(INDEX).status_code == 403
    assert scenario.name not in signed_in(other.supervisor).get(INDEX).content.decode()


def test_the_navigation_links_the_lab_for_its_roles_only(lab: Lab):
    assert 'href="/lab/"' in signed_in(lab.org.supervisor).get(INDEX).content.decode()
    home = signed_in(lab.org.town_committee).get(reverse("home")).content.decode()
    assert 'href="/lab/"' not in home
    admin = UserFactory()
    Membership.objects.create(user=admin, role=Role.ADMIN, region=lab.org.city)
    assert 'href="/lab/"' in signed_in(admin).get(reverse("home")).content.decode()
