"""The Django admin: every registered model can be listed, added and changed by an administrator,
in both languages, and the checklist and grid pages do what an administrator needs."""

import json

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from checklists.models import Item, Stage, TimeLimit, TimeUnit
from teams.models import Grid, Membership, Region, Role
from tests.factories import (
    DepartmentFactory,
    DepartmentKindFactory,
    GridFactory,
    MembershipFactory,
    TeamFactory,
    square_polygon,
)

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "zh-hans")
REGISTERED = sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label_lower)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Test users need no strong hashes; the default hasher makes every user cost ~0.3 s."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def organisation():
    """A small organisation so that the lists have rows to render."""
    grid = GridFactory()
    team = TeamFactory(region=grid.village.parent)
    department = DepartmentFactory(kind=DepartmentKindFactory(), region=grid.village.parent)
    team.departments.add(department)
    MembershipFactory(grid=grid)
    MembershipFactory(role=Role.TEAM_CAPTAIN, team=team, force="law_enforcement")
    MembershipFactory(role=Role.VILLAGE_OFFICER, region=grid.village)
    return grid


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label_lower for m, _ in REGISTERED]
)
def test_every_registered_model_lists_adds_and_changes(
    model, model_admin, client, admin_user, organisation
):
    client.force_login(admin_user)
    request = RequestFactory().get("/")
    request.user = admin_user
    can_add = model_admin.has_add_permission(request)
    first = model._default_manager.first()
    for language in LANGUAGES:
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        response = client.get(admin_url(model, "changelist"))
        assert response.status_code == 200, (language, "changelist")
        assert response.context["cl"].model is model
        response = client.get(admin_url(model, "add"))
        assert response.status_code == (200 if can_add else 403), (language, "add")
        if first is not None:
            response = client.get(admin_url(model, "change", first.pk))
            assert response.status_code == 200, (language, "change")


def test_the_organisation_and_the_checklist_are_all_registered():
    registered = {model._meta.label for model in admin.site._registry}
    expected = {
        "teams.User",
        "teams.Region",
        "teams.Grid",
        "teams.DepartmentKind",
        "teams.Department",
        "teams.Team",
        "teams.Membership",
        "checklists.Aspect",
        "checklists.Item",
        "checklists.TimeLimit",
        "checklists.ScreeningRule",
    }
    assert expected <= registered


def test_the_site_header_is_translatable_text(staff):
    response = staff.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "Whistle administration" in response.content.decode()


def test_item_changelist_search_and_filter(staff):
    response = staff.get(admin_url(Item, "changelist"), {"q": "ECO-01"})
    assert response.status_code == 200
    assert [item.code for item in response.context["cl"].result_list] == ["ECO-01"]

    response = staff.get(admin_url(Item, "changelist"), {"urgency__exact": "urgent"})
    assert response.status_code == 200
    assert {item.code for item in response.context["cl"].result_list} == {"TRF-03", "DOG-02"}

    response = staff.get(admin_url(Item, "changelist"), {"q": "毁坏绿化"})
    assert [item.code for item in response.context["cl"].result_list] == ["PLN-03"]


def test_region_changelist_filters_by_level_and_parent(staff, organisation):
    village = organisation.village
    response = staff.get(admin_url(Region, "changelist"), {"level__exact": "village"})
    assert response.status_code == 200
    results = list(response.context["cl"].result_list)
    assert village in results
    assert all(region.level == Region.Level.VILLAGE for region in results)

    response = staff.get(admin_url(Region, "changelist"), {"parent__id__exact": village.parent_id})
    assert list(response.context["cl"].result_list) == [village]

    response = staff.get(admin_url(Region, "changelist"), {"q": village.name_en})
    assert list(response.context["cl"].result_list) == [village]


def time_limit_formset(response):
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is TimeLimit:
            return inline.formset
    raise AssertionError("no time-limit inline on the page")


def test_item_change_page_shows_every_stage_limit(staff):
    item = Item.objects.get(code="SAN-01")
    response = staff.get(admin_url(Item, "change", item.pk))
    assert response.status_code == 200
    formset = time_limit_formset(response)
    stages = [form.instance.stage for form in formset.forms]
    assert sorted(stages) == sorted(Stage.values)
    assert len(formset.forms) == len(Stage.values)  # no blank extra rows once all are set
    total = f'name="time_limits-TOTAL_FORMS" value="{len(Stage.values)}"'
    assert total in response.content.decode()


def test_item_add_page_offers_a_row_per_stage(staff):
    response = staff.get(admin_url(Item, "add"))
    assert response.status_code == 200
    formset = time_limit_formset(response)
    assert [form.initial.get("stage") for form in formset.forms] == Stage.values


def item_post_data(aspect_pk: int, limits: dict[str, tuple[int, str]]) -> dict:
    data = {
        "aspect": aspect_pk,
        "code": "SAN-99",
        "order": 9,
        "name_zh": "测试事项",
        "name_en": "Test item",
        "active": "on",
        "urgency": "ordinary",
        "whistleable": "on",
        "default_team_kinds": ["comprehensive", "professional"],
        "hotline_route": "town_dispatch",
        "time_limits-TOTAL_FORMS": len(limits),
        "time_limits-INITIAL_FORMS": 0,
        "time_limits-MIN_NUM_FORMS": 0,
        "time_limits-MAX_NUM_FORMS": len(Stage.values),
    }
    for index, (stage, (amount, unit)) in enumerate(limits.items()):
        data[f"time_limits-{index}-stage"] = stage
        data[f"time_limits-{index}-amount"] = amount
        data[f"time_limits-{index}-unit"] = unit
        data[f"time_limits-{index}-yellow_at_percent"] = 80
    return data


def test_an_administrator_adds_an_item_with_its_limits_and_team_kinds(staff):
    sanitation = Item.objects.get(code="SAN-01").aspect
    limits = {stage: (index + 1, TimeUnit.WORKING_HOURS) for index, stage in enumerate(Stage)}
    response = staff.post(admin_url(Item, "add"), item_post_data(sanitation.pk, limits))
    assert response.status_code == 302, response.context and response.context["errors"]
    item = Item.objects.get(code="SAN-99")
    assert item.default_team_kinds == ["comprehensive", "professional"]
    # The hotline routing rule is edited with the item (cases.services.filing).
    assert item.hotline_route == Item.HotlineRoute.TOWN_DISPATCH
    assert {tl.stage: (tl.amount, tl.unit) for tl in item.time_limits.all()} == limits


def test_an_item_with_a_zero_limit_or_a_missing_stage_is_refused(staff):
    sanitation = Item.objects.get(code="SAN-01").aspect
    limits = dict.fromkeys(Stage, (1, TimeUnit.WORKING_DAYS))
    response = staff.post(
        admin_url(Item, "add"),
        item_post_data(sanitation.pk, {**limits, Stage.HANDLING: (0, TimeUnit.WORKING_HOURS)}),
    )
    assert response.status_code == 200
    assert "amount" in time_limit_formset(response).forms[Stage.values.index("handling")].errors

    del limits[Stage.VERIFICATION]
    response = staff.post(admin_url(Item, "add"), item_post_data(sanitation.pk, limits))
    assert response.status_code == 200
    assert time_limit_formset(response).non_form_errors()
    assert not Item.objects.filter(code="SAN-99").exists()


def test_an_administrator_changes_a_handling_limit(staff):
    item = Item.objects.get(code="SAN-01")
    current = {tl.stage: (tl.amount, tl.unit) for tl in item.time_limits.all()}
    data = item_post_data(item.aspect_id, {**current, Stage.HANDLING: (6, TimeUnit.WORKING_HOURS)})
    ids = dict(item.time_limits.values_list("stage", "pk"))
    data.update(
        code=item.code,
        name_zh=item.name_zh,
        name_en=item.name_en,
        default_department_kinds=list(item.default_department_kinds.values_list("pk", flat=True)),
    )
    data["time_limits-INITIAL_FORMS"] = len(ids)
    for index, stage in enumerate(current):
        data[f"time_limits-{index}-id"] = ids[stage]
    response = staff.post(admin_url(Item, "change", item.pk), data)
    assert response.status_code == 302
    handling = item.time_limits.get(stage=Stage.HANDLING)
    assert (handling.amount, handling.unit) == (6, TimeUnit.WORKING_HOURS)
    assert item.time_limits.count() == len(Stage.values)
    assert item.default_department_kinds.filter(code="urban_management").exists()


def test_an_item_missing_a_stage_limit_offers_that_stage(staff):
    item = Item.objects.get(code="PLN-01")
    TimeLimit.objects.filter(item=item, stage=Stage.VERIFICATION).delete()
    response = staff.get(admin_url(Item, "change", item.pk))
    formset = time_limit_formset(response)
    assert len(formset.forms) == len(Stage.values)
    assert formset.forms[-1].initial.get("stage") == Stage.VERIFICATION


def test_a_membership_at_the_wrong_place_is_refused_with_a_message(staff, organisation):
    user = organisation.memberships.get().user
    response = staff.post(
        admin_url(Membership, "add"),
        {"user": user.pk, "role": Role.TOWN_COMMITTEE, "region": organisation.village.pk},
    )
    assert response.status_code == 200
    assert "region" in response.context["adminform"].form.errors
    assert not Membership.objects.filter(user=user, role=Role.TOWN_COMMITTEE).exists()

    town = organisation.village.parent
    response = staff.post(
        admin_url(Membership, "add"),
        {"user": user.pk, "role": Role.TOWN_COMMITTEE, "region": town.pk},
    )
    assert response.status_code == 302
    assert Membership.objects.filter(user=user, role=Role.TOWN_COMMITTEE, region=town).exists()


def grid_post_data(village_pk: int, polygon: object) -> dict:
    return {
        "code": "G-ADMIN",
        "name_zh": "管理网格",
        "name_en": "Admin grid",
        "village": village_pk,
        "polygon": json.dumps(polygon),
    }


def test_saving_a_grid_in_the_admin_keeps_its_bounding_box(staff, organisation):
    village = organisation.village
    response = staff.post(
        admin_url(Grid, "add"), grid_post_data(village.pk, square_polygon(121.0, 30.5, 0.01))
    )
    assert response.status_code == 302
    grid = Grid.objects.get(code="G-ADMIN")
    assert (grid.min_lng, grid.min_lat, grid.max_lng, grid.max_lat) == pytest.approx(
        (120.99, 30.49, 121.01, 30.51)
    )

    data = grid_post_data(village.pk, square_polygon(122.0, 31.0, 0.5))
    response = staff.post(admin_url(Grid, "change", grid.pk), data)
    assert response.status_code == 302
    grid.refresh_from_db()
    assert (grid.min_lng, grid.max_lat) == pytest.approx((121.5, 31.5))


def test_a_grid_with_a_bad_polygon_or_outside_a_village_is_refused(staff, organisation):
    village = organisation.village
    open_ring = {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 31], [120, 31]]]}
    response = staff.post(admin_url(Grid, "add"), grid_post_data(village.pk, open_ring))
    assert response.status_code == 200
    assert "polygon" in response.context["adminform"].form.errors

    town = village.parent
    response = staff.post(
        admin_url(Grid, "add"), grid_post_data(town.pk, square_polygon(121.0, 30.5))
    )
    assert response.status_code == 200
    assert "village" in response.context["adminform"].form.errors
    assert not Grid.objects.filter(code="G-ADMIN").exists()


def test_user_change_page_shows_the_roles_held(staff, organisation):
    membership = organisation.memberships.get()
    response = staff.get(admin_url(type(membership.user), "change", membership.user.pk))
    assert response.status_code == 200
    inlines = [inline.formset.model for inline in response.context["inline_admin_formsets"]]
    assert type(membership) in inlines
    assert organisation.code in response.content.decode()
