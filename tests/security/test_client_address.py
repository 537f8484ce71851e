"""One notion of the client's address behind reverse proxies (core.clientaddr): the tracking
page's and Open311's rate limits count each citizen by the address our proxy vouches for, not
the proxy's own address, and an entry the client put into X-Forwarded-For itself does not
dodge a limit."""

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.utils import timezone

from cases.open311.services import ANONYMOUS_PER_MINUTE
from cases.views.tracking import LOOKUPS_PER_WINDOW
from core.clientaddr import client_address
from tests.cases.conftest import org

__all__ = ["org"]

PROXY = "10.0.0.2"  # the reverse proxy: every request arrives from it
CITIZEN_A = "198.51.100.7"
CITIZEN_B = "203.0.113.50"


@pytest.fixture(autouse=True)
def _fresh_limits(settings):
    settings.WHISTLE_TRUSTED_PROXIES = 1
    cache.clear()
    yield
    cache.clear()


def through_proxy(forwarded_for: str) -> dict:
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded_for}


def track(client: Client, forwarded_for: str) -> int:
    return client.post(
        "/track/", {"code": "WRONGCODE2345678"}, **through_proxy(forwarded_for)
    ).status_code


def address(**meta) -> str | None:
    return client_address(RequestFactory().get("/", **meta))


@pytest.mark.django_db
def test_behind_the_proxy_two_citizens_are_limited_separately_on_the_tracking_page(
    org, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)  # all in one window
    client = Client()
    assert {track(client, CITIZEN_A) for _ in range(LOOKUPS_PER_WINDOW)} == {200}
    assert track(client, CITIZEN_A) == 429
    assert track(client, CITIZEN_B) == 200  # the other citizen behind the same proxy


@pytest.mark.django_db
def test_a_forged_left_most_entry_does_not_dodge_the_tracking_limit(org, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = Client()
    for forged in range(LOOKUPS_PER_WINDOW):
        assert track(client, f"192.0.2.{forged}, {CITIZEN_A}") == 200
    assert track(client, f"192.0.2.200, {CITIZEN_A}") == 429
    assert track(client, CITIZEN_A) == 429


@pytest.mark.django_db
def test_behind_the_proxy_open311_readers_are_limited_per_citizen(org, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = Client()

    def services(forwarded_for: str) -> int:
        return client.get("/open311/v2/services.json", **through_proxy(forwarded_for)).status_code

    assert {services(f"192.0.2.{n}, {CITIZEN_A}") for n in range(ANONYMOUS_PER_MINUTE)} == {200}
    assert services(f"192.0.2.250, {CITIZEN_A}") == 429
    assert services(CITIZEN_B) == 200


def test_without_a_trusted_proxy_the_header_is_ignored(settings):
    settings.WHISTLE_TRUSTED_PROXIES = 0
    settings.WHISTLE_BEHIND_PROXY = False
    assert address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CITIZEN_A) == PROXY


def test_the_old_boolean_setting_still_means_one_proxy(settings):
    settings.WHISTLE_TRUSTED_PROXIES = 0
    settings.WHISTLE_BEHIND_PROXY = True
    assert address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {CITIZEN_A}") == CITIZEN_A


def test_two_proxy_hops_skip_both(settings):
    settings.WHISTLE_TRUSTED_PROXIES = 2
    # client -> CDN (appends the client) -> our proxy (appends the CDN) -> us
    meta = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"6.6.6.6, {CITIZEN_A}, 10.0.0.9"}
    assert address(**meta) == CITIZEN_A
    # a request that reached the inner proxy directly has one entry: that is the client
    assert address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CITIZEN_B) == CITIZEN_B


def test_a_list_of_proxy_networks_is_walked_from_the_right(settings):
    settings.WHISTLE_TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::/32"]
    meta = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"6.6.6.6, {CITIZEN_A}, 10.1.2.3"}
    assert address(**meta) == CITIZEN_A
    # a client connecting directly, not through a trusted proxy, cannot claim an address
    assert address(REMOTE_ADDR=CITIZEN_B, HTTP_X_FORWARDED_FOR=CITIZEN_A) == CITIZEN_B
    assert address(REMOTE_ADDR="2001:db8::5", HTTP_X_FORWARDED_FOR="[2001:db9::1]:443") == (
        "2001:db9::1"
    )


def test_garbage_in_the_header_falls_back_to_the_socket(settings):
    settings.WHISTLE_TRUSTED_PROXIES = 1
    assert address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not-an-address") == PROXY
    assert address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{CITIZEN_A}:5123") == CITIZEN_A


def test_the_settings_read_a_count_or_a_list_of_networks(monkeypatch):
    """WHISTLE_TRUSTED_PROXIES from the environment: a digit is a hop count, else networks."""
    import importlib

    import whistle.settings as whistle_settings

    monkeypatch.setenv("WHISTLE_TRUSTED_PROXIES", "2")
    assert importlib.reload(whistle_settings).WHISTLE_TRUSTED_PROXIES == 2
    monkeypatch.setenv("WHISTLE_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.10/32")
    reloaded = importlib.reload(whistle_settings)
    assert reloaded.WHISTLE_TRUSTED_PROXIES == ["10.0.0.0/8", "192.0.2.10/32"]
    assert reloaded.WHISTLE_BEHIND_PROXY is True
    monkeypatch.delenv("WHISTLE_TRUSTED_PROXIES")
    monkeypatch.delenv("WHISTLE_BEHIND_PROXY", raising=False)
    reloaded = importlib.reload(whistle_settings)
    assert reloaded.WHISTLE_TRUSTED_PROXIES == 0


def test_no_other_product_code_reads_the_address_itself():
    """core.clientaddr is the one reader of REMOTE_ADDR and X-Forwarded-For; a second one
    would count the proxy again (the finding of issue 18)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    apps = ["core", "teams", "audit", "checklists", "cases", "consultation", "assessment"]
    readers = sorted(
        str(path.relative_to(root))
        for app in [*apps, "spotchecks", "whistle"]
        if (root / app).is_dir()
        for path in (root / app).rglob("*.py")
        if "REMOTE_ADDR" in (text := path.read_text()) or "X_FORWARDED_FOR" in text
    )
    assert readers == ["core/clientaddr.py"]
