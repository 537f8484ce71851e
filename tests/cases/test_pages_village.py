"""The village inbox: what a village officer screens, handles and verifies."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from cases.models import Case, Status
from cases.services import accept_case, file_whistle, resolve_on_spot

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 6, 10, 9, 0, tzinfo=TZ)  # a Tuesday in office hours
INBOX = "/village/inbox/"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 40, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


def file_case(org, *, worker=None, grid=None, lat=30.50, lng=120.70, text="Garbage", photos=()):
    return file_whistle(
        user=worker or org.grid_worker,
        item=org.item,
        description=text,
        latitude=lat,
        longitude=lng,
        photos=list(photos),
    ).case


def far(n: int) -> dict:
    """A point of the grid far enough from the others not to count as a duplicate."""
    return {"lat": 30.4965 + (n % 8) * 0.001, "lng": 120.6965 + (n // 8) * 0.001}


def test_inbox_url_name():
    assert reverse("cases:village_inbox") == INBOX


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_inbox_shows_each_section_in_both_languages(client, org, language):
    new = file_case(org, text="Bins overflowing at the bridge", photos=[png(), png()], **far(0))
    handling = accept_case(user=org.village_officer, case_id=file_case(org, **far(3)).pk)
    resolved = accept_case(user=org.village_officer, case_id=file_case(org, **far(6)).pk)
    resolve_on_spot(
        user=org.village_officer, case_id=resolved.pk, note="Cleared it", photos=[png()]
    )
    client.force_login(org.village_officer)

    response = client.get(INBOX, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    sections = {s.key: s for s in response.context["sections"]}
    assert [row.case.pk for row in sections["new"].rows] == [new.pk]
    assert [row.case.pk for row in sections["handling"].rows] == [handling.pk]
    assert [row.case.pk for row in sections["resolved"].rows] == [resolved.pk]
    assert "Bins overflowing at the bridge" in html
    assert sections["new"].rows[0].case.photo_count == 2
    # The running deadline's light as a badge with its word, and the time left.
    row = sections["new"].rows[0]
    assert row.deadline.stage == "screening"
    assert 'data-light="green"' in html
    assert "30" in html  # 30 minutes of screening time left
    if language == "en":
        assert "New whistles to screen" in html
        assert "2 photos" in html
        assert "30 minutes left" in html


def test_inbox_lists_only_the_officers_village(client, org):
    ours = file_case(org)
    theirs = file_case(org, worker=org.other_grid_worker, lat=30.50, lng=120.80)
    client.force_login(org.village_officer)

    html = client.get(INBOX).content.decode()

    assert ours.number in html
    assert theirs.number not in html


@pytest.mark.parametrize("role", ["grid_worker", "captain", "town_committee", "supervisor"])
def test_inbox_is_for_village_officers_only(client, org, role):
    client.force_login(getattr(org, role))
    assert client.get(INBOX).status_code == 403


def test_inbox_needs_login(client, org):
    response = client.get(INBOX)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_inline_forms_post_to_the_action_urls_with_version_and_next(client, org):
    first = file_case(org)
    duplicate = file_case(org, text="Same garbage again")
    assert duplicate.possible_duplicate_of_id == first.pk
    client.force_login(org.village_officer)

    html = client.get(INBOX).content.decode()

    for action in ("accept", "merge", "whistle"):
        assert f'action="{reverse("cases:act", args=[duplicate.pk, action])}"' in html
    assert f'<input type="hidden" name="version" value="{duplicate.version}">' in html
    assert f'<input type="hidden" name="into" value="{first.pk}">' in html
    assert f'<input type="hidden" name="next" value="{INBOX}">' in html
    # Actions that need more input are links to their page, coming back here.
    for case in (first, duplicate):
        assert f'href="{reverse("cases:act", args=[case.pk, "reject"])}?next={INBOX}"' in html
    # The possible-duplicate warning links to the case it may repeat.
    assert 'data-testid="duplicate-warning"' in html
    assert f'href="{reverse("cases:detail", args=[first.pk])}"' in html
    # No merge for the first case: it has no possible duplicate.
    assert reverse("cases:act", args=[first.pk, "merge"]) not in html


def test_handling_section_offers_solve_on_spot_and_whistle(client, org):
    case = accept_case(user=org.village_officer, case_id=file_case(org).pk)
    client.force_login(org.village_officer)

    html = client.get(INBOX).content.decode()

    assert reverse("cases:act", args=[case.pk, "resolve_on_spot"]) + "?next=" in html
    assert f'action="{reverse("cases:act", args=[case.pk, "whistle"])}"' in html
    assert f'action="{reverse("cases:act", args=[case.pk, "accept"])}"' not in html


def test_accept_through_the_inline_form(client, org):
    case = file_case(org)
    client.force_login(org.village_officer)

    response = client.post(
        reverse("cases:act", args=[case.pk, "accept"]),
        {"version": case.version, "next": INBOX},
    )

    assert response.status_code == 302
    assert response["Location"] == INBOX
    case.refresh_from_db()
    assert case.status == Status.VILLAGE_HANDLING
    sections = {s.key: s for s in client.get(INBOX).context["sections"]}
    assert [row.case.pk for row in sections["handling"].rows] == [case.pk]
    assert sections["new"].rows == []


def test_stale_inline_form_changes_nothing(client, org):
    case = file_case(org)
    stale_version = case.version
    accept_case(user=org.village_officer, case_id=case.pk)
    client.force_login(org.village_officer)

    client.post(
        reverse("cases:act", args=[case.pk, "whistle"]),
        {"version": stale_version, "next": INBOX},
    )

    case.refresh_from_db()
    assert case.status == Status.VILLAGE_HANDLING


def test_cases_are_ordered_by_their_deadline(client, org, clock):
    earlier_filed = file_case(org, **far(0))
    later_filed = file_case(org, **far(5))
    # The later whistle is accepted first: its village-handling clock runs out first.
    accept_case(user=org.village_officer, case_id=later_filed.pk)
    clock.shift(timedelta(minutes=20))
    accept_case(user=org.village_officer, case_id=earlier_filed.pk)
    client.force_login(org.village_officer)

    sections = {s.key: s for s in client.get(INBOX).context["sections"]}

    assert [row.case.pk for row in sections["handling"].rows] == [later_filed.pk, earlier_filed.pk]


def test_overdue_screening_shows_red(client, org, clock):
    case = file_case(org)
    clock.shift(timedelta(minutes=45))  # screening takes 30 natural minutes
    client.force_login(org.village_officer)

    response = client.get(INBOX, HTTP_ACCEPT_LANGUAGE="en")

    row = response.context["sections"][0].rows[0]
    assert row.case.pk == case.pk
    html = response.content.decode()
    assert 'data-light="red"' in html
    assert "overdue by 15 minutes" in html


def test_sections_are_paginated(client, org):
    for n in range(22):
        file_case(org, **far(n))
    client.force_login(org.village_officer)

    first = client.get(INBOX).context["sections"][0]
    second = client.get(INBOX + "?new_page=2").context["sections"][0]

    assert first.page.paginator.count == 22
    assert len(first.rows) == 20
    assert len(second.rows) == 2
    assert not {r.case.pk for r in first.rows} & {r.case.pk for r in second.rows}


def test_query_count_does_not_grow_with_the_cases(client, org):
    def fill(start: int, count: int) -> None:
        for n in range(start, start + count):
            case = file_case(org, photos=[png()], **far(n))
            if n % 3 == 1:
                accept_case(user=org.village_officer, case_id=case.pk)
            elif n % 3 == 2:
                accept_case(user=org.village_officer, case_id=case.pk)
                resolve_on_spot(
                    user=org.village_officer, case_id=case.pk, note="Done", photos=[png()]
                )

    client.force_login(org.village_officer)
    fill(0, 3)  # one case in each section
    client.get(INBOX)  # warm the calendar cache
    with CaptureQueriesContext(connection) as few:
        assert client.get(INBOX).status_code == 200
    fill(3, 12)
    with CaptureQueriesContext(connection) as many:
        response = client.get(INBOX)
    assert sum(len(s.rows) for s in response.context["sections"]) == 15
    assert Case.objects.count() == 15
    assert len(many) == len(few)
