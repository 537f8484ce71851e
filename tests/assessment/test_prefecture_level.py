"""The assessment on four levels with the prefecture's committee on the escalation chain
(teams.levels.on_chain): a case that climbs town -> city -> prefecture and closes there is a
prefecture case in its facts and in the level view (level_prefecture_share), the dashboards
offer that share only where the chain reaches the prefecture, and the prefecture's committee
reads the assessment of the cities below it, as a supervisor held at a prefecture does."""

import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import translation

from assessment import dashboard as board
from assessment import definitions, selectors
from assessment.facts import compute_facts
from assessment.models import CaseFact, SolvedBy
from assessment.periods import custom
from assessment.services import refresh_case_facts
from cases.models import Case, Deadline, Event, Level, Status
from checklists.models import Stage
from consultation.services import close_in_consultation
from teams.levels import on_chain
from teams.models import LevelName
from tests.api.conftest import client_for
from tests.cases.conftest import org
from tests.cases.engine_steps import T0, at
from tests.cases.prefecture import at_the_prefecture, four_levels

pytestmark = pytest.mark.django_db
__all__ = ["org"]

JUNE = custom(T0.date().replace(day=1), T0.date().replace(day=30))
ROW = re.compile(r'<tr data-testid="table-row">(.*?)</tr>', re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
TAG = re.compile(r"<[^>]+>")


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def closed_at_the_prefecture(org, committee) -> Case:
    case = at_the_prefecture(org)
    close_in_consultation(user=committee, case_id=case.pk, reason="Settled by the prefecture")
    refresh_case_facts(case_id=case.pk)
    return case


def closing_level_rows(html: str) -> list[str]:
    start = html.index('data-testid="table-closing_levels"')
    body = html[start : html.index("</table>", start)]
    return [
        " ".join(unescape(TAG.sub(" ", CELL.findall(row)[0])).split()) for row in ROW.findall(body)
    ]


def test_a_case_closed_at_the_prefecture_is_a_prefecture_case(org):
    prefecture = four_levels(org)
    case = closed_at_the_prefecture(org, prefecture.member)
    fact = CaseFact.objects.get(pk=case.pk)
    assert (fact.max_level, fact.closed_level) == (Level.PREFECTURE, Level.PREFECTURE)
    assert fact.closed and fact.escalated and fact.solved_by == SolvedBy.CONSULTATION
    for unit_type, unit_id in (("city", org.city.pk), ("prefecture", prefecture.region.pk)):
        values = selectors.indicators(
            user=prefecture.member, unit_type=unit_type, unit_id=unit_id, period=JUNE
        )
        share = values["level_prefecture_share"]
        assert (share.numerator, share.denominator, share.value) == (1, 1, 1.0)
        assert values["level_city_share"].numerator == 0
        assert values["level_town_share"].numerator == 0
        with translation.override("en"):
            assert str(share.label) == "Closed at prefecture level (level view)"
    listed = selectors.cases_behind(
        user=prefecture.member,
        indicator_key="level_prefecture_share",
        part="numerator",
        unit_type="city",
        unit_id=org.city.pk,
        period=JUNE,
    )
    assert [row.pk for row in listed] == [case.pk]
    levels = selectors.level_distribution(
        user=prefecture.member, unit_type="city", unit_id=org.city.pk, period=JUNE
    )
    assert {level: row["count"] for level, row in levels["closing_levels"].items()} == {
        "village": 0,
        "town": 0,
        "city": 0,
        "prefecture": 1,
    }
    assert levels["counts"]["consultation"] == 1


def test_the_facts_of_an_escalation_to_the_prefecture_are_those_of_its_events(org):
    """compute_facts alone: the climb to the prefecture raises the highest level, escalates
    the case, and a missed prefecture consultation limit makes it late."""
    case = Case(
        pk=10_002,
        city=org.city,
        town=org.town,
        village=org.village,
        grid=org.grid,
        item=org.item,
        filed_at=at(2025, 6, 10, 9, 0),
        status=Status.IN_CONSULTATION,
    )
    moves = [
        ("whistle", "filed", "dispatched", "village", "town", at(2025, 6, 10, 9, 30)),
        (
            "request_consultation",
            "dispatched",
            "in_consultation",
            "town",
            "town",
            at(2025, 6, 10, 17),
        ),
        ("escalate", "in_consultation", "in_consultation", "town", "city", at(2025, 6, 11, 10)),
        (
            "escalate_to_prefecture",
            "in_consultation",
            "in_consultation",
            "city",
            "prefecture",
            at(2025, 6, 18, 10),
        ),
    ]
    events = [
        Event(
            pk=pk,
            case=case,
            action=action,
            from_status=from_status,
            to_status=to_status,
            from_level=from_level,
            to_level=to_level,
            data={},
            created_at=when,
        )
        for pk, (action, from_status, to_status, from_level, to_level, when) in enumerate(
            moves, start=1
        )
    ]
    late = Deadline(
        case=case,
        stage=Stage.PREFECTURE_CONSULTATION,
        started_at=at(2025, 6, 18, 10),
        due_at=at(2025, 6, 25, 10),
        fired_at=at(2025, 6, 25, 10),
    )
    values = compute_facts(case=case, events=events, dispatches=[], deadlines=[late]).case
    assert values["max_level"] == Level.PREFECTURE
    assert values["escalated"] and not values["closed"]
    assert values["overdue"] and values["overdue_at"] == at(2025, 6, 25, 10)
    # Only up to the city: a three-level case as before.
    values = compute_facts(case=case, events=events[:3], dispatches=[], deadlines=[]).case
    assert values["max_level"] == Level.CITY and values["escalated"]
    assert not values["overdue"]


def test_the_prefecture_share_is_offered_only_where_the_chain_reaches_it(org):
    # Three levels: what the pages always showed.
    assert "level_prefecture_share" not in board.shown_keys()
    assert "level_city_share" in board.shown_keys()
    assert board.closing_levels() == ["village", "town", "city"]
    assert not board.listed("level_prefecture_share") and board.listed("level_city_share")
    consultation = definitions.help_text("solved_by_consultation_share")[0]
    with translation.override("en"):
        assert "prefecture" not in str(consultation)
    # Four levels with the prefecture off the chain: still nothing of it.
    four_levels(org, on_chain=False)
    assert not on_chain("prefecture")
    assert "level_prefecture_share" not in board.shown_keys()
    assert board.closing_levels() == ["village", "town", "city"]
    levels = selectors.level_distribution(
        user=org.supervisor, unit_type="city", unit_id=org.city.pk, period=JUNE
    )
    assert list(levels["closing_levels"]) == ["village", "town", "city"]
    # Its committee put on the chain: the share, its row in the level view, its help text.
    row = LevelName.objects.get(level="prefecture")
    row.committee = True
    row.save()
    assert on_chain("prefecture")
    keys = board.shown_keys()
    assert keys.index("level_prefecture_share") == keys.index("level_city_share") + 1
    assert board.closing_levels() == ["village", "town", "city", "prefecture"]
    assert board.listed("level_prefecture_share")
    consultation = definitions.help_text("solved_by_consultation_share")[0]
    with translation.override("en"):
        own = str(definitions.help_text("level_prefecture_share")[0])
        assert own == "Closed cases closed at prefecture level: the level view."
        assert "town, city or prefecture committee" in str(consultation)


def test_the_prefecture_committee_reads_the_cities_below_it(client, org):
    prefecture = four_levels(org)
    closed_at_the_prefecture(org, prefecture.member)
    member = prefecture.member
    assert board.home_unit(user=member) == ("prefecture", prefecture.region.pk)

    def ids(unit_type: str) -> set[int]:
        rows = selectors.units_in_scope(user=member, unit_type=unit_type)
        return set(rows.values_list("pk", flat=True))

    assert ids("prefecture") == {prefecture.region.pk}
    assert ids("city") == {org.city.pk}
    assert ids("town") == {org.town.pk, org.other_town.pk}
    assert org.team.pk in ids("team")
    # The city committee below reads its city, not the prefecture.
    assert not selectors.units_in_scope(user=org.city_committee, unit_type="prefecture").exists()

    client.force_login(member)
    response = client.get(
        reverse("assessment:overview"),
        {"kind": "month", "anchor": "2025-06-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert closing_level_rows(html) == ["Village", "Town", "City", "Prefecture"]
    page = client.get(
        reverse("assessment:unit", args=["city", org.city.pk]),
        {"kind": "month", "anchor": "2025-06-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 200
    assert 'data-testid="kpi-level_prefecture_share"' in page.content.decode()


def test_solved_by_a_consultation_names_the_prefecture_committee_on_the_chain(org):
    fact = CaseFact(solved_by=SolvedBy.CONSULTATION)
    with translation.override("en"):
        assert fact.get_solved_by_display() == "a consultation of the town or city committee"
        four_levels(org)
        assert fact.get_solved_by_display() == (
            "a consultation of the town, city or prefecture committee"
        )


def test_the_cases_behind_the_prefecture_share_are_asked_only_where_it_is_counted(org, client):
    """On three levels no one may ask for the cases behind the prefecture's share: the API
    refuses the query (400) and the page says there is no such indicator, instead of failing."""
    params = {
        "indicator": "level_prefecture_share",
        "part": "denominator",
        "unit_type": "city",
        "unit_id": org.city.pk,
        "kind": "month",
        "anchor": "2025-06-01",
    }
    refused = client_for(org.supervisor).get(
        "/api/assessment/cases/", params, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert refused.status_code == 400
    assert "This deployment does not count this indicator." in str(refused.json())
    client.force_login(org.supervisor)
    page = client.get(reverse("assessment:cases"), params, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "There is no such indicator." in page.content.decode()

    four_levels(org)
    assert client_for(org.supervisor).get("/api/assessment/cases/", params).status_code == 200
    assert client.get(reverse("assessment:cases"), params).status_code == 200
