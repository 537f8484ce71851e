"""Guessing passwords: five failed sign-ins of one username from one address lock that pair
for 15 minutes; twenty from one address across usernames (password spraying) lock the address
and ten of one username across addresses lock the username (django-axes, counted in the
database so every web process agrees); during the lockout even the right password is refused
with a clear message; afterwards it works again. API tokens do not sign in and are not
affected."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.cases.conftest import org
from tests.tokens import api_token

__all__ = ["org"]

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # the password of every user of tests.factories
ADDRESS = "203.0.113.7"
LOCKED = "Too many failed sign-in attempts"


def sign_in(client: Client, username: str, password: str, *, address: str = ADDRESS):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail_five_times(client: Client, username: str) -> list[int]:
    return [sign_in(client, username, "wrong guess").status_code for _ in range(5)]


def test_five_failures_lock_the_username_on_that_address(client, org):
    assert fail_five_times(client, "gw") == [200, 200, 200, 200, 429]

    response = sign_in(client, "gw", PASSWORD)

    assert response.status_code == 429
    assert not signed_in(client)
    html = response.content.decode()
    assert LOCKED in html and "15 minutes" in html
    assert 'role="alert"' in html and 'name="username"' in html  # the sign-in page, not a blank
    attempt = AccessAttempt.objects.get(username="gw", ip_address=ADDRESS)
    assert attempt.failures_since_start >= 5


def test_four_failures_do_not_lock_and_a_success_resets_the_count(client, org):
    for _ in range(4):
        assert sign_in(client, "gw", "wrong guess").status_code == 200
    assert sign_in(client, "gw", PASSWORD).status_code == 302
    assert signed_in(client)
    client.logout()
    for _ in range(4):  # counted from zero again
        assert sign_in(client, "gw", "wrong guess").status_code == 200
    assert sign_in(client, "gw", PASSWORD).status_code == 302


def test_the_lock_holds_only_that_username_and_address(org):
    fail_five_times(Client(), "gw")

    elsewhere = Client()
    assert sign_in(elsewhere, "gw", PASSWORD, address="198.51.100.20").status_code == 302
    assert signed_in(elsewhere)
    colleague = Client()
    assert sign_in(colleague, "vo", PASSWORD).status_code == 302
    assert signed_in(colleague)


def test_after_the_cool_off_the_right_password_works(org):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        fail_five_times(client, "gw")
        clock.shift(timedelta(minutes=14))
        assert sign_in(client, "gw", PASSWORD).status_code == 429
        # that refused attempt counted as a failure during the lockout: it restarted the wait
        clock.shift(timedelta(minutes=15, seconds=1))
        response = sign_in(client, "gw", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert signed_in(client)


def test_api_tokens_work_during_a_lockout(client, org):
    fail_five_times(client, "gw")
    token = api_token(org.grid_worker)

    response = Client().get("/api/cases/", HTTP_AUTHORIZATION=f"Token {token}", REMOTE_ADDR=ADDRESS)

    assert response.status_code == 200
    assert sign_in(client, "gw", PASSWORD).status_code == 429


def test_the_lockout_is_kept_in_the_database_not_in_a_process(settings):
    from axes.handlers.database import AxesDatabaseHandler
    from django.utils.module_loading import import_string

    assert issubclass(import_string(settings.AXES_HANDLER), AxesDatabaseHandler)
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.WHISTLE_LOCKOUT_ADDRESS_LIMIT == 20
    assert settings.WHISTLE_LOCKOUT_USERNAME_LIMIT == 10
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [
        ["username", "ip_address"],
        "ip_address",
        "username",
    ]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_behind_the_proxy_the_address_is_the_one_the_proxy_appended(settings, org):
    """A client cannot dodge the lockout by sending its own X-Forwarded-For entries."""
    settings.WHISTLE_BEHIND_PROXY = True
    client = Client()
    for forged in range(5):
        client.post(
            reverse("login"),
            {"username": "gw", "password": "wrong guess"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{forged}, {ADDRESS}",
        )
    assert AccessAttempt.objects.filter(username="gw", ip_address=ADDRESS).exists()
    response = sign_in(client, "gw", PASSWORD, address="10.0.0.2")
    # without the header the socket address counts: a different pair, not locked
    assert response.status_code == 302
    response = Client().post(
        reverse("login"),
        {"username": "gw", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=f"192.0.2.99, {ADDRESS}",
    )
    assert response.status_code == 429


USERNAMES = ["gw", "gw2", "vo", "cap", "mem", "lia", "town", "city", "sup", "cap2"]


def test_password_spraying_from_one_address_locks_the_address(org):
    """40 failed sign-ins across 10 usernames from one address: the address is locked (at the
    20th), and then even a right password from it is refused with the lockout page."""
    client = Client()
    statuses = [
        sign_in(client, USERNAMES[attempt % 10], "Summer2026!").status_code for attempt in range(40)
    ]
    assert statuses[:19] == [200] * 19  # no pair reached five, the address not yet twenty
    assert set(statuses[19:]) == {429}

    response = sign_in(Client(), "vo", PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    # another address signs in as usual
    assert sign_in(Client(), "vo", PASSWORD, address="198.51.100.20").status_code == 302


def test_signing_in_to_an_own_account_does_not_reset_the_sprayers_count(org):
    client = Client()
    for attempt in range(19):
        sign_in(client, USERNAMES[1 + attempt % 9], "Summer2026!")  # all but gw
    assert sign_in(Client(), "gw", PASSWORD).status_code == 302  # the sprayer's own account
    assert sign_in(client, "cap", "Summer2026!").status_code == 429


def test_failures_of_one_username_from_many_addresses_lock_the_username(org):
    statuses = [
        sign_in(Client(), "gw", "wrong guess", address=f"192.0.2.{n}").status_code
        for n in range(10)
    ]
    assert statuses == [200] * 9 + [429]

    response = sign_in(Client(), "gw", PASSWORD, address="198.51.100.99")

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    # the colleague next to them is not affected
    assert sign_in(Client(), "vo", PASSWORD, address="198.51.100.99").status_code == 302
