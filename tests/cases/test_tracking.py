"""The citizen's tracking page: the right code shows status and public steps without anything
personal, a wrong code says so without a hint, lookups are rate limited, and a closed case
can be rated once."""

import re

import pytest
from django.core.cache import cache
from django.utils import timezone, translation

from cases.models import Event, Satisfaction, Status
from cases.rejections import RejectionReason
from cases.services import accept_case, reject_case, resolve_on_spot, verify_case
from cases.views.tracking import LOOKUPS_PER_WINDOW
from tests.cases.engine_steps import file_case, png

PRIVATE_DESCRIPTION = "Old Zhang at no. 5 keeps dumping rubbish by the river"


@pytest.fixture(autouse=True)
def _fresh_limits_and_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def case(org):
    return file_case(
        org,
        description=PRIVATE_DESCRIPTION,
        contact_name="Wang Mei",
        contact_phone="13800000000",
        contact_email="wang@example.test",
        address="No. 5 River Road",
    )


def closed(org, case):
    accept_case(user=org.village_officer, case_id=case.pk)
    resolve_on_spot(
        user=org.village_officer, case_id=case.pk, note="Talked to Zhang", photos=[png()]
    )
    return verify_case(user=org.grid_worker, case_id=case.pk, passed=True, reason="Clean now")


def lookup(client, code, **extra):
    return client.post("/track/", {"code": code, **extra}, headers={"accept-language": "en"})


def test_the_form_is_public(client, db):
    response = client.get("/track/", headers={"accept-language": "en"})
    assert response.status_code == 200
    assert b'name="code"' in response.content


def test_the_login_page_links_to_tracking(client, db):
    assert b'href="/track/"' in client.get("/accounts/login/").content


def test_the_right_code_shows_status_and_public_steps_only(client, org, case):
    accept_case(user=org.village_officer, case_id=case.pk)
    response = lookup(client, case.tracking_code.lower())  # case does not matter
    assert response.status_code == 200
    html = response.content.decode()
    assert case.number in html
    assert 'data-status="village_handling"' in html
    assert "Whistle received" in html and "Accepted by the village" in html
    for private in (
        PRIVATE_DESCRIPTION,
        "Wang Mei",
        "13800000000",
        "wang@example.test",
        "No. 5 River Road",
    ):
        assert private not in html
    # As whole words: a short username may occur by chance inside a random token on the page.
    for username in (org.grid_worker.username, org.village_officer.username):
        assert not re.search(rf"\b{re.escape(username)}\b", html)
    assert 'data-testid="rating"' not in html  # not closed yet


def test_a_code_in_the_query_string_works_too(client, org, case):
    response = client.get(
        "/track/", {"code": f" {case.tracking_code[:8]}-{case.tracking_code[8:]} "}
    )
    assert response.status_code == 200
    assert case.number in response.content.decode()


def test_a_wrong_code_says_only_that_there_is_no_such_case(client, org, case):
    almost = case.tracking_code[:-1] + ("A" if case.tracking_code[-1] != "A" else "B")
    for code in (almost, "nonsense!"):
        response = lookup(client, code)
        assert response.status_code == 200
        html = response.content.decode()
        assert "There is no case with this tracking code." in html
        assert case.number not in html and code not in html


def test_lookups_are_rate_limited_per_address(client, org, case, time_machine):
    time_machine.move_to(timezone.now(), tick=False)  # all in one window
    for _ in range(LOOKUPS_PER_WINDOW):
        assert lookup(client, "WRONGCODE2345678").status_code == 200
    response = lookup(client, case.tracking_code)
    assert response.status_code == 429
    assert case.number not in response.content.decode()
    assert 'data-testid="too-many"' in response.content.decode()
    other = client.get("/track/", REMOTE_ADDR="10.0.0.9", data={"code": case.tracking_code})
    assert other.status_code == 200


def test_a_closed_case_can_be_rated_once(client, org, case):
    closed(org, case)
    html = lookup(client, case.tracking_code).content.decode()
    assert 'data-status="closed"' in html and 'data-testid="rating"' in html
    assert "Talked to Zhang" not in html and "Clean now" not in html
    response = lookup(
        client, case.tracking_code, satisfaction=Satisfaction.SATISFIED, comment="Quick work"
    )
    assert response.status_code == 200
    assert 'data-testid="thanks"' in response.content.decode()
    case.refresh_from_db()
    assert (case.status, case.satisfaction) == (Status.CLOSED, Satisfaction.SATISFIED)
    event = Event.objects.get(case=case, action="evaluate")
    assert (event.actor, event.actor_label, event.public) == (None, "citizen", True)
    again = lookup(client, case.tracking_code, satisfaction=Satisfaction.UNSATISFIED)
    html = again.content.decode()
    assert 'data-testid="rating"' not in html and 'data-testid="rated"' in html
    case.refresh_from_db()
    assert case.satisfaction == Satisfaction.SATISFIED
    assert Event.objects.filter(case=case, action="evaluate").count() == 1


def test_an_open_case_cannot_be_rated(client, org, case):
    response = lookup(client, case.tracking_code, satisfaction=Satisfaction.UNSATISFIED)
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.satisfaction == ""
    assert not Event.objects.filter(case=case, action="evaluate").exists()


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "A civil or economic dispute"), ("zh-hans", None)],
)
def test_a_common_reason_reads_in_the_citizens_language(client, org, case, language, words):
    """A common reason is stored as its code: the citizen reads it in words, in their own
    language, with where to go instead."""
    reject_case(
        user=org.village_officer,
        case_id=case.pk,
        reason_code="dispute",
        redirect="The mediation office",
    )
    html = client.post(
        "/track/", {"code": case.tracking_code}, headers={"accept-language": language}
    ).content.decode()
    with translation.override(language):
        expected = str(RejectionReason.DISPUTE.label)
    assert 'data-testid="rejection-reason"' in html
    assert expected in html
    if words:
        assert words in expected
    assert "The mediation office" in html
