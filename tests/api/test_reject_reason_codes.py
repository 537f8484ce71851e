"""The API's reject takes a common reason by its code and reads the reason back in the
client's language (issue 19, item 12)."""

import pytest

from cases.models import Status
from tests.api.steps import filed, fresh, post, url

pytestmark = pytest.mark.django_db


def test_a_reason_code_is_stored_and_read_in_the_clients_language(org, api):
    case = filed(org)
    response = post(
        api(org.village_officer, language="zh-hans"),
        url(case, "reject"),
        {"version": case.version, "reason_code": "not_on_list"},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["rejection_reason"] == "该事项不在吹哨清单内。"
    case = fresh(case)
    assert (case.status, case.rejection_code, case.rejection_reason) == (
        Status.REJECTED,
        "not_on_list",
        "",
    )
    got = api(org.grid_worker).get(f"/api/cases/{case.pk}/").json()
    assert got["rejection_code"] == "not_on_list"
    assert got["rejection_reason"] == "The matter is not on the whistle list."


def test_an_unknown_reason_code_is_bad_input(org, api):
    case = filed(org)
    response = post(
        api(org.village_officer),
        url(case, "reject"),
        {"version": case.version, "reason_code": "merged"},
    )
    assert response.status_code == 400
    assert "reason_code" in response.json()["fields"]
    assert fresh(case).status == Status.FILED
