"""Two-factor sign-in in a real browser: a committee member signs in with the password and the
code of the authenticator; another sets the authenticator up from the QR code page (inline
SVG, no Content-Security-Policy complaint) and gets the recovery codes."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp

from teams.two_factor import services
from tests.e2e.helpers import PASSWORD, shot

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.two_factor,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def sign_in_with_password(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def test_a_committee_member_signs_in_with_the_code(browsing, org):
    device = services.start_enrolment(user=org.town_committee)
    services.confirm_enrolment(
        user=org.town_committee, code=f"{totp(device.bin_key, drift=-1):06d}"
    )
    page = browsing.page(language="en")
    sign_in_with_password(page, "town")
    assert "/accounts/two-factor/verify/" in page.url
    assert page.locator("main h1").inner_text() == "Enter your code"
    shot(page, "en-00-two-factor-verify")

    page.locator("#id_code").fill("000000" if totp(device.bin_key) else "111111")
    page.locator("main form[data-testid=two-factor-verify] button[type=submit]").click()
    page.wait_for_load_state()
    assert "That code is not right" in page.locator("main").inner_text()
    page.wait_for_timeout(1100)  # the throttle after a wrong code: one second

    page.locator("#id_code").fill(f"{totp(device.bin_key):06d}")
    page.locator("main form[data-testid=two-factor-verify] button[type=submit]").click()
    page.wait_for_load_state()
    assert "/accounts/two-factor/" not in page.url
    assert "Welcome, town" in page.locator("main").inner_text()
    page.goto("/supervision/")
    assert page.url.endswith("/supervision/")


def test_a_city_committee_member_sets_up_the_authenticator(browsing, org):
    page = browsing.page(language="zh", phone=True)
    sign_in_with_password(page, "city")
    assert "/accounts/two-factor/enrol/" in page.url
    assert page.locator("[data-testid=two-factor-qr] svg").is_visible()
    shot(page, "zh-00-two-factor-enrol")
    secret = page.get_by_test_id("two-factor-secret").inner_text().replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    page.locator("#id_code").fill(f"{totp(key):06d}")
    page.locator("main form[data-testid=two-factor-enrol] button[type=submit]").click()
    page.wait_for_load_state()
    codes = page.get_by_test_id("recovery-codes").inner_text()
    assert len(re.findall(r"\b[a-z2-7]{8}\b", codes)) == 10
    page.locator("main a[role=button]").click()
    page.wait_for_load_state()
    assert "/accounts/two-factor/" not in page.url
    assert "欢迎" in page.locator("main").inner_text()
