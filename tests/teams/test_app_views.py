"""The installable app's manifest and service worker, and their links in the page."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_manifest_names_the_app_in_the_users_language():
    english = Client().get(reverse("manifest"), HTTP_ACCEPT_LANGUAGE="en")
    chinese = Client().get(reverse("manifest"), HTTP_ACCEPT_LANGUAGE="zh-CN")

    assert english["Content-Type"] == "application/manifest+json"
    manifest = english.json()
    assert manifest["name"] == "Whistle"
    assert manifest["lang"] == "en"
    assert chinese.json()["lang"] == "zh-hans"
    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"]: icon for icon in manifest["icons"]}
    assert set(sizes) == {"192x192", "512x512", "any"}
    assert all(icon["src"].startswith("/static/") for icon in manifest["icons"])


def test_the_service_worker_is_served_from_the_root_for_the_whole_site():
    response = Client().get(reverse("service_worker"))

    assert reverse("service_worker") == "/sw.js"
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert "importScripts(" in body
    static_urls = json.loads(re.search(r"var STATIC_URLS = (\[.*?\]);", body).group(1))
    assert "/static/js/filing.js" in static_urls
    assert "/static/vendor/leaflet/leaflet.js" in static_urls
    # Every URL it caches or loads is this site's own.
    assert not re.search(r"https?://", body)
    version = re.search(r'var VERSION = "([0-9a-f]{16})";', body).group(1)
    assert Client().get(reverse("service_worker")).content.decode().count(version) == 1


def test_signed_in_pages_link_the_manifest_and_the_app_script():
    client = Client()
    assert 'rel="manifest"' not in client.get(reverse("login")).content.decode()

    client.force_login(UserFactory())
    page = client.get(reverse("home")).content.decode()
    assert f'<link rel="manifest" href="{reverse("manifest")}"' in page
    assert "js/app.js" in page
    config = re.search(r'<div id="whistle-app" hidden ([^>]*)>', page).group(1)
    assert 'data-service-worker="/sw.js"' in config
    assert re.search(r'data-csrf="[A-Za-z0-9]{32,}"', config)
    assert re.search(r'data-user="\d+"', config)
