"""The deployment's shape of its levels in the engine (teams.levels): where whistles are blown
(the village screens, or every whistle goes straight to the town's dispatch, as Beijing's
streets whistle) and whether the city committee sits on the escalation chain."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from cases.errors import IllegalTransition
from cases.models import Deadline, Event, Level, Status
from cases.services import escalate_case, request_consultation
from cases.tasks import sweep_deadlines
from checklists.models import Stage
from consultation.forms import decision_kinds
from teams.levels import on_chain, whistle_level
from teams.models import LevelName
from tests.cases.engine_steps import actions, file_case, in_progress, kinds_for

pytestmark = pytest.mark.django_db


def whistles_at_the_street() -> None:
    LevelName.objects.update_or_create(
        level="town",
        defaults={"name_en": "street", "name_zh": "街道", "whistles_here": True},
    )


def no_city_committee() -> None:
    LevelName.objects.update_or_create(
        level="city", defaults={"name_en": "district", "name_zh": "区", "committee": False}
    )


def in_town_consultation(org):
    case = in_progress(org)
    return request_consultation(user=org.captain, case_id=case.pk, reason="Needs the committee")


def test_by_default_the_village_screens_and_the_city_is_on_the_chain(org):
    assert whistle_level() == "village" and on_chain("city") and on_chain("town")
    case = file_case(org)
    assert (case.status, case.level) == (Status.FILED, Level.VILLAGE)
    assert kinds_for(org.village_officer, case) == ["case_filed"]


def test_whistled_at_the_street_every_whistle_goes_straight_to_its_dispatch(org, client):
    whistles_at_the_street()
    assert whistle_level() == "town"
    case = file_case(org)
    case.refresh_from_db()
    assert (case.status, case.level) == (Status.DISPATCHED, Level.TOWN)
    assert actions(case) == ["file", "whistle_level_route", "whistle"]
    whistle = Event.objects.get(case=case, action="whistle")
    assert (whistle.actor, whistle.actor_label) == (None, "whistle_level_route")
    # The item's default handlers are dispatched with their clocks; no screening is left.
    assert case.dispatches.filter(team=org.team).exists()
    assert Deadline.objects.filter(case=case, stage=Stage.REPORT_IN).exists()
    assert Deadline.objects.get(case=case, stage=Stage.SCREENING).met_at is not None
    # The community is told, not asked to screen; the street committee is told to dispatch.
    assert kinds_for(org.village_officer, case) == ["case_whistled_at_town"]
    assert "case_whistled" in kinds_for(org.town_committee, case)
    # The timeline says who sent it, in the deployment's words.
    client.force_login(org.village_officer)
    page = client.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "the street, where whistles are blown" in page.content.decode()
    assert "sent the whistle straight to the street" in page.content.decode()


def test_without_the_city_committee_the_town_decides_last(org):
    no_city_committee()
    assert not on_chain("city")
    case = in_town_consultation(org)
    with translation.override("en"), pytest.raises(IllegalTransition) as refused:
        escalate_case(user=org.town_committee, case_id=case.pk, reason="Too big")
    with translation.override("en"):
        assert str(refused.value) == (
            "The district committee is not on this deployment's escalation chain."
        )
    case.refresh_from_db()
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.TOWN)
    assert "escalate" not in actions(case)


def test_without_the_city_committee_the_button_is_gone(org, client):
    case = in_town_consultation(org)
    client.force_login(org.town_committee)
    url = reverse("cases:detail", args=[case.pk])
    assert "Escalate to the city" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    no_city_committee()
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Escalate to the" not in html


def test_without_the_city_committee_the_timer_reminds_instead_of_escalating(org, time_machine):
    no_city_committee()
    case = in_town_consultation(org)
    deadline = Deadline.objects.get(case=case, stage=Stage.TOWN_CONSULTATION)
    time_machine.move_to(deadline.due_at + timedelta(seconds=1), tick=False)
    assert sweep_deadlines.apply().get() >= 1
    case.refresh_from_db()
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.TOWN)
    overdue = Event.objects.get(case=case, action="overdue")
    assert overdue.data["stage"] == Stage.TOWN_CONSULTATION
    assert "overdue" in kinds_for(org.town_committee, case)


def test_without_the_city_committee_a_consultation_cannot_decide_to_escalate(org):
    assert "escalate" in [value for value, _label in decision_kinds("town")]
    no_city_committee()
    assert "escalate" not in [value for value, _label in decision_kinds("town")]
    assert [value for value, _label in decision_kinds("town")] == ["tasks", "suspend", "close"]
