"""POST requests: a hotline request becomes a whistle of source "12345 hotline" through the
ordinary screening, in both formats, with every error case of the spec."""

import pytest
from django.utils import timezone

from cases.models import ApiSubmission, Case, Event, IdempotencyKey, Source, Status
from cases.open311.services import revoke_api_client
from checklists.models import Item
from tests.factories import CityFactory, GridFactory, TownFactory, VillageFactory, square_polygon
from tests.open311.conftest import FORMATS, POST_FIELDS, errors_of, members, post_request


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_files_a_hotline_whistle(client, org, hotline, fmt):
    response = post_request(
        client,
        hotline,
        fmt,
        description="Garbage piled beside the bridge",
        address_string="East end of the bridge",
        first_name="Mei",
        last_name="Wang",
        phone="13800000000",
        email="wang@example.test",
        media_url="https://hotline.example/media/1.jpg",
        account_id="acct-7",
        **{"attribute[HOTLINE_TICKET]": "12345-2025-0001", "attribute[UNKNOWN]": "ignored"},
    )
    assert response.status_code == 200, response.content
    [row] = members(response, fmt, "service_requests", "request")
    assert list(row) == POST_FIELDS
    case = Case.objects.get(number=row["service_request_id"])
    assert row["account_id"] == "acct-7"
    assert case.tracking_code in row["service_notice"]
    assert "/track/" in row["service_notice"]
    assert (case.source, case.status, case.grid, case.reporter) == (
        Source.HOTLINE,
        Status.FILED,
        org.grid,
        None,
    )
    assert (case.contact_name, case.contact_phone, case.contact_email) == (
        "Mei Wang",
        "13800000000",
        "wang@example.test",
    )
    assert case.address == "East end of the bridge"
    assert (case.latitude, case.longitude) == (30.5, 120.7)
    [event] = Event.objects.filter(case=case)
    assert (event.action, event.actor, event.actor_label, event.public) == (
        "file",
        None,
        "hotline",
        True,
    )
    submission = ApiSubmission.objects.get(case=case)
    assert submission.client == hotline.client
    assert submission.media_url == "https://hotline.example/media/1.jpg"
    assert submission.attributes == {"HOTLINE_TICKET": "12345-2025-0001"}
    # Screening starts as for any whistle.
    assert case.deadlines.filter(stage="screening", met_at__isnull=True).exists()


def test_post_with_a_grid_code_as_address_id(client, org, hotline):
    response = post_request(client, hotline, lat=None, long=None, address_id=org.other_grid.code)
    assert response.status_code == 200, response.content
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert (case.grid, case.latitude) == (org.other_grid, None)


def test_idempotency_key_files_once(client, org, hotline):
    headers = {"Idempotency-Key": "call-42"}
    first = post_request(client, hotline, headers=headers)
    again = post_request(client, hotline, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert Case.objects.count() == 1
    assert IdempotencyKey.objects.get(key="call-42").client == hotline.client.name


# --- errors ---------------------------------------------------------------------------------


def assert_error(response, fmt: str, status: int, *words: str) -> str:
    assert response.status_code == status, response.content
    errors = errors_of(response, fmt)
    assert all(error["code"] == status for error in errors)
    text = " ".join(error["description"] for error in errors)
    for word in words:
        assert word in text
    assert Case.objects.count() == 0
    return text


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_unknown_and_revoked_keys_are_403(client, org, hotline, fmt):
    assert_error(post_request(client, hotline, fmt, api_key=None), fmt, 403, "api_key")
    assert_error(post_request(client, hotline, fmt, api_key="not-a-key"), fmt, 403, "api_key")
    revoke_api_client(client=hotline.client)
    assert_error(post_request(client, hotline, fmt), fmt, 403, "api_key")


@pytest.mark.parametrize("fmt", FORMATS)
def test_rate_limit_per_client_is_429(client, org, hotline, fmt, time_machine):
    time_machine.move_to(timezone.now(), tick=False)  # all in one window
    hotline.client.rate_limit_per_minute = 2
    hotline.client.save()
    for _ in range(2):
        assert post_request(client, hotline, fmt, service_code=None).status_code == 400
    response = post_request(client, hotline, fmt)
    assert_error(response, fmt, 429)
    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_code_is_404(client, org, hotline, fmt):
    assert_error(post_request(client, hotline, fmt, service_code="NOPE-99"), fmt, 404)


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_service_code_is_400(client, org, hotline, fmt):
    assert_error(post_request(client, hotline, fmt, service_code=None), fmt, 400, "service_code")


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_jurisdiction_is_404_and_another_is_403(client, org, hotline, fmt):
    assert_error(post_request(client, hotline, fmt, jurisdiction_id="NOWHERE"), fmt, 404)
    other = CityFactory(code="ZZ")
    assert_error(post_request(client, hotline, fmt, jurisdiction_id=other.code), fmt, 403)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "fields",
    [
        {"lat": None, "long": None},
        {"lat": None, "long": None, "address_string": "Near the bridge"},
        {"long": None},
        {"lat": "north"},
        {"lat": "95", "long": "120.7"},
        {"lat": "10", "long": "10"},
        {"lat": None, "long": None, "address_id": "NO-SUCH-GRID"},
    ],
    ids=[
        "none",
        "address-only",
        "lat-only",
        "not-a-number",
        "out-of-range",
        "outside-grids",
        "unknown-grid",
    ],
)
def test_a_missing_or_bad_location_is_400(client, org, hotline, fmt, fields):
    assert_error(post_request(client, hotline, fmt, **fields), fmt, 400)


def test_a_place_in_another_citys_grid_is_400(client, org, hotline):
    village = VillageFactory(parent=TownFactory(parent=CityFactory(code="ZZ")))
    GridFactory(village=village, polygon=square_polygon(121.5, 31.0))
    response = post_request(client, hotline, lat="31.0", long="121.5")
    assert_error(response, "json", 400, "jurisdiction")


@pytest.mark.parametrize("fmt", FORMATS)
def test_description_over_4000_characters_is_400(client, org, hotline, fmt):
    assert_error(post_request(client, hotline, fmt, description="x" * 4001), fmt, 400, "4")
    assert post_request(client, hotline, fmt, description="x" * 4000).status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "fields",
    [
        {"description": ""},
        {"email": "not an address"},
        {"media_url": "ftp://example.test/a.jpg"},
        {"attribute[HOTLINE_TICKET]": "x" * 65},
    ],
    ids=["no-description", "bad-email", "bad-media-url", "attribute-too-long"],
)
def test_invalid_fields_are_400(client, org, hotline, fmt, fields):
    assert_error(post_request(client, hotline, fmt, **fields), fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_screening_refusal_is_400_with_where_to_go(client, org, hotline, fmt):
    response = post_request(
        client,
        hotline,
        fmt,
        description="A divorce and inheritance quarrel",
        headers={"accept-language": "en"},
    )
    text = assert_error(response, fmt, 400, "Civil disputes", "mediation committee")
    assert "Where to go instead" in text


def test_an_item_not_for_whistling_is_refused_by_screening(client, org, hotline):
    Item.objects.filter(code="SAN-02").update(
        whistleable=False, redirect_en="Call the water company."
    )
    response = post_request(
        client, hotline, service_code="SAN-02", headers={"accept-language": "en"}
    )
    assert_error(response, "json", 400, "not a matter for whistling", "Call the water company.")
