"""GET requests, GET one request and GET tokens, in both formats: public fields only, the
open/closed mapping with status notes from the latest public step, filters and their errors."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, Source
from cases.services import accept_case, reject_case, resolve_on_spot, verify_case
from tests.cases.engine_steps import file_case, png
from tests.factories import CityFactory
from tests.open311.conftest import FORMATS, REQUEST_FIELDS, errors_of, members, post_request, url


def filed(client, hotline, **fields) -> Case:
    response = post_request(client, hotline, **fields)
    assert response.status_code == 200, response.content
    return Case.objects.get(number=response.json()[0]["service_request_id"])


def rows_of(client, fmt: str, resource: str = "requests", **params) -> list[dict]:
    response = client.get(url(resource, fmt), params, headers={"accept-language": "en"})
    assert response.status_code == 200, response.content
    rows = members(response, fmt, "service_requests", "request")
    assert all(list(row) == REQUEST_FIELDS for row in rows)
    return rows


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_show_open_then_closed_with_status_notes(client, org, hotline, fmt):
    case = filed(
        client,
        hotline,
        media_url="https://hotline.example/p.jpg",
        address_string="East end of the bridge",
        first_name="Mei",
        phone="13800000000",
    )
    [row] = rows_of(client, fmt)
    assert row["service_request_id"] == case.number
    assert (row["status"], row["status_notes"]) == ("open", "Whistle received")
    assert (row["service_code"], row["service_name"]) == ("SAN-01", case.item.name_en)
    # The caller's own words and address are the hotline's to read, not the public's.
    assert (row["description"], row["address"], row["media_url"]) == (None, None, None)
    [own] = rows_of(client, fmt, api_key=hotline.key)
    assert own["description"] == "Garbage piled beside the bridge"
    assert own["address"] == "East end of the bridge"
    assert own["media_url"] == "https://hotline.example/p.jpg"
    assert row["address_id"] == org.grid.code
    assert row["agency_responsible"] == org.village.name_en
    assert row["requested_datetime"] == timezone.localtime(case.filed_at).isoformat(
        timespec="seconds"
    )
    assert row["requested_datetime"].endswith("+08:00")
    assert row["expected_datetime"]  # the screening deadline
    assert float(row["lat"]) == 30.5 and float(row["long"]) == 120.7
    accept_case(user=org.village_officer, case_id=case.pk)
    resolve_on_spot(user=org.village_officer, case_id=case.pk, note="Cleared", photos=[png()])
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True)
    [row] = rows_of(client, fmt)
    assert (row["status"], row["status_notes"]) == ("closed", "Checked on site: solved")
    assert row["expected_datetime"] is None
    assert rows_of(client, fmt, status="open") == []
    assert [r["service_request_id"] for r in rows_of(client, fmt, status="closed")] == [case.number]


def test_a_rejected_case_is_closed(client, org, hotline):
    case = filed(client, hotline)
    reject_case(user=org.village_officer, case_id=case.pk, reason="Private matter")
    [row] = rows_of(client, "json")
    assert (row["status"], row["status_notes"]) == ("closed", "Not accepted")


def test_names_follow_the_requested_language(client, org, hotline):
    case = filed(client, hotline)
    response = client.get(url("requests", "json"), headers={"accept-language": "zh-hans"})
    [row] = response.json()
    assert (row["service_name"], row["agency_responsible"]) == (
        case.item.name_zh,
        org.village.name_zh,
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_personal_data_is_shown(client, org, hotline, fmt):
    filed(
        client,
        hotline,
        first_name="Mei",
        last_name="Wang",
        phone="13800000000",
        email="wang@example.test",
    )
    own = file_case(org, description="Old Zhang at no. 5 dumps his rubbish", address="No. 5")
    response = client.get(url("requests", fmt))
    body = response.content.decode()
    for secret in (
        "Mei",
        "Wang",
        "13800000000",
        "wang@example.test",
        "Old Zhang",
        "No. 5",
        org.grid_worker.username,
        own.tracking_code,
    ):
        assert secret not in body
    rows = members(response, fmt, "service_requests", "request")
    grid_row = next(row for row in rows if row["service_request_id"] == own.number)
    assert grid_row["description"] is None and grid_row["address"] is None
    assert own.source == Source.GRID_WORKER


@pytest.mark.parametrize("fmt", FORMATS)
def test_filters_by_id_code_and_dates(client, org, hotline, fmt, time_machine):
    now = timezone.now()
    time_machine.move_to(now - timedelta(days=100), tick=False)
    old = filed(client, hotline)
    time_machine.move_to(now - timedelta(days=2), tick=False)
    water = filed(client, hotline, service_code="SAN-02")
    time_machine.move_to(now, tick=False)
    recent = filed(client, hotline)

    def ids(**params):
        return [row["service_request_id"] for row in rows_of(client, fmt, **params)]

    assert ids() == [recent.number, water.number]  # newest first, last 90 days
    assert ids(service_code="SAN-02") == [water.number]
    assert ids(service_code="SAN-01,SAN-02") == [recent.number, water.number]
    # Asked by id, the ids alone decide: the old one is found too.
    assert ids(service_request_id=f"{old.number},{recent.number}") == [recent.number, old.number]
    start = (now - timedelta(days=110)).isoformat()
    end = (now - timedelta(days=50)).isoformat()
    assert ids(start_date=start, end_date=end) == [old.number]
    assert ids(start_date=(now - timedelta(days=3)).isoformat()) == [recent.number, water.number]
    assert ids(end_date=(now - timedelta(days=1)).isoformat()) == [water.number]
    assert ids(start_date=(now - timedelta(days=3)).date().isoformat()) == [
        recent.number,
        water.number,
    ]
    assert ids(jurisdiction_id=org.city.code) == [recent.number, water.number]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2025-13-45T00:00:00Z"},
        {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"},
        {"start_date": "2025-06-01T00:00:00Z", "end_date": "2025-05-01T00:00:00Z"},
        {"status": "pending"},
    ],
    ids=["bad-start", "bad-end", "span-over-90-days", "end-before-start", "bad-status"],
)
def test_bad_filters_are_400(client, org, fmt, params):
    response = client.get(url("requests", fmt), params)
    assert response.status_code == 400
    assert errors_of(response, fmt)[0]["code"] == 400


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_jurisdiction_is_404(client, org, fmt):
    response = client.get(url("requests", fmt), {"jurisdiction_id": "NOWHERE"})
    assert response.status_code == 404
    assert errors_of(response, fmt)[0]["code"] == 404


def test_other_cities_cases_are_not_listed(client, org, hotline):
    filed(client, hotline)
    other = CityFactory(code="ZZ")
    response = client.get(url("requests", "json"), {"jurisdiction_id": other.code})
    assert response.status_code == 200 and response.json() == []


def test_at_most_1000_requests_a_page_with_a_key_newest_first(client, org, hotline):
    now = timezone.now()
    Case.objects.bulk_create(
        Case(
            number=f"HN-BULK-{n:05d}",
            tracking_code=f"BULK{n:012d}",
            source=Source.HOTLINE,
            item=org.item,
            grid=org.grid,
            village=org.village,
            town=org.town,
            city=org.city,
            description="bulk",
            filed_at=now - timedelta(minutes=n),
        )
        for n in range(1001)
    )
    response = client.get(url("requests", "json"), {"api_key": hotline.key})
    rows = response.json()
    assert len(rows) == 1000
    assert rows[0]["service_request_id"] == "HN-BULK-00000"
    assert rows[-1]["service_request_id"] == "HN-BULK-00999"
    assert "page=2" in response["Link"] and response["Link"].endswith('rel="next"')
    rows = client.get(url("requests", "json"), {"api_key": hotline.key, "page": 2}).json()
    assert [row["service_request_id"] for row in rows] == ["HN-BULK-01000"]
    # Without a key a page holds at most 50.
    assert len(client.get(url("requests", "json")).json()) == 50


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_one_request(client, org, hotline, fmt):
    case = filed(client, hotline)
    [row] = rows_of(client, fmt, resource=f"requests/{case.number}")
    assert (row["service_request_id"], row["status"]) == (case.number, "open")
    response = client.get(url("requests/HN-0000-999999", fmt))
    assert response.status_code == 404
    assert errors_of(response, fmt)[0]["code"] == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_tokens_answer_for_requests_filed_here(client, org, hotline, fmt):
    case = filed(client, hotline)
    response = client.get(url(f"tokens/{case.number}", fmt))
    assert response.status_code == 200
    [row] = members(response, fmt, "service_requests", "request")
    assert row == {"service_request_id": case.number, "token": case.number}
    grid_case = file_case(org)
    for token in ("nope", grid_case.number):
        response = client.get(url(f"tokens/{token}", fmt))
        assert response.status_code == 404
        assert errors_of(response, fmt)[0]["code"] == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_readers_with_a_key_are_limited_per_client_and_bad_keys_refused(client, org, hotline, fmt):
    response = client.get(url("services", fmt), {"api_key": "wrong"})
    assert response.status_code == 403
    assert errors_of(response, fmt)[0]["code"] == 403
    hotline.client.rate_limit_per_minute = 1
    hotline.client.save()
    assert client.get(url("requests", fmt), {"api_key": hotline.key}).status_code == 200
    response = client.get(url("requests", fmt), {"api_key": hotline.key})
    assert response.status_code == 429
    assert errors_of(response, fmt)[0]["code"] == 429


def test_anonymous_readers_are_limited_per_address(client, org, time_machine):
    time_machine.move_to(timezone.now(), tick=False)  # all in one window
    from cases.open311.services import ANONYMOUS_PER_MINUTE

    statuses = [
        client.get(url("services", "json")).status_code for _ in range(ANONYMOUS_PER_MINUTE)
    ]
    assert set(statuses) == {200}
    assert client.get(url("services", "json")).status_code == 429
