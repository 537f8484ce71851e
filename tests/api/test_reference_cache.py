"""Filing reads the item, its time limits, the screening rules and the grid with its regions from
each process's copy of the reference data (core.reference). An edit through the admin, a
service or a queryset must show in the very next whistle; an edit in another process once the
process compares version tokens; an edit rolled back never.

The rows must be committed for the copy to be used at all (the thread that changed reference
rows reads the database until its transaction ends), so these tests commit."""

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case
from checklists.models import Item, ScreeningRule, Stage, TimeLimit, TimeUnit
from checklists.selectors import item_by_pk
from core import reference
from teams.models import Region
from tests.api.conftest import client_for
from tests.api.steps import post

LAT, LNG = 30.50, 120.70

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REFERENCE_TABLES = (
    "checklists_item",
    "checklists_timelimit",
    "checklists_screeningrule",
    "teams_grid",
    "teams_region",
)


@pytest.fixture(autouse=True)
def _prompt_checks(settings):
    """Compare tokens on every read, as a process does once its check interval has passed."""
    settings.WHISTLE_REFERENCE_CHECK_SECONDS = 0


def _file(org, description: str = "Garbage by the bridge"):
    return post(
        client_for(org.grid_worker),
        "/api/cases/",
        {
            "item": org.item.pk,
            "grid": org.grid.pk,
            "description": description,
            "latitude": LAT,
            "longitude": LNG,
        },
    )


def _filed(org, description: str = "Garbage by the bridge") -> dict:
    response = _file(org, description)
    assert response.status_code == 201, response.content
    return response.json()


def _staff(client, admin_user):
    client.force_login(admin_user)
    return client


def _admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _form_data(response) -> dict:
    """What the admin change page would post back unchanged: its form and inline formsets."""
    data: dict = {}

    def add(form) -> None:
        for name in form.fields:
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif value is not None:
                data[key] = str(getattr(value, "pk", value))

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def _admin_change(staff, instance, **changes) -> None:
    url = _admin_url(type(instance), "change", instance.pk)
    data = {**_form_data(staff.get(url)), **changes}
    data = {key: value for key, value in data.items() if value is not None}
    response = staff.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]


def _statements(org) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        _filed(org)
    return [query["sql"] for query in queries.captured_queries]


def test_a_second_whistle_reads_no_reference_row(org):
    _filed(org)
    statements = _statements(org)
    read = [sql for sql in statements if any(f'FROM "{t}"' in sql for t in REFERENCE_TABLES)]
    assert not read, read


def test_an_item_deactivated_in_the_admin_is_refused_at_once(org, client, admin_user):
    _filed(org)
    _admin_change(_staff(client, admin_user), org.item, active=None)  # the box unticked
    response = _file(org)
    assert response.status_code == 400
    assert "item" in str(response.json())
    assert Case.objects.count() == 1


def test_a_screening_limit_changed_in_the_admin_times_the_next_whistle(org, client, admin_user):
    first = _filed(org)
    screening = TimeLimit.objects.get(item=org.item, stage=Stage.SCREENING)
    assert first["deadlines"][0]["amount"] == screening.amount
    staff = _staff(client, admin_user)
    page = staff.get(_admin_url(Item, "change", org.item.pk))
    forms = next(iter(page.context["inline_admin_formsets"])).formset.forms
    index = next(i for i, form in enumerate(forms) if form.instance.pk == screening.pk)
    _admin_change(
        staff,
        org.item,
        **{
            f"time_limits-{index}-amount": str(screening.amount + 7),
            f"time_limits-{index}-unit": TimeUnit.NATURAL_HOURS,
        },
    )
    deadline = _filed(org)["deadlines"][0]
    assert (deadline["amount"], deadline["unit"]) == (
        screening.amount + 7,
        TimeUnit.NATURAL_HOURS,
    )


def test_a_screening_rule_added_in_the_admin_refuses_the_next_whistle(org, client, admin_user):
    _filed(org, "A quarrel over the shared wall")
    response = _staff(client, admin_user).post(
        _admin_url(ScreeningRule, "add"),
        {
            "code": "wall_quarrel",
            "name_zh": "邻里纠纷",
            "name_en": "Neighbour quarrel",
            "active": "on",
            "keywords": "shared wall",
            "reason_zh": "邻里纠纷不属于吹哨事项。",
            "reason_en": "A quarrel between neighbours is not for whistling.",
            "redirect_zh": "人民调解委员会",
            "redirect_en": "The people's mediation committee",
        },
    )
    assert response.status_code == 302
    refused = _file(org, "A quarrel over the shared wall")
    assert refused.status_code >= 400
    assert "The people's mediation committee" in refused.content.decode()


def test_a_village_renamed_in_the_admin_shows_in_the_next_whistle(org, client, admin_user):
    assert _filed(org)["village"]["name"] == org.village.name_en
    _admin_change(_staff(client, admin_user), org.village, name_en="Riverside")
    assert _filed(org)["village"]["name"] == "Riverside"


def test_a_queryset_update_is_seen_by_the_next_whistle(org):
    _filed(org)
    Item.objects.filter(pk=org.item.pk).update(name_en="Renamed item")
    assert _filed(org)["item"]["name"] == "Renamed item"
    Region.objects.filter(pk=org.city.pk).update(code="HX")
    assert _filed(org)["number"].startswith("HX-")


def test_an_edit_in_another_process_is_seen_once_the_token_moves(org, settings):
    settings.WHISTLE_REFERENCE_CHECK_SECONDS = 3600
    _filed(org)
    # Another process: its edit reaches this one only through the token it publishes.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE checklists_item SET name_en = 'Elsewhere' WHERE id = %s", [org.item.pk]
        )
    assert _filed(org)["item"]["name"] != "Elsewhere"  # within the check interval
    settings.WHISTLE_REFERENCE_CHECK_SECONDS = 0
    assert _filed(org)["item"]["name"] != "Elsewhere"  # the token has not moved
    cache.set(reference.VERSION_CACHE_KEY, "published-by-another-process", timeout=None)
    assert _filed(org)["item"]["name"] == "Elsewhere"


def test_a_copy_older_than_the_maximum_age_is_read_again(org, settings):
    _filed(org)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE checklists_item SET name_en = 'Elsewhere' WHERE id = %s", [org.item.pk]
        )
    settings.WHISTLE_REFERENCE_MAX_AGE_SECONDS = 0  # e.g. Redis was down when it was published
    assert _filed(org)["item"]["name"] == "Elsewhere"


def test_an_edit_rolled_back_leaves_nothing_behind(org):
    original = _filed(org)["item"]["name"]

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        item = Item.objects.get(pk=org.item.pk)
        item.name_en = "Never committed"
        item.save()
        # The editing transaction sees its own edit ...
        assert item_by_pk(pk=org.item.pk).name_en == "Never committed"
        raise Abandon
    # ... and nobody sees it once it rolled back.
    assert item_by_pk(pk=org.item.pk).name_en == original
    assert _filed(org)["item"]["name"] == original


def test_an_edit_in_a_savepoint_rolled_back_keeps_the_outer_edit_visible(org):
    _filed(org)
    with transaction.atomic():
        Item.objects.filter(pk=org.item.pk).update(name_en="Outer")
        try:
            with transaction.atomic():
                Item.objects.filter(pk=org.item.pk).update(name_en="Inner")
                raise RuntimeError
        except RuntimeError:
            pass
        assert item_by_pk(pk=org.item.pk).name_en == "Outer"
    assert _filed(org)["item"]["name"] == "Outer"


def test_copies_are_new_instances(org):
    first = item_by_pk(pk=org.item.pk)
    first.name_en = "Changed by a caller"
    first.default_team_kinds.append("changed")
    second = item_by_pk(pk=org.item.pk)
    assert second.name_en == org.item.name_en
    assert "changed" not in second.default_team_kinds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "Incorrect type. Expected pk value, received bool."),
        ("abc", "Incorrect type. Expected pk value, received str."),
        ([1], "Incorrect type. Expected pk value, received list."),
        (999_999, 'Invalid pk "999999" - object does not exist.'),
        (2**70, f'Invalid pk "{2**70}" - object does not exist.'),
    ],
)
def test_an_item_id_is_refused_as_drf_refuses_it(org, value, message):
    response = post(
        client_for(org.grid_worker),
        "/api/cases/",
        {"item": value, "grid": org.grid.pk, "description": "Garbage by the bridge"},
    )
    assert response.status_code == 400
    assert message in str(response.json()), response.json()


def test_an_inactive_item_is_refused_and_a_numeric_string_accepted(org):
    response = post(
        client_for(org.grid_worker),
        "/api/cases/",
        {"item": str(org.item.pk), "grid": org.grid.pk, "description": "Garbage by the bridge"},
    )
    assert response.status_code == 201, response.content
    Item.objects.filter(pk=org.item.pk).update(active=False)
    refused = _file(org)
    assert refused.status_code == 400
    assert f'Invalid pk "{org.item.pk}" - object does not exist.' in str(refused.json())
