"""The town committee's evaluation form: records a score, refuses bad input and other roles."""

from decimal import Decimal

import pytest
from django.urls import reverse

from assessment.models import TownEvaluation
from tests.assessment.dashboards_steps import T0
from tests.cases import conftest as cases_conftest

org = cases_conftest.org  # the organisation fixture of the case tests

URL = reverse("assessment:evaluate")


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def post(client, user, **data):
    client.force_login(user)
    values = {"month": "2025-06-01", "score": "88.5", "note": "Quick to report in"}
    values.update(data)
    return client.post(URL, values, HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_form_renders_for_the_town_committee(client, org, language):
    client.force_login(org.town_committee)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    assert 'data-testid="evaluation-form"' in html and org.department.name in html


def test_a_score_is_recorded_and_listed(client, org):
    response = post(client, org.town_committee, department=org.department.pk)
    assert response.status_code == 302
    row = TownEvaluation.objects.get()
    assert (row.town, row.department, row.score) == (org.town, org.department, Decimal("88.50"))
    html = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="evaluation-row"' in html and "88.50" in html
    assert "The evaluation was recorded." in html


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"score": "101"}, "less than or equal to 100"),
        ({"score": "-1"}, "greater than or equal to 0"),
        ({"score": "abc"}, "Enter a number."),
        ({"month": "2024-01-01"}, "Select a valid choice."),
    ],
)
def test_bad_input_changes_nothing(client, org, data, field_error):
    response = post(client, org.town_committee, department=org.department.pk, **data)
    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert not TownEvaluation.objects.exists()


@pytest.mark.parametrize("who", ["supervisor", "city_committee", "grid_worker", "captain"])
def test_only_town_committee_staff_evaluate(client, org, who):
    user = getattr(org, who)
    assert post(client, user, department=org.department.pk).status_code == 403
    assert client.get(URL).status_code == 403
    assert not TownEvaluation.objects.exists()
