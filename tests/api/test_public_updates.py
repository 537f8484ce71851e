"""POST /api/cases/{id}/post-update/ and /publish-photo/: the public message and its photos,
the visibility of an attachment, their refusals, and what the case and its events say about
visibility (docs/architecture.md, "What the citizen sees")."""

import pytest

from cases.models import Attachment, Event
from tests.api.conftest import png
from tests.api.steps import fresh, post, url
from tests.cases.engine_steps import in_progress, whistled

pytestmark = pytest.mark.django_db


def test_a_public_update_with_photos_comes_back_public(org, api):
    case = in_progress(org, photos=[png()])
    response = post(
        api(org.captain),
        url(case, "post_update"),
        {"version": case.version, "message": "Crews start on Monday.", "photos": [png()]},
        multipart=True,
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    visibility = {(row["purpose"], row["public"]) for row in body["attachments"]}
    assert visibility == {("filing", False), ("update", True)}
    events = api(org.captain).get(f"/api/cases/{case.pk}/events/").json()["results"]
    update = next(event for event in events if event["action"] == "public_update")
    assert update["public"] is True
    assert update["data"] == {"message": "Crews start on Monday."}
    assert update["label"] == "posted a public update"
    assert next(e for e in events if e["action"] == "whistle")["data"]["note"] == "Too big for us"


def test_an_empty_message_is_refused_and_nothing_is_written(org, api):
    case = in_progress(org)
    response = post(
        api(org.town_committee), url(case, "post_update"), {"version": case.version, "message": " "}
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"message": ["Write the message for the public."]}
    assert fresh(case).version == case.version
    assert not Event.objects.filter(case=case, action="public_update").exists()


def test_a_team_member_may_not_speak_for_the_case(org, api):
    case = in_progress(org)
    body = {"version": case.version, "message": "Soon"}
    response = post(api(org.member), url(case, "post_update"), body)
    assert response.status_code == 403
    assert post(api(org.city_committee), url(case, "post_update"), body).status_code == 403


def test_a_photo_is_made_public_and_internal_again(org, api):
    case = in_progress(org, photos=[png()])
    photo = case.attachments.get()
    client = api(org.village_officer)
    response = post(
        client,
        url(case, "publish_photo"),
        {"version": case.version, "attachment": photo.pk, "public": True},
    )
    assert response.status_code == 200, response.json()
    assert [row["public"] for row in response.json()["attachments"]] == [True]
    again = post(
        client,
        url(case, "publish_photo"),
        {"version": response.json()["version"], "attachment": photo.pk, "public": True},
    )
    assert again.status_code == 409
    assert again.json()["message"] == "The photo is already public."
    back = post(
        client,
        url(case, "publish_photo"),
        {"version": response.json()["version"], "attachment": photo.pk, "public": False},
    )
    assert back.status_code == 200
    assert Attachment.objects.get(pk=photo.pk).public is False
    changes = Event.objects.filter(case=case, action="photo_visibility").order_by("id")
    assert [event.data for event in changes] == [
        {"attachment": photo.pk, "public": True},
        {"attachment": photo.pk, "public": False},
    ]
    assert not any(event.public for event in changes)


def test_an_attachment_of_another_case_is_not_found(org, api):
    case = in_progress(org)
    other = whistled(org, photos=[png()], description="Another pile")
    foreign = other.attachments.get()
    response = post(
        api(org.town_committee),
        url(case, "publish_photo"),
        {"version": case.version, "attachment": foreign.pk, "public": True},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Attachment.objects.get(pk=foreign.pk).public is False
    assert fresh(case).version == case.version


def test_the_visibility_must_be_said(org, api):
    case = in_progress(org, photos=[png()])
    response = post(
        api(org.captain),
        url(case, "publish_photo"),
        {"version": case.version, "attachment": case.attachments.get().pk},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["public"]
