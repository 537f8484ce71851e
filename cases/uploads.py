"""Photos and documents of cases: checked from their content, re-encoded, stored under random names.

A phone photo carries the place it was taken (GPS), the device and sometimes the reporter's
name in its metadata; a renamed file may be anything at all. So the type is decided from the
bytes (never the name or the declared type), images are decoded in full and re-encoded without
any metadata, and documents are PDF only. Nothing is stored until a file has passed.
"""

import hashlib
import io
import logging
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from cases.models import Attachment, Case, Dispatch, Event

logger = logging.getLogger(__name__)

JPEG_QUALITY = 85
WEBP_QUALITY = 85
ORPHAN_AGE = timedelta(hours=1)
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
    """A file that passed the checks, with the exact bytes to store (re-encoded for images)."""

    kind: str
    content_type: str
    extension: str
    content: bytes
    width: int | None
    height: int | None
    sha256: str
    original_name: str


def max_photo_bytes() -> int:
    return int(settings.WHISTLE_MAX_PHOTO_BYTES)


def max_document_bytes() -> int:
    return int(settings.WHISTLE_MAX_DOCUMENT_BYTES)


def max_image_pixels() -> int:
    return int(settings.WHISTLE_MAX_IMAGE_PIXELS)


def max_image_side() -> int:
    return int(settings.WHISTLE_MAX_IMAGE_SIDE)


def _too_large(size: int, limit: int) -> ValidationError:
    return ValidationError(
        TOO_LARGE,
        code="too_large",
        params={"size": filesizeformat(size), "limit": filesizeformat(limit)},
    )


def _too_many_pixels(limit: int) -> ValidationError:
    return ValidationError(
        TOO_MANY_PIXELS, code="too_many_pixels", params={"limit": f"{limit / 1_000_000:g}"}
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


def _reencode(content: bytes, file_type: FileType) -> tuple[bytes, int, int]:
    """Decode the image in full and write it again, upright, bounded, without metadata."""
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
            # verify() leaves the image unusable: open it again and decode every pixel.
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
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels(limit) from error
    except Exception as error:  # Pillow raises many kinds of errors on hostile input.
        raise ValidationError(CORRUPT_IMAGE, code="corrupt_image") from error

    output = io.BytesIO()
    options: dict[str, Any] = {}
    if file_type is JPEG:
        options = {"quality": JPEG_QUALITY, "optimize": True}
    elif file_type is WEBP:
        options = {"quality": WEBP_QUALITY}
    clean.save(output, format=file_type.pillow_format, **options)
    return output.getvalue(), clean.width, clean.height


def check_upload(*, upload: UploadedFile) -> CheckedFile:
    """Check one uploaded file and return what to store; raise ValidationError if it is bad.

    The size is checked before anything is read, and the type comes from the content only.
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
        content, width, height = _reencode(content, file_type)

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


def check_uploads(*, uploads: list, max_count: int = 10) -> list[CheckedFile]:
    """Check several files at once; one ValidationError lists every bad file with its reason."""
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
            errors.append(
                ValidationError(
                    FILE_ERROR,
                    code=error.error_list[0].code,
                    params={"name": _clean_name(upload.name), "reason": " ".join(error.messages)},
                )
            )
    if errors:
        raise ValidationError(errors)
    return checked


def store_checked_attachment(
    *,
    case: Case,
    checked: CheckedFile,
    purpose: str,
    uploaded_by: Any,
    event: Event | None = None,
    dispatch: Dispatch | None = None,
) -> Attachment:
    """Store a file that check_upload passed, under a random name, and record its row.

    If the row cannot be written the file is deleted again. When an outer transaction rolls
    back after this returns, the file stays behind: remove_orphan_files() clears those.
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
        uploaded_by=uploaded_by,
    )
    # upload_to adds cases/<year>/<month>/; the user's file name never reaches the path.
    attachment.file.save(
        f"{uuid.uuid4().hex}.{checked.extension}", ContentFile(checked.content), save=False
    )
    try:
        attachment.save()
    except BaseException:
        attachment.file.storage.delete(attachment.file.name)
        raise
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

    Call it inside the case service's transaction; see store_checked_attachment for what an
    outer rollback leaves behind.
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
    """Delete stored case files that no attachment row refers to; return how many.

    Only files older than `older_than` are touched, so a file whose row is still being
    written in an open transaction is left alone.
    """
    cutoff = timezone.now() - older_than
    names = _stored_files(STORAGE_ROOT)
    removed = 0
    batch_size = 500
    for start in range(0, len(names), batch_size):
        batch = names[start : start + batch_size]
        known = set(Attachment.objects.filter(file__in=batch).values_list("file", flat=True))
        for name in batch:
            if name in known or default_storage.get_modified_time(name) > cutoff:
                continue
            default_storage.delete(name)
            removed += 1
            logger.info("Removed orphan attachment file %s", name)
    return removed
