"""The notification inbox, marking read (own rows only) and the unread badge in the header."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import notifications
from cases.models import Notification
from cases.services import file_whistle

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 6, 10, 9, 0, tzinfo=TZ)
INBOX = reverse("cases:notifications")
BADGE = reverse("cases:unread_count")
READ = reverse("cases:notifications_read")
ENTRY = re.compile(r'data-testid="notification" data-unread="([01])"')


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def file(org, description="Garbage piled by the bridge"):
    """Filing notifies the village officers (kind case_filed)."""
    return file_whistle(
        user=org.grid_worker, item=org.item, description=description, grid=org.grid
    ).case


def badge_count(client) -> int | None:
    response = client.get(BADGE, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    found = re.search(r'data-count="(\d+)"', response.content.decode())
    return int(found.group(1)) if found else None


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_inbox_lists_own_notifications_rendered_in_the_language(client, org, language):
    case = file(org)
    mine = Notification.objects.get(recipient=org.village_officer, case=case)
    notifications.notify(
        recipients=[org.town_committee], kind="case_filed", case=case, data={}
    )  # someone else's
    client.force_login(org.village_officer)

    response = client.get(INBOX, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    subject, body = notifications.render(mine, language)
    assert subject in html
    assert body.splitlines()[0] in html
    assert ENTRY.findall(html) == ["1"]  # one entry, unread and highlighted
    assert 'class="inbox-entry unread"' in html
    assert "2025-06-10 09:00" in html  # local time
    assert f'href="{reverse("cases:detail", args=[case.pk])}"' in html


def test_inbox_shows_nothing_of_other_users(client, org):
    file(org)
    client.force_login(org.grid_worker)  # filing notified the village officer, not them
    html = client.get(INBOX, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ENTRY.findall(html) == []
    assert "You have no notifications." in html


def test_inbox_is_paginated(client, org, time_machine):
    case = file(org)
    for index in range(29):
        time_machine.move_to(T0 + timedelta(minutes=index + 1), tick=False)
        notifications.notify(
            recipients=[org.village_officer], kind="case_filed", case=case, data={}
        )
    client.force_login(org.village_officer)
    first = client.get(INBOX, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert len(ENTRY.findall(first)) == 25
    assert "Page 1 of 2" in first
    second = client.get(INBOX, {"page": 2}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert len(ENTRY.findall(second)) == 5
    # Newest first: the last one created opens the first page.
    newest = Notification.objects.filter(recipient=org.village_officer).first()
    assert f'id="notification-{newest.pk}"' in first


def test_inbox_query_count_does_not_grow(client, org):
    case = file(org)
    client.force_login(org.village_officer)

    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(INBOX).status_code == 200
        return len(context.captured_queries)

    count()
    few = count()
    for _ in range(11):
        notifications.notify(
            recipients=[org.village_officer], kind="case_filed", case=case, data={}
        )
    assert count() == few


def test_unread_badge_counts_and_drops_after_marking_read(client, org):
    file(org)
    file(org, description="Bins overflowing at the school")
    client.force_login(org.village_officer)
    assert badge_count(client) == 2

    html = client.get(BADGE, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "2 unread notifications" in html  # the accessible label
    zh = client.get(BADGE, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.status_code == 200 and 'data-count="2"' in zh.content.decode()

    first = Notification.objects.filter(recipient=org.village_officer).first()
    response = client.post(READ, {"ids": [first.pk]})
    assert response.status_code == 302
    assert response["Location"] == INBOX
    assert badge_count(client) == 1

    client.post(READ, {"all": "1"})
    assert badge_count(client) is None  # empty when nothing is unread
    assert client.get(BADGE, HTTP_HX_REQUEST="true").content.decode().strip() == ""
    assert not Notification.objects.filter(recipient=org.village_officer, read_at=None).exists()


def test_header_polls_the_badge(client, org):
    client.force_login(org.village_officer)
    html = client.get(INBOX, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'hx-get="{BADGE}"' in html
    assert 'hx-trigger="load, every 30s' in html


def test_marking_another_users_notification_does_nothing(client, org):
    file(org)
    theirs = Notification.objects.get(recipient=org.village_officer)
    client.force_login(org.grid_worker)
    response = client.post(READ, {"ids": [theirs.pk]})
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.read_at is None
    # "All" means all of one's own.
    client.post(READ, {"all": "1"})
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("data", [{"ids": ["abc"]}, {}, {"ids": [""]}])
def test_bad_input_changes_nothing_and_says_why(client, org, data):
    file(org)
    client.force_login(org.village_officer)
    response = client.post(READ, data, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "not valid notification ids" in html or "Choose the notifications" in html
    assert Notification.objects.filter(recipient=org.village_officer, read_at=None).count() == 1


def test_marking_read_with_htmx_swaps_the_entry(client, org):
    file(org)
    note = Notification.objects.get(recipient=org.village_officer)
    client.force_login(org.village_officer)
    response = client.post(READ, {"ids": [note.pk]}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Trigger"] == "whistle:unread-changed"
    html = response.content.decode()
    assert f'id="notification-{note.pk}"' in html
    assert 'data-unread="0"' in html
    assert "<html" not in html


def test_next_must_be_on_this_site(client, org):
    file(org)
    client.force_login(org.village_officer)
    outside = client.post(READ, {"all": "1", "next": "https://evil.example/"})
    assert outside["Location"] == INBOX
    inside = client.post(READ, {"all": "1", "next": "/cases/?status=filed"})
    assert inside["Location"] == "/cases/?status=filed"


def test_anonymous_is_sent_to_login(client, org):
    file(org)
    login = reverse("login")
    assert login in client.get(INBOX)["Location"]
    assert login in client.get(BADGE)["Location"]
    note = Notification.objects.get(recipient=org.village_officer)
    response = client.post(READ, {"ids": [note.pk]})
    assert response.status_code == 302 and login in response["Location"]
    note.refresh_from_db()
    assert note.read_at is None
    # An htmx poll after the session expired gets an empty badge, not the login page.
    poll = client.get(BADGE, HTTP_HX_REQUEST="true")
    assert poll.status_code == 200
    assert poll.content.decode().strip() == ""


def test_mark_read_needs_post(client, org):
    client.force_login(org.village_officer)
    assert client.get(READ).status_code == 405
