"""Every case action of docs/workflow.md as POST /api/cases/{id}/<action>/: the right user
moves the case and gets it back; out of scope is 404, in scope but not allowed 403, a stale
version 409, bad input 400 with the fields."""

import pytest

from cases.models import Attachment, Event, Postponement, Status
from tests.api.steps import CASE_STEPS, Step, fresh, post, url

pytestmark = pytest.mark.django_db


def _body(step: Step, org, case) -> dict:
    return {"version": case.version, **step.body(org, case)}


@pytest.mark.parametrize("step", CASE_STEPS, ids=lambda step: step.name)
def test_the_right_user_takes_the_action_and_gets_the_case(org, api, step):
    case = step.start(org)
    events_before = Event.objects.filter(case=case).count()
    client = api(getattr(org, step.actor))
    response = post(client, url(case, step.name), _body(step, org, case), multipart=step.multipart)

    assert response.status_code == 200, response.json()
    body = response.json()
    case = fresh(case)
    assert body["id"] == case.pk
    assert body["status"] == case.status == step.status_after
    assert body["version"] == case.version
    assert Event.objects.filter(case=case).count() > events_before
    assert isinstance(body["available_actions"], list)


def test_the_actions_leave_their_traces(org, api):
    """A few outcomes beyond the status, read back from the database."""
    by_name = {step.name: step for step in CASE_STEPS}

    step = by_name["merge"]
    case = step.start(org)
    post(api(org.village_officer), url(case, "merge"), _body(step, org, case))
    assert fresh(case).merged_into_id == case.merge_target.pk

    step = by_name["resolve"]
    case = step.start(org)
    response = post(api(org.captain), url(case, "resolve"), _body(step, org, case), multipart=True)
    assert [a["purpose"] for a in response.json()["attachments"]] == ["evidence"]
    assert Attachment.objects.filter(case=case, purpose="evidence").count() == 1

    step = by_name["escalate"]
    case = step.start(org)
    response = post(api(org.town_committee), url(case, "escalate"), _body(step, org, case))
    assert response.json()["level"] == "city"

    step = by_name["evaluate"]
    case = step.start(org)
    response = post(api(org.grid_worker), url(case, "evaluate"), _body(step, org, case))
    assert response.json()["satisfaction"] == "satisfied"

    step = by_name["request_postponement"]
    case = step.start(org)
    response = post(api(org.village_officer), url(case, step.name), _body(step, org, case))
    assert Postponement.objects.filter(case=case, decision="pending").count() == 1
    (row,) = [d for d in response.json()["deadlines"] if d["postponements"]]
    assert row["postponements"][0]["reason"] == "Waiting for the owner"

    step = by_name["add_dispatch"]
    case = step.start(org)
    response = post(api(org.town_committee), url(case, step.name), _body(step, org, case))
    assert len(response.json()["dispatches"]) == 3


@pytest.mark.parametrize("step", CASE_STEPS, ids=lambda step: step.name)
def test_outside_the_scope_the_case_does_not_exist(org, api, step):
    case = step.start(org)
    version = case.version
    # The other village's grid worker and the other town's captain see nothing of it.
    for outsider in (org.other_grid_worker, org.other_captain):
        response = post(
            api(outsider), url(case, step.name), _body(step, org, case), multipart=step.multipart
        )
        assert response.status_code == 404, response.json()
        assert response.json()["code"] == "not_found"
    assert fresh(case).version == version


@pytest.mark.parametrize("step", CASE_STEPS, ids=lambda step: step.name)
def test_in_scope_but_not_allowed_is_forbidden(org, api, step):
    """The supervisor reads the whole city and changes nothing."""
    case = step.start(org)
    version = case.version
    response = post(
        api(org.supervisor), url(case, step.name), _body(step, org, case), multipart=step.multipart
    )
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "forbidden"
    assert fresh(case).version == version


@pytest.mark.parametrize("step", CASE_STEPS, ids=lambda step: step.name)
def test_a_stale_version_is_a_conflict(org, api, step):
    case = step.start(org)
    body = {**_body(step, org, case), "version": case.version - 1}
    response = post(
        api(getattr(org, step.actor)), url(case, step.name), body, multipart=step.multipart
    )
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "stale"
    assert fresh(case).status == case.status


@pytest.mark.parametrize("step", CASE_STEPS, ids=lambda step: step.name)
def test_the_version_is_required(org, api, step):
    case = step.start(org)
    body = step.body(org, case)
    response = post(
        api(getattr(org, step.actor)), url(case, step.name), body, multipart=step.multipart
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "version" in response.json()["fields"]


def test_bad_input_names_the_fields(org, api):
    by_name = {step.name: step for step in CASE_STEPS}
    case = by_name["reject"].start(org)
    response = post(api(org.village_officer), url(case, "reject"), {"version": case.version})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["fields"] == {"reason": ["Give the reason for rejection."]}
    assert fresh(case).status == Status.FILED

    case = by_name["decide"].start(org)
    response = post(
        api(org.town_committee),
        url(case, "decide"),
        {
            "version": case.version,
            "decision": "Remove it",
            "tasks": [
                {"department": org.department.pk, "action": "", "due_at": "2020-01-01T00:00"}
            ],
        },
    )
    assert response.status_code == 400
    assert "tasks.0.action" in response.json()["fields"]

    response = post(
        api(org.town_committee),
        url(case, "decide"),
        {"version": case.version, "decision": "Remove it", "tasks": [{"action": "x"}]},
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"tasks.0.due_at": ["This field is required."]}

    case = by_name["suspend"].start(org)
    response = post(
        api(org.town_committee),
        url(case, "suspend"),
        {"version": case.version, "reason": "Court", "review_on": "not a date"},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["review_on"]


def test_an_action_the_state_forbids_is_a_conflict(org, api):
    case = CASE_STEPS[0].start(org)  # filed: not yet resolved, so nothing to verify
    response = post(
        api(org.grid_worker), url(case, "verify"), {"version": case.version, "passed": True}
    )
    assert response.status_code in (403, 409)
    response = post(api(org.village_officer), url(case, "resume"), {"version": case.version})
    assert response.status_code in (403, 409)
    assert fresh(case).status == Status.FILED


def test_an_unknown_or_odd_id_is_not_found(org, api):
    client = api(org.village_officer)
    for case_id in ("999999", "abc", "-3", str(2**70)):
        response = client.post(f"/api/cases/{case_id}/accept/", {"version": 1}, format="json")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
