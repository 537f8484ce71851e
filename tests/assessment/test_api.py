"""The assessment through the API: the indicators of a unit and period, rankings, exactly the
cases behind each number (paginated), the exports the pages give, the red list and the towns'
evaluations of departments; scoped like the pages (403 without dashboards, 404 outside)."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from assessment.models import TownEvaluation
from tests.api.conftest import client_for
from tests.assessment.dashboards_steps import T0, month_of_cases
from tests.cases import conftest as cases_conftest
from tests.cases.engine_steps import file_case

org = cases_conftest.org  # the organisation fixture of the case tests

INDICATORS = "/api/assessment/indicators/"
RANKINGS = "/api/assessment/rankings/"
CASES = "/api/assessment/cases/"
OVERDUE = "/api/assessment/overdue/"
EVALUATIONS = "/api/town-evaluations/"
JUNE = {"kind": "month", "anchor": "2025-06-01"}


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def get(user, url, **params):
    return client_for(user).get(url, params)


def by_key(body: dict) -> dict:
    return {row["key"]: row for row in body["indicators"]}


# --- indicators --------------------------------------------------------------------------------


def test_indicators_of_the_users_unit_and_their_cases(org):
    month_of_cases(org)
    response = get(org.town_committee, INDICATORS, **JUNE)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["unit"] == {"type": "town", "id": org.town.pk, "name": org.town.name}
    assert (body["period"]["start"], body["period"]["end"]) == ("2025-06-01", "2025-06-30")
    assert body["previous_period"]["start"] == "2025-05-01"
    closure = by_key(body)["closure_rate"]
    # Five cases are due in June (the rejected one left out): 3 closed of 5.
    assert (closure["numerator"], closure["denominator"], closure["value"]) == (3, 5, 0.6)
    assert by_key(body)["solved_by_village_share"]["target"] == 0.7
    assert by_key(body)["level_village_share"]["target"] is None  # the level view
    # Every count opens exactly that many cases.
    for row in body["indicators"]:
        for part in ("numerator", "denominator"):
            listed = client_for(org.town_committee).get(row[f"{part}_cases"])
            assert listed.status_code == 200, row[f"{part}_cases"]
            assert listed.json()["count"] == row[part], (row["key"], part)


def test_indicators_of_another_unit_and_a_trend(org):
    month_of_cases(org)
    body = get(
        org.supervisor, INDICATORS, unit_type="village", unit_id=org.village.pk, trend=3, **JUNE
    ).json()
    assert body["unit"]["id"] == org.village.pk
    assert [point["period"]["start"] for point in body["trend"]] == [
        "2025-04-01",
        "2025-05-01",
        "2025-06-01",
    ]
    assert by_key(body)["closure_rate"]["denominator"] == 4


@pytest.mark.parametrize("who", ["grid_worker", "member"])
def test_roles_without_dashboards_get_403(org, who):
    user = getattr(org, who)
    for url, params in [
        (INDICATORS, {}),
        (f"{INDICATORS}export/", {}),
        (RANKINGS, {}),
        (f"{RANKINGS}export/", {}),
        (CASES, {"indicator": "closure_rate", "part": "numerator"}),
        (f"{CASES}export/", {"indicator": "closure_rate", "part": "numerator"}),
        (OVERDUE, {}),
        (EVALUATIONS, {}),
    ]:
        assert get(user, url, **params).status_code == 403, url


def test_units_outside_the_scope_are_404_and_bad_parameters_400(org):
    user = org.town_committee
    assert get(user, INDICATORS, unit_type="town", unit_id=org.other_town.pk).status_code == 404
    assert get(user, INDICATORS, unit_type="team", unit_id=org.other_team.pk).status_code == 404
    assert get(user, INDICATORS, unit_type="city", unit_id=org.city.pk).status_code == 404
    drill = {"indicator": "closure_rate", "part": "numerator", "unit_type": "town"}
    assert get(user, CASES, unit_id=org.other_town.pk, **drill).status_code == 404
    assert get(user, CASES, unit_id=org.town.pk, **drill).status_code == 200
    for params, field in [
        ({"unit_type": "nonsense", "unit_id": 1}, "unit_type"),
        ({"unit_type": "town"}, "unit_id"),
        ({"kind": "fortnight"}, "kind"),
        ({"kind": "custom", "start": "2025-06-10", "end": "2025-06-01"}, "period"),
        ({"anchor": "0001-01-01"}, "anchor"),
        ({"trend": 61}, "trend"),
    ]:
        response = get(user, INDICATORS, **params)
        assert response.status_code == 400, params
        assert field in response.json()["fields"], (params, response.json())
    response = get(user, CASES, indicator="nope", part="half")
    assert response.status_code == 400
    assert {"indicator", "part"} <= set(response.json()["fields"])


# --- rankings and the cases behind a number ----------------------------------------------------


def test_rankings_rank_the_units_in_scope(org):
    month_of_cases(org)
    body = get(org.supervisor, RANKINGS, type="village", **JUNE).json()
    assert {row["unit_name"] for row in body["rows"]} >= {org.village.name, org.other_village.name}
    assert body["unit_type"] == "village" and body["rows"][0]["rank"] == 1
    assert {row["key"] for row in body["rows"][0]["indicators"]} >= {"closure_rate"}
    towns = get(org.town_committee, RANKINGS, type="town", **JUNE).json()["rows"]
    assert [row["unit_name"] for row in towns] == [org.town.name]
    assert get(org.supervisor, RANKINGS, type="galaxy").status_code == 400


def test_the_cases_behind_a_number_are_listed_by_page(org):
    cases = month_of_cases(org)
    response = get(
        org.supervisor,
        CASES,
        indicator="level_village_share",
        part="numerator",
        unit_type="city",
        unit_id=org.city.pk,
        **JUNE,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {row["number"] for row in body["results"]} == {
        cases["village_closed"].number,
        cases["village_closed_2"].number,
    }
    for _ in range(49):
        file_case(org)
    from assessment.services import rebuild_all_facts

    rebuild_all_facts()
    params = {"indicator": "closure_rate", "part": "denominator", "unit_type": "village"}
    params.update(unit_id=org.village.pk, **JUNE)
    first = get(org.supervisor, CASES, **params).json()
    second = get(org.supervisor, CASES, page=2, **params).json()
    assert first["count"] == 53 and len(first["results"]) == 50 and len(second["results"]) == 3


# --- exports -----------------------------------------------------------------------------------


def rows_of_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_exports_are_the_pages_files(org):
    month_of_cases(org)
    client = client_for(org.supervisor)
    page_client = client_for(org.supervisor)
    page_client.force_login(org.supervisor)
    pairs = [
        (f"{INDICATORS}export/", {}, "/assessment/", {"table": "kpis"}),
        (f"{INDICATORS}export/", {"table": "levels"}, "/assessment/", {"table": "levels"}),
        (f"{RANKINGS}export/", {"type": "village"}, "/assessment/rankings/", {"type": "village"}),
    ]
    for api_url, api_params, page_url, page_params in pairs:
        exported = client.get(api_url, {**api_params, **JUNE})
        assert exported.status_code == 200, api_url
        assert exported["Content-Type"].startswith("text/csv")
        assert exported["Content-Disposition"].startswith("attachment;")
        from_page = page_client.get(page_url, {**page_params, **JUNE, "format": "csv"})
        assert rows_of_csv(exported) == rows_of_csv(from_page), api_url
    drill = {"indicator": "closure_rate", "part": "denominator"}
    exported = client.get(f"{CASES}export/", {**drill, "file_format": "xlsx", **JUNE})
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.content)).active
    assert sheet.max_row == 1 + 5  # the header and the five cases due in June
    assert client.get(f"{CASES}export/", {**drill, "file_format": "pdf"}).status_code == 400


def test_the_red_list(org, time_machine):
    case = file_case(org)
    time_machine.move_to(T0.replace(hour=17), tick=False)  # the screening limit long past
    rows = get(org.supervisor, OVERDUE).json()
    assert [row["number"] for row in rows] == [case.number]
    assert rows[0]["overdue_since"]
    assert get(org.town_committee, OVERDUE, limit=0).status_code == 400


def test_hot_spots_and_their_export(org):
    month_of_cases(org)
    found = get(org.town_committee, "/api/assessment/hot-spots/", **JUNE).json()
    grid = next(spot for spot in found if spot["grid_id"] == org.grid.pk)
    # Five whistles in the grid, the rejected one not counted (hot spots count what was taken up).
    assert grid["total"] == 4 and grid["items"][0]["item_id"] == org.item.pk
    assert get(org.town_committee, "/api/assessment/hot-spots/", item=0).status_code == 400
    exported = client_for(org.town_committee).get(
        "/api/assessment/hot-spots/export/", {"file_format": "csv", **JUNE}, HTTP_ACCEPT="text/csv"
    )
    assert exported.status_code == 200
    assert [row[1] for row in rows_of_csv(exported)[1:]].count(org.grid.name) == 1


# --- the towns' evaluations of departments -----------------------------------------------------


def evaluate(user, **changes):
    body = {"department": changes.pop("department"), "month": "2025-06-01", "score": "88.5"}
    body.update(note="Quick to report in", **changes)
    headers = {}
    if "key" in body:
        headers["HTTP_IDEMPOTENCY_KEY"] = body.pop("key")
    return client_for(user).post(EVALUATIONS, body, format="json", **headers)


def test_the_town_committee_scores_a_department(org):
    response = evaluate(org.town_committee, department=org.department.pk)
    assert response.status_code == 201, response.json()
    row = TownEvaluation.objects.get()
    assert (row.town, row.department, row.score) == (org.town, org.department, Decimal("88.50"))
    listed = get(org.town_committee, EVALUATIONS, month="2025-06-15").json()
    assert [(r["department_id"], r["score"]) for r in listed] == [(org.department.pk, "88.50")]
    assert get(org.town_committee, EVALUATIONS, month="2025-05-01").json() == []
    # Given again, a new row replaces the month's score (append-only); the list shows one.
    evaluate(org.town_committee, department=org.department.pk, score="90")
    assert TownEvaluation.current().get().score == Decimal("90.00")
    assert TownEvaluation.objects.get(pk=row.pk).score == Decimal("88.50")
    listed = get(org.town_committee, EVALUATIONS, month="2025-06-15").json()
    assert [(r["department_id"], r["score"]) for r in listed] == [(org.department.pk, "90.00")]
    assert listed[0]["replaces_id"] == row.pk


def test_evaluations_are_the_towns_and_bad_input_changes_nothing(org):
    for user in (org.captain, org.supervisor, org.city_committee, org.liaison):
        assert evaluate(user, department=org.department.pk).status_code == 403
        assert get(user, EVALUATIONS).status_code == 403
    for changes, field in [
        ({"score": "101"}, "score"),
        ({"score": "abc"}, "score"),
        ({"month": "2024-01-01"}, "month"),
        ({"department": 2**40}, "department"),
    ]:
        response = evaluate(org.town_committee, **{"department": org.department.pk, **changes})
        assert response.status_code == 400, changes
        assert field in response.json()["fields"], (changes, response.json())
    other = evaluate(org.town_committee, department=org.department.pk, town=org.other_town.pk)
    assert other.status_code == 403
    assert not TownEvaluation.objects.exists()


def test_a_retried_evaluation_is_recorded_once(org):
    first = evaluate(org.town_committee, department=org.department.pk, key="e-1")
    again = evaluate(org.town_committee, department=org.department.pk, key="e-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert TownEvaluation.objects.count() == 1
