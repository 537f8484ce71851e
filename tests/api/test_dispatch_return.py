"""Returning a dispatch (POST /api/dispatches/{id}/return-dispatch/) and ruling on the return
(POST /api/dispatches/{id}/review-return/): 200 with the case, 400 for bad input with nothing
changed, 403 for another role, 404 outside the scope, 409 after the report-in limit or a second
ruling."""

import pytest
from django.utils import timezone

from cases.models import Dispatch, Event
from tests.api.steps import fresh, post, team_dispatch
from tests.cases.engine_steps import whistled

pytestmark = pytest.mark.django_db


def path(dispatch: Dispatch, name: str) -> str:
    return f"/api/dispatches/{dispatch.pk}/{name}/"


def returned(org, api):
    case = whistled(org)
    dispatch = team_dispatch(case)
    body = {"version": case.version, "return_reason": "duplicate", "note": "Same as HN-2025-1"}
    response = post(api(org.captain), path(dispatch, "return-dispatch"), body)
    assert response.status_code == 200, response.json()
    return fresh(case), dispatch, response


def test_the_captain_returns_the_dispatch(org, api):
    case, dispatch, response = returned(org, api)
    (row,) = [d for d in response.json()["dispatches"] if d["id"] == dispatch.pk]
    assert (row["state"], row["return_reason"], row["return_note"]) == (
        "returned",
        "duplicate",
        "Same as HN-2025-1",
    )
    assert row["available_actions"] == []
    assert row["returned_at"] is not None
    assert Dispatch.objects.get(pk=dispatch.pk).returned_by == org.captain
    # The town committee sees the ruling among its actions on the dispatch.
    detail = api(org.town_committee).get(f"/api/cases/{case.pk}/").json()
    (row,) = [d for d in detail["dispatches"] if d["id"] == dispatch.pk]
    assert row["available_actions"] == ["review_return"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"return_reason": "lazy", "note": "x"}, "return_reason"),
        ({"note": "x"}, "return_reason"),
        ({"return_reason": "other", "note": "  "}, "note"),
    ],
)
def test_bad_input_is_400_and_changes_nothing(org, api, body, field):
    case = whistled(org)
    dispatch = team_dispatch(case)
    response = post(
        api(org.captain), path(dispatch, "return-dispatch"), {"version": case.version, **body}
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert Dispatch.objects.get(pk=dispatch.pk).state == Dispatch.State.WAITING
    assert fresh(case).version == case.version


def test_after_the_report_in_limit_the_return_is_409(org, api, time_machine):
    case = whistled(org)
    dispatch = team_dispatch(case)
    time_machine.move_to(timezone.localtime(dispatch.report_in_due), tick=False)
    body = {"version": case.version, "return_reason": "other", "note": "Too late"}
    response = post(api(org.captain), path(dispatch, "return-dispatch"), body)
    assert response.status_code == 409, response.json()
    assert "withdraw the dispatch" in response.json()["message"]
    assert Dispatch.objects.get(pk=dispatch.pk).state == Dispatch.State.WAITING


def test_roles_and_scope(org, api):
    case = whistled(org)
    dispatch = team_dispatch(case)
    body = {"version": case.version, "return_reason": "other", "note": "x"}
    forbidden = post(api(org.town_committee), path(dispatch, "return-dispatch"), body)
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "forbidden"
    assert post(api(org.other_captain), path(dispatch, "return-dispatch"), body).status_code == 404


def test_the_committee_upholds_once(org, api):
    case, dispatch, _response = returned(org, api)
    body = {"version": case.version, "return_ruling": "upheld", "note": "Merge it"}
    assert post(api(org.captain), path(dispatch, "review-return"), body).status_code == 403
    response = post(api(org.town_committee), path(dispatch, "review-return"), body)
    assert response.status_code == 200, response.json()
    (row,) = [d for d in response.json()["dispatches"] if d["id"] == dispatch.pk]
    assert row["return_ruling"] == "upheld"
    body = {"version": fresh(case).version, "return_ruling": "overruled"}
    again = post(api(org.town_committee), path(dispatch, "review-return"), body)
    assert again.status_code == 409
    assert Event.objects.filter(case=case, action="uphold_return").count() == 1
    assert not Event.objects.filter(case=case, action="overrule_return").exists()


def test_an_overruled_return_dispatches_the_team_again(org, api):
    case, dispatch, _response = returned(org, api)
    body = {"version": case.version, "return_ruling": "overruled"}
    response = post(api(org.town_committee), path(dispatch, "review-return"), body)
    assert response.status_code == 200, response.json()
    rows = [d for d in response.json()["dispatches"] if d["team"] and d["state"] == "waiting"]
    assert [row["origin"] for row in rows] == ["overruled"]


def test_a_ruling_must_be_named(org, api):
    case, dispatch, _response = returned(org, api)
    body = {"version": case.version, "return_ruling": "maybe"}
    response = post(api(org.town_committee), path(dispatch, "review-return"), body)
    assert response.status_code == 400
    assert "return_ruling" in response.json()["fields"]
