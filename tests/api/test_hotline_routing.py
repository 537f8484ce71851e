"""Hotline routing: a whistle of the 12345 hotline (Open311) goes by its item's rule to the
village's screening (the default) or straight to the town's dispatch, the village officers
informed instead of asked to screen."""

import pytest
from django.core.cache import cache

from cases.models import Case, Deadline, Event, Level, Status
from cases.open311.services import create_api_client
from checklists.models import Item, Stage
from tests.cases.engine_steps import file_case, kinds_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def hotline(org):
    cache.clear()
    _client, key = create_api_client(name="12345 hotline", jurisdiction_id=org.city.code)
    return key


def file_by_hotline(client, key, *, notice: str = "", **fields) -> Case:
    data = {
        "api_key": key,
        "service_code": "SAN-01",
        "lat": "30.5",
        "long": "120.7",
        "description": "Garbage piled beside the bridge",
        **fields,
    }
    response = client.post("/open311/v2/requests.json", data, headers={"Accept-Language": "en"})
    assert response.status_code == 200, response.content
    assert notice in response.json()[0]["service_notice"]
    return Case.objects.get(number=response.json()[0]["service_request_id"])


def test_by_default_the_village_screens_a_hotline_whistle(client, org, hotline):
    assert org.item.hotline_route == Item.HotlineRoute.VILLAGE_SCREENING
    case = file_by_hotline(client, hotline, notice="the village screens it first")
    assert (case.status, case.level) == (Status.FILED, Level.VILLAGE)
    assert list(Event.objects.filter(case=case).values_list("action", flat=True)) == ["file"]
    assert not case.dispatches.exists()
    assert kinds_for(org.village_officer, case) == ["case_filed"]
    assert Deadline.objects.get(case=case, stage=Stage.SCREENING).met_at is None


def test_the_item_rule_sends_it_straight_to_the_town(client, org, hotline):
    Item.objects.filter(pk=org.item.pk).update(hotline_route=Item.HotlineRoute.TOWN_DISPATCH)
    case = file_by_hotline(client, hotline, notice="straight to the town's dispatch")
    assert (case.status, case.level) == (Status.DISPATCHED, Level.TOWN)
    events = list(Event.objects.filter(case=case).order_by("id"))
    assert [e.action for e in events] == ["file", "hotline_route", "whistle"]
    assert all(e.actor is None and e.actor_label == "hotline" for e in events)
    # The item's default handlers are dispatched, with their report-in clocks.
    assert case.dispatches.filter(team=org.team).exists()
    assert Deadline.objects.filter(case=case, stage=Stage.REPORT_IN).exists()
    assert Deadline.objects.get(case=case, stage=Stage.SCREENING).met_at is not None
    # The village is informed, not asked to screen; the town committee is told.
    assert kinds_for(org.village_officer, case) == ["case_routed_to_town"]
    assert "case_whistled" in kinds_for(org.town_committee, case)


def test_a_grid_workers_whistle_ignores_the_hotline_rule(org):
    Item.objects.filter(pk=org.item.pk).update(hotline_route=Item.HotlineRoute.TOWN_DISPATCH)
    case = file_case(org, item=Item.objects.get(pk=org.item.pk))
    assert (case.status, case.level) == (Status.FILED, Level.VILLAGE)
    assert kinds_for(org.village_officer, case) == ["case_filed"]
