"""What Open311 tells the public beyond the status: status_notes is the latest public step in
words or the text of a public update, never an internal note; media_url is the newest photo
marked public (an absolute address anyone may fetch), never an internal photo."""

import pytest

from cases.models import Case
from cases.open311.public import public_attachment_url
from cases.services import (
    accept_case,
    post_update,
    publish_case,
    publish_photo,
    record_handling,
)
from tests.cases.engine_steps import in_progress, png, team_dispatch
from tests.open311.conftest import FORMATS, members, post_request, url

HANDLING_NOTE = "Owner Li at no. 7 refuses to move the skip"
UPDATE = "Crews clear the bridge on Monday morning."


def request_row(client, case: Case, fmt: str, **params) -> dict:
    response = client.get(
        url(f"requests/{case.number}", fmt), params, headers={"accept-language": "en"}
    )
    assert response.status_code == 200, response.content
    (row,) = members(response, fmt, "service_requests", "request")
    assert HANDLING_NOTE not in response.content.decode()
    return row


@pytest.mark.parametrize("fmt", FORMATS)
def test_status_notes_show_the_public_update_never_a_handling_note(client, org, fmt):
    case = in_progress(org, photos=[png()])
    record_handling(user=org.captain, dispatch_id=team_dispatch(case).pk, note=HANDLING_NOTE)
    assert request_row(client, case, fmt)["status_notes"] == "A team or department reported in"
    post_update(user=org.captain, case_id=case.pk, message=UPDATE)
    assert request_row(client, case, fmt)["status_notes"] == UPDATE
    record_handling(user=org.captain, dispatch_id=team_dispatch(case).pk, note=HANDLING_NOTE)
    assert request_row(client, case, fmt)["status_notes"] == UPDATE  # a note is no public step
    listed = client.get(url("requests", fmt), headers={"accept-language": "en"})
    (row,) = members(listed, fmt, "service_requests", "request")
    assert row["status_notes"] == UPDATE
    assert HANDLING_NOTE not in listed.content.decode()


@pytest.mark.parametrize("fmt", FORMATS)
def test_media_url_is_the_newest_public_photo_only(client, org, fmt):
    case = in_progress(org, photos=[png()])
    filing = case.attachments.get()
    assert request_row(client, case, fmt)["media_url"] in (None, "")  # the whistle's own photo
    publish_photo(user=org.village_officer, case_id=case.pk, attachment_id=filing.pk, public=True)
    # The whistle's own photo needs the case to be public as well.
    assert request_row(client, case, fmt)["media_url"] in (None, "")
    publish_case(user=org.village_officer, case_id=case.pk, public=True)
    media = request_row(client, case, fmt)["media_url"]
    assert media == "http://testserver" + public_attachment_url(attachment_id=filing.pk)
    assert client.get(media).status_code == 200
    post_update(user=org.captain, case_id=case.pk, message=UPDATE, photos=[png()])
    newest = case.attachments.get(purpose="update")
    media = request_row(client, case, fmt)["media_url"]
    assert media == "http://testserver" + public_attachment_url(attachment_id=newest.pk)
    publish_photo(user=org.captain, case_id=case.pk, attachment_id=newest.pk, public=False)
    publish_photo(user=org.captain, case_id=case.pk, attachment_id=filing.pk, public=False)
    assert request_row(client, case, fmt)["media_url"] in (None, "")


def test_a_hotline_request_keeps_its_own_media_url_until_a_photo_is_public(client, org, hotline):
    response = post_request(client, hotline, media_url="https://hotline.example/p.jpg")
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    # Its own media URL is the hotline's to read (its api_key), not the public's.
    assert request_row(client, case, "json")["media_url"] is None
    own = request_row(client, case, "json", api_key=hotline.key)
    assert own["media_url"] == "https://hotline.example/p.jpg"
    accept_case(user=org.village_officer, case_id=case.pk)
    post_update(user=org.village_officer, case_id=case.pk, message=UPDATE, photos=[png()])
    photo = case.attachments.get(purpose="update")
    assert request_row(client, case, "json")["media_url"] == (
        "http://testserver" + public_attachment_url(attachment_id=photo.pk)
    )
