"""Photos and documents of cases: checked from their content, re-encoded, stored under random names.

A phone photo carries the place it was taken (GPS), the device and sometimes the reporter's
name in its metadata; a renamed file may be anything at all. So the type is decided from the
bytes (never the name or the declared type), images are re-encoded without any metadata, and
documents are PDF only.

No web request decodes an image: a 100 KB PNG may hold 40 megapixels that take seconds to
decode, and a few of them would hold every web worker. The request reads the image header
only and refuses a photo over the pixel limit, or a request over its total pixel budget
(settings WHISTLE_MAX_IMAGE_PIXELS, WHISTLE_MAX_REQUEST_PIXELS). Small photos, up to
WHISTLE_INLINE_PHOTO_PIXELS in all (tens of milliseconds), are re-encoded in the request and
shown at once. Any other is stored as it came, PROCESSING, and after commit a Celery worker
decodes it, re-encodes it without metadata and makes its thumbnail (process_attachment).
Until then the photo is never served.

Files are written only by a service that has validated the whole request; if it still fails
part-way, undo_stored_files_on_failure() deletes what it wrote, and remove_orphan_files() on the
beat clears what a killed process left behind.
"""

import dataclasses
import hashlib
import io
import logging
import time
import unicodedata
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from cases.models import Attachment, Case, Dispatch, Event

logger = logging.getLogger(__name__)

JPEG_QUALITY = 85
WEBP_QUALITY = 85
THUMBNAIL_SIDE = 320
THUMBNAIL_QUALITY = 75
# A file younger than this is never swept: its request may still be writing its row.
ORPHAN_AGE = timedelta(hours=1)
# A photo still PROCESSING this long after upload is queued again by the beat.
WAITING_AGE = timedelta(minutes=2)
STORAGE_ROOT = "cases"

ALLOWED = "JPEG, PNG, WebP, PDF"
UNSUPPORTED = _("Unsupported file type, allowed: %(allowed)s.")
UNSUPPORTED_HEIC = _(
    "HEIC/HEIF photos are not supported (unsupported type, allowed: %(allowed)s). "
    "Please send the photo as JPEG, for example by setting the phone camera to "
    "“Most Compatible”."
)
EMPTY = _("The file is empty.")
TOO_LARGE = _("The file is too large (%(size)s); at most %(limit)s is allowed.")
TOO_MANY_PIXELS = _("The image has too many pixels; at most %(limit)s megapixels are allowed.")
TOO_MANY_PIXELS_IN_ALL = _(
    "The photos together have too many pixels (%(total)s megapixels); at most %(limit)s "
    "megapixels can be sent at once. Send fewer photos, or smaller ones."
)
CORRUPT_IMAGE = _("The image is damaged or incomplete and cannot be read.")
TOO_MANY_FILES = _("Too many files (%(count)d); at most %(max)d are allowed.")
FILE_ERROR = _("“%(name)s”: %(reason)s")


@dataclass(frozen=True)
class FileType:
    kind: str
    content_type: str
    extension: str
    pillow_format: str | None


JPEG = FileType(Attachment.Kind.PHOTO, "image/jpeg", "jpg", "JPEG")
PNG = FileType(Attachment.Kind.PHOTO, "image/png", "png", "PNG")
WEBP = FileType(Attachment.Kind.PHOTO, "image/webp", "webp", "WEBP")
PDF = FileType(Attachment.Kind.DOCUMENT, "application/pdf", "pdf", None)

# ISO base media (HEIC/HEIF/AVIF) brands that phones write for photos.
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"}


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks, with the bytes to store: a document as it came, a photo
    as it came (re-encoded later by a worker, see process_attachment) or, when the request
    re-encoded it already, clean and with its thumbnail."""

    kind: str
    content_type: str
    extension: str
    content: bytes
    width: int | None
    height: int | None
    sha256: str
    original_name: str
    thumbnail: bytes | None = None

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)

    @property
    def needs_processing(self) -> bool:
        return self.kind == Attachment.Kind.PHOTO and self.thumbnail is None


@dataclass(frozen=True)
class CleanPhoto:
    """A photo decoded in full and written again: upright, bounded, without metadata."""

    content: bytes
    width: int
    height: int
    thumbnail: bytes


def max_photo_bytes() -> int:
    return int(settings.WHISTLE_MAX_PHOTO_BYTES)


def max_document_bytes() -> int:
    return int(settings.WHISTLE_MAX_DOCUMENT_BYTES)


def max_image_pixels() -> int:
    return int(settings.WHISTLE_MAX_IMAGE_PIXELS)


def max_request_pixels() -> int:
    return int(settings.WHISTLE_MAX_REQUEST_PIXELS)


def inline_photo_pixels() -> int:
    return int(settings.WHISTLE_INLINE_PHOTO_PIXELS)


def max_image_side() -> int:
    return int(settings.WHISTLE_MAX_IMAGE_SIDE)


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:g}"


def _too_large(size: int, limit: int) -> ValidationError:
    return ValidationError(
        TOO_LARGE,
        code="too_large",
        params={"size": filesizeformat(size), "limit": filesizeformat(limit)},
    )


def _too_many_pixels(limit: int) -> ValidationError:
    return ValidationError(
        TOO_MANY_PIXELS, code="too_many_pixels", params={"limit": _megapixels(limit)}
    )


def _sniff(head: bytes) -> FileType:
    """The type of a file from its first bytes; anything else is refused."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        raise ValidationError(UNSUPPORTED_HEIC, code="heic", params={"allowed": ALLOWED})
    raise ValidationError(UNSUPPORTED, code="unsupported_type", params={"allowed": ALLOWED})


def _file_type(content_type: str) -> FileType:
    return {t.content_type: t for t in (JPEG, PNG, WEBP, PDF)}[content_type]


def _clean_name(name: str | None) -> str:
    """The user's file name, kept for display only: last path part, no control characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    return name.strip()[:255]


def _target_mode(image: Image.Image, file_type: FileType) -> str:
    """The mode to encode in: what the format stores well, keeping transparency where it can."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or image.has_transparency_data
    if file_type is JPEG:
        return image.mode if image.mode in ("L", "RGB") else "RGB"
    if file_type is PNG:
        if image.mode in ("1", "L", "LA", "RGB", "RGBA"):
            return image.mode
        return "RGBA" if has_alpha else "RGB"
    return "RGBA" if has_alpha else "RGB"


def _read_header(content: bytes, file_type: FileType) -> tuple[int, int]:
    """The image's size from its header, refused over the pixel limit, without decoding it.

    Pillow's open() parses the header only; verify() walks the chunks of a PNG and checks
    their checksums without inflating them (it does nothing for JPEG and WebP), so a broken
    PNG is still refused here. Time: milliseconds, whatever the dimensions."""
    limit = max_image_pixels()
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice its limit: that is a bomb too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[file_type.pillow_format]) as probe:
                width, height = probe.size
                if width * height > limit:
                    raise _too_many_pixels(limit)
                probe.verify()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels(limit) from error
    except Exception as error:  # Pillow raises many kinds of errors on hostile input.
        raise ValidationError(CORRUPT_IMAGE, code="corrupt_image") from error
    return width, height


def clean_photo(*, content: bytes, content_type: str) -> CleanPhoto:
    """Decode the photo in full and write it again, upright, bounded, without metadata, with
    its thumbnail. Slow (seconds for the largest photos): Celery workers only, never a request.
    Raises ValidationError for an image that cannot be decoded."""
    file_type = _file_type(content_type)
    _read_header(content, file_type)  # the limits again: the bytes may predate a lower limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[file_type.pillow_format]) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
                if upright.mode.startswith("I") or upright.mode == "F":
                    # 16-bit or float greyscale: scale to 8 bits rather than clip to white.
                    upright = upright.convert("I").point(lambda v: v / 256).convert("L")
                mode = _target_mode(upright, file_type)
                if upright.mode != mode:
                    upright = upright.convert(mode)
                side = max_image_side()
                if max(upright.size) > side:
                    upright.thumbnail((side, side), Image.Resampling.LANCZOS)
                # A fresh image carries no info dict: no EXIF, GPS, ICC profile, XMP or comment.
                clean = Image.new(upright.mode, upright.size)
                clean.paste(upright)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels(max_image_pixels()) from error
    except Exception as error:  # Pillow raises many kinds of errors on hostile input.
        raise ValidationError(CORRUPT_IMAGE, code="corrupt_image") from error

    output = io.BytesIO()
    options: dict[str, Any] = {}
    if file_type is JPEG:
        options = {"quality": JPEG_QUALITY, "optimize": True}
    elif file_type is WEBP:
        options = {"quality": WEBP_QUALITY}
    clean.save(output, format=file_type.pillow_format, **options)

    small = clean.convert("RGBA" if "A" in clean.mode else "RGB")
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    if small.mode == "RGBA":  # JPEG has no transparency: lay it on white.
        backdrop = Image.new("RGB", small.size, (255, 255, 255))
        backdrop.paste(small, mask=small.getchannel("A"))
        small = backdrop
    thumbnail = io.BytesIO()
    small.save(thumbnail, format="JPEG", quality=THUMBNAIL_QUALITY)
    return CleanPhoto(
        content=output.getvalue(),
        width=clean.width,
        height=clean.height,
        thumbnail=thumbnail.getvalue(),
    )


def check_upload(*, upload: UploadedFile) -> CheckedFile:
    """Check one uploaded file and return what to store; raise ValidationError if it is bad.

    The size is checked before anything is read, the type comes from the content only, and a
    photo's pixels from its header: nothing is decoded here (see clean_photo).
    """
    size = upload.size
    if size == 0:
        raise ValidationError(EMPTY, code="empty")
    overall_limit = max(max_photo_bytes(), max_document_bytes())
    if size is not None and size > overall_limit:
        raise _too_large(size, overall_limit)

    upload.seek(0)
    head = upload.read(32)
    if not head:
        raise ValidationError(EMPTY, code="empty")
    file_type = _sniff(head)
    limit = max_photo_bytes() if file_type.kind == Attachment.Kind.PHOTO else max_document_bytes()
    if size is not None and size > limit:
        raise _too_large(size, limit)

    upload.seek(0)
    # Read one byte past the limit, so a file whose declared size lies is still bounded.
    content = upload.read(limit + 1)
    upload.seek(0)
    if len(content) > limit:
        raise _too_large(len(content), limit)

    width = height = None
    if file_type.kind == Attachment.Kind.PHOTO:
        width, height = _read_header(content, file_type)

    return CheckedFile(
        kind=file_type.kind,
        content_type=file_type.content_type,
        extension=file_type.extension,
        content=content,
        width=width,
        height=height,
        sha256=hashlib.sha256(content).hexdigest(),
        original_name=_clean_name(upload.name),
    )


def _file_error(upload: UploadedFile, error: ValidationError) -> ValidationError:
    return ValidationError(
        FILE_ERROR,
        code=error.error_list[0].code,
        params={"name": _clean_name(upload.name), "reason": " ".join(error.messages)},
    )


def _clean_small_photos(uploads: list, checked: list[CheckedFile]) -> list[CheckedFile]:
    """Re-encode the photos that fit in the request's inline budget now, smallest first; the
    others are left for a worker. A small photo that cannot be decoded is refused here."""
    remaining = inline_photo_pixels()
    cleaned = list(checked)
    errors: list[ValidationError] = []
    for index in sorted(range(len(checked)), key=lambda i: checked[i].pixels):
        item = checked[index]
        if item.kind != Attachment.Kind.PHOTO or item.pixels > remaining:
            continue
        remaining -= item.pixels
        try:
            photo = clean_photo(content=item.content, content_type=item.content_type)
        except ValidationError as error:
            errors.append(_file_error(uploads[index], error))
            continue
        cleaned[index] = dataclasses.replace(
            item,
            content=photo.content,
            width=photo.width,
            height=photo.height,
            sha256=hashlib.sha256(photo.content).hexdigest(),
            thumbnail=photo.thumbnail,
        )
    if errors:
        raise ValidationError(errors)
    return cleaned


def check_uploads(*, uploads: list, max_count: int = 10) -> list[CheckedFile]:
    """Check several files at once; one ValidationError lists every bad file with its reason,
    or says that the photos together are over the request's pixel budget. Photos within the
    inline budget come back re-encoded (see _clean_small_photos)."""
    if len(uploads) > max_count:
        raise ValidationError(
            TOO_MANY_FILES, code="too_many_files", params={"count": len(uploads), "max": max_count}
        )
    checked: list[CheckedFile] = []
    errors: list[ValidationError] = []
    for upload in uploads:
        try:
            checked.append(check_upload(upload=upload))
        except ValidationError as error:
            errors.append(_file_error(upload, error))
    if errors:
        raise ValidationError(errors)
    total, budget = sum(c.pixels for c in checked), max_request_pixels()
    if total > budget:
        raise ValidationError(
            TOO_MANY_PIXELS_IN_ALL,
            code="too_many_pixels_in_all",
            params={"total": _megapixels(total), "limit": _megapixels(budget)},
        )
    return _clean_small_photos(uploads, checked)


# --- files written by this request, deleted if it fails -----------------------------------

_written: ContextVar[list[str] | None] = ContextVar("cases_uploads_written", default=None)


@contextmanager
def undo_stored_files_on_failure() -> Iterator[None]:
    """Delete every file stored inside the block if the block raises (its transaction rolls
    back, so no row will name them): a multi-file request failing on its Nth file, or a worker
    stopped by gunicorn's timeout (SystemExit), leaves no file behind. Nested blocks hand their
    files to the outer one, whose transaction decides."""
    outer = _written.get()
    written: list[str] = []
    token = _written.set(written)
    try:
        yield
    except BaseException:
        for name in written:
            try:
                default_storage.delete(name)
            except OSError:
                logger.warning("Could not delete %s after a failed upload", name, exc_info=True)
        raise
    finally:
        _written.reset(token)
    if outer is not None:
        outer.extend(written)


def save_file(*, name: str, content: bytes) -> str:
    """Store bytes under `name` (or a free name like it); the name is remembered so that a
    failing undo_stored_files_on_failure() block deletes it again."""
    stored = default_storage.save(name, ContentFile(content))
    written = _written.get()
    if written is not None:
        written.append(stored)
    return stored


def _dated_name(folder: str, extension: str) -> str:
    """A random name under cases/<folder><year>/<month>/: the user's name never reaches it."""
    return timezone.now().strftime(f"{STORAGE_ROOT}/{folder}%Y/%m/") + (
        f"{uuid.uuid4().hex}.{extension}"
    )


def store_checked_attachment(
    *,
    case: Case,
    checked: CheckedFile,
    purpose: str,
    uploaded_by: Any,
    event: Event | None = None,
    dispatch: Dispatch | None = None,
) -> Attachment:
    """Store a file that check_upload passed, under a random name, and record its row. A photo
    not yet re-encoded is stored as it came and PROCESSING: a worker re-encodes it after
    commit.

    If the row cannot be written the file is deleted again; if the caller's block fails later,
    undo_stored_files_on_failure() deletes it (and remove_orphan_files() on the beat whatever a
    killed process left).
    """
    if purpose not in Attachment.Purpose.values:
        raise ValueError(f"Unknown attachment purpose: {purpose!r}")
    if event is not None and event.case_id != case.pk:
        raise ValueError("The event belongs to another case.")
    if dispatch is not None and dispatch.case_id != case.pk:
        raise ValueError("The dispatch belongs to another case.")

    attachment = Attachment(
        case=case,
        event=event,
        dispatch=dispatch,
        kind=checked.kind,
        purpose=purpose,
        original_name=checked.original_name,
        content_type=checked.content_type,
        size=len(checked.content),
        width=checked.width,
        height=checked.height,
        sha256=checked.sha256,
        state=Attachment.State.PROCESSING if checked.needs_processing else Attachment.State.READY,
        uploaded_by=uploaded_by,
    )
    attachment.file.name = save_file(
        name=_dated_name("", checked.extension), content=checked.content
    )
    if checked.thumbnail is not None:
        attachment.thumbnail.name = save_file(
            name=_dated_name("thumbnails/", "jpg"), content=checked.thumbnail
        )
    try:
        attachment.save()
    except BaseException:
        default_storage.delete(attachment.file.name)
        if attachment.thumbnail:
            default_storage.delete(attachment.thumbnail.name)
        raise
    if checked.needs_processing:
        transaction.on_commit(lambda: _queue_processing([attachment.pk]), robust=True)
    return attachment


def store_attachment(
    *,
    case: Case,
    upload: UploadedFile,
    purpose: str,
    uploaded_by: Any,
    event: Event | None = None,
    dispatch: Dispatch | None = None,
) -> Attachment:
    """Check an uploaded file and store it as an attachment of the case.

    Call it inside the case service's transaction; see store_checked_attachment for what a
    failure leaves behind.
    """
    checked = check_upload(upload=upload)
    return store_checked_attachment(
        case=case,
        checked=checked,
        purpose=purpose,
        uploaded_by=uploaded_by,
        event=event,
        dispatch=dispatch,
    )


def open_attachment(*, attachment: Attachment, thumbnail: bool = False) -> tuple[Any, str]:
    """The stored file to serve and its content type: the thumbnail when asked and there is
    one. A photo not yet re-encoded (it still carries its metadata) or unreadable is not
    served: FileNotFoundError, as for a file gone from storage."""
    if attachment.state != Attachment.State.READY or not attachment.file:
        raise FileNotFoundError(attachment.pk)
    if thumbnail and attachment.thumbnail:
        return attachment.thumbnail.open("rb"), "image/jpeg"
    return attachment.file.open("rb"), attachment.content_type


# --- the worker's side: re-encoding and thumbnails ----------------------------------------


def _queue_processing(attachment_ids: list[int]) -> None:
    """Queue the re-encoding; a broker that is down only costs a warning (the beat retries)."""
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    from cases.tasks import process_photos

    try:
        process_photos.delay(attachment_ids)
    except (OperationalError, RedisError, OSError) as error:
        logger.warning(
            "Could not queue photos %s for processing; the beat will retry: %s",
            attachment_ids,
            error,
        )


def process_attachment(*, attachment_id: int) -> str:
    """Re-encode a PROCESSING photo without metadata and make its thumbnail; returns the state
    it ends in. Decoding happens outside any transaction; the row is then locked and updated
    only if it is still the same PROCESSING photo, so a task run twice (after-commit and the
    beat) does the work once. An unreadable photo is FAILED and its bytes deleted."""
    row = Attachment.objects.filter(pk=attachment_id).values("state", "file").first()
    if row is None or row["state"] != Attachment.State.PROCESSING:
        return row["state"] if row else "missing"
    original = row["file"]
    attachment = Attachment.objects.get(pk=attachment_id)
    try:
        with default_storage.open(original, "rb") as handle:
            content = handle.read(max_photo_bytes() + 1)
        photo = clean_photo(content=content, content_type=attachment.content_type)
    except (ValidationError, FileNotFoundError) as error:
        logger.warning("Photo %s cannot be processed: %s", attachment_id, error)
        photo = None

    with undo_stored_files_on_failure(), transaction.atomic():
        if photo is not None:
            extension = _file_type(attachment.content_type).extension
            new_file = save_file(name=_dated_name("", extension), content=photo.content)
            new_thumbnail = save_file(
                name=_dated_name("thumbnails/", "jpg"), content=photo.thumbnail
            )
        locked = Attachment.objects.select_for_update().filter(pk=attachment_id).first()
        if locked is None or locked.state != Attachment.State.PROCESSING:
            raise _Superseded()
        if photo is None:
            locked.state = Attachment.State.FAILED
            locked.file.name = ""
        else:
            locked.state = Attachment.State.READY
            locked.file.name = new_file
            locked.thumbnail.name = new_thumbnail
            locked.size = len(photo.content)
            locked.width, locked.height = photo.width, photo.height
            locked.sha256 = hashlib.sha256(photo.content).hexdigest()
        locked.save(
            update_fields=["state", "file", "thumbnail", "size", "width", "height", "sha256"]
        )
    # The original carries the metadata: gone once the row names the clean file.
    transaction.on_commit(lambda: default_storage.delete(original))
    return locked.state


class _Superseded(Exception):
    """Another run processed the photo first: this run's files are deleted, nothing changes."""


def process_photos(*, attachment_ids: list[int]) -> int:
    """Process the photos of one request; returns how many are READY now."""
    ready = 0
    for attachment_id in attachment_ids:
        try:
            state = process_attachment(attachment_id=attachment_id)
        except _Superseded:
            state = Attachment.State.READY
        ready += state == Attachment.State.READY
    return ready


def process_waiting_photos(
    *, older_than: timedelta = WAITING_AGE, limit: int = 50, seconds: float = 45.0
) -> int:
    """The beat's catch-up: process photos left PROCESSING (their task was never queued, or
    was lost); returns how many are READY now. It stops after `seconds`, before the beat sends
    the next one (every 60 s), so that two catch-ups seldom decode the same photo."""
    cutoff = timezone.now() - older_than
    ids = list(
        Attachment.objects.filter(state=Attachment.State.PROCESSING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    deadline = time.monotonic() + seconds
    ready = 0
    for attachment_id in ids:
        if time.monotonic() > deadline:
            break
        ready += process_photos(attachment_ids=[attachment_id])
    return ready


# --- the sweep ----------------------------------------------------------------------------


def _stored_files(directory: str) -> list[str]:
    """Every file name under a directory of the default storage, recursively."""
    if not default_storage.exists(directory):
        return []
    folders, files = default_storage.listdir(directory)
    names = [f"{directory}/{name}" for name in files]
    for folder in folders:
        names.extend(_stored_files(f"{directory}/{folder}"))
    return names


def remove_orphan_files(*, older_than: timedelta = ORPHAN_AGE) -> int:
    """Delete stored case files (and thumbnails) that no attachment row refers to; return how
    many. The beat runs it hourly (CELERY_BEAT_SCHEDULE "remove-orphan-files").

    Only files older than `older_than` are touched, so a file whose row is still being
    written in an open transaction is left alone.
    """
    cutoff = timezone.now() - older_than
    names = _stored_files(STORAGE_ROOT)
    removed = 0
    batch_size = 500
    for start in range(0, len(names), batch_size):
        batch = names[start : start + batch_size]
        rows = Attachment.objects.filter(Q(file__in=batch) | Q(thumbnail__in=batch))
        known = {name for pair in rows.values_list("file", "thumbnail") for name in pair}
        for name in batch:
            if name in known or default_storage.get_modified_time(name) > cutoff:
                continue
            default_storage.delete(name)
            removed += 1
            logger.info("Removed orphan attachment file %s", name)
    return removed
