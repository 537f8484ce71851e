"""The policy lab's comparison (/lab/compare/): the rules in force and up to three replays side
by side, the cases behind every number (as many rows as the number, live and under the
scenario), the verdicts a replay changes, the XLSX export and the printed summary; and who
may open them."""

import io
from datetime import date
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from openpyxl import load_workbook

from assessment import dashboard as board
from assessment.indicators import KEYS, LABELS
from assessment.periods import custom
from policylab import services
from policylab.models import Replay, ReplayCaseFact, ReplayDispatchFact, Scenario
from tests.factories import CityFactory
from tests.policylab.conftest import change_limits, run

COMPARE = reverse("policylab:compare")


class Marked(HTMLParser):
    """The attributes of every element with a data-testid, in document order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-testid" in attrs:
            self.found.append(attrs)

    def all(self, testid: str) -> list[dict]:
        return [attrs for attrs in self.found if attrs["data-testid"] == testid]


def en_client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def query(*replays) -> str:
    return "?" + "&".join(f"replay={replay.pk}" for replay in replays)


@pytest.fixture
def two(lab):
    """A replay of the rules in force, then one with every limit at a quarter."""
    same = run(lab, name="In force again")
    quarter_scenario = Scenario.objects.create(
        city=lab.org.city,
        name="Quarter limits",
        limits=lab.scenario.limits,
        scheme=lab.scenario.scheme,
        created_by=lab.org.supervisor,
    )
    original = lab.scenario
    lab.scenario = quarter_scenario
    change_limits(lab, factor=0.25)
    quarter = run(lab, scenario=quarter_scenario, name="Quarter")
    lab.scenario = original
    assert same.state == quarter.state == Replay.State.DONE
    return same, quarter


def test_the_page_shows_every_indicator_for_the_rules_in_force_and_each_replay(lab, two):
    same, quarter = two
    response = en_client(lab.org.supervisor).get(COMPARE + query(same, quarter))
    assert response.status_code == 200
    html = response.content.decode()
    marked = Marked(html)
    numbers = {(attrs["data-key"], attrs["data-column"]): attrs for attrs in marked.all("number")}
    for key in KEYS:
        assert escape(str(LABELS[key])) in html
        for column, values in (
            ("live", same.summary["live"]["indicators"][key]),
            ("1", same.summary["scenario"]["indicators"][key]),
            ("2", quarter.summary["scenario"]["indicators"][key]),
        ):
            cell = numbers[(key, column)]
            assert (int(cell["data-n"]), int(cell["data-d"])) == (values["n"], values["d"]), key
            assert board.format_value(key, values["v"]) in html
    # The rules in force replayed change nothing; a quarter of every limit makes cases late.
    live_on_time = same.summary["live"]["indicators"]["on_time_closure_rate"]
    assert same.summary["scenario"]["indicators"]["on_time_closure_rate"] == live_on_time
    assert marked.all("rules-same") and marked.all("rule-changed")
    # The same change of a stage's limit on many items is one line.
    assert "Time limit of screening (" in html and " items: " in html
    assert [a["data-count"] for a in marked.all("changed-cases")] == [
        "0",
        str(ReplayCaseFact.objects.filter(replay=quarter, verdict_changed=True).count()),
    ]
    # The 70/20/10 rows, escalations per level and "would have escalated", the rankings.
    assert len(marked.all("distribution-row")) == 3
    keys = [attrs["data-key"] for attrs in marked.all("escalation-row")]
    assert keys[:4] == ["cases", "whistled", "escalated", "overdue"]
    assert "would_escalate_town_consultation" in keys
    counts = {(a["data-key"], a["data-column"]): a["data-count"] for a in marked.all("count")}
    for key in ("cases", "whistled", "escalated", "overdue"):
        assert counts[(key, "live")] == str(same.summary["live"]["levels"][key])
        assert counts[(key, "2")] == str(quarter.summary["scenario"]["levels"][key])
    tally = quarter.summary["tally"]
    assert counts[("would_escalate", "2")] == str(tally["would_escalate"])
    for target in ("town", "town_consultation", "city"):
        expected = tally["would_escalate_by"].get(target, 0)
        assert counts[(f"would_escalate_{target}", "2")] == str(expected)
    for unit_type, rows in quarter.summary["scenario"]["rankings"].items():
        assert len(marked.all("ranking-row")) >= len(rows)
        assert f'data-testid="ranking-{unit_type}"' in html
    assert 'data-testid="counted-at"' in html and 'data-testid="live-changed"' not in html


def test_each_number_lists_exactly_its_cases_live_and_under_the_scenario(lab, two):
    _same, quarter = two
    client = en_client(lab.org.supervisor)
    keys = (
        "on_time_closure_rate",
        "closure_rate",
        "rework_rate",
        "response_rate",
        "solved_by_village_share",
        "avg_handling_hours",
        "p90_handling_hours",
        "rejected_share",
    )
    checked = 0
    for key in keys:
        for side in ("live", "scenario"):
            for part in ("numerator", "denominator"):
                url = reverse("policylab:replay_cases", args=[quarter.pk])
                response = client.get(url, {"indicator": key, "part": part, "side": side})
                assert response.status_code == 200
                count = Marked(response.content.decode()).all("result-count")[0]["data-count"]
                number = quarter.summary[side]["indicators"][key][
                    "n" if part == "numerator" else "d"
                ]
                assert int(count) == number, (key, side, part)
                checked += number
    assert checked > 0
    # The scenario side marks the rows whose verdict changed.
    response = client.get(
        reverse("policylab:replay_cases", args=[quarter.pk]),
        {"indicator": "on_time_closure_rate", "part": "denominator", "side": "scenario"},
    )
    marks = Marked(response.content.decode()).all("verdict-changed")
    changed = ReplayCaseFact.objects.filter(replay=quarter, verdict_changed=True).count()
    assert sum(int(mark["data-changed"]) for mark in marks) <= changed
    # A unit of the place: its own cases; a unit outside it, or a bad link: 400.
    town_rows = quarter.summary["scenario"]["rankings"]["town"]
    town = next(row for row in town_rows)
    response = client.get(
        reverse("policylab:replay_cases", args=[quarter.pk]),
        {
            "indicator": "closure_rate",
            "part": "denominator",
            "side": "scenario",
            "unit_type": "town",
            "unit_id": town["id"],
        },
    )
    assert response.status_code == 200
    bad = client.get(
        reverse("policylab:replay_cases", args=[quarter.pk]),
        {"indicator": "nonsense", "part": "numerator", "side": "live"},
    )
    assert bad.status_code == 400 and b'data-testid="drill-errors"' in bad.content


def test_the_changed_list_holds_exactly_the_changed_verdicts(lab, two):
    same, quarter = two
    client = en_client(lab.org.supervisor)
    for replay in (same, quarter):
        response = client.get(reverse("policylab:replay_changed", args=[replay.pk]))
        assert response.status_code == 200
        marked = Marked(response.content.decode())
        expected_cases = set(
            ReplayCaseFact.objects.filter(replay=replay, verdict_changed=True).values_list(
                "case_id", flat=True
            )
        )
        expected_dispatches = set(
            ReplayDispatchFact.objects.filter(replay=replay, verdict_changed=True).values_list(
                "dispatch_id", flat=True
            )
        )
        assert {int(a["data-case"]) for a in marked.all("changed-case")} == expected_cases
        assert {
            int(a["data-dispatch"]) for a in marked.all("changed-dispatch")
        } == expected_dispatches
    assert not ReplayCaseFact.objects.filter(replay=same, verdict_changed=True).exists()
    assert ReplayCaseFact.objects.filter(replay=quarter, verdict_changed=True).exists()
    html = client.get(reverse("policylab:replay_changed", args=[quarter.pk])).content.decode()
    assert "late" in html


def test_the_workbook_holds_the_same_numbers_and_the_summary_prints(lab, two):
    same, quarter = two
    client = en_client(lab.org.supervisor)
    response = client.get(reverse("policylab:compare_export") + query(same, quarter))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == [
        "Indicators",
        "Distribution 70-20-10",
        "Escalations",
        "Rankings",
        "Changed cases",
    ]
    rows = list(book["Indicators"].iter_rows(values_only=True))
    by_label = {row[0]: row for row in rows[1:]}
    for key in KEYS:
        row = by_label[str(LABELS[key])]
        for index, values in enumerate(
            (
                same.summary["live"]["indicators"][key],
                same.summary["scenario"]["indicators"][key],
                quarter.summary["scenario"]["indicators"][key],
            )
        ):
            value, n, d = row[2 + 3 * index : 5 + 3 * index]
            assert (n, d) == (values["n"], values["d"])
            assert value == board.export_value(key, values["v"])
    escalations = {row[0]: row[1:] for row in book["Escalations"].iter_rows(values_only=True)}
    levels = quarter.summary["scenario"]["levels"]
    assert escalations["Overdue (a limit passed)"][2] == levels["overdue"]
    assert (
        escalations["Would have escalated (all)"][2] == quarter.summary["tally"]["would_escalate"]
    )
    changed = list(book["Changed cases"].iter_rows(values_only=True))[1:]
    assert (
        len(changed)
        == ReplayCaseFact.objects.filter(replay=quarter, verdict_changed=True).count()
        + ReplayDispatchFact.objects.filter(replay=quarter, verdict_changed=True).count()
    )
    rankings = list(book["Rankings"].iter_rows(values_only=True))[1:]
    assert len(rankings) == sum(len(rows) for rows in same.summary["live"]["rankings"].values())

    printed = client.get(reverse("policylab:compare_print") + query(same, quarter))
    assert printed.status_code == 200
    html = printed.content.decode()
    assert 'data-testid="print-sheet"' in html and "@media print" not in html
    assert "css/lab_compare.css" in html and 'class="site-header' not in html
    for testid in ("print-indicators", "print-distribution", "print-escalations", "print-changed"):
        assert f'data-testid="{testid}"' in html
    assert escape(str(LABELS["on_time_closure_rate"])) in html and "Quarter" in html


def test_replays_of_another_period_are_not_compared(lab, two):
    same, _quarter = two
    june = services.request_replay(
        user=lab.org.supervisor,
        scenario_id=lab.scenario.pk,
        place_id=lab.org.city.pk,
        period=custom(date(2025, 6, 1), date(2025, 6, 30)),
        name="June",
    )
    services.run_replay(replay_id=june.pk)
    response = en_client(lab.org.supervisor).get(COMPARE + query(same, june))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="compare-errors"' in html and "same place and period" in html


def done(org, *, city=None, name="done") -> Replay:
    """A finished replay row (no facts), for the refusals."""
    city = city or org.city
    scenario = Scenario.objects.create(city=city, name=name, created_by=org.supervisor)
    return Replay.objects.create(
        scenario=scenario,
        name=name,
        region=city,
        period_kind="custom",
        period_start=date(2025, 6, 1),
        period_end=date(2025, 9, 1),
        state=Replay.State.DONE,
        requested_by=org.supervisor,
        summary={"live": {}, "scenario": {}, "tally": {}},
    )


def test_at_most_three_replays_and_only_finished_ones(org):
    replays = [done(org, name=f"r{n}") for n in range(4)]
    client = en_client(org.supervisor)
    response = client.get(COMPARE + query(*replays))
    assert response.status_code == 400 and b"At most 3 replays" in response.content
    assert client.get(COMPARE + query(*replays[:3])).status_code == 200
    Replay.objects.filter(pk=replays[0].pk).update(state=Replay.State.RUNNING)
    response = client.get(COMPARE + query(*replays[:2]))
    assert response.status_code == 400 and b"Only finished replays" in response.content
    # Counted on other live facts (cases handled between the runs): said, the first shown.
    Replay.objects.filter(pk=replays[2].pk).update(
        summary={"live": {"levels": {"cases": 1}}, "scenario": {}, "tally": {}}
    )
    response = client.get(COMPARE + query(replays[1], replays[2]))
    assert response.status_code == 200 and b'data-testid="live-changed"' in response.content
    # No replay chosen: the chooser lists the finished ones.
    chooser = client.get(COMPARE)
    assert chooser.status_code == 200 and b'data-testid="compare-choose"' in chooser.content
    assert b"r3" in chooser.content


def test_who_may_compare(org, client):
    own = done(org)
    elsewhere = done(org, city=CityFactory(), name="elsewhere")
    supervisor = en_client(org.supervisor)
    for url in (
        COMPARE + query(elsewhere),
        reverse("policylab:compare_export") + query(elsewhere),
        reverse("policylab:compare_print") + query(elsewhere),
        reverse("policylab:replay_changed", args=[elsewhere.pk]),
        reverse("policylab:replay_cases", args=[elsewhere.pk])
        + "?indicator=closure_rate&part=numerator&side=live",
    ):
        assert supervisor.get(url).status_code == 404, url
    assert supervisor.get(COMPARE + query(own, elsewhere)).status_code == 404
    assert en_client(org.captain).get(COMPARE + query(own)).status_code == 403
    assert en_client(org.city_committee).get(COMPARE + query(own)).status_code == 200
    anonymous = client.get(COMPARE + query(own))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
