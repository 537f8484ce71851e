"""What goes into the access audit trail: case pages, attachments, exports, drill-downs, every
sign-in, failure, lockout and sign-out, and every refusal (403), each with the user, the
client address, the kind, the object and the outcome."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AccessKind, AccessRecord, Outcome
from cases.uploads import process_attachment
from tests.audit.conftest import ADDRESS
from tests.cases.engine_steps import in_progress, png
from tests.tokens import api_token

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests.factories


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_opening_a_case_page_makes_exactly_one_record(client, org):
    case = in_progress(org)
    client.force_login(org.village_officer)
    before = AccessRecord.objects.count()

    response = client.get(reverse("cases:detail", args=[case.pk]), REMOTE_ADDR=ADDRESS)

    assert response.status_code == 200
    assert AccessRecord.objects.count() == before + 1
    record = AccessRecord.objects.latest("pk")
    assert record.kind == AccessKind.CASE_VIEWED
    assert record.outcome == Outcome.SUCCESS
    assert record.user == org.village_officer
    assert record.username == org.village_officer.username
    assert record.address == ADDRESS
    assert record.case_number == case.number
    assert record.target == reverse("cases:detail", args=[case.pk])


def test_a_case_outside_the_scope_is_not_recorded_as_opened(client, org):
    case = in_progress(org)
    client.force_login(org.other_captain)  # another town's captain: the case does not exist

    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert not AccessRecord.objects.filter(kind=AccessKind.CASE_VIEWED).exists()


def test_the_api_records_a_case_it_serves(org):
    case = in_progress(org)
    client = Client(HTTP_AUTHORIZATION=f"Token {api_token(org.captain)}")

    response = client.get(reverse("api:case-detail", args=[case.pk]), REMOTE_ADDR=ADDRESS)

    assert response.status_code == 200
    record = AccessRecord.objects.get(kind=AccessKind.CASE_VIEWED)
    assert (record.user, record.case_number, record.address) == (org.captain, case.number, ADDRESS)


def test_opening_an_attachment_is_recorded_but_not_the_photos_of_the_page(client, org):
    case = in_progress(org, photos=[png()])
    photo = case.attachments.get()
    process_attachment(attachment_id=photo.pk)  # the worker's re-encoding, which makes it servable
    client.force_login(org.captain)
    url = reverse("cases:attachment", args=[photo.pk])

    assert client.get(url, HTTP_SEC_FETCH_DEST="image").status_code == 200
    assert client.get(url + "?size=thumbnail").status_code == 200
    assert not AccessRecord.objects.filter(kind=AccessKind.ATTACHMENT_OPENED).exists()

    response = client.get(url, REMOTE_ADDR=ADDRESS, HTTP_SEC_FETCH_DEST="document")

    assert response.status_code == 200
    record = AccessRecord.objects.get(kind=AccessKind.ATTACHMENT_OPENED)
    assert (record.user, record.case_number, record.address) == (org.captain, case.number, ADDRESS)
    assert record.detail.startswith(f"#{photo.pk} ")


def test_an_export_is_recorded_with_its_file_and_filters(client, org):
    in_progress(org)
    client.force_login(org.town_committee)

    response = client.get(reverse("cases:list") + "?format=csv&status=in_progress")

    assert response.status_code == 200
    record = AccessRecord.objects.get(kind=AccessKind.EXPORT)
    assert record.user == org.town_committee
    assert record.target == reverse("cases:list") + "?format=csv&status=in_progress"
    assert record.detail.endswith(".csv")
    # The list page itself is no export.
    client.get(reverse("cases:list"))
    assert AccessRecord.objects.filter(kind=AccessKind.EXPORT).count() == 1


def test_a_dashboard_drill_down_is_recorded(client, org):
    client.force_login(org.supervisor)
    url = reverse("assessment:cases") + "?indicator=closure_rate&part=denominator"

    response = client.get(url, REMOTE_ADDR=ADDRESS)

    assert response.status_code == 200
    record = AccessRecord.objects.get(kind=AccessKind.DRILL_DOWN)
    assert (record.user, record.target, record.address) == (org.supervisor, url, ADDRESS)


def test_a_refusal_is_recorded_as_a_failure(client, org):
    client.force_login(org.grid_worker)

    response = client.get(reverse("cases:command"), REMOTE_ADDR=ADDRESS)

    assert response.status_code == 403
    record = AccessRecord.objects.get(kind=AccessKind.REFUSED)
    assert record.outcome == Outcome.FAILURE
    assert (record.user, record.address) == (org.grid_worker, ADDRESS)
    assert record.target == reverse("cases:command")
    assert record.detail == "GET"


def test_an_anonymous_refusal_is_recorded_without_a_user(org):
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("login"), {"username": "gw", "password": PASSWORD})

    assert response.status_code == 403  # no CSRF token
    record = AccessRecord.objects.get(kind=AccessKind.REFUSED)
    assert record.user is None and record.username == ""
    assert record.detail == "POST"


def sign_in(client: Client, username: str, password: str):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ADDRESS
    )


def test_sign_in_failure_and_sign_out_are_recorded(client, org):
    sign_in(client, "gw", "wrong guess")
    sign_in(client, "nobody-here", "wrong guess")
    assert sign_in(client, "gw", PASSWORD).status_code == 302
    client.post(reverse("logout"), REMOTE_ADDR=ADDRESS)

    rows = list(
        AccessRecord.objects.order_by("pk").values_list("kind", "username", "outcome", "address")
    )
    assert rows == [
        (AccessKind.SIGN_IN_FAILED, "gw", Outcome.FAILURE, ADDRESS),
        (AccessKind.SIGN_IN_FAILED, "nobody-here", Outcome.FAILURE, ADDRESS),
        (AccessKind.SIGN_IN, "gw", Outcome.SUCCESS, ADDRESS),
        (AccessKind.SIGN_OUT, "gw", Outcome.SUCCESS, ADDRESS),
    ]
    assert AccessRecord.objects.get(kind=AccessKind.SIGN_IN).user == org.grid_worker
    assert (
        AccessRecord.objects.filter(kind=AccessKind.SIGN_IN_FAILED, user__isnull=False).count() == 0
    )


def test_a_lockout_is_recorded(client, org):
    for _ in range(5):
        sign_in(client, "gw", "wrong guess")

    record = AccessRecord.objects.get(kind=AccessKind.LOCKED_OUT)
    assert (record.username, record.address, record.outcome) == ("gw", ADDRESS, Outcome.FAILURE)
    assert AccessRecord.objects.filter(kind=AccessKind.SIGN_IN_FAILED).count() == 5

    # The right password during the lockout: refused, and recorded again.
    assert sign_in(client, "gw", PASSWORD).status_code == 429
    assert AccessRecord.objects.filter(kind=AccessKind.LOCKED_OUT).count() == 2
    assert not AccessRecord.objects.filter(kind=AccessKind.SIGN_IN).exists()
