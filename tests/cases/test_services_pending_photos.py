"""Photos kept from a whistle form that failed validation (issue 19, item 9): the user's own,
for a day, at most ten, bad files left out, filed with the next submit, then cleared."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.selectors_pages.pending_photos import (
    PENDING_MAX_COUNT,
    PENDING_ROOT,
    pending_thumbnails,
    pending_uploads,
)
from cases.services.pending_photos import (
    clear_stale_pending_photos,
    discard_pending_photos,
    keep_pending_photos,
)
from tests.cases.engine_steps import file_case, png


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def kept_files() -> list[str]:
    try:
        folders, _files = default_storage.listdir(PENDING_ROOT)
    except FileNotFoundError:
        return []
    return [
        name
        for folder in folders
        for name in default_storage.listdir(f"{PENDING_ROOT}/{folder}")[1]
    ]


def test_good_photos_are_kept_and_filed_with_the_next_submit(org):
    bad = SimpleUploadedFile("notes.txt", b"not a photo", content_type="image/jpeg")
    token = keep_pending_photos(user=org.grid_worker, uploads=[png(), bad])
    assert token
    assert len(pending_uploads(user=org.grid_worker, token=token)) == 1
    # A second failed submit adds its photos under the same token.
    token = keep_pending_photos(user=org.grid_worker, uploads=[png()], token=token)
    uploads = pending_uploads(user=org.grid_worker, token=token)
    assert len(uploads) == 2
    assert all(
        thumb.startswith("data:image/jpeg;base64,")
        for thumb in pending_thumbnails(user=org.grid_worker, token=token)
    )
    case = file_case(org, photos=uploads)
    assert case.attachments.count() == 2
    discard_pending_photos(user=org.grid_worker, token=token)
    assert kept_files() == []


def test_nothing_kept_gives_no_token(org):
    assert keep_pending_photos(user=org.grid_worker, uploads=[]) == ""


def test_a_token_is_its_users_own_and_cannot_be_forged(org):
    token = keep_pending_photos(user=org.grid_worker, uploads=[png()])
    assert pending_uploads(user=org.other_grid_worker, token=token) == []
    assert pending_uploads(user=org.grid_worker, token=token + "x") == []
    assert pending_uploads(user=org.grid_worker, token="") == []


def test_a_token_expires_after_a_day(org, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    token = keep_pending_photos(user=org.grid_worker, uploads=[png()])
    time_machine.shift(timedelta(hours=25))
    assert pending_uploads(user=org.grid_worker, token=token) == []


def test_at_most_ten_photos_are_kept(org):
    token = keep_pending_photos(user=org.grid_worker, uploads=[png() for _ in range(12)])
    assert len(pending_uploads(user=org.grid_worker, token=token)) == PENDING_MAX_COUNT


def test_stale_photos_are_cleared(org):
    keep_pending_photos(user=org.grid_worker, uploads=[png()])
    assert clear_stale_pending_photos(now=timezone.now()) == 0
    assert len(kept_files()) == 1
    assert clear_stale_pending_photos(now=timezone.now() + timedelta(hours=25)) == 1
    assert kept_files() == []
