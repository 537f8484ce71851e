"""The policy lab through the REST API (policylab.api): a scenario made from the rules in force,
changed (PUT, PATCH), replayed (queued by the API, run here as the worker would), its summary,
the comparison with the rules in force and the cases whose verdict changed; every error in the
API's one shape: 400 for bad rules or input, 404 outside the user's cities, 403 without a lab
role, 409 for a replay in the wrong state, 401 without a token."""

import pytest
from rest_framework.test import APIClient

from assessment.models import CaseFact
from cases.models import Case
from policylab import services
from policylab.models import Replay, ReplayCaseFact, Scenario
from policylab.rules import limits_in_force
from teams.models import Role
from tests.factories import CityFactory, MembershipFactory, UserFactory
from tests.policylab.conftest import run
from tests.tokens import api_token

SCENARIOS = "/api/lab/scenarios/"
REPLAYS = "/api/lab/replays/"
COMPARE = "/api/lab/compare/"
SUMMER = {"kind": "custom", "start": "2025-06-01", "end": "2025-08-31"}


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def scenario_url(pk) -> str:
    return f"{SCENARIOS}{pk}/"


def replay_url(pk, action: str = "") -> str:
    return f"{REPLAYS}{pk}/" + (f"{action}/" if action else "")


def quartered(limits: list[dict]) -> list[dict]:
    return [dict(row, amount=max(1, round(row["amount"] * 0.25))) for row in limits]


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    assert body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


def other_city_supervisor():
    city = CityFactory(code="SZ")
    user = UserFactory(username="sup-sz")
    MembershipFactory(user=user, role=Role.SUPERVISOR, region=city)
    return city, user


def request_replay(client, scenario_id: int, place_id: int, name: str, **period) -> dict:
    response = client.post(
        REPLAYS,
        {"scenario": scenario_id, "place": place_id, "name": name, **(period or SUMMER)},
        format="json",
    )
    assert response.status_code == 202, response.content
    return response.json()


def work(replay_id: int) -> None:
    """What the worker does with a queued replay (policylab.tasks.run_replay)."""
    assert services.run_replay(replay_id=replay_id) == Replay.State.DONE


# --- the whole way -----------------------------------------------------------------------------


def test_create_change_replay_compare_and_list_the_changed_cases(lab):
    org = lab.org
    api = client_for(org.supervisor)

    # A new scenario of the user's one city copies the rules in force.
    created = api.post(SCENARIOS, {"name": "Quick report-in", "note": "A test"}, format="json")
    assert created.status_code == 201, created.content
    scenario = created.json()
    assert scenario["city"]["id"] == org.city.pk
    assert scenario["limits"] == limits_in_force()
    assert scenario["holidays"] == [] and scenario["yellow_at_percent"] is None
    listed = api.get(SCENARIOS).json()
    assert {row["id"] for row in listed["results"]} == {lab.scenario.pk, scenario["id"]}

    # PATCH: only the limits given change (matched by item and stage), the rest is kept.
    first = scenario["limits"][0]
    patched = api.patch(
        scenario_url(scenario["id"]),
        {"limits": [dict(first, amount=first["amount"] * 2)], "holidays": ["2025-06-16"]},
        format="json",
    )
    assert patched.status_code == 200, patched.content
    body = patched.json()
    assert body["name"] == "Quick report-in" and body["note"] == "A test"
    assert body["limits"][0]["amount"] == first["amount"] * 2
    assert body["limits"][1:] == scenario["limits"][1:]
    assert body["holidays"] == ["2025-06-16"]

    # PUT: everything as given.
    put = api.put(
        scenario_url(scenario["id"]),
        {
            "name": "Limits × 0.25",
            "note": "",
            "limits": quartered(scenario["limits"]),
            "holidays": [],
            "workdays": [],
            "yellow_at_percent": 60,
            "scheme": scenario["scheme"],
        },
        format="json",
    )
    assert put.status_code == 200, put.content
    stored = Scenario.objects.get(pk=scenario["id"])
    assert stored.name == "Limits × 0.25" and stored.yellow_at_percent == 60
    assert stored.limits == quartered(scenario["limits"]) and stored.holidays == []
    detail = api.get(scenario_url(scenario["id"])).json()
    assert detail["limits"] == stored.limits and detail["yellow_at_percent"] == 60

    # Replays: queued (202), run by the worker, then read.
    in_force = request_replay(api, lab.scenario.pk, org.city.pk, "In force")
    quick = request_replay(api, scenario["id"], org.city.pk, "Quartered")
    assert quick["state"] == "queued" and quick["summary"] is None
    assert quick["period"]["start"] == "2025-06-01" and quick["period"]["end"] == "2025-08-31"
    assert quick["rules"]["yellow_at_percent"] == 60
    work(in_force["id"])
    work(quick["id"])
    replay = Replay.objects.get(pk=quick["id"])
    read = api.get(replay_url(quick["id"])).json()
    assert read["state"] == "done" and read["error"] == ""
    assert read["cases_done"] == read["cases_total"] == replay.cases_total > 0
    assert read["summary"]["tally"] == replay.summary["tally"]
    assert read["summary"]["scenario"]["levels"] == replay.summary["scenario"]["levels"]
    assert (
        read["summary"]["live"]["indicators"].keys() == replay.summary["live"]["indicators"].keys()
    )
    changed_count = replay.summary["tally"]["cases_changed"]
    assert changed_count > 0  # a quarter of every limit turns cases late

    # The list, filtered.
    done = api.get(REPLAYS, {"scenario": scenario["id"], "state": "done"}).json()
    assert [row["id"] for row in done["results"]] == [quick["id"]]
    assert api.get(REPLAYS, {"state": "queued"}).json()["count"] == 0

    # The comparison: the rules in force and both replays.
    compared = api.get(COMPARE, {"replay": [in_force["id"], quick["id"]]})
    assert compared.status_code == 200, compared.content
    comparison = compared.json()
    assert comparison["place"]["id"] == org.city.pk
    assert comparison["period"]["start"] == "2025-06-01"
    assert [column["id"] for column in comparison["replays"]] == [in_force["id"], quick["id"]]
    live, scenario_side = replay.summary["live"], replay.summary["scenario"]
    for row in comparison["indicators"]:
        assert row["live"] == live["indicators"][row["key"]]
        mine = row["replays"][1]
        assert (mine["n"], mine["d"], mine["v"]) == tuple(
            scenario_side["indicators"][row["key"]][part] for part in "ndv"
        )
        # The rules in force replayed change nothing.
        assert row["replays"][0]["v"] == row["live"]["v"]
        assert row["replays"][0]["change"] in (0, None)
    rows = {row["key"]: row for row in comparison["indicators"]}
    assert rows["solved_by_village_share"]["target"] == 0.7
    assert rows["closure_rate"]["target"] is None
    on_time = rows["on_time_closure_rate"]
    assert on_time["replays"][1]["change"] == pytest.approx(
        scenario_side["indicators"]["on_time_closure_rate"]["v"]
        - live["indicators"]["on_time_closure_rate"]["v"]
    )
    levels = {row["key"]: row for row in comparison["levels"]}
    assert levels["overdue"]["live"] == live["levels"]["overdue"]
    assert levels["overdue"]["replays"][1] == {
        "value": scenario_side["levels"]["overdue"],
        "change": scenario_side["levels"]["overdue"] - live["levels"]["overdue"],
    }
    assert levels["overdue"]["replays"][0]["change"] == 0
    columns = comparison["replays"]
    assert columns[1]["cases_changed"] == changed_count
    assert columns[1]["would_escalate"] == replay.summary["tally"]["would_escalate"]
    assert columns[0]["cases_changed"] == 0
    assert columns[0]["rules_changed"]["limits"] == []
    assert not columns[0]["rules_changed"]["scheme_changed"]
    assert len(columns[1]["rules_changed"]["limits"]) == sum(
        1 for row in quartered(scenario["limits"]) if row not in scenario["limits"]
    )
    assert columns[1]["rules_changed"]["yellow_at_percent"] == 60
    rankings = {block["unit_type"]: block["units"] for block in comparison["rankings"]}
    assert set(rankings) == set(live["rankings"])
    for unit_type, units in rankings.items():
        assert [unit["id"] for unit in units] == [row["id"] for row in live["rankings"][unit_type]]
        scenario_rows = {row["id"]: row for row in scenario_side["rankings"][unit_type]}
        for unit in units:
            assert unit["name"]
            mine = unit["replays"][1]
            assert mine["score"] == scenario_rows[unit["id"]]["score"]
            assert mine["rank"] == scenario_rows[unit["id"]]["rank"]
            if unit["live"]["rank"] is not None and mine["rank"] is not None:
                assert mine["rank_change"] == unit["live"]["rank"] - mine["rank"]
    town_names = {unit["id"]: unit["name"] for unit in rankings["town"]}
    assert town_names[org.town.pk] == org.town.name

    # Every number opens exactly its cases, under the rules in force and under the replay's.
    for key in ("on_time_closure_rate", "closure_rate", "response_rate", "solved_by_village_share"):
        row = rows[key]
        for part, letter in (("numerator", "n"), ("denominator", "d")):
            live_cases = api.get(row["live_cases"][part])
            assert live_cases.status_code == 200, live_cases.content
            assert live_cases.json()["count"] == row["live"][letter], (key, part)
            mine = row["replays"][1]
            assert api.get(mine["cases"][part]).json()["count"] == mine[letter], (key, part)
    late = api.get(
        replay_url(quick["id"], "cases"),
        {
            "indicator": "on_time_closure_rate",
            "part": "numerator",
            "unit_type": "town",
            "unit_id": org.town.pk,
        },
    )
    assert late.status_code == 200, late.content
    assert_error(
        api.get(
            replay_url(quick["id"], "cases"),
            {
                "indicator": "closure_rate",
                "part": "numerator",
                "unit_type": "town",
                "unit_id": org.village.pk,
            },
        ),
        404,
    )

    # The cases behind "changed": exactly the replay's changed verdicts, live beside replayed.
    changed = api.get(columns[1]["changed_cases"])
    assert changed.status_code == 200, changed.content
    listed = changed.json()
    expected = ReplayCaseFact.objects.filter(replay=replay, verdict_changed=True)
    assert listed["count"] == changed_count == expected.count()
    assert {row["case_id"] for row in listed["results"]} == {fact.case_id for fact in expected}
    for row in listed["results"]:
        case = Case.objects.get(pk=row["case_id"])
        fact = CaseFact.objects.get(case=case)
        assert row["number"] == case.number
        assert row["live"]["overdue"] == fact.overdue
        assert row["live"]["closed_on_time"] == fact.closed_on_time
        assert (row["live"]["overdue"], row["live"]["closed_on_time"]) != (
            row["scenario"]["overdue"],
            row["scenario"]["closed_on_time"],
        )
    sooner = api.get(replay_url(quick["id"], "changed"), {"which": "would_escalate"}).json()
    assert sooner["count"] == replay.summary["tally"]["would_escalate"]
    assert all(row["would_escalate_at"] for row in sooner["results"])
    assert api.get(replay_url(in_force["id"], "changed")).json()["count"] == 0

    # Deleting: the replay, then the scenario.
    assert api.delete(replay_url(in_force["id"])).status_code == 204
    assert not Replay.objects.filter(pk=in_force["id"]).exists()
    assert api.delete(scenario_url(scenario["id"])).status_code == 204
    assert not Replay.objects.filter(pk=quick["id"]).exists()


# --- bad input: 400 with code, message and fields ----------------------------------------------


def test_bad_rules_are_refused_with_their_fields_and_nothing_changes(lab):
    api = client_for(lab.org.supervisor)
    scenario = lab.scenario
    url = scenario_url(scenario.pk)
    zero = dict(scenario.limits[1], amount=0)
    body = assert_error(api.patch(url, {"limits": [zero]}, format="json"), 400)
    # The field is the body's own: the first (and only) limit given.
    assert body["fields"] == {"limits.0": ["A time limit must be more than zero (0 given)."]}
    full = {
        "name": "x",
        "limits": [*scenario.limits[:1], zero],
        "holidays": [],
        "workdays": [],
        "yellow_at_percent": None,
        "scheme": None,
    }
    assert "limits.1" in assert_error(api.put(url, full, format="json"), 400)["fields"]
    no_weight = {
        "town_evaluation_weight": "0.3",
        "indicators": [
            {"key": "closure_rate", "weight": "0"},
            {"key": "on_time_closure_rate", "weight": "0"},
        ],
        "deductions": [],
    }
    body = assert_error(api.patch(url, {"scheme": no_weight}, format="json"), 400)
    assert any("more than zero" in message for message in body["fields"]["scheme"]), body
    body = assert_error(
        api.patch(
            url,
            {"scheme": {**no_weight, "indicators": [{"key": "closure_rate", "weight": "-1"}]}},
            format="json",
        ),
        400,
    )
    assert "scheme.indicators.0" in body["fields"], body
    body = assert_error(api.patch(url, {"yellow_at_percent": 100}, format="json"), 400)
    assert "yellow_at_percent" in body["fields"]
    body = assert_error(
        api.patch(url, {"holidays": ["2025-06-16"], "workdays": ["2025-06-16"]}, format="json"),
        400,
    )
    assert "workdays" in body["fields"]
    body = assert_error(api.patch(url, {"name": "  "}, format="json"), 400)
    assert body["fields"] == {"name": ["Give it a name."]}
    body = assert_error(api.patch(url, {"limits": [{"item": "x"}]}, format="json"), 400, "invalid")
    assert "limits.0.item" in body["fields"]
    assert "name" in assert_error(api.put(url, {}, format="json"), 400, "invalid")["fields"]
    scenario.refresh_from_db()
    assert scenario.name == "Rules in force" and scenario.limits == limits_in_force()

    # A replay of a period with no cases, of a period not begun, without a scenario.
    body = assert_error(
        api.post(
            REPLAYS,
            {
                "scenario": scenario.pk,
                "place": lab.org.city.pk,
                "kind": "month",
                "anchor": "2024-01-15",
            },
            format="json",
        ),
        400,
    )
    assert "nothing to replay" in body["fields"]["period"][0]
    body = assert_error(
        api.post(
            REPLAYS,
            {
                "scenario": scenario.pk,
                "place": lab.org.city.pk,
                "kind": "year",
                "anchor": "2031-01-01",
            },
            format="json",
        ),
        400,
    )
    assert "period" in body["fields"]
    body = assert_error(
        api.post(REPLAYS, {"place": lab.org.city.pk, **SUMMER}, format="json"), 400, "invalid"
    )
    assert "scenario" in body["fields"]
    body = assert_error(
        api.post(
            REPLAYS,
            {
                "scenario": scenario.pk,
                "place": lab.org.city.pk,
                "kind": "custom",
                "start": "2025-08-31",
                "end": "2025-06-01",
            },
            format="json",
        ),
        400,
        "invalid",
    )
    assert "period" in body["fields"]
    assert not Replay.objects.exists()


def test_the_comparison_refuses_what_cannot_be_compared_and_replays_in_the_wrong_state(lab):
    api = client_for(lab.org.supervisor)
    done = run(lab, name="done")
    other = run(lab, name="done too")
    queued = request_replay(api, lab.scenario.pk, lab.org.city.pk, "queued")
    june = request_replay(
        api, lab.scenario.pk, lab.org.city.pk, "June", kind="month", anchor="2025-06-01"
    )
    work(june["id"])

    body = assert_error(api.get(COMPARE, {"replay": [done.pk, queued["id"]]}), 400)
    assert "queued" in body["message"] and "replay" in body["fields"]
    body = assert_error(api.get(COMPARE, {"replay": [done.pk, june["id"]]}), 400)
    assert "same place and period" in body["message"]
    body = assert_error(
        api.get(COMPARE, {"replay": [done.pk, other.pk, june["id"], queued["id"]]}), 400
    )
    assert body["fields"] == {"replay": ["Compare at most three replays at a time."]}
    assert "replay" in assert_error(api.get(COMPARE), 400)["fields"]
    assert "replay.0" in assert_error(api.get(COMPARE, {"replay": "x"}), 400)["fields"]
    assert_error(api.get(COMPARE, {"replay": [done.pk, 10**9]}), 404, "not_found")
    single = api.get(COMPARE, {"replay": [done.pk, done.pk]})
    assert single.status_code == 200 and len(single.json()["replays"]) == 1

    # A finished replay cannot be cancelled (409); a queued one can, at once.
    body = assert_error(api.post(replay_url(done.pk, "cancel")), 409, "conflict")
    assert "queued or running" in body["message"]
    # Nor can a running one be deleted, nor its scenario.
    assert_error(api.delete(replay_url(queued["id"])), 409, "conflict")
    assert_error(api.delete(scenario_url(lab.scenario.pk)), 409, "conflict")
    cancelled = api.post(replay_url(queued["id"], "cancel"))
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["state"] == "cancelled"
    assert services.run_replay(replay_id=queued["id"]) == "skipped"
    assert_error(api.post(replay_url(queued["id"], "cancel")), 409, "conflict")
    assert api.delete(replay_url(queued["id"])).status_code == 204


# --- who may: 404 outside the user's cities, 403 without a lab role, 401 without a token ------


def test_another_citys_supervisor_finds_nothing_of_this_city(lab):
    replay = run(lab)
    their_city, stranger = other_city_supervisor()
    api = client_for(stranger)
    theirs = api.post(SCENARIOS, {"name": "Ours"}, format="json")
    assert theirs.status_code == 201 and theirs.json()["city"]["id"] == their_city.pk
    assert [row["id"] for row in api.get(SCENARIOS).json()["results"]] == [theirs.json()["id"]]
    assert api.get(REPLAYS).json()["count"] == 0
    for response in (
        api.get(scenario_url(lab.scenario.pk)),
        api.patch(scenario_url(lab.scenario.pk), {"name": "Mine now"}, format="json"),
        api.delete(scenario_url(lab.scenario.pk)),
        api.get(replay_url(replay.pk)),
        api.get(replay_url(replay.pk, "changed")),
        api.post(replay_url(replay.pk, "cancel")),
        api.delete(replay_url(replay.pk)),
        api.get(COMPARE, {"replay": [replay.pk]}),
        api.post(SCENARIOS, {"name": "Theirs", "city": lab.org.city.pk}, format="json"),
        api.post(
            REPLAYS,
            {"scenario": lab.scenario.pk, "place": their_city.pk, **SUMMER},
            format="json",
        ),
        # Their own scenario over this city's place.
        api.post(
            REPLAYS,
            {"scenario": theirs.json()["id"], "place": lab.org.city.pk, **SUMMER},
            format="json",
        ),
        api.get(scenario_url("abc")),
    ):
        assert_error(response, 404, "not_found")
    assert Scenario.objects.get(pk=lab.scenario.pk).name == "Rules in force"
    assert Replay.objects.filter(pk=replay.pk).exists()


def test_a_captain_is_refused_the_lab_and_anonymous_must_sign_in(org):
    scenario = services.create_scenario(user=org.supervisor, city=org.city, name="In force")
    captain = client_for(org.captain)
    for response in (
        captain.get(SCENARIOS),
        captain.post(SCENARIOS, {"name": "Mine"}, format="json"),
        captain.get(scenario_url(scenario.pk)),
        captain.patch(scenario_url(scenario.pk), {"name": "Mine"}, format="json"),
        captain.get(REPLAYS),
        captain.post(REPLAYS, {"scenario": scenario.pk, "place": org.city.pk, **SUMMER}),
        captain.get(COMPARE, {"replay": [1]}),
    ):
        body = assert_error(response, 403, "forbidden")
        assert "policy lab" in body["message"]
    anonymous = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    for response in (anonymous.get(SCENARIOS), anonymous.get(REPLAYS), anonymous.get(COMPARE)):
        assert_error(response, 401, "not_authenticated")
    assert Scenario.objects.count() == 1


def test_a_city_committee_member_of_two_cities_names_the_city(org):
    other_city, _supervisor = other_city_supervisor()
    MembershipFactory(user=org.city_committee, role=Role.CITY_COMMITTEE, region=other_city)
    api = client_for(org.city_committee)
    body = assert_error(api.post(SCENARIOS, {"name": "Which?"}, format="json"), 400)
    assert body["fields"] == {"city": ["Choose the city of the scenario."]}
    made = api.post(SCENARIOS, {"name": "There", "city": other_city.pk}, format="json")
    assert made.status_code == 201 and made.json()["city"]["id"] == other_city.pk
    assert_error(api.post(SCENARIOS, {"name": "Town", "city": org.town.pk}, format="json"), 404)
    assert Scenario.objects.get(pk=made.json()["id"]).created_by == org.city_committee
