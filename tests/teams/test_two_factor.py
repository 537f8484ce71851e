"""Two-factor sign-in (teams.two_factor, django-otp): committee staff, supervisors and
administrators reach no page before their second factor; they enrol an authenticator with a
code computed here from its secret, verify with its codes or a single-use recovery code; a
wrong code is refused with a clear message and throttled; a grid worker signs in with the
password alone; the API refuses a session that owes its code but not a token."""

import re
from base64 import b32decode
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AccessKind, AccessRecord, Outcome
from teams.two_factor import services
from teams.two_factor.checks import check_two_factor_required
from teams.two_factor.middleware import OPEN_URL_NAMES
from tests.cases.conftest import org
from tests.factories import UserFactory
from tests.tokens import api_token

__all__ = ["org"]

pytestmark = [pytest.mark.django_db, pytest.mark.two_factor]

PASSWORD = "correct-horse-battery"  # the password of every user of tests.factories
WRONG = "That code is not right"


def sign_in(client: Client, username: str, password: str = PASSWORD) -> None:
    response = client.post(
        reverse("login"),
        {"username": username, "password": password},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert "_auth_user_id" in client.session


def give_code(client: Client, code: str, *, next_url: str = "/"):
    return client.post(
        reverse("two_factor_verify"),
        {"code": code, "next": next_url},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    """The user with a confirmed authenticator, through the services, and its recovery codes."""
    device = services.start_enrolment(user=user)
    return services.confirm_enrolment(user=user, code=code_of(device))


def code_of(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """What the phone shows now (or that many 30-second steps later), from the secret."""
    return f"{totp(device.bin_key, step=device.step, drift=steps_ahead):06d}"


def verified(client: Client) -> bool:
    return "otp_device_id" in client.session


def _guess(pattern) -> dict:
    kwargs = {}
    for name, converter in getattr(pattern.pattern, "converters", {}).items():
        kwargs[name] = 1 if type(converter).__name__ == "IntConverter" else "x"
    return kwargs


def every_url(resolver: URLResolver | None = None, prefix: str = "") -> list[tuple[str, str]]:
    """(name, path) of every named URL of the project that reverses with made-up arguments
    (an id of 1, a word "x"); the middleware decides before any view looks them up."""
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            found.extend(every_url(entry, namespace))
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{prefix}{entry.name}"
            try:
                found.append((name, reverse(name, kwargs=_guess(entry))))
            except NoReverseMatch:
                continue
    return found


def test_a_privileged_user_reaches_no_page_before_the_second_factor(org):
    client = Client()
    sign_in(client, org.town_committee.username)
    token_header = {"HTTP_AUTHORIZATION": f"Token {api_token(org.town_committee)}"}
    checked = 0
    for name, path in every_url():
        if name in OPEN_URL_NAMES or name.startswith("open311:"):
            continue
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
        if name.startswith("api:"):
            assert response.status_code == 403, (name, response.status_code)
            assert response.json()["code"] == "second_factor_required", name
        else:
            assert response.status_code == 302, (name, response.status_code)
            assert response["Location"].startswith(reverse("two_factor_enrol")), name
        checked += 1
    assert checked > 80
    # Actions too, not only pages; and the tokens page, where API tokens are made.
    response = client.post(reverse("tokens"), {"action": "create"})
    assert response["Location"].startswith(reverse("two_factor_enrol"))
    assert client.get(reverse("tokens"))["Location"].startswith(reverse("two_factor_enrol"))
    # A fragment that htmx fetches (the header's unread badge) gets nothing, not the page.
    response = client.get(reverse("cases:unread_count"), HTTP_HX_REQUEST="true")
    assert response.status_code == 403 and response.content == b""
    # A token is for systems: it is judged alone, the unverified session beside it ignored.
    response = client.get(reverse("api:case-list"), **token_header)
    assert response.status_code == 200


def test_enrol_with_a_code_from_the_secret_then_sign_in_with_the_next_code(org):
    user = org.city_committee
    client = Client()
    sign_in(client, user.username)
    response = client.get("/assessment/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('two_factor_enrol')}?next=%2Fassessment%2F"

    with translation.override("en"):
        page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    # The QR code is inline SVG with no style attribute (the CSP forbids inline styles) and
    # the same secret is shown as text.
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "style" not in svg
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script either
    secret = re.search(r'data-testid="two-factor-secret">([A-Z2-7 ]+)<', html).group(1)
    assert b32decode(secret.replace(" ", "")) == device.bin_key
    # Reloading the page keeps the secret a phone may already have scanned.
    client.get(reverse("two_factor_enrol"))
    assert TOTPDevice.objects.filter(user=user).count() == 1

    response = client.post(
        reverse("two_factor_enrol"), {"code": code_of(device), "next": "/assessment/"}
    )
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(codes) == 10
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    )
    assert verified(client)
    assert client.get("/assessment/").status_code == 200

    client.post(reverse("logout"))
    sign_in(client, user.username)
    response = client.get("/assessment/")
    assert response["Location"] == f"{reverse('two_factor_verify')}?next=%2Fassessment%2F"
    # The code just used is spent; the phone's next one works.
    response = give_code(client, code_of(device, steps_ahead=1), next_url="/assessment/")
    assert response.status_code == 302
    assert response["Location"] == "/assessment/"
    assert verified(client)
    assert client.get("/assessment/").status_code == 200


def test_a_password_alone_never_replaces_an_authenticator(org):
    user = org.supervisor
    enrolled(user)
    client = Client()
    sign_in(client, user.username)
    response = client.get(reverse("two_factor_enrol"))
    assert response["Location"].startswith(reverse("two_factor_verify"))
    response = client.post(reverse("two_factor_enrol"), {"code": "123456"})
    assert response["Location"].startswith(reverse("two_factor_verify"))
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_a_recovery_code_works_once(org):
    user = org.town_committee
    _device, codes = enrolled(user)
    client = Client()
    sign_in(client, user.username)
    # Typed the way people type: upper case, with a space.
    response = give_code(client, f"{codes[0][:4].upper()} {codes[0][4:]}")
    assert response.status_code == 302
    assert verified(client)
    assert StaticToken.objects.filter(device__user=user).count() == 9

    client.post(reverse("logout"))
    sign_in(client, user.username)
    response = give_code(client, codes[0])
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert not verified(client)
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        assert give_code(client, codes[1]).status_code == 302
    assert verified(client)


def test_a_wrong_code_is_refused_with_a_clear_message_and_throttled(org):
    user = org.city_committee
    device, _codes = enrolled(user)
    client = Client()
    sign_in(client, user.username)
    response = give_code(client, "000000" if code_of(device) != "000000" else "111111")
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert not verified(client)
    assert client.get("/").status_code == 302
    # Right away even the right code waits: django-otp's throttle (1, 2, 4 ... seconds).
    response = give_code(client, code_of(device, steps_ahead=1))
    assert "Too many wrong codes. Wait 1 second and try again." in response.content.decode()
    assert not verified(client)
    with time_machine.travel(timezone.now() + timedelta(seconds=3)):
        response = give_code(client, code_of(device, steps_ahead=1))
    assert response.status_code == 302
    assert verified(client)
    # The access audit has both: the refused code, then the one that passed.
    kinds = list(
        AccessRecord.objects.filter(username=user.username, kind__startswith="second_factor")
        .order_by("pk")
        .values_list("kind", "outcome")
    )
    assert kinds[0] == (AccessKind.SECOND_FACTOR_FAILED, Outcome.FAILURE)
    assert kinds[-1] == (AccessKind.SECOND_FACTOR, Outcome.SUCCESS)


def test_a_grid_worker_signs_in_without_a_second_factor(org):
    client = Client()
    sign_in(client, org.grid_worker.username)
    assert client.get("/").status_code == 200
    assert client.get(reverse("cases:file")).status_code == 200
    assert client.get(reverse("api:case-list")).status_code == 200
    assert not TOTPDevice.objects.filter(user=org.grid_worker).exists()


def test_anyone_may_turn_it_on_and_off_but_a_privileged_role_may_not_turn_it_off(org):
    worker = org.grid_worker
    device, _codes = enrolled(worker)
    client = Client()
    sign_in(client, worker.username)
    # Once on, the grid worker too is asked for the code.
    assert client.get("/")["Location"].startswith(reverse("two_factor_verify"))
    give_code(client, code_of(device, steps_ahead=1))
    client.post(reverse("two_factor"), {"action": "off"})
    assert not TOTPDevice.objects.filter(user=worker).exists()
    client.post(reverse("logout"))
    sign_in(client, worker.username)
    assert client.get("/").status_code == 200

    chief = org.town_committee
    device, _codes = enrolled(chief)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, chief.username)
    give_code(client, code_of(device, steps_ahead=1))
    response = client.post(reverse("two_factor"), {"action": "off"}, follow=True)
    assert "cannot be turned off" in response.content.decode()
    assert TOTPDevice.objects.filter(user=chief, confirmed=True).exists()


def test_new_recovery_codes_replace_the_old_ones(org):
    user = org.supervisor
    device, old = enrolled(user)
    client = Client()
    sign_in(client, user.username)
    give_code(client, code_of(device, steps_ahead=1))
    response = client.post(reverse("two_factor"), {"action": "recovery"})
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert stored == set(new)


def test_the_api_refuses_a_session_that_owes_its_code_and_serves_it_once_verified(org):
    # The clock stands still: on a loaded machine the 30-second steps of the codes given
    # below could otherwise pass between making a code and checking it (CI failed once).
    with time_machine.travel(timezone.now(), tick=False):
        user = org.supervisor
        device, _codes = enrolled(user)
        client = Client()
        sign_in(client, user.username)
        response = client.get(reverse("api:case-list"), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 403
        assert response.json()["code"] == "second_factor_required"
        assert "second factor" in response.json()["message"]
        give_code(client, code_of(device, steps_ahead=1))
        assert client.get(reverse("api:case-list")).status_code == 200


def test_the_admin_needs_a_verified_session(org):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    device, _codes = enrolled(admin)
    client = Client()
    sign_in(client, admin.username)
    response = client.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("two_factor_verify"))
    give_code(client, code_of(device, steps_ahead=1))
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_demo_prints_how_its_privileged_users_pass_without_a_phone():
    with translation.override("en"):
        output = call_command_output("seed_demo")
    line = next(text for text in output.splitlines() if "Two-factor sign-in of" in text)
    for username in ("town1", "city1", "supervisor1", "auditor1", "admin"):
        assert username in line
    assert "grid1" not in line
    key = re.search(r"the key ([A-Z2-7]+)", line).group(1)
    recovery = re.search(r"recovery codes ((?:\w+ )+)\(", line).group(1).split()
    assert len(recovery) == 10

    client = Client()
    sign_in(client, "city1", "whistle-demo")
    assert give_code(client, recovery[0]).status_code == 302
    assert verified(client)
    assert client.get("/assessment/").status_code == 200

    client = Client()
    sign_in(client, "supervisor1", "whistle-demo")
    secret = b32decode(key + "=" * (-len(key) % 8))
    assert give_code(client, f"{totp(secret):06d}").status_code == 302
    assert verified(client)

    # Running the seed again puts the used recovery code back.
    call_command_output("seed_demo")
    client = Client()
    sign_in(client, "city1", "whistle-demo")
    assert give_code(client, recovery[0]).status_code == 302


def call_command_output(*args: str) -> str:
    import io

    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_check_deploy_warns_when_two_factor_is_off():
    with override_settings(WHISTLE_REQUIRE_TWO_FACTOR=False):
        assert [warning.id for warning in check_two_factor_required()] == ["teams.W001"]
    with override_settings(WHISTLE_REQUIRE_TWO_FACTOR=True):
        assert check_two_factor_required() == []


def test_the_page_benchmark_measures_a_verified_session(org):
    """bench.pages signs its privileged readers in with force_login, then passes the second
    factor on the code page the way a person would."""
    from bench.pages import pass_second_factor

    client = Client()
    client.force_login(org.city_committee)
    assert client.get("/assessment/").status_code == 302
    pass_second_factor(client=client, user=org.city_committee)
    assert client.get("/assessment/").status_code == 200


def test_a_new_sign_in_asks_again_for_a_user_who_enrolled_meanwhile(org):
    """The middleware remembers for a minute that a session owes nothing; signing in again
    after enrolling elsewhere must not reuse that answer."""
    worker = org.grid_worker
    client = Client()
    sign_in(client, worker.username)
    assert client.get("/").status_code == 200  # remembered: owes nothing
    _device, _codes = enrolled(worker)
    sign_in(client, worker.username)
    assert client.get("/")["Location"].startswith(reverse("two_factor_verify"))
