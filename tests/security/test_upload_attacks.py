"""Bad files sent the way an attacker would, as a whole request through the filing page and
through the API: each is refused with a message that names the file and the reason, and
nothing is kept (no case, no attachment row, no file under MEDIA_ROOT, no temporary upload).
The checks of the files themselves are tested one by one in tests/cases/test_uploads.py."""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from cases.models import Attachment, Case
from tests.api.conftest import client_for
from tests.cases.conftest import org
from tests.cases.test_uploads import png_of_size

__all__ = ["org"]

pytestmark = pytest.mark.django_db

LAT, LNG = 30.50, 120.70  # inside org.grid
MB = 1024 * 1024

WRONG_TYPE = "Unsupported file type, allowed: JPEG, PNG, WebP, PDF."
TOO_MANY_PIXELS = "The image has too many pixels; at most 16 megapixels are allowed."


def wrong_type() -> SimpleUploadedFile:
    return SimpleUploadedFile("notes.txt", b"meeting at nine\n" * 20, content_type="text/plain")


def renamed_executable() -> SimpleUploadedFile:
    elf = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x90" * 4000
    return SimpleUploadedFile("IMG_2041.jpg", elf, content_type="image/jpeg")


def huge_image() -> SimpleUploadedFile:
    """A real image of 8000 x 6000 pixels (48 megapixels), drawn by Pillow."""
    buffer = io.BytesIO()
    Image.new("1", (8000, 6000), 1).save(buffer, format="PNG", optimize=False)
    return SimpleUploadedFile("panorama.png", buffer.getvalue(), content_type="image/png")


def review_png() -> SimpleUploadedFile:
    """The review's file: 6300 x 6300 pixels (39.7 MP, under the old 40 MP limit), a few kB.
    Decoding and re-encoding it held a web worker for seconds; now its header refuses it."""
    buffer = io.BytesIO()
    Image.new("1", (6300, 6300), 1).save(buffer, format="PNG")
    return SimpleUploadedFile("IMG_6300.png", buffer.getvalue(), content_type="image/png")


def decompression_bomb() -> SimpleUploadedFile:
    """A few kilobytes that would unpack to 20000 x 20000 pixels."""
    return SimpleUploadedFile("bomb.png", png_of_size(20000, 20000), content_type="image/png")


def fifty_megabytes() -> SimpleUploadedFile:
    """A JPEG header and 50 MB after it."""
    content = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * (50 * MB)
    return SimpleUploadedFile("IMG_big.jpg", content, content_type="image/jpeg")


ATTACKS = {
    "wrong type": (wrong_type, WRONG_TYPE),
    "renamed executable": (renamed_executable, WRONG_TYPE),
    "huge image": (huge_image, TOO_MANY_PIXELS),
    "6300 x 6300 png": (review_png, TOO_MANY_PIXELS),
    "decompression bomb": (decompression_bomb, TOO_MANY_PIXELS),
    "50 MB file": (fifty_megabytes, "The file is too large (50.0 MB); at most 20.0 MB is allowed."),
}


def plain(text: str) -> str:
    """File sizes are written with a no-break space."""
    return text.replace("\xa0", " ")


@pytest.fixture
def storage(settings, tmp_path):
    """MEDIA_ROOT and the temporary upload folder of this test, to see that both stay empty."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    return tmp_path


def assert_nothing_kept(storage) -> None:
    assert Case.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert [p for p in (storage / "media").rglob("*") if p.is_file()] == []
    assert list((storage / "uploads").iterdir()) == []


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_filing_page_refuses_the_file_and_keeps_nothing(client, org, storage, attack):
    make, reason = ATTACKS[attack]
    upload = make()
    client.force_login(org.grid_worker)

    response = client.post(
        reverse("cases:file"),
        {
            "item": str(org.item.pk),
            "description": "Garbage piled beside the bridge",
            "latitude": str(LAT),
            "longitude": str(LNG),
            "address": "By the old bridge",
            "idempotency_key": uuid.uuid4().hex,
            "photos": [upload],
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    errors = plain(" ".join(response.context["form"].errors["photos"]))
    assert upload.name in errors and reason in errors, errors
    assert reason in plain(response.content.decode())
    assert 'data-testid="photo-errors"' in response.content.decode()
    assert_nothing_kept(storage)


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_api_refuses_the_file_and_keeps_nothing(org, storage, attack):
    make, reason = ATTACKS[attack]
    upload = make()

    response = client_for(org.grid_worker).post(
        "/api/cases/",
        {
            "item": org.item.pk,
            "description": "Garbage piled beside the bridge",
            "grid": org.grid.pk,
            "photos": [upload],
        },
        format="multipart",
    )

    assert response.status_code == 400, response.content[:500]
    body = response.json()
    assert set(body) >= {"code", "message", "fields"}
    messages = plain(" ".join(body["fields"]["photos"]))
    assert upload.name in messages and reason in messages, body
    assert_nothing_kept(storage)


def test_a_body_over_the_request_limit_without_files_is_refused(client, org, storage):
    """Form fields (not files) are bounded by DATA_UPLOAD_MAX_MEMORY_SIZE: 400, no case."""
    client.force_login(org.grid_worker)
    response = client.post(
        reverse("cases:file"),
        {
            "item": str(org.item.pk),
            "description": "x" * (13 * MB),
            "latitude": str(LAT),
            "longitude": str(LNG),
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert response.status_code == 400
    assert_nothing_kept(storage)
