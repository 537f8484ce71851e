"""Urging a unit and supervision orders through the API (POST /api/dispatches/{id}/urge/ and
/supervise/): 409 while the unit is on time, 403 for a role that may not, 400 with the field
for a deadline in the past, and the updated case otherwise."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Event, SupervisionOrder
from tests.api.steps import fresh, post, team_dispatch
from tests.cases.engine_steps import T0, whistled

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def dispatch_url(dispatch, name: str) -> str:
    return f"/api/dispatches/{dispatch.pk}/{name}/"


def test_urging_a_unit_on_time_is_refused_with_409(org, api):
    case = whistled(org)
    dispatch = team_dispatch(case)
    body = {"version": case.version, "note": "Hurry"}
    response = post(api(org.town_committee), dispatch_url(dispatch, "urge"), body)
    assert response.status_code == 409
    assert "on time" in response.json()["message"]
    assert not Event.objects.filter(action="urge").exists()


def test_the_committee_urges_a_late_unit(org, api, time_machine):
    case = whistled(org)
    dispatch = team_dispatch(case)
    time_machine.move_to(dispatch.clock_due_at + timedelta(minutes=1), tick=False)
    body = {"version": case.version, "note": "Report in now"}
    assert post(api(org.captain), dispatch_url(dispatch, "urge"), body).status_code == 403
    response = post(api(org.city_committee), dispatch_url(dispatch, "urge"), body)
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == case.version + 1
    assert Event.objects.filter(action="urge", dispatch=dispatch).count() == 1
    missing = {"version": fresh(case).version, "note": ""}
    response = post(api(org.city_committee), dispatch_url(dispatch, "urge"), missing)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["note"]


def test_a_supervision_order_with_its_deadline(org, api, time_machine):
    case = whistled(org)
    dispatch = team_dispatch(case)
    time_machine.move_to(dispatch.clock_warn_at + timedelta(seconds=1), tick=False)
    past = {
        "version": case.version,
        "note": "Solve it",
        "due_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
    }
    response = post(api(org.supervisor), dispatch_url(dispatch, "supervise"), past)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["due_at"]
    assert not SupervisionOrder.objects.exists()
    due = timezone.now() + timedelta(days=2)
    body = {**past, "due_at": due.isoformat()}
    response = post(api(org.supervisor), dispatch_url(dispatch, "supervise"), body)
    assert response.status_code == 200, response.json()
    order = SupervisionOrder.objects.get()
    assert (order.dispatch, order.issued_by, order.due_at) == (dispatch, org.supervisor, due)
    no_deadline = {"version": fresh(case).version, "note": "Solve it"}
    response = post(api(org.supervisor), dispatch_url(dispatch, "supervise"), no_deadline)
    assert response.status_code == 400
    assert "due_at" in response.json()["fields"]
