"""Uploads never hold a web worker: the pixel budget is read from the headers before anything
is decoded, photos are re-encoded (and get their thumbnails) in a Celery worker after commit,
a request that fails part-way leaves no file behind, and the beat sweeps what a killed process
left (cases.uploads)."""

import errno
import io
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image

from cases.models import Attachment, Case
from cases.services import resolve_case
from cases.services.pending_photos import keep_pending_photos
from cases.tasks import process_photos
from cases.uploads import (
    THUMBNAIL_SIDE,
    check_upload,
    check_uploads,
    process_attachment,
    process_waiting_photos,
    remove_orphan_files,
)
from tests.api.conftest import client_for
from tests.cases.conftest import org
from tests.cases.engine_steps import file_case, in_progress
from tests.cases.test_uploads import jpeg_with_orientation_and_gps, noisy_jpeg
from tests.workers import isolated_broker, running_workers, wait_for
from whistle.celery import app as celery_app

__all__ = ["org"]

LAT, LNG = 30.50, 120.70  # inside org.grid
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def png_6300() -> bytes:
    """The review's file: 6300 x 6300 pixels (39.7 MP, under the old 40 MP limit) drawn by
    Pillow, a few tens of kilobytes on disk; decoding and re-encoding it took seconds."""
    buffer = io.BytesIO()
    Image.new("1", (6300, 6300), 1).save(buffer, format="PNG")
    return buffer.getvalue()


def png(name: str = "photo.png", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def jpeg_with_gps(name: str = "IMG_0001.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_with_orientation_and_gps(), content_type="image/jpeg")


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def whistle_form(org, photos: list) -> dict:
    return {
        "item": str(org.item.pk),
        "description": "Garbage piled beside the bridge",
        "latitude": str(LAT),
        "longitude": str(LNG),
        "address": "By the old bridge",
        "idempotency_key": uuid.uuid4().hex,
        "photos": photos,
    }


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@contextmanager
def celery_conf(**values: object) -> Iterator[None]:
    """This process's Celery settings changed for the block."""
    saved = {name: celery_app.conf.get(name) for name in values}
    celery_app.conf.update(values)
    try:
        yield
    finally:
        celery_app.conf.update(saved)


@pytest.fixture
def worker_only(settings) -> None:
    """No photo is re-encoded in the request, however small: each waits for a worker."""
    settings.WHISTLE_INLINE_PHOTO_PIXELS = 0


# --- the budget, from the headers --------------------------------------------------------


def test_the_6300_pixel_png_is_refused_from_its_header_in_milliseconds(settings):
    raw = png_6300()
    assert len(raw) < 200_000
    started = time.perf_counter()

    with pytest.raises(Exception) as caught:
        check_upload(upload=SimpleUploadedFile("bomb.png", raw, content_type="image/png"))

    elapsed = time.perf_counter() - started
    assert caught.value.error_list[0].code == "too_many_pixels"
    # Decoding and re-encoding it took over a second on the CI machine; reading the header
    # takes a few milliseconds (a wide margin for a busy machine).
    assert elapsed < 0.3, elapsed


def test_a_png_is_refused_before_any_pixel_is_inflated(settings):
    """Proof that nothing is decoded: the pixel data of this PNG is not even zlib, with a right
    checksum; only the header says what it is. Decoding would fail as corrupt_image."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 6300, 6300, 8, 2, 0, 0, 0)
    raw = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"not zlib at all")
        + chunk(b"IEND", b"")
    )

    with pytest.raises(Exception) as caught:
        check_upload(upload=SimpleUploadedFile("bomb.png", raw, content_type="image/png"))

    assert caught.value.error_list[0].code == "too_many_pixels"


def test_the_photo_pixel_limit_is_a_setting(settings):
    settings.WHISTLE_MAX_IMAGE_PIXELS = 64 * 48 - 1

    with pytest.raises(Exception) as caught:
        check_upload(upload=png())

    assert caught.value.error_list[0].code == "too_many_pixels"
    settings.WHISTLE_MAX_IMAGE_PIXELS = 64 * 48
    assert check_upload(upload=png()).pixels == 64 * 48


def test_the_photos_of_one_request_share_a_pixel_budget(settings):
    settings.WHISTLE_MAX_REQUEST_PIXELS = 3 * 64 * 48
    assert len(check_uploads(uploads=[png(), png(), png()])) == 3

    with pytest.raises(Exception) as caught:
        check_uploads(uploads=[png(), png(), png(), png()])

    assert caught.value.error_list[0].code == "too_many_pixels_in_all"


def test_the_filing_page_says_why_a_request_is_over_budget(client, org, media_root, settings):
    settings.WHISTLE_MAX_REQUEST_PIXELS = 2_000_000
    client.force_login(org.grid_worker)
    photos = [png(f"p{n}.png", (1000, 1000)) for n in range(3)]

    response = client.post(reverse("cases:file"), whistle_form(org, photos), **EN)

    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors["photos"])
    assert "The photos together have too many pixels (3 megapixels)" in errors
    assert "at most 2 megapixels can be sent at once" in errors
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0
    assert files_under(media_root / "cases") == []


# --- a request that fails part-way keeps nothing -----------------------------------------


class DiskFullOnThirdSave(FileSystemStorage):
    """The media disk fills up while a request stores its third file (ENOSPC)."""

    saves = 0

    def _save(self, name, content):
        type(self).saves += 1
        if type(self).saves == 3:
            raise OSError(errno.ENOSPC, "No space left on device", name)
        return super()._save(name, content)


@pytest.fixture
def disk_full_on_third_save(settings, media_root) -> Path:
    DiskFullOnThirdSave.saves = 0
    settings.STORAGES = {
        **django_settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.DiskFullOnThirdSave"},
    }
    return media_root


def test_a_filing_failing_on_its_third_photo_leaves_no_file_and_no_row(
    client, org, disk_full_on_third_save
):
    client.force_login(org.grid_worker)
    client.raise_request_exception = False
    photos = [png(f"p{n}.png") for n in range(4)]

    response = client.post(reverse("cases:file"), whistle_form(org, photos), **EN)

    assert response.status_code == 500
    assert DiskFullOnThirdSave.saves == 3  # files were stored before the disk was full
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0
    assert files_under(disk_full_on_third_save) == []


def test_an_api_filing_failing_on_its_third_photo_leaves_no_file_and_no_row(
    org, disk_full_on_third_save
):
    api = client_for(org.grid_worker)
    api.raise_request_exception = False

    response = api.post(
        "/api/cases/",
        {
            "item": org.item.pk,
            "description": "Garbage piled beside the bridge",
            "grid": org.grid.pk,
            "photos": [png(f"p{n}.png") for n in range(4)],
        },
        format="multipart",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )

    assert response.status_code == 500
    assert DiskFullOnThirdSave.saves == 3
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0
    assert files_under(disk_full_on_third_save) == []


def test_an_action_failing_on_its_third_photo_leaves_no_file_and_no_row(org, settings, media_root):
    case = in_progress(org)
    before = Attachment.objects.count()
    DiskFullOnThirdSave.saves = 0
    settings.STORAGES = {
        **django_settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.DiskFullOnThirdSave"},
    }

    with pytest.raises(OSError):
        resolve_case(
            user=org.captain,
            case_id=case.pk,
            note="Cleared",
            photos=[png(f"p{n}.png") for n in range(4)],
        )

    assert DiskFullOnThirdSave.saves == 3
    assert Attachment.objects.count() == before
    assert files_under(media_root) == []


def test_kept_photos_of_a_refused_form_failing_part_way_leave_nothing(org, disk_full_on_third_save):
    with pytest.raises(OSError):
        keep_pending_photos(user=org.grid_worker, uploads=[png(f"p{n}.png") for n in range(4)])

    assert DiskFullOnThirdSave.saves == 3
    assert files_under(disk_full_on_third_save) == []


# --- re-encoding and thumbnails: small ones at once, the others after commit -------------


def test_a_small_photo_is_cleaned_in_the_request_and_shown_at_once(client, org, media_root):
    case = file_case(org, photos=[jpeg_with_gps()])
    photo = Attachment.objects.get(case=case)

    assert photo.state == Attachment.State.READY and photo.thumbnail
    with Image.open(media_root / photo.file.name) as stored:
        assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert stored.size == (20, 40)
    client.force_login(org.grid_worker)
    assert client.get(reverse("cases:attachment", args=[photo.pk])).status_code == 200


def test_only_the_inline_budget_is_decoded_in_the_request(org, media_root, settings):
    settings.WHISTLE_INLINE_PHOTO_PIXELS = 64 * 48 * 2
    case = file_case(org, photos=[png(f"p{n}.png") for n in range(3)])

    states = sorted(Attachment.objects.filter(case=case).values_list("state", flat=True))
    assert states == ["processing", "ready", "ready"]


def test_a_photo_shows_a_placeholder_until_the_worker_has_cleaned_it(
    worker_only, client, org, media_root, django_capture_on_commit_callbacks
):
    case = file_case(org, photos=[jpeg_with_gps()])
    photo = Attachment.objects.get(case=case)
    client.force_login(org.grid_worker)
    page = reverse("cases:detail", args=[case.pk])
    url = reverse("cases:attachment", args=[photo.pk])

    assert photo.state == Attachment.State.PROCESSING
    assert 'data-testid="photo-processing"' in client.get(page, **EN).content.decode()
    # Not even its uploader gets the bytes that still carry the GPS position.
    assert client.get(url).status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        assert process_attachment(attachment_id=photo.pk) == Attachment.State.READY

    photo.refresh_from_db()
    html = client.get(page, **EN).content.decode()
    assert 'data-testid="photo-processing"' not in html
    assert f"{url}?size=thumbnail" in html
    full = client.get(url)
    assert full.status_code == 200 and full["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(full.streaming_content))) as served:
        assert not served.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert served.size == (20, 40)
    small = client.get(url, {"size": "thumbnail"})
    assert small.status_code == 200 and small["Content-Type"] == "image/jpeg"
    # Only the clean file and its thumbnail are kept: the original went after commit.
    assert sorted(files_under(media_root)) == sorted(
        [media_root / photo.file.name, media_root / photo.thumbnail.name]
    )


def test_the_task_is_queued_after_commit_and_makes_the_thumbnail(
    worker_only, org, media_root, django_capture_on_commit_callbacks
):
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 900), (10, 120, 200)).save(buffer, format="JPEG")
    photo = SimpleUploadedFile("wide.jpg", buffer.getvalue(), content_type="image/jpeg")

    with (
        celery_conf(task_always_eager=True),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        case = file_case(org, photos=[photo])

    assert callbacks  # the processing was queued after commit, not run in the request
    stored = Attachment.objects.get(case=case)
    assert stored.state == Attachment.State.READY
    with Image.open(media_root / stored.thumbnail.name) as thumbnail:
        assert thumbnail.size == (THUMBNAIL_SIDE, 240)


def test_an_unreadable_photo_fails_in_the_worker_and_keeps_no_bytes(
    worker_only, org, media_root, django_capture_on_commit_callbacks
):
    whole = noisy_jpeg()
    broken = SimpleUploadedFile("broken.jpg", whole[: len(whole) // 2], content_type="image/jpeg")
    case = file_case(org, photos=[broken])  # the header is whole: the request accepts it
    photo = Attachment.objects.get(case=case)

    with django_capture_on_commit_callbacks(execute=True):
        assert process_attachment(attachment_id=photo.pk) == Attachment.State.FAILED

    assert files_under(media_root / "cases") == []


def test_the_beat_processes_photos_whose_task_was_lost(org, media_root, worker_only):
    case = file_case(org, photos=[png()])
    photo = Attachment.objects.get(case=case)

    assert process_waiting_photos() == 0  # too young: its own task may still be on the way
    Attachment.objects.filter(pk=photo.pk).update(created_at=photo.created_at.replace(year=2025))
    assert process_waiting_photos() == 1

    photo.refresh_from_db()
    assert photo.state == Attachment.State.READY and photo.thumbnail


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_cleans_the_photos_of_a_filing(
    worker_only, client, org, tmp_path, monkeypatch, settings
):
    """The filing page stores, commits and queues; a separate `celery worker` process decodes,
    strips the GPS position and writes the thumbnail."""
    media = tmp_path / "shared-media"
    settings.MEDIA_ROOT = media
    monkeypatch.setenv("MEDIA_ROOT", str(media))  # the worker's storage is the same disk
    client.force_login(org.grid_worker)

    with (
        isolated_broker(tmp_path) as broker,
        running_workers(count=1, broker=broker, tmp_path=tmp_path) as (worker,),
        celery_conf(task_default_queue=broker.queue),
    ):
        response = client.post(
            reverse("cases:file"),
            whistle_form(org, [jpeg_with_gps(), jpeg_with_gps("IMG_0002.jpg")]),
            **EN,
        )
        assert response.status_code in (200, 302), response.content[:300]
        photos = Attachment.objects.filter(case__isnull=False)
        wait_for(
            lambda: (
                photos.count() == 2 and all(p.state == Attachment.State.READY for p in photos.all())
            ),
            timeout=120,
            what=f"the worker to process both photos:\n{worker.log()}",
        )
        assert worker.results(process_photos.name) == ["1", "1"]  # one task a photo

    for photo in photos:
        with Image.open(media / photo.file.name) as stored:
            assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
            assert stored.size == (20, 40)
        assert (media / photo.thumbnail.name).is_file()
    assert len(files_under(media / "cases")) == 4  # two photos, two thumbnails, no original


# --- the sweep on the beat ---------------------------------------------------------------


def test_the_beat_runs_the_orphan_sweep_and_the_catch_up():
    schedule = {entry["task"]: entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    sweep = schedule["cases.tasks.remove_orphan_files"]
    assert sweep["schedule"] <= 3600
    catch_up = schedule["cases.tasks.process_waiting_photos"]
    assert catch_up["schedule"] <= 60
    assert {"cases.tasks.remove_orphan_files", "cases.tasks.process_waiting_photos"} <= set(
        celery_app.tasks
    )


def test_the_sweep_spares_young_files_and_thumbnails_of_rows(worker_only, org, media_root):
    case = file_case(org, photos=[png()])
    photo = Attachment.objects.get(case=case)
    process_attachment(attachment_id=photo.pk)
    photo.refresh_from_db()
    young_orphan = media_root / "cases" / "2026" / "01" / f"{uuid.uuid4().hex}.png"
    old_orphan = media_root / "cases" / "2026" / "01" / f"{uuid.uuid4().hex}.png"
    young_orphan.parent.mkdir(parents=True, exist_ok=True)
    young_orphan.write_bytes(b"a request still in its transaction")
    old_orphan.write_bytes(b"left by a killed worker")
    two_hours_ago = time.time() - 2 * 3600
    for path in (old_orphan, media_root / photo.file.name, media_root / photo.thumbnail.name):
        os.utime(path, (two_hours_ago, two_hours_ago))

    assert remove_orphan_files() == 1

    assert not old_orphan.exists()
    assert young_orphan.exists()
    assert (media_root / photo.file.name).exists()
    assert (media_root / photo.thumbnail.name).exists()
