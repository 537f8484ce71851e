"""A decision's task rows: "Add a row" without JavaScript sends the form back, unvalidated,
with what was entered and one more row, up to the server's maximum (issue 19)."""

import pytest
from django.urls import reverse

from cases.models import Dispatch
from consultation.forms import MAX_TASKS
from tests.cases.engine_steps import fresh
from tests.consultation.conftest import at, in_consultation
from tests.consultation.test_pages import as_user, called, local

pytestmark = pytest.mark.usefixtures("clock")


def rows_data(prefix: str, item, rows: list[dict], *, version: int) -> dict:
    data = {
        f"{prefix}-version": version,
        f"{prefix}-kind": "tasks",
        f"{prefix}-decision": "Clear it jointly",
        f"{prefix}-tasks-TOTAL_FORMS": len(rows),
        f"{prefix}-tasks-INITIAL_FORMS": 0,
        f"{prefix}-tasks-MIN_NUM_FORMS": 0,
        f"{prefix}-tasks-MAX_NUM_FORMS": MAX_TASKS,
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-tasks-{index}-{name}"] = value
    return data


def test_add_a_row_keeps_what_was_entered_and_adds_one(client, org, extra):
    case = in_consultation(org)
    consultation = called(org, extra, [case])
    item = consultation.agenda_items.get()
    prefix = f"item{item.pk}"
    url = reverse("consultation:decide", args=[item.pk])
    as_user(client, org.town_committee)
    page = client.get(reverse("consultation:detail", args=[consultation.pk])).content.decode()
    assert f'data-testid="add-task-row-{item.pk}"' in page
    assert page.count('data-testid="task-row-') == 3
    due = local(at(2025, 6, 12, 17, 0))
    first = {"department": extra.bureau.pk, "action": "Fine the owner", "due_at": due}
    data = rows_data(prefix, item, [first, {}, {}], version=fresh(case).version)
    data["add_row"] = "1"

    response = client.post(url, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="task-row-') == 4
    assert 'value="Fine the owner"' in page and "Clear it jointly" in page
    assert f'value="{due}"' in page
    assert 'class="field-error"' not in page  # not validated: nothing was submitted yet
    assert not Dispatch.objects.filter(case=case, origin=Dispatch.Origin.DECISION).exists()


def test_rows_grow_to_the_maximum_and_all_ten_are_accepted(client, org, extra):
    case = in_consultation(org)
    consultation = called(org, extra, [case])
    item = consultation.agenda_items.get()
    prefix = f"item{item.pk}"
    url = reverse("consultation:decide", args=[item.pk])
    as_user(client, org.town_committee)
    due = local(at(2025, 6, 12, 17, 0))
    rows = [
        {"department": extra.bureau.pk, "action": f"Task {n}", "due_at": due}
        for n in range(MAX_TASKS - 1)
    ]
    data = rows_data(prefix, item, rows, version=fresh(case).version)
    page = client.post(url, {**data, "add_row": "1"}).content.decode()
    assert page.count('data-testid="task-row-') == MAX_TASKS
    assert f'data-testid="add-task-row-{item.pk}"' not in page  # the limit is reached
    # The tenth row filled in: the decision with ten tasks is recorded.
    rows.append({"team": org.team.pk, "action": "Task 9", "due_at": due})
    response = client.post(url, rows_data(prefix, item, rows, version=fresh(case).version))
    assert response.status_code == 302
    assert Dispatch.objects.filter(case=case, origin=Dispatch.Origin.DECISION).count() == MAX_TASKS
    # An eleventh row is refused by the server.
    assert MAX_TASKS == 10
