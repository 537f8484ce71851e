"""What Open311 shows to whom (README, "Open311"): without the filing system's api_key only the
public fields (service, status, public notes, times, the grid and a place rounded to about
100 m); the whistle's own words, address, exact place and the hotline's media URL only to the
client system that filed it, or to everyone once someone who speaks for the case marked it
public (publish_case, on the page and in the API). Lists are paged: 50 a call without a key."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, Event, Source
from cases.open311.services import create_api_client
from cases.services import publish_case
from tests.api.conftest import client_for
from tests.open311.conftest import FORMATS, members, post_request, url

WORDS = "Old Zhang at no. 5 (13800000000) dumps rubbish by the bridge"
PLACE = {"lat": "30.501234", "long": "120.701234"}


def filed(client, hotline, **fields) -> Case:
    response = post_request(
        client,
        hotline,
        description=WORDS,
        address_string="No. 5, Bridge Lane",
        media_url="https://hotline.example/p.jpg",
        **PLACE,
        **fields,
    )
    assert response.status_code == 200, response.content
    return Case.objects.get(number=response.json()[0]["service_request_id"])


def one(client, case: Case, fmt: str = "json", **params) -> dict:
    response = client.get(url(f"requests/{case.number}", fmt), params)
    assert response.status_code == 200, response.content
    (row,) = members(response, fmt, "service_requests", "request")
    return row


def as_number(value) -> float:
    return float(value)


@pytest.mark.parametrize("fmt", FORMATS)
def test_without_the_filers_key_only_public_fields_are_shown(client, org, hotline, fmt):
    case = filed(client, hotline)
    _other, other_key = create_api_client(name="other system", jurisdiction_id=org.city.code)
    for params in ({}, {"api_key": other_key}):
        row = one(client, case, fmt, **params)
        assert (row["description"], row["address"], row["media_url"]) == (None, None, None)
        # Rounded to three decimals: about 100 m, never the caller's doorstep.
        assert (as_number(row["lat"]), as_number(row["long"])) == (30.501, 120.701)
        assert row["service_code"] == "SAN-01" and row["status"] == "open"
        assert row["address_id"] == org.grid.code and row["requested_datetime"]
        listed = client.get(url("requests", fmt), params).content.decode()
        for secret in ("Old Zhang", "13800000000", "No. 5", "30.501234", "hotline.example"):
            assert secret not in listed
    own = one(client, case, fmt, api_key=hotline.key)
    assert own["description"] == WORDS
    assert own["address"] == "No. 5, Bridge Lane"
    assert own["media_url"] == "https://hotline.example/p.jpg"
    assert (as_number(own["lat"]), as_number(own["long"])) == (30.501234, 120.701234)


def test_a_grid_workers_whistle_is_never_shown_in_full_to_a_client(client, org, hotline):
    from tests.cases.engine_steps import file_case

    case = file_case(org, description=WORDS, address="No. 5")
    assert case.source == Source.GRID_WORKER
    row = one(client, case, api_key=hotline.key)  # a key, but not the filer's
    assert (row["description"], row["address"]) == (None, None)


def test_a_case_made_public_shows_its_text_to_everyone_and_back(client, org, hotline):
    case = filed(client, hotline)
    publish_case(user=org.village_officer, case_id=case.pk, public=True)
    row = one(client, case)
    assert row["description"] == WORDS and row["address"] == "No. 5, Bridge Lane"
    assert (as_number(row["lat"]), as_number(row["long"])) == (30.501234, 120.701234)
    event = Event.objects.get(case=case, action="case_visibility")
    assert event.data == {"public": True} and event.actor == org.village_officer
    publish_case(user=org.village_officer, case_id=case.pk, public=False)
    assert one(client, case)["description"] is None


def test_publish_case_through_the_api_and_who_may(client, org, hotline):
    case = filed(client, hotline)
    body = {"version": case.version, "public": True}
    path = f"/api/cases/{case.pk}/publish-case/"
    # A grid worker of another grid does not see the case; one of its grid may not speak for it.
    assert client_for(org.other_grid_worker).post(path, body, format="json").status_code == 404
    assert client_for(org.grid_worker).post(path, body, format="json").status_code == 403
    response = client_for(org.village_officer).post(path, body, format="json")
    assert response.status_code == 200, response.content
    assert Case.objects.get(pk=case.pk).public
    again = client_for(org.village_officer).post(
        path, {"version": Case.objects.get(pk=case.pk).version, "public": True}, format="json"
    )
    assert again.status_code == 409  # already public: every change leaves one event
    assert Event.objects.filter(case=case, action="case_visibility").count() == 1


def test_publish_case_on_the_case_page(client, org, hotline):
    case = filed(client, hotline)
    client.force_login(org.village_officer)
    page = client.get(f"/cases/{case.pk}/", headers={"accept-language": "en"})
    assert b"publish_case" in page.content
    response = client.post(
        f"/cases/{case.pk}/act/publish_case/", {"version": case.version, "public": "1"}
    )
    assert response.status_code == 302, response.content
    assert Case.objects.get(pk=case.pk).public


def _bulk(org, count: int) -> None:
    now = timezone.now()
    Case.objects.bulk_create(
        Case(
            number=f"HN-P-{n:04d}",
            tracking_code=f"PAGE{n:012d}",
            source=Source.HOTLINE,
            item=org.item,
            grid=org.grid,
            village=org.village,
            town=org.town,
            city=org.city,
            description="bulk",
            filed_at=now - timedelta(minutes=n),
        )
        for n in range(count)
    )


def test_anonymous_lists_are_capped_at_50_and_paged(client, org):
    _bulk(org, 120)
    first = client.get(url("requests", "json"))
    assert [r["service_request_id"] for r in first.json()] == [f"HN-P-{n:04d}" for n in range(50)]
    assert "page=2" in first["Link"] and first["Link"].endswith('rel="next"')
    third = client.get(url("requests", "json"), {"page": 3})
    assert [r["service_request_id"] for r in third.json()] == [
        f"HN-P-{n:04d}" for n in range(100, 120)
    ]
    assert not third.has_header("Link")
    small = client.get(url("requests", "json"), {"page": 2, "page_size": 7}).json()
    assert [r["service_request_id"] for r in small] == [f"HN-P-{n:04d}" for n in range(7, 14)]
    # Asked by id, the same cap holds.
    ids = ",".join(f"HN-P-{n:04d}" for n in range(120))
    assert len(client.get(url("requests", "json"), {"service_request_id": ids}).json()) == 50


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "params", [{"page_size": "51"}, {"page_size": "0"}, {"page": "-1"}, {"page": "x"}]
)
def test_bad_paging_is_400(client, org, fmt, params):
    response = client.get(url("requests", fmt), params, headers={"accept-language": "en"})
    assert response.status_code == 400, response.content
    assert ("page" in response.content.decode()) and Case.objects.count() == 0


def test_a_key_may_ask_for_pages_of_up_to_1000(client, org, hotline):
    _bulk(org, 60)
    rows = client.get(url("requests", "json"), {"api_key": hotline.key, "page_size": 60}).json()
    assert len(rows) == 60
    response = client.get(url("requests", "json"), {"api_key": hotline.key, "page_size": 1001})
    assert response.status_code == 400
