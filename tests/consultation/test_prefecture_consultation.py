"""The prefecture's committee holds its consultations (four levels, its committee on the
escalation chain): it calls one on the cases escalated to it from the cities below it, holds it
and decides them, as the city's committee does; a city consultation climbs to it only when it
sits on the chain. Three levels and the prefecture off the chain keep what they had."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from cases.access import visible_cases
from cases.errors import InvalidInput, NotAllowed, NotInScope
from cases.models import Dispatch, Level, Status
from cases.services import Task
from checklists.models import Stage
from consultation import selectors, services
from consultation.forms import decision_kinds
from consultation.models import AgendaItem, Consultation
from tests.cases.engine_steps import fresh
from tests.cases.prefecture import at_the_city, at_the_prefecture, four_levels
from tests.consultation.conftest import MEETING, at
from tests.consultation.test_pages import as_user, decision_data, local

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture(autouse=True)
def _english():
    """The labels and refusals are read in English (the pages ask for it themselves)."""
    with translation.override("en"):
        yield


def city_consultation(org, extra, cases) -> Consultation:
    return services.call_consultation(
        user=org.city_committee,
        level=Consultation.Level.CITY,
        region_id=org.city.pk,
        scheduled_at=MEETING,
        place="County hall",
        case_ids=[c.pk for c in cases],
        department_ids=[extra.bureau.pk],
    )


def prefecture_consultation(prefecture, extra, cases, **kwargs) -> Consultation:
    values = {
        "user": prefecture.member,
        "level": Consultation.Level.PREFECTURE,
        "region_id": prefecture.region.pk,
        "scheduled_at": MEETING,
        "place": "Prefecture hall",
        "case_ids": [c.pk for c in cases],
        "department_ids": [extra.bureau.pk],
    }
    values.update(kwargs)
    return services.call_consultation(**values)


def decide(user, item, kind, text="Decided", tasks=()):
    return services.decide_item(
        user=user,
        item_id=item.pk,
        decision=services.Decision(kind=kind, text=text, tasks=tuple(tasks)),
        expected_version=fresh(item.case).version,
    )


def kinds(level: str) -> dict[str, str]:
    return dict(decision_kinds(level))


# --- climbing from the city ------------------------------------------------------------------


def test_the_city_consultation_offers_to_climb_only_when_the_prefecture_is_on_chain(org):
    assert "escalate" not in kinds("city")  # three levels: the city decides last
    assert kinds("town")["escalate"] == "Escalate to the city committee"
    four_levels(org, on_chain=False)
    assert "escalate" not in kinds("city")
    assert "escalate" not in kinds("prefecture")


def test_on_chain_the_city_climbs_to_the_prefecture_and_the_prefecture_nowhere(org):
    four_levels(org)
    assert kinds("city")["escalate"] == "Escalate to the prefecture committee"
    assert kinds("town")["escalate"] == "Escalate to the city committee"
    assert "escalate" not in kinds("prefecture")


def test_the_city_consultation_page_offers_the_climb_only_on_chain(client, org, extra):
    consultation = city_consultation(org, extra, [at_the_city(org)])
    url = reverse("consultation:detail", args=[consultation.pk])
    page = as_user(client, org.city_committee).get(url).content.decode()
    assert 'value="escalate"' not in page
    four_levels(org)
    page = client.get(url).content.decode()
    assert 'value="escalate"' in page and "Escalate to the prefecture committee" in page


def test_a_city_consultation_escalates_the_case_to_the_prefecture_committee(org, extra):
    prefecture = four_levels(org)
    case = at_the_city(org)
    consultation = city_consultation(org, extra, [case])
    decide(
        org.city_committee,
        consultation.agenda_items.get(),
        AgendaItem.Decision.ESCALATE,
        text="Spans two counties",
    )

    case = fresh(case)
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.PREFECTURE)
    assert case.events.get(action="escalate_to_prefecture").data["reason"] == "Spans two counties"
    assert case.deadlines.get(stage=Stage.CITY_CONSULTATION).met_at is not None
    clock = case.deadlines.get(stage=Stage.PREFECTURE_CONSULTATION)
    assert clock.met_at is None
    city_seats = selectors.committee_seats(user=org.city_committee)
    assert selectors.queue(user=org.city_committee, seats=city_seats)[1] == []
    seats = selectors.committee_seats(user=prefecture.member)
    assert [(s.level, s.region) for s in seats] == [("prefecture", prefecture.region)]
    rows = selectors.queue(user=prefecture.member, seats=seats)[1]
    assert [(r.case, r.deadline) for r in rows] == [(case, clock)]
    other = selectors.committee_seats(user=prefecture.other_member)
    assert selectors.queue(user=prefecture.other_member, seats=other)[1] == []


def test_off_the_chain_a_city_consultation_cannot_climb(org, extra):
    four_levels(org, on_chain=False)
    case = at_the_city(org)
    consultation = city_consultation(org, extra, [case])
    with pytest.raises(InvalidInput) as refused:
        decide(org.city_committee, consultation.agenda_items.get(), AgendaItem.Decision.ESCALATE)
    assert refused.value.fields["kind"] == ["Only a town case can be escalated."]
    assert fresh(case).level == Level.CITY


# --- the prefecture's own consultation ---------------------------------------------------------


def test_the_prefecture_committee_calls_holds_and_decides_its_consultation(org, extra, clock):
    prefecture = four_levels(org)
    case = at_the_prefecture(org)
    consultation = prefecture_consultation(
        prefecture, extra, [case], user_ids=[org.village_officer.pk], team_ids=[org.team.pk]
    )
    assert (consultation.level, consultation.region) == ("prefecture", prefecture.region)
    assert consultation.invitations.count() == 3
    # The invited see this consultation and its case; the committee runs it.
    assert case in visible_cases(user=extra.bureau_liaison)
    assert selectors.consultation_for(user=extra.bureau_liaison, pk=consultation.pk)
    assert services.is_committee_of(prefecture.member, consultation)
    assert not services.is_committee_of(org.city_committee, consultation)

    clock.move_to(MEETING + timedelta(minutes=5))
    services.record_minutes(
        user=prefecture.member, consultation_id=consultation.pk, minutes="Both counties came."
    )
    assert Consultation.objects.get(pk=consultation.pk).status == Consultation.Status.HELD
    task = Task(action="Clear it", due_at=at(2025, 6, 20, 17, 0), team_id=org.team.pk)
    decide(prefecture.member, consultation.agenda_items.get(), "tasks", tasks=[task])

    case = fresh(case)
    assert (case.status, case.level) == (Status.IN_PROGRESS, Level.PREFECTURE)
    assert case.dispatches.filter(origin=Dispatch.Origin.DECISION, team=org.team).exists()
    assert case.deadlines.get(stage=Stage.PREFECTURE_CONSULTATION).met_at is not None
    item = consultation.agenda_items.get()
    assert (item.decision, item.decided_by) == ("tasks", prefecture.member)


def test_a_prefecture_case_cannot_climb_further(org, extra):
    prefecture = four_levels(org)
    case = at_the_prefecture(org)
    consultation = prefecture_consultation(prefecture, extra, [case])
    with pytest.raises(InvalidInput) as refused:
        decide(prefecture.member, consultation.agenda_items.get(), AgendaItem.Decision.ESCALATE)
    assert refused.value.fields["kind"] == ["Only a town or city case can be escalated."]
    decide(prefecture.member, consultation.agenda_items.get(), "close", text="Settled")
    case = fresh(case)
    assert (case.status, case.resolved_level) == (Status.CLOSED, Level.PREFECTURE)


def test_only_the_prefecture_s_own_committee_calls_and_runs_it(org, extra):
    prefecture = four_levels(org)
    case = at_the_prefecture(org)
    with pytest.raises(NotAllowed):  # another prefecture's committee
        prefecture_consultation(prefecture, extra, [case], user=prefecture.other_member)
    with pytest.raises(NotAllowed):  # the city's committee
        prefecture_consultation(prefecture, extra, [case], user=org.city_committee)
    with pytest.raises(NotAllowed):  # the prefecture's member calls no city consultation
        services.call_consultation(
            user=prefecture.member,
            level=Consultation.Level.CITY,
            region_id=org.city.pk,
            scheduled_at=MEETING,
            place="Hall",
            case_ids=[case.pk],
            department_ids=[extra.bureau.pk],
        )
    consultation = prefecture_consultation(prefecture, extra, [case])
    with pytest.raises(NotInScope):
        selectors.consultation_for(user=prefecture.other_member, pk=consultation.pk)
    with pytest.raises(NotInScope):
        selectors.consultation_for(user=org.town_committee, pk=consultation.pk)
    with pytest.raises(NotInScope):
        decide(org.city_committee, consultation.agenda_items.get(), "close")
    assert list(selectors.visible_consultations(user=prefecture.member)) == [consultation]
    assert list(selectors.visible_consultations(user=prefecture.other_member)) == []


def test_the_prefecture_s_invitees_are_of_its_cities(org, extra):
    prefecture = four_levels(org)
    case = at_the_prefecture(org)
    seat = selectors.committee_seats(user=prefecture.member)[0]
    departments, teams, people = selectors.invitable(seat=seat)
    assert extra.bureau in departments and org.department in departments
    assert {org.team, org.other_team} <= set(teams)
    assert org.village_officer in people
    other_seat = selectors.committee_seats(user=prefecture.other_member)[0]
    departments, teams, people = selectors.invitable(seat=other_seat)
    assert not (departments.exists() or teams.exists() or people.exists())
    with pytest.raises(InvalidInput) as refused:  # its own prefecture, none of it invited
        prefecture_consultation(
            prefecture,
            extra,
            [case],
            user=prefecture.other_member,
            region_id=prefecture.other_region.pk,
        )
    assert refused.value.fields["departments"] == [
        "Invite departments of this prefecture and its cities only."
    ]


# --- through the pages -----------------------------------------------------------------------


def test_the_prefecture_s_pages_queue_call_and_decide(client, org, extra):
    prefecture = four_levels(org)
    case = at_the_prefecture(org)
    as_user(client, prefecture.member)
    queue = client.get(reverse("consultation:queue"))
    assert queue.status_code == 200
    assert case.number in queue.content.decode()
    form = client.get(reverse("consultation:call"), {"case": case.pk})
    assert form.status_code == 200
    assert "prefecture committee" in form.content.decode()
    response = client.post(
        reverse("consultation:call"),
        {
            "seat": "0",
            "scheduled_at": local(MEETING),
            "place": "Prefecture hall",
            "cases": [case.pk],
            "departments": [extra.bureau.pk],
            "teams": [org.team.pk],
        },
    )
    consultation = Consultation.objects.get()
    assert response.status_code == 302
    assert (consultation.level, consultation.region) == ("prefecture", prefecture.region)

    page = client.get(reverse("consultation:detail", args=[consultation.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="close"' in html and 'value="escalate"' not in html
    item = consultation.agenda_items.get()
    response = client.post(
        reverse("consultation:decide", args=[item.pk]),
        decision_data(
            item,
            **{
                "tasks-0-team": org.team.pk,
                "tasks-0-action": "Clear it with the county",
                "tasks-0-due_at": local(at(2025, 6, 20, 17, 0)),
            },
        ),
    )
    assert response.status_code == 302
    assert (fresh(case).status, fresh(case).level) == (Status.IN_PROGRESS, Level.PREFECTURE)
    assert client.get(reverse("consultation:print", args=[consultation.pk])).status_code == 200
    # The city's committee sees neither the consultation nor a seat at it.
    as_user(client, org.city_committee)
    assert client.get(reverse("consultation:detail", args=[consultation.pk])).status_code == 404


def test_a_city_escalation_is_labelled_with_the_prefecture(org, extra):
    four_levels(org)
    consultation = city_consultation(org, extra, [at_the_city(org)])
    decide(org.city_committee, consultation.agenda_items.get(), AgendaItem.Decision.ESCALATE)
    item = consultation.agenda_items.get()
    assert item.get_decision_display() == "escalated to the prefecture committee"
    # A town consultation's escalation still names the city's committee.
    assert str(AgendaItem.Decision.ESCALATE.label) == "escalated to the city committee"
