"""Signing in and the home page in a real browser, in both languages, phone and desktop."""

import pytest

from tests.e2e.helpers import shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_sign_in_in_english_shows_roles_and_pages(browsing, org):
    page = browsing.page(language="en")
    page.goto("/")
    assert "/accounts/login/" in page.url
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Sign in").is_visible()
    shot(page, "en-00-login")

    page.locator("#id_username").fill("gw")
    page.locator("#id_password").fill("wrong password")
    page.locator("main form button[type=submit]").click()
    assert "Please enter a correct username and password" in page.locator("main").inner_text()

    from tests.e2e.helpers import login

    login(page, "gw")
    main = page.locator("main").inner_text()
    assert "Welcome, gw" in main
    assert "grid worker" in main.lower()
    shot(page, "en-00-home-grid-worker")


def test_sign_in_in_chinese(browsing, org):
    page = browsing.page("vo", language="zh", phone=False)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    main = page.locator("main").inner_text()
    assert "欢迎" in main
    assert "Welcome" not in main
    shot(page, "zh-00-home-village-officer")
