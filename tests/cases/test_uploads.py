"""Attachments: the type comes from the content, images lose their metadata, nothing bad is kept.

The request checks (check_upload) read the header only; the re-encoding (clean_photo) is what a
Celery worker runs after commit (process_attachment, see test_upload_budget.py)."""

import hashlib
import io
import os
import re
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.utils import timezone, translation
from django.utils.functional import Promise
from PIL import ExifTags, Image, PngImagePlugin

from cases.models import Attachment, Case, Source
from cases.uploads import (
    CheckedFile,
    CleanPhoto,
    check_upload,
    check_uploads,
    clean_photo,
    process_attachment,
    remove_orphan_files,
    store_attachment,
)
from checklists.models import Aspect, Item
from tests.factories import GridFactory, UserFactory

RED = (255, 0, 0)
BLUE = (0, 0, 255)
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


# --- files made for the tests -------------------------------------------------------------


def image_bytes(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def two_colour_image(width: int = 40, height: int = 20) -> Image.Image:
    """Red on the left half, blue on the right, so a rotation can be seen in the pixels."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


def jpeg_with_orientation_and_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the camera was turned: rotate 90° clockwise to show
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (30.0, 15.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (120.0, 9.0, 30.0)
    return image_bytes(
        two_colour_image(), "JPEG", exif=exif.tobytes(), comment=b"reporter: Zhang San"
    )


def noisy_jpeg(width: int = 200, height: int = 200) -> bytes:
    noise = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    return image_bytes(noise, "JPEG", quality=95)


def png_of_size(width: int, height: int) -> bytes:
    """A one-colour 1-bit PNG written by hand: any dimensions for a few kilobytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def cleaned(name: str, content: bytes, content_type: str = "image/jpeg") -> CleanPhoto:
    """What the worker stores for an upload the request accepted."""
    checked = check_upload(upload=upload(name, content, content_type))
    return clean_photo(content=checked.content, content_type=checked.content_type)


def reason(error: ValidationError) -> str:
    return " ".join(error.messages)


def stored_files(media_root: Path) -> list[Path]:
    return [p for p in (media_root / "cases").rglob("*") if p.is_file()]


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def case(db) -> Case:
    grid = GridFactory()
    village = grid.village
    aspect = Aspect.objects.create(code="UPLOADS-TEST", name_zh="生态", name_en="Ecology")
    item = Item.objects.create(
        aspect=aspect, code="UPLOADS-TEST-1", name_zh="垃圾", name_en="Rubbish"
    )
    return Case.objects.create(
        number="C-2025-000001",
        tracking_code="TRACK000001",
        source=Source.GRID_WORKER,
        item=item,
        grid=grid,
        village=village,
        town=village.parent,
        city=village.parent.parent,
        description="Rubbish dumped by the river.",
        filed_at=timezone.now(),
    )


# --- images lose their metadata and keep their orientation --------------------------------


def test_jpeg_loses_exif_and_gps_but_keeps_its_orientation_in_the_pixels():
    raw = jpeg_with_orientation_and_gps()
    with Image.open(io.BytesIO(raw)) as original:
        assert original.size == (40, 20)
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test file does carry GPS

    checked = check_upload(upload=upload("IMG_0001.JPG", raw))
    assert (checked.kind, checked.content_type, checked.extension) == ("photo", "image/jpeg", "jpg")
    assert checked.sha256 == hashlib.sha256(raw).hexdigest()
    assert checked.original_name == "IMG_0001.JPG"

    checked = clean_photo(content=checked.content, content_type=checked.content_type)

    assert (checked.width, checked.height) == (20, 40)  # turned upright: width and height swap
    assert b"Exif" not in checked.content
    assert b"Zhang San" not in checked.content
    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (20, 40)
        assert len(stored.getexif()) == 0
        assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in stored.info
        assert "icc_profile" not in stored.info
        assert "comment" not in stored.info
        # Orientation 6 puts the left (red) half at the top once the photo is upright.
        top, bottom = stored.convert("RGB").getpixel((10, 5)), stored.getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60
    with Image.open(io.BytesIO(checked.thumbnail)) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert thumbnail.size == (20, 40)  # smaller than a thumbnail already: kept as it is
        assert "exif" not in thumbnail.info


def test_png_stays_png_without_its_text_chunks():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Zhang San")
    rgba = Image.new("RGBA", (30, 10), (0, 128, 0, 128))
    raw = image_bytes(rgba, "PNG", pnginfo=info)
    checked = check_upload(upload=upload("map.png", raw))
    assert (checked.kind, checked.content_type, checked.extension) == ("photo", "image/png", "png")

    checked = clean_photo(content=checked.content, content_type=checked.content_type)

    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.format == "PNG"
        assert stored.mode == "RGBA"
        assert stored.getpixel((0, 0)) == (0, 128, 0, 128)
        assert not stored.text
    assert b"Zhang San" not in checked.content


def test_palette_png_with_transparency_keeps_its_transparency():
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255])
    palette.putpixel((1, 1), 1)
    raw = image_bytes(palette, "PNG", transparency=0)

    checked = cleaned("icon.png", raw, "image/png")

    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.mode == "RGBA"
        assert stored.getpixel((0, 0))[3] == 0
        assert stored.getpixel((1, 1)) == (0, 0, 255, 255)


def test_webp_stays_webp():
    raw = image_bytes(two_colour_image(), "WEBP", quality=90)

    checked = check_upload(upload=upload("photo.webp", raw, "image/webp"))

    assert (checked.content_type, checked.extension) == ("image/webp", "webp")
    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.format == "WEBP"
        assert stored.size == (40, 20)


def test_cmyk_jpeg_is_stored_as_rgb():
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # red in ink
    checked = cleaned("scan.jpg", image_bytes(cmyk, "JPEG"))

    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.mode == "RGB"
        red, green, blue = stored.getpixel((8, 8))
    assert red > 200 and green < 60 and blue < 60


def test_the_type_comes_from_the_content_not_the_name_or_declared_type():
    raw = image_bytes(two_colour_image(), "PNG")

    checked = check_upload(upload=upload("report.pdf", raw, "application/pdf"))

    assert (checked.kind, checked.content_type, checked.extension) == ("photo", "image/png", "png")


def test_pdf_is_accepted_as_a_document_unchanged():
    checked = check_upload(upload=upload("decision.pdf", PDF_BYTES, "application/pdf"))

    assert (checked.kind, checked.content_type, checked.extension) == (
        "document",
        "application/pdf",
        "pdf",
    )
    assert checked.content == PDF_BYTES
    assert checked.width is None and checked.height is None


# --- refused files ------------------------------------------------------------------------


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", b"MZ" + b"\x00" * 64)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.jpg", b"just some text pretending to be a photo\n"),
        ("photo.jpg", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120),
        ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120),
        ("photo.jpg", b"#!/bin/sh\nrm -rf /\n"),
        ("photo.png", zip_bytes()),
        ("photo.gif", b"GIF89a" + b"\x00" * 40),
        ("drawing.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
    ],
    ids=["text", "elf", "pe", "script", "zip", "gif", "svg"],
)
def test_files_of_other_types_are_refused_whatever_their_name(english, name, content):
    with pytest.raises(ValidationError) as caught:
        check_upload(upload=upload(name, content))

    assert caught.value.error_list[0].code == "unsupported_type"
    assert reason(caught.value) == "Unsupported file type, allowed: JPEG, PNG, WebP, PDF."


def test_heic_is_refused_with_a_message_that_says_so(english):
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64

    with pytest.raises(ValidationError) as caught:
        check_upload(upload=upload("IMG_0002.HEIC", heic, "image/heic"))

    message = reason(caught.value)
    assert caught.value.error_list[0].code == "heic"
    assert "HEIC" in message
    assert "allowed: JPEG, PNG, WebP, PDF" in message


def test_an_empty_file_is_refused(english):
    with pytest.raises(ValidationError) as caught:
        check_upload(upload=upload("photo.jpg", b""))

    assert reason(caught.value) == "The file is empty."


def test_a_file_over_every_limit_is_refused_before_it_is_read(english):
    big = TemporaryUploadedFile("photo.jpg", "image/jpeg", 50 * 1024 * 1024, None)
    try:
        big.write(b"\xff\xd8\xff\xe0")
        big.truncate(50 * 1024 * 1024)  # sparse: 50 MB that cost nothing to make
        big.seek(0)

        with pytest.raises(ValidationError) as caught:
            check_upload(upload=big)

        assert caught.value.error_list[0].code == "too_large"
        assert "too large" in reason(caught.value)
        assert big.tell() == 0  # not a byte was read
    finally:
        big.close()


def test_the_photo_limit_is_its_own(settings, english):
    settings.WHISTLE_MAX_PHOTO_BYTES = 1000
    settings.WHISTLE_MAX_DOCUMENT_BYTES = 100_000
    photo = noisy_jpeg(64, 64)
    assert len(photo) > 1000

    with pytest.raises(ValidationError) as caught:
        check_upload(upload=upload("photo.jpg", photo))
    assert caught.value.error_list[0].code == "too_large"

    document = PDF_BYTES + b"%" + b"x" * 2000 + b"\n"
    assert check_upload(upload=upload("a.pdf", document)).kind == "document"


def test_a_size_that_lies_is_still_bounded(settings, english):
    settings.WHISTLE_MAX_DOCUMENT_BYTES = 1000
    liar = upload("a.pdf", PDF_BYTES + b"x" * 5000, "application/pdf")
    liar.size = 10  # what a broken client might declare

    with pytest.raises(ValidationError) as caught:
        check_upload(upload=liar)

    assert caught.value.error_list[0].code == "too_large"


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (20000, 20000),  # over twice Pillow's own limit: DecompressionBombError
        (10000, 10000),  # over Pillow's limit: its warning is turned into an error
        (7000, 7000),  # 49 megapixels: over the old 40-megapixel limit too
        (4001, 4000),  # just over our 16-megapixel limit only
    ],
)
def test_decompression_bombs_are_refused(english, width, height):
    bomb = png_of_size(width, height)
    assert len(bomb) < 200_000

    with pytest.raises(ValidationError) as caught:
        check_upload(upload=upload("bomb.png", bomb, "image/png"))

    assert caught.value.error_list[0].code == "too_many_pixels"
    assert reason(caught.value) == (
        "The image has too many pixels; at most 16 megapixels are allowed."
    )


def test_a_long_but_small_image_is_scaled_down_to_the_longest_side():
    checked = cleaned("panorama.png", png_of_size(6000, 100), "image/png")

    assert checked.width == 2560
    assert checked.height in (42, 43)
    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.size == (checked.width, checked.height)


def test_the_longest_side_is_a_setting(settings):
    settings.WHISTLE_MAX_IMAGE_SIDE = 100
    raw = image_bytes(two_colour_image(400, 200), "JPEG")

    checked = cleaned("photo.jpg", raw)

    assert (checked.width, checked.height) == (100, 50)


def test_a_truncated_jpeg_is_refused_by_the_worker(english):
    whole = noisy_jpeg()
    # Only decoding finds the missing half: the request accepts it, the worker refuses it.
    checked = check_upload(upload=upload("photo.jpg", whole[: len(whole) // 2]))

    with pytest.raises(ValidationError) as caught:
        clean_photo(content=checked.content, content_type=checked.content_type)

    assert caught.value.error_list[0].code == "corrupt_image"
    assert reason(caught.value) == "The image is damaged or incomplete and cannot be read."


def test_a_corrupt_png_is_refused(english):
    raw = bytearray(image_bytes(two_colour_image(), "PNG"))
    raw[40:60] = b"\x00" * 20  # breaks the IDAT checksum

    with pytest.raises(ValidationError) as caught:
        check_upload(upload=upload("photo.png", bytes(raw)))

    assert caught.value.error_list[0].code == "corrupt_image"


def test_messages_are_translatable_strings(english):
    with pytest.raises(ValidationError) as caught:
        check_upload(upload=upload("photo.jpg", b"not an image"))

    assert isinstance(caught.value.error_list[0].message, Promise)


# --- several files ------------------------------------------------------------------------


def test_check_uploads_returns_every_checked_file():
    files = [
        upload("a.jpg", image_bytes(two_colour_image(), "JPEG")),
        upload("b.pdf", PDF_BYTES, "application/pdf"),
    ]

    checked = check_uploads(uploads=files)

    assert [type(c) for c in checked] == [CheckedFile, CheckedFile]
    assert [c.kind for c in checked] == ["photo", "document"]


def test_check_uploads_lists_each_bad_file_with_its_reason(english):
    files = [
        upload("good.jpg", image_bytes(two_colour_image(), "JPEG")),
        upload("virus.jpg", b"\x7fELF" + b"\x00" * 60),
        upload("empty.png", b""),
    ]

    with pytest.raises(ValidationError) as caught:
        check_uploads(uploads=files)

    assert caught.value.messages == [
        "“virus.jpg”: Unsupported file type, allowed: JPEG, PNG, WebP, PDF.",
        "“empty.png”: The file is empty.",
    ]
    assert all(isinstance(e.message, Promise) for e in caught.value.error_list)


def test_check_uploads_limits_the_count(english):
    files = [upload(f"{n}.pdf", PDF_BYTES, "application/pdf") for n in range(4)]

    with pytest.raises(ValidationError) as caught:
        check_uploads(uploads=files, max_count=3)

    assert reason(caught.value) == "Too many files (4); at most 3 are allowed."


# --- storing ------------------------------------------------------------------------------


def test_store_attachment_saves_the_clean_file_under_a_random_name(
    case, media_root, django_capture_on_commit_callbacks
):
    user = UserFactory(password="!")  # unusable: no hashing needed
    raw = jpeg_with_orientation_and_gps()

    attachment = store_attachment(
        case=case, upload=upload("我的照片 secret.jpg", raw), purpose="filing", uploaded_by=user
    )
    original = media_root / attachment.file.name
    assert attachment.state == "processing"
    assert original.read_bytes() == raw  # as it came, until the worker has re-encoded it

    with django_capture_on_commit_callbacks(execute=True):
        assert process_attachment(attachment_id=attachment.pk) == "ready"

    attachment.refresh_from_db()
    assert not original.exists()  # the metadata went with it
    assert re.fullmatch(r"cases/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", attachment.file.name)
    assert "secret" not in attachment.file.name
    path = media_root / attachment.file.name
    content = path.read_bytes()
    assert attachment.case == case
    assert attachment.uploaded_by == user
    assert (attachment.kind, attachment.purpose) == ("photo", "filing")
    assert attachment.original_name == "我的照片 secret.jpg"
    assert attachment.content_type == "image/jpeg"
    assert attachment.size == len(content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert (attachment.width, attachment.height) == (20, 40)
    with Image.open(path) as stored:
        assert len(stored.getexif()) == 0
        assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert stored.size == (20, 40)


def test_store_attachment_keeps_a_pdf_as_it_came(case, media_root):
    attachment = store_attachment(
        case=case,
        upload=upload("decision.pdf", PDF_BYTES, "application/pdf"),
        purpose="evidence",
        uploaded_by=None,
    )

    assert attachment.kind == "document"
    assert attachment.file.name.endswith(".pdf")
    assert (media_root / attachment.file.name).read_bytes() == PDF_BYTES


def test_a_refused_file_stores_nothing(case, media_root, english):
    before = Attachment.objects.count()
    big = TemporaryUploadedFile("photo.jpg", "image/jpeg", 50 * 1024 * 1024, None)
    try:
        big.truncate(50 * 1024 * 1024)
        with pytest.raises(ValidationError):
            store_attachment(case=case, upload=big, purpose="filing", uploaded_by=None)
    finally:
        big.close()

    with pytest.raises(ValidationError):
        store_attachment(
            case=case, upload=upload("x.jpg", b"\x7fELF"), purpose="filing", uploaded_by=None
        )

    assert Attachment.objects.count() == before
    assert stored_files(media_root) == []


def test_the_file_is_removed_when_its_row_cannot_be_written(case, media_root):
    unsaved_user = UserFactory.build(password="!")

    with pytest.raises(ValueError, match="unsaved"):
        store_attachment(
            case=case,
            upload=upload("photo.jpg", image_bytes(two_colour_image(), "JPEG")),
            purpose="handling",
            uploaded_by=unsaved_user,
        )

    assert Attachment.objects.count() == 0
    assert stored_files(media_root) == []


def test_an_unknown_purpose_is_a_programming_error(case, media_root):
    with pytest.raises(ValueError, match="purpose"):
        store_attachment(
            case=case,
            upload=upload("a.pdf", PDF_BYTES, "application/pdf"),
            purpose="holiday",
            uploaded_by=None,
        )

    assert stored_files(media_root) == []


def test_remove_orphan_files_deletes_only_old_files_without_a_row(case, media_root):
    kept = store_attachment(
        case=case,
        upload=upload("a.pdf", PDF_BYTES, "application/pdf"),
        purpose="filing",
        uploaded_by=None,
    )
    folder = media_root / "cases" / "2024" / "01"
    folder.mkdir(parents=True)
    old_orphan = folder / "0123456789abcdef0123456789abcdef.jpg"
    new_orphan = folder / "fedcba9876543210fedcba9876543210.jpg"
    old_orphan.write_bytes(b"left behind by a rollback")
    new_orphan.write_bytes(b"its transaction may still commit")
    two_hours_ago = time.time() - 2 * 3600
    for path in (old_orphan, media_root / kept.file.name):
        os.utime(path, (two_hours_ago, two_hours_ago))

    removed = remove_orphan_files()

    assert removed == 1
    assert not old_orphan.exists()
    assert new_orphan.exists()
    assert (media_root / kept.file.name).exists()
