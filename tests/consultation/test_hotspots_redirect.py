"""/consultation/hotspots/ (without the dash) is a permanent redirect to the hot spots page."""

from django.urls import reverse


def test_the_old_hotspots_address_redirects_permanently(client, db):
    response = client.get("/consultation/hotspots/")
    assert response.status_code == 301
    assert response["Location"] == reverse("consultation:hotspots") == "/consultation/hot-spots/"


def test_the_redirect_keeps_the_query(client, db):
    response = client.get("/consultation/hotspots/?days=30")
    assert response.status_code == 301
    assert response["Location"] == "/consultation/hot-spots/?days=30"
