"""The organisation and the checklist, read-only for every signed-in user."""

import pytest

from checklists.models import Aspect, Item
from teams.models import Department, Grid, Region, Team

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("regions", Region),
        ("grids", Grid),
        ("departments", Department),
        ("teams", Team),
        ("aspects", Aspect),
        ("items", Item),
    ],
)
def test_every_signed_in_user_reads_the_reference_data(org, api, path, model):
    for user in (org.grid_worker, org.liaison, org.supervisor):
        response = api(user).get(f"/api/{path}/")
        assert response.status_code == 200
        assert response.json()["count"] == model.objects.count() > 0
    row = model.objects.order_by("pk").first()
    detail = api(org.grid_worker).get(f"/api/{path}/{row.pk}/")
    assert detail.status_code == 200 and detail.json()["id"] == row.pk
    assert api(org.grid_worker).get(f"/api/{path}/999999999/").status_code == 404
    # Read-only: nothing can be created or changed.
    assert api(org.supervisor).post(f"/api/{path}/", {}, format="json").status_code == 405
    response = api(org.supervisor).delete(f"/api/{path}/{row.pk}/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_grids_carry_their_polygon_and_filter_by_village(org, api):
    response = api(org.grid_worker).get(f"/api/grids/?village={org.village.pk}")
    (row,) = response.json()["results"]
    assert row["id"] == org.grid.pk
    assert row["polygon"]["type"] == "Polygon"


def test_items_carry_their_time_limits_and_names_in_the_language(org, api):
    row = api(org.grid_worker).get(f"/api/items/{org.item.pk}/").json()
    stages = {limit["stage"] for limit in row["time_limits"]}
    assert {"screening", "village_handling", "handling"} <= stages
    assert row["name"] == org.item.name_en
    chinese = api(org.grid_worker, language="zh-hans").get(f"/api/items/{org.item.pk}/").json()
    assert chinese["name"] == org.item.name_zh
    assert api(org.grid_worker).get(f"/api/items/?aspect={org.item.aspect_id}").json()["count"] >= 1


def test_regions_filter_by_level_and_parent(org, api):
    rows = api(org.grid_worker).get(f"/api/regions/?parent={org.town.pk}").json()["results"]
    assert {row["id"] for row in rows} == {org.village.pk, org.other_village.pk}
    assert api(org.grid_worker).get("/api/regions/?level=nowhere").status_code == 400
