"""Session limits (teams.sessions): a privileged role's session ends after 30 idle minutes,
another's after 8 hours, every session 12 hours after sign-in; "sign out everywhere" ends all
of a user's sessions and revokes their API tokens."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.cases.conftest import org
from tests.tokens import api_token

__all__ = ["org"]

pytestmark = [pytest.mark.django_db, pytest.mark.session_limits]

PASSWORD = "correct-horse-battery"  # the password of every user of tests.factories


def signed_in_client(user, *, address: str = "198.51.100.1") -> Client:
    """A client that signed in through the sign-in page and opened the home page once."""
    client = Client(REMOTE_ADDR=address)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert home(client) == 200
    return client


def home(client: Client) -> int:
    return client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").status_code


def test_the_settings_have_the_documented_defaults(settings):
    assert settings.WHISTLE_SESSION_IDLE_MINUTES_PRIVILEGED == 30
    assert settings.WHISTLE_SESSION_IDLE_MINUTES == 8 * 60
    assert settings.WHISTLE_SESSION_MAX_HOURS == 12
    assert settings.SESSION_COOKIE_AGE == 12 * 3600


def test_a_privileged_session_ends_after_thirty_idle_minutes(org, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = signed_in_client(org.town_committee)
    time_machine.shift(timedelta(minutes=29))
    assert home(client) == 200  # active again: the idle time starts anew
    time_machine.shift(timedelta(minutes=29))
    assert home(client) == 200
    time_machine.shift(timedelta(minutes=31))
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "Your session has ended" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_another_role_stays_signed_in_for_hours_but_not_past_the_idle_limit(org, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = signed_in_client(org.grid_worker)
    time_machine.shift(timedelta(hours=7, minutes=59))
    assert home(client) == 200
    time_machine.shift(timedelta(hours=8, minutes=1))
    assert home(client) == 302


def test_every_session_ends_twelve_hours_after_sign_in(org, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = signed_in_client(org.grid_worker)
    for _ in range(5):  # busy all day, never idle
        time_machine.shift(timedelta(hours=2, minutes=20))
        assert home(client) == 200
    time_machine.shift(timedelta(hours=1))  # 12h40 after sign-in
    assert home(client) == 302


def test_the_limits_are_settings(org, settings, time_machine):
    settings.WHISTLE_SESSION_IDLE_MINUTES = 5
    time_machine.move_to(timezone.now(), tick=False)
    client = signed_in_client(org.grid_worker)
    time_machine.shift(timedelta(minutes=6))
    assert home(client) == 302


def test_sign_out_everywhere_ends_every_session_and_revokes_the_tokens(org):
    office = signed_in_client(org.grid_worker, address="198.51.100.1")
    phone = signed_in_client(org.grid_worker, address="203.0.113.9")
    colleague = signed_in_client(org.village_officer)
    token = api_token(org.grid_worker)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/cases/").status_code == 200
    page = office.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="sign-out-everywhere"' in page

    response = office.post(reverse("sign_out_everywhere"))

    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert home(office) == 302
    assert home(phone) == 302  # the other session, elsewhere, is refused at its next request
    assert api.get("/api/cases/").status_code == 401
    assert not AuthToken.objects.filter(user=org.grid_worker).exists()
    assert home(colleague) == 200
    again = signed_in_client(org.grid_worker)  # signing in again works
    assert home(again) == 200


def test_sign_out_everywhere_is_a_post(org):
    client = signed_in_client(org.grid_worker)
    assert client.get(reverse("sign_out_everywhere")).status_code == 405
    assert home(client) == 200
