"""Public updates and the visibility of attachments: the services (who may, what is refused,
what is written), the case page (buttons, forms, the public/internal badges) and what the
citizen tracking a case sees: the public steps, the public updates' text and the attachments
marked public, never an internal note or photo (docs/architecture.md)."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from cases.errors import IllegalTransition, InvalidInput, NotAllowed, NotInScope
from cases.models import Attachment, Case, Event
from cases.open311.public import public_attachment_token, public_attachment_url
from cases.services import (
    post_update,
    publish_case,
    publish_photo,
    record_handling,
    reject_case,
)
from tests.cases.engine_steps import (
    accepted,
    file_case,
    fresh,
    in_progress,
    png,
    team_dispatch,
)

HANDLING_NOTE = "Owner Li at no. 7 refuses to move the skip"
UPDATE = "Crews clear the bridge on Monday morning."


@pytest.fixture(autouse=True)
def _fresh_limits_and_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


def handled(org) -> Case:
    """In progress, with a filing photo and a handling note and photo (all internal)."""
    case = in_progress(org, photos=[png("filing.png")])
    record_handling(
        user=org.captain,
        dispatch_id=team_dispatch(case).pk,
        note=HANDLING_NOTE,
        photos=[png("handling.png", colour=(10, 200, 10))],
    )
    return fresh(case)


def track(client, case: Case) -> str:
    response = client.post(
        "/track/", {"code": case.tracking_code}, headers={"accept-language": "en"}
    )
    assert response.status_code == 200
    return response.content.decode()


def photo_urls(html: str) -> set[str]:
    return set(re.findall(r'src="(/track/files/[^"]+/)"', html))


# The services.


@pytest.mark.django_db
def test_a_public_update_is_a_public_step_whose_photos_are_public(org):
    case = in_progress(org)
    version = case.version
    post_update(user=org.captain, case_id=case.pk, message=f"  {UPDATE} ", photos=[png()])
    event = Event.objects.get(case=case, action="public_update")
    assert (event.public, event.data, event.actor) == (True, {"message": UPDATE}, org.captain)
    (attachment,) = Attachment.objects.filter(event=event)
    assert (attachment.purpose, attachment.public) == ("update", True)
    assert fresh(case).version == version + 1
    assert fresh(case).status == case.status


@pytest.mark.django_db
def test_the_message_is_required_and_short(org):
    case = in_progress(org)
    for message in ("", "   ", "x" * 1001):
        with pytest.raises(InvalidInput) as refused:
            post_update(user=org.captain, case_id=case.pk, message=message, photos=[png()])
        assert list(refused.value.fields) == ["message"]
    assert not Event.objects.filter(case=case, action="public_update").exists()
    assert not Attachment.objects.filter(case=case).exists()
    assert fresh(case).version == case.version


@pytest.mark.django_db
def test_who_may_speak_for_the_case(org):
    village_case = accepted(org)
    post_update(user=org.village_officer, case_id=village_case.pk, message="We are on it.")
    town_case = in_progress(org)
    for speaker in (org.village_officer, org.captain, org.town_committee):
        post_update(user=speaker, case_id=town_case.pk, message="On it.")
    for bystander in (org.member, org.liaison, org.grid_worker, org.supervisor):
        with pytest.raises(NotAllowed):
            post_update(user=bystander, case_id=town_case.pk, message="On it.")
    with pytest.raises(NotAllowed):  # a town case is not the city committee's
        post_update(user=org.city_committee, case_id=town_case.pk, message="On it.")
    with pytest.raises(NotInScope):
        post_update(user=org.other_captain, case_id=town_case.pk, message="On it.")
    with pytest.raises(NotAllowed):  # a village case has no captain yet
        post_update(user=org.captain, case_id=village_case.pk, message="On it.")
    assert Event.objects.filter(case=town_case, action="public_update").count() == 3


@pytest.mark.django_db
def test_a_rejected_case_takes_no_updates(org):
    case = file_case(org)
    reject_case(user=org.village_officer, case_id=case.pk, reason="Private dispute")
    with pytest.raises(IllegalTransition) as refused:
        post_update(user=org.village_officer, case_id=case.pk, message="Try the court.")
    with translation.override("en"):
        assert str(refused.value.message) == "A rejected case takes no public updates."


@pytest.mark.django_db
def test_photos_are_internal_until_made_public(org):
    case = handled(org)
    assert list(case.attachments.values_list("purpose", "public")) == [
        ("filing", False),
        ("handling", False),
    ]
    filing = case.attachments.get(purpose="filing")
    publish_photo(user=org.town_committee, case_id=case.pk, attachment_id=filing.pk, public=True)
    assert Attachment.objects.get(pk=filing.pk).public is True
    event = Event.objects.get(case=case, action="photo_visibility")
    assert (event.data, event.public) == ({"attachment": filing.pk, "public": True}, False)
    with pytest.raises(IllegalTransition):
        publish_photo(
            user=org.town_committee, case_id=case.pk, attachment_id=filing.pk, public=True
        )
    publish_photo(user=org.captain, case_id=case.pk, attachment_id=filing.pk, public=False)
    assert Attachment.objects.get(pk=filing.pk).public is False
    with pytest.raises(NotAllowed):
        publish_photo(user=org.member, case_id=case.pk, attachment_id=filing.pk, public=True)


@pytest.mark.django_db
def test_an_attachment_of_another_case_is_not_found(org):
    case = in_progress(org)
    other = in_progress(org, photos=[png()], description="Another pile")
    foreign = other.attachments.get()
    with pytest.raises(NotInScope):
        publish_photo(user=org.captain, case_id=case.pk, attachment_id=foreign.pk, public=True)
    assert Attachment.objects.get(pk=foreign.pk).public is False
    assert not Event.objects.filter(action="photo_visibility").exists()
    assert fresh(case).version == case.version


# The case page.


@pytest.mark.django_db
def test_the_case_page_offers_the_actions_and_marks_notes_and_photos(client, org):
    case = handled(org)
    post_update(user=org.captain, case_id=case.pk, message=UPDATE, photos=[png()])
    client.force_login(org.captain)
    html = client.get(
        reverse("cases:detail", args=[case.pk]), headers={"accept-language": "en"}
    ).content.decode()
    assert 'data-testid="post_update"' in html and "Post a public update" in html
    assert 'data-testid="publish_photo"' in html
    # Photos: filing and handling internal, the update's public; each with its badge and link.
    items = re.findall(r'data-testid="photo-item".*?</li>', html, re.S)
    assert [re.search(r'data-public="(\d)"', item).group(1) for item in items] == ["0", "0", "1"]
    assert [item.count('data-testid="publish-photo"') for item in items] == [1, 1, 1]
    assert "Make public" in html and "Make internal" in html
    # The trace: the handling note is internal, the update's message public.
    entries = dict(
        re.findall(
            r'data-action="(\w+)">(.*?)</li>\s*(?=<li class="timeline-entry|</ol>)', html, re.S
        )
    )
    assert 'data-public="0"' in entries["handle"] and HANDLING_NOTE in entries["handle"]
    assert 'data-public="1"' in entries["public_update"] and UPDATE in entries["public_update"]
    client.force_login(org.member)
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'data-testid="post_update"' not in html
    assert 'data-testid="publish-photo"' not in html
    assert 'data-testid="visibility"' in html  # the badges are for every reader


@pytest.mark.django_db
def test_the_badges_are_in_the_readers_language(client, org):
    case = handled(org)
    post_update(user=org.captain, case_id=case.pk, message=UPDATE)
    client.force_login(org.captain)
    html = client.get(
        reverse("cases:detail", args=[case.pk]), headers={"accept-language": "zh-hans"}
    ).content.decode()
    with translation.override("zh-hans"):
        internal, public = translation.gettext("internal"), translation.gettext("public")
    badges = re.findall(r'data-testid="visibility" data-public="(\d)">([^<]+)<', html)
    assert {(flag, text) for flag, text in badges} == {("0", internal), ("1", public)}


@pytest.mark.django_db
def test_posting_an_update_on_the_page(client, org):
    case = in_progress(org)
    client.force_login(org.town_committee)
    url = reverse("cases:act", args=[case.pk, "post_update"])
    empty = client.post(url, {"version": case.version, "message": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert empty.status_code == 400
    assert "Write the message for the public." in empty.content.decode()
    assert not Event.objects.filter(case=case, action="public_update").exists()
    response = client.post(url, {"version": case.version, "message": UPDATE, "photos": [png()]})
    assert response.status_code == 302
    event = Event.objects.get(case=case, action="public_update")
    assert event.data == {"message": UPDATE}
    assert list(event.attachments.values_list("public", flat=True)) == [True]


@pytest.mark.django_db
def test_publishing_a_photo_on_the_page(client, org):
    case = handled(org)
    handling = case.attachments.get(purpose="handling")
    client.force_login(org.village_officer)
    url = reverse("cases:act", args=[case.pk, "publish_photo"])
    form = client.get(f"{url}?attachment={handling.pk}&public=1").content.decode()
    assert re.search(rf'<option value="{handling.pk}" selected>', form)
    assert re.search(r'value="1"[^>]*checked', form)
    response = client.post(url, {"version": case.version, "attachment": handling.pk, "public": "1"})
    assert response.status_code == 302
    assert Attachment.objects.get(pk=handling.pk).public is True
    foreign = in_progress(org, photos=[png()], description="Another pile").attachments.get()
    refused = client.post(
        url, {"version": fresh(case).version, "attachment": foreign.pk, "public": "1"}
    )
    assert refused.status_code == 400  # not one of this case's choices
    assert Attachment.objects.get(pk=foreign.pk).public is False


# What the citizen sees.


@pytest.mark.django_db
def test_the_citizen_sees_only_public_notes_and_photos(client, org):
    case = handled(org)
    html = track(client, case)
    assert HANDLING_NOTE not in html and "Too big for us" not in html
    assert photo_urls(html) == set()
    post_update(user=org.captain, case_id=case.pk, message=UPDATE, photos=[png()])
    html = track(client, case)
    assert UPDATE in html and "Update from the people handling the case" in html
    assert HANDLING_NOTE not in html
    update_photo = case.attachments.get(purpose="update")
    assert photo_urls(html) == {public_attachment_url(attachment_id=update_photo.pk)}
    # The filing photo made public shows too once the case is public; the handling photo
    # stays internal.
    filing = case.attachments.get(purpose="filing")
    publish_photo(user=org.village_officer, case_id=case.pk, attachment_id=filing.pk, public=True)
    assert photo_urls(track(client, case)) == {public_attachment_url(attachment_id=update_photo.pk)}
    publish_case(user=org.village_officer, case_id=case.pk, public=True)
    html = track(client, case)
    assert photo_urls(html) == {
        public_attachment_url(attachment_id=update_photo.pk),
        public_attachment_url(attachment_id=filing.pk),
    }
    assert HANDLING_NOTE not in html


@pytest.mark.django_db
def test_a_public_photo_is_served_to_anyone_an_internal_one_to_nobody(client, org):
    case = handled(org)
    filing = case.attachments.get(purpose="filing")
    handling = case.attachments.get(purpose="handling")
    publish_photo(user=org.captain, case_id=case.pk, attachment_id=filing.pk, public=True)
    # The whistle's own photo: only once the case is public as well.
    assert client.get(public_attachment_url(attachment_id=filing.pk)).status_code == 404
    publish_case(user=org.captain, case_id=case.pk, public=True)
    response = client.get(public_attachment_url(attachment_id=filing.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "filing.png" not in response.get("Content-Disposition", "")
    assert b"".join(response.streaming_content)[:4] == b"\x89PNG"
    assert client.get(public_attachment_url(attachment_id=handling.pk)).status_code == 404
    forged = public_attachment_token(attachment_id=filing.pk).rsplit(":", 1)[0] + ":forged"
    assert client.get(f"/track/files/{forged}/").status_code == 404
    assert client.get(f"/track/files/{handling.pk}/").status_code == 404
    publish_photo(user=org.captain, case_id=case.pk, attachment_id=filing.pk, public=False)
    assert client.get(public_attachment_url(attachment_id=filing.pk)).status_code == 404
