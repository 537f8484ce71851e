"""The grid worker's pages: filing a whistle from the phone form, the grids of its map, the
nearby check, and "my cases" with its verify and evaluate forms."""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from PIL import Image

from cases.models import Attachment, Case, Source, Status
from cases.services import accept_case, evaluate_case, file_whistle, resolve_on_spot, verify_case
from checklists.models import Item, ScreeningRule
from teams.models import Role
from tests.factories import (
    GridFactory,
    MembershipFactory,
    UserFactory,
    VillageFactory,
    square_polygon,
)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}

# org.grid is a square of 0.01° around (lng 120.70, lat 30.50).
LAT, LNG = 30.50, 120.70


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def jpeg(name: str = "photo.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (30, 120, 60)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def whistle_data(org, **overrides) -> dict:
    data = {
        "item": str(org.item.pk),
        "description": "Garbage piled beside the bridge",
        "latitude": str(LAT),
        "longitude": str(LNG),
        "address": "By the old bridge",
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def file_case(org, **kwargs) -> Case:
    values = {
        "user": org.grid_worker,
        "item": org.item,
        "description": "Garbage piled beside the bridge",
        "latitude": LAT,
        "longitude": LNG,
    }
    values.update(kwargs)
    return file_whistle(**values).case


def resolved_case(org, **kwargs) -> Case:
    case = file_case(org, **kwargs)
    accept_case(user=org.village_officer, case_id=case.pk)
    return resolve_on_spot(
        user=org.village_officer, case_id=case.pk, note="Cleared", photos=[jpeg()]
    )


def closed_case(org, **kwargs) -> Case:
    case = resolved_case(org, **kwargs)
    return verify_case(user=org.grid_worker, case_id=case.pk, passed=True)


# --- the filing form ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "lang", "title", "other_lang_name"),
    [(EN, "en", "Blow a whistle", "name_zh"), (ZH, "zh-hans", "跳到主要内容", "name_en")],
)
def test_form_renders_items_in_the_users_language(
    client, org, headers, lang, title, other_lang_name
):
    client.force_login(org.grid_worker)
    response = client.get(reverse("cases:file"), **headers)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<html lang="{lang}"' in body
    assert title in body
    name = org.item.name_en if lang == "en" else org.item.name_zh
    assert f"SAN-01 {name}</option>" in body
    assert f"SAN-01 {getattr(org.item, other_lang_name)}</option>" not in body
    # Grouped by aspect, searchable in both languages and by code.
    aspect = org.item.aspect.name_en if lang == "en" else org.item.aspect.name_zh
    assert f'<optgroup label="{aspect}">' in body
    search = f"san-01 {org.item.name_zh} {org.item.name_en}".lower()
    assert f'data-search="{search}"' in body
    # Only whistleable, active items are offered.
    for item in Item.objects.filter(whistleable=False):
        assert f'value="{item.pk}"' not in body.split('name="item"')[1].split("</select>")[0]
    # The phone camera, the map and a fresh idempotency key.
    assert 'accept="image/*"' in body
    assert 'capture="environment"' in body
    assert "multiple" in body
    assert 'id="whistle-map"' in body
    assert "js/filing.js" in body
    assert 'data-testid="submit-whistle"' in body
    key = response.context["form"]["idempotency_key"].value()
    assert len(key) == 32
    again = client.get(reverse("cases:file"), **headers)
    assert again.context["form"]["idempotency_key"].value() != key


def test_grid_select_offers_only_the_users_grids(client, org):
    client.force_login(org.grid_worker)
    response = client.get(reverse("cases:file"), **EN)
    queryset = response.context["form"].fields["grid"].queryset
    assert list(queryset) == [org.grid]


def test_post_files_a_case_with_photo_and_location(client, org):
    client.force_login(org.grid_worker)
    response = client.post(
        reverse("cases:file"), {**whistle_data(org), "photos": [jpeg(), jpeg("second.jpg")]}, **EN
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] in (reverse("cases:mine"), f"/cases/{case.pk}/")
    assert case.grid == org.grid
    assert case.reporter == org.grid_worker
    assert case.source == Source.GRID_WORKER
    assert case.address == "By the old bridge"
    assert Attachment.objects.filter(case=case, purpose="filing").count() == 2
    followed = client.get(response["Location"], **EN)
    assert case.number in followed.content.decode()


def test_same_idempotency_key_files_once(client, org):
    client.force_login(org.grid_worker)
    data = whistle_data(org)
    first = client.post(reverse("cases:file"), data, **EN)
    second = client.post(reverse("cases:file"), data, **EN)
    assert Case.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]


def test_fetch_submit_answers_with_the_address_to_go_to(client, org):
    client.force_login(org.grid_worker)
    response = client.post(reverse("cases:file"), whistle_data(org), HTTP_X_WHISTLE_FETCH="1", **EN)
    assert response.status_code == 204
    assert response["X-Whistle-Redirect"] in (
        reverse("cases:mine"),
        f"/cases/{Case.objects.get().pk}/",
    )


def test_missing_description_is_a_field_error(client, org):
    client.force_login(org.grid_worker)
    data = whistle_data(org, description="")
    response = client.post(reverse("cases:file"), data, **EN)
    assert response.status_code == 400
    assert response.context["form"].errors["description"]
    assert "This field is required." in response.content.decode()
    assert Case.objects.count() == 0
    # The input is kept, with the same key, so a corrected submit is still safe to retry.
    assert response.context["form"]["idempotency_key"].value() == data["idempotency_key"]


def test_location_outside_every_grid_is_an_error_next_to_the_map(client, org):
    client.force_login(org.grid_worker)
    response = client.post(
        reverse("cases:file"), whistle_data(org, latitude="10.0", longitude="10.0"), **EN
    )
    assert response.status_code == 400
    assert response.context["form"].errors["location"] == [
        "This place lies outside every grid of the city."
    ]
    body = response.content.decode()
    assert 'data-testid="location-error"' in body
    assert "This place lies outside every grid of the city." in body
    assert Case.objects.count() == 0


def test_without_location_the_chosen_grid_is_used(client, org):
    client.force_login(org.grid_worker)
    data = whistle_data(org, latitude=None, longitude=None, grid=str(org.grid.pk))
    response = client.post(reverse("cases:file"), data, **EN)
    assert response.status_code == 302
    assert Case.objects.get().grid == org.grid


@pytest.mark.parametrize(("headers", "keyword", "field"), [(ZH, "借款", "zh"), (EN, "loan", "en")])
def test_screening_refusal_shows_reason_and_where_to_go(client, org, headers, keyword, field):
    rule = next(r for r in ScreeningRule.objects.all() if keyword in r.keyword_list())
    client.force_login(org.grid_worker)
    description = f"Neighbours argue about a {keyword}"
    response = client.post(
        reverse("cases:file"), whistle_data(org, description=description), **headers
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="refusal"' in body
    assert escape(getattr(rule, f"reason_{field}")) in body
    assert escape(getattr(rule, f"redirect_{field}")) in body
    assert description in body  # the input is kept
    assert Case.objects.count() == 0


def test_bad_photo_is_an_error_next_to_the_field(client, org):
    client.force_login(org.grid_worker)
    fake = SimpleUploadedFile("fake.jpg", b"just some text, not a photo", content_type="image/jpeg")
    response = client.post(
        reverse("cases:file"), {**whistle_data(org), "photos": [jpeg(), fake]}, **EN
    )
    assert response.status_code == 400
    errors = response.context["form"].errors["photos"]
    assert any("fake.jpg" in error for error in errors)
    assert 'data-testid="photo-errors"' in response.content.decode()
    assert Case.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_unknown_item_is_refused_by_the_form(client, org):
    client.force_login(org.grid_worker)
    not_whistleable = Item.objects.filter(whistleable=False).first()
    item = str(not_whistleable.pk) if not_whistleable else "999999"
    response = client.post(reverse("cases:file"), whistle_data(org, item=item), **EN)
    assert response.status_code == 400
    assert response.context["form"].errors["item"]
    assert Case.objects.count() == 0


@pytest.mark.parametrize("who", ["village_officer", "captain", "supervisor"])
def test_only_grid_workers_may_file(client, org, who):
    client.force_login(getattr(org, who))
    assert client.get(reverse("cases:file"), **EN).status_code == 403
    assert client.post(reverse("cases:file"), whistle_data(org), **EN).status_code == 403
    assert client.get(reverse("cases:grids_geojson"), **EN).status_code == 403
    assert Case.objects.count() == 0


def test_pages_need_login(client, org):
    for name in ("cases:file", "cases:grids_geojson", "cases:nearby", "cases:mine"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


# --- the map's grids and the nearby check ---------------------------------------------------


def test_grids_geojson_lists_the_grids_of_the_users_villages(client, org):
    sibling = GridFactory(village=org.village, polygon=square_polygon(120.71, 30.50))
    client.force_login(org.grid_worker)
    response = client.get(reverse("cases:grids_geojson"), **ZH)
    assert response.status_code == 200
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    by_id = {feature["properties"]["id"]: feature for feature in collection["features"]}
    assert set(by_id) == {org.grid.pk, sibling.pk}
    feature = by_id[org.grid.pk]
    assert feature["geometry"] == org.grid.polygon
    assert feature["properties"]["code"] == org.grid.code
    assert feature["properties"]["name"] == org.grid.name_zh
    assert feature["properties"]["village"] == org.village.name_zh


def test_nearby_lists_similar_open_cases_the_user_may_see(client, org):
    # A neighbouring village's grid just east of org.grid, with no grid worker of ours.
    neighbour_village = VillageFactory(parent=org.town)
    neighbour_grid = GridFactory(village=neighbour_village, polygon=square_polygon(120.71, 30.50))
    MembershipFactory(user=UserFactory(), role=Role.GRID_WORKER, grid=neighbour_grid)
    mine = file_case(org, latitude=LAT, longitude=120.7040)
    hidden = file_whistle(
        user=None,
        source=Source.HOTLINE,
        item=org.item,
        description="Garbage over the border",
        latitude=LAT,
        longitude=120.7056,
    ).case
    assert hidden.grid == neighbour_grid
    other_item = Item.objects.exclude(pk=org.item.pk).filter(whistleable=True).first()
    file_case(org, item=other_item, latitude=LAT, longitude=120.7041)

    client.force_login(org.grid_worker)
    query = {"item": org.item.pk, "lat": LAT, "lng": 120.7048}
    response = client.get(reverse("cases:nearby"), query, HTTP_HX_REQUEST="true", **EN)
    assert response.status_code == 200
    body = response.content.decode()
    assert mine.number in body
    assert hidden.number not in body
    assert "77 m away" in body
    assert "filed" in body
    assert "Similar open cases nearby" in body
    assert body.count('data-testid="nearby-case"') == 1


def test_nearby_is_empty_far_away_or_without_a_location(client, org):
    file_case(org)
    client.force_login(org.grid_worker)
    far = client.get(reverse("cases:nearby"), {"item": org.item.pk, "lat": LAT + 0.004, "lng": LNG})
    assert far.status_code == 200
    assert "nearby-case" not in far.content.decode()
    blank = client.get(reverse("cases:nearby"), {"item": org.item.pk, "lat": "", "lng": ""})
    assert blank.status_code == 200
    assert blank.content.decode().strip() == ""


def test_nearby_is_for_grid_workers_only(client, org):
    client.force_login(org.village_officer)
    response = client.get(reverse("cases:nearby"), {"item": org.item.pk, "lat": LAT, "lng": LNG})
    assert response.status_code == 403


# --- my cases -------------------------------------------------------------------------------


def test_mine_lists_filed_and_to_verify_cases_with_their_forms(client, org):
    filed = file_case(org)
    to_check = resolved_case(org, latitude=LAT + 0.003)
    closed = closed_case(org, latitude=LAT - 0.003)
    evaluated = closed_case(org, latitude=LAT - 0.004, longitude=LNG + 0.004)
    evaluate_case(user=org.grid_worker, case_id=evaluated.pk, satisfaction="satisfied")
    # Filed by someone else in another grid: neither mine nor mine to check.
    stranger = file_case(org, user=org.other_grid_worker, latitude=30.50, longitude=120.80)

    client.force_login(org.grid_worker)
    response = client.get(reverse("cases:mine"), **EN)
    assert response.status_code == 200
    body = response.content.decode()
    to_verify = [case.pk for case in response.context["to_verify"]]
    filed_rows = [case.pk for case in response.context["filed"]]
    assert to_verify == [to_check.pk]
    assert set(filed_rows) == {filed.pk, to_check.pk, closed.pk, evaluated.pk}
    assert stranger.number not in body

    verify_url = f"/cases/{to_check.pk}/act/verify/"
    assert f'action="{verify_url}"' in body
    assert f'data-testid="verify-pass-{to_check.pk}"' in body
    assert f'href="{verify_url}?passed=0&amp;next=' in body
    # The "Not fixed…" link opens the verify form with "not fixed" already chosen.
    form_page = client.get(f"{verify_url}?passed=0&next=/my/cases/", **EN).content.decode()
    assert 'name="passed" value="0" id="id_passed_1" required checked>' in form_page
    assert 'name="passed" value="1" id="id_passed_0" required>' in form_page
    assert f'data-testid="evaluate-{closed.pk}"' in body
    assert f'action="/cases/{closed.pk}/act/evaluate/"' in body
    assert f'data-testid="evaluate-{evaluated.pk}"' not in body
    assert f'data-testid="verify-pass-{filed.pk}"' not in body
    assert f'data-testid="evaluate-{filed.pk}"' not in body
    assert 'name="passed" value="1"' in body
    assert 'name="next" value="/my/cases/"' in body
    assert f'name="version" value="{to_check.version}"' in body
    # Lights with text, and the time left of the running clock.
    assert "Light: green" in body
    assert "left" in body


def test_mine_renders_in_chinese(client, org):
    resolved_case(org)
    client.force_login(org.grid_worker)
    response = client.get(reverse("cases:mine"), **ZH)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="zh-hans"' in body
    assert org.item.name_zh in body


def test_mine_queries_do_not_grow_with_the_cases(client, org):
    client.force_login(org.grid_worker)
    file_case(org)
    resolved_case(org, latitude=LAT + 0.001)
    client.get(reverse("cases:mine"), **EN)  # warm the working-time calendar
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("cases:mine"), **EN)
    assert len(response.context["filed"]) == 2
    for index in range(13):
        offset = 0.0003 * (index + 2)
        if index % 3 == 0:
            resolved_case(org, latitude=LAT + offset)
        elif index % 3 == 1:
            closed_case(org, latitude=LAT - offset)
        else:
            file_case(org, longitude=LNG + offset)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("cases:mine"), **EN)
    assert len(response.context["filed"]) == 15
    assert len(response.context["to_verify"]) == 6
    assert len(many) == len(few)


def test_mine_paginates_by_twenty(client, org):
    for index in range(21):
        file_case(org, latitude=LAT + 0.0002 * index)
    client.force_login(org.grid_worker)
    first = client.get(reverse("cases:mine"), **EN)
    assert len(first.context["filed"]) == 20
    second = client.get(reverse("cases:mine"), {"page": 2}, **EN)
    assert len(second.context["filed"]) == 1
    assert Case.objects.filter(status=Status.FILED).count() == 21


def test_inline_forms_of_mine_verify_and_evaluate_through_the_action_pages(client, org):
    to_check = resolved_case(org)
    closed = closed_case(org, latitude=LAT - 0.003)
    client.force_login(org.grid_worker)
    mine = reverse("cases:mine")

    response = client.post(
        f"/cases/{to_check.pk}/act/verify/",
        {"version": to_check.version, "passed": "1", "next": mine},
        **EN,
    )
    assert response.status_code == 302
    assert response["Location"] == mine
    to_check.refresh_from_db()
    assert to_check.status == Status.CLOSED

    response = client.post(
        f"/cases/{closed.pk}/act/evaluate/",
        {"version": closed.version, "satisfaction": "satisfied", "comment": "", "next": mine},
        **EN,
    )
    assert response.status_code == 302
    closed.refresh_from_db()
    assert closed.satisfaction == "satisfied"
    body = client.get(mine, **EN).content.decode()
    assert f'data-testid="evaluate-{closed.pk}"' not in body
    assert f'data-testid="evaluate-{to_check.pk}"' in body  # now closed, not yet evaluated


# --- drafts sent later from the phone (static/js/drafts.js) ----------------------------------

DRAFT = {"HTTP_X_WHISTLE_FETCH": "1", "HTTP_X_WHISTLE_DRAFT": "1"}


def test_a_draft_is_filed_once_however_often_it_is_sent(client, org):
    client.force_login(org.grid_worker)
    data = whistle_data(org)
    for _attempt in range(3):
        response = client.post(
            reverse("cases:file"), {**data, "photos": [jpeg("a.jpg"), jpeg("b.jpg")]}, **DRAFT, **EN
        )
        assert response.status_code == 204
    case = Case.objects.get()
    assert case.attachments.count() == 2


def test_a_refused_draft_gets_the_servers_message_as_json_and_keeps_nothing(client, org):
    client.force_login(org.grid_worker)
    response = client.post(
        reverse("cases:file"),
        {**whistle_data(org, latitude="10.0", longitude="10.0"), "photos": [jpeg()]},
        **DRAFT,
        **EN,
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "This place lies outside every grid of the city." in response.json()["message"]
    assert Case.objects.count() == 0
    assert Attachment.objects.count() == 0  # no photo kept on the server for a later try


def test_a_draft_refused_by_screening_says_where_to_go(client, org):
    rule = next(r for r in ScreeningRule.objects.all() if "loan" in r.keyword_list())
    client.force_login(org.grid_worker)
    response = client.post(
        reverse("cases:file"),
        whistle_data(org, description="Neighbours argue about a loan"),
        **DRAFT,
        **EN,
    )
    assert response.status_code == 400
    message = response.json()["message"]
    assert rule.reason_en in message
    assert rule.redirect_en in message
    assert Case.objects.count() == 0
