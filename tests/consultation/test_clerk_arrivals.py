"""The committee's clerk enters each arrival time, also after the meeting, and confirms the
attendance with a separate action; from then on the times are final (issue 19)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from cases.errors import IllegalTransition, InvalidInput, NotAllowed
from consultation import services
from consultation.models import Consultation, Invitation
from tests.consultation.conftest import MEETING, T0, at, in_consultation
from tests.consultation.test_pages import as_user, called, local

pytestmark = pytest.mark.usefixtures("clock")


def the_bureau(consultation: Consultation) -> Invitation:
    return consultation.invitations.get()


def test_the_clerk_enters_arrival_times_after_the_meeting(org, extra, clock):
    consultation = called(org, extra, [in_consultation(org)])
    bureau = the_bureau(consultation)
    clock.move_to(at(2025, 6, 11, 10, 0))  # the next morning, not the day of the meeting

    on_time = services.record_arrival(
        user=org.town_committee, invitation_id=bureau.pk, arrived_at=at(2025, 6, 10, 14, 25)
    )
    assert (on_time.checked_in_at, on_time.late) == (at(2025, 6, 10, 14, 25), False)
    # A correction before the attendance is confirmed.
    late = services.record_arrival(
        user=org.town_committee, invitation_id=bureau.pk, arrived_at=at(2025, 6, 10, 14, 40)
    )
    assert (late.checked_in_at, late.late) == (at(2025, 6, 10, 14, 40), True)
    # Entering the time is not confirming: neither the invitation nor the attendance.
    assert late.confirmed_at is None
    assert Consultation.objects.get(pk=consultation.pk).attendance_confirmed_at is None

    confirmed = services.confirm_attendance(
        user=org.town_committee, consultation_id=consultation.pk
    )
    assert confirmed.attendance_confirmed_at == at(2025, 6, 11, 10, 0)
    assert confirmed.attendance_confirmed_by == org.town_committee
    with pytest.raises(IllegalTransition):
        services.record_arrival(
            user=org.town_committee, invitation_id=bureau.pk, arrived_at=at(2025, 6, 10, 14, 30)
        )
    with pytest.raises(IllegalTransition):
        services.confirm_attendance(user=org.town_committee, consultation_id=consultation.pk)
    assert Invitation.objects.get(pk=bureau.pk).checked_in_at == at(2025, 6, 10, 14, 40)


def test_an_arrival_is_neither_in_the_future_nor_before_the_call(org, extra, clock):
    consultation = called(org, extra, [in_consultation(org)])
    bureau = the_bureau(consultation)
    clock.move_to(at(2025, 6, 10, 15, 0))
    for moment in (at(2025, 6, 10, 15, 1), T0 - timedelta(minutes=1)):
        with pytest.raises(InvalidInput) as refusal, translation.override("en"):
            services.record_arrival(
                user=org.town_committee, invitation_id=bureau.pk, arrived_at=moment
            )
        assert list(refusal.value.fields) == ["arrived_at"]
    assert Invitation.objects.get(pk=bureau.pk).checked_in_at is None
    # Only the committee enters times; the invitee checks in "now".
    with pytest.raises(NotAllowed):
        services.record_arrival(
            user=extra.bureau_liaison, invitation_id=bureau.pk, arrived_at=MEETING
        )


def test_attendance_is_confirmed_once_the_meeting_began(org, extra):
    consultation = called(org, extra, [in_consultation(org)])
    with pytest.raises(IllegalTransition):
        services.confirm_attendance(user=org.town_committee, consultation_id=consultation.pk)
    with pytest.raises(NotAllowed):
        services.confirm_attendance(user=extra.bureau_liaison, consultation_id=consultation.pk)


def test_the_page_enters_a_time_and_confirms_with_its_own_button(client, org, extra, clock):
    consultation = called(org, extra, [in_consultation(org)])
    bureau = the_bureau(consultation)
    url = reverse("consultation:detail", args=[consultation.pk])
    check_in = reverse("consultation:check_in", args=[bureau.pk])
    as_user(client, org.town_committee)
    page = client.get(url).content.decode()
    assert f'data-testid="arrived-at-{bureau.pk}"' in page and "confirm-attendance" in page

    clock.move_to(at(2025, 6, 12, 9, 0))
    # In the future: a clear message, nothing recorded.
    response = client.post(check_in, {"arrived_at": "2025-06-12T10:00", "next": url}, follow=True)
    assert "cannot be in the future" in response.content.decode()
    assert Invitation.objects.get(pk=bureau.pk).checked_in_at is None
    response = client.post(check_in, {"arrived_at": "not a time", "next": url}, follow=True)
    assert Invitation.objects.get(pk=bureau.pk).checked_in_at is None

    client.post(check_in, {"arrived_at": local(at(2025, 6, 10, 14, 35)), "next": url})
    bureau.refresh_from_db()
    assert (bureau.checked_in_at, bureau.late, bureau.confirmed_at) == (
        at(2025, 6, 10, 14, 35),
        True,
        None,
    )
    confirm = reverse("consultation:confirm_attendance", args=[consultation.pk])
    assert client.post(confirm, {"next": url}).status_code == 302
    page = client.get(url).content.decode()
    assert 'data-testid="attendance-confirmed"' in page
    assert f'data-testid="arrived-at-{bureau.pk}"' not in page


def test_the_api_enters_a_time_and_confirms(org, extra, clock):
    consultation = called(org, extra, [in_consultation(org)])
    bureau = the_bureau(consultation)
    api = APIClient()
    api.force_authenticate(org.town_committee)
    clock.move_to(at(2025, 6, 10, 18, 0))
    response = api.post(
        f"/api/invitations/{bureau.pk}/check-in/",
        {"arrived_at": at(2025, 6, 10, 14, 20).isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["late"] is False
    future = api.post(
        f"/api/invitations/{bureau.pk}/check-in/",
        {"arrived_at": at(2025, 6, 10, 19, 0).isoformat()},
        format="json",
    )
    assert future.status_code == 400 and "arrived_at" in future.json()["fields"]
    response = api.post(f"/api/consultations/{consultation.pk}/confirm-attendance/")
    assert response.status_code == 200 and response.json()["attendance_confirmed_at"]
    again = api.post(
        f"/api/invitations/{bureau.pk}/check-in/",
        {"arrived_at": at(2025, 6, 10, 14, 30).isoformat()},
        format="json",
    )
    assert again.status_code == 409
