"""Notifications: each user lists their own, rendered in their language, and marks some or all
of them read; others' rows are never touched."""

import pytest

from cases.models import Notification
from tests.api.steps import filed, post

pytestmark = pytest.mark.django_db


def test_a_user_lists_only_their_own_notifications(org, api):
    case = filed(org)
    response = api(org.village_officer).get("/api/notifications/")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["kind"] == "case_filed"
    assert row["case"] == case.pk and row["case_number"] == case.number
    assert case.number in row["subject"] + row["body"]
    assert row["read_at"] is None
    assert api(org.grid_worker).get("/api/notifications/").json()["count"] == 0


def test_notifications_are_rendered_in_the_readers_language(org, api):
    filed(org)
    english = api(org.village_officer).get("/api/notifications/").json()["results"][0]
    chinese = api(org.village_officer, language="zh-hans").get("/api/notifications/").json()
    assert chinese["results"][0]["subject"] != english["subject"]


def test_marking_read_by_ids_and_all(org, api):
    first = filed(org)
    filed(org, description="Rubble on the road", latitude=30.501)
    mine = list(Notification.objects.filter(recipient=org.village_officer).order_by("pk"))
    assert len(mine) == 2
    other = Notification.objects.create(
        recipient=org.grid_worker, case=first, kind="case_filed", created_at=mine[0].created_at
    )
    client = api(org.village_officer)
    response = post(client, "/api/notifications/read/", {"ids": [mine[0].pk, other.pk]})
    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread": 1}
    other.refresh_from_db()
    assert other.read_at is None
    assert client.get("/api/notifications/?unread=true").json()["count"] == 1
    response = post(client, "/api/notifications/read/", {"all": True})
    assert response.json() == {"marked": 1, "unread": 0}
    assert client.get("/api/notifications/?unread=false").json()["count"] == 2
    other.refresh_from_db()
    assert other.read_at is None


def test_marking_read_needs_ids_or_all(org, api):
    response = post(api(org.village_officer), "/api/notifications/read/", {})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["ids"]
