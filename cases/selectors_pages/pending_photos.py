"""Photos kept from a whistle form that failed validation (see cases.services.pending_photos):
who they belong to, as uploads for the next submit, and as thumbnails for the form."""

import base64
import io
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from PIL import Image

from teams.models import User

PENDING_ROOT = "pending-photos"
PENDING_SALT = "cases.pending-photos"
# A grid worker fixes the form within minutes; a day covers a lost connection overnight.
PENDING_MAX_AGE = timedelta(hours=24)
PENDING_MAX_COUNT = 10
THUMBNAIL_SIDE = 160
# A kept photo is decoded for its thumbnail only if that is cheap: a JPEG at 1/8 scale
# (Pillow's draft mode), anything else up to this many pixels; the others show a placeholder.
THUMBNAIL_MAX_FULL_DECODE_PIXELS = 2_000_000
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@dataclass(frozen=True)
class PendingPhoto:
    path: str
    content_type: str


def pending_folder(*, user: User, token: str) -> str | None:
    """The folder a signed token names, if it is the user's own and not too old."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=PENDING_SALT, max_age=PENDING_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user.pk or not data.get("f"):
        return None
    folder = str(data["f"])
    return folder if folder.isalnum() else None


def pending_photos(*, user: User, token: str) -> list[PendingPhoto]:
    folder = pending_folder(user=user, token=token)
    if folder is None:
        return []
    try:
        _dirs, names = default_storage.listdir(f"{PENDING_ROOT}/{folder}")
    except FileNotFoundError:
        return []
    photos = []
    for name in sorted(names)[:PENDING_MAX_COUNT]:
        extension = name.rsplit(".", 1)[-1]
        if extension in CONTENT_TYPES:
            photos.append(PendingPhoto(f"{PENDING_ROOT}/{folder}/{name}", CONTENT_TYPES[extension]))
    return photos


def pending_uploads(*, user: User, token: str) -> list[UploadedFile]:
    """The kept photos as uploads, checked again by the filing service like any other."""
    uploads = []
    for photo in pending_photos(user=user, token=token):
        with default_storage.open(photo.path, "rb") as handle:
            content = handle.read()
        name = photo.path.rsplit("/", 1)[-1]
        uploads.append(SimpleUploadedFile(name, content, content_type=photo.content_type))
    return uploads


def pending_thumbnails(*, user: User, token: str) -> list[str]:
    """Small inline images (data: addresses) of the kept photos, for the re-shown form; "" for
    a photo too costly to decode in a request (the form shows a placeholder)."""
    thumbnails = []
    for photo in pending_photos(user=user, token=token):
        with default_storage.open(photo.path, "rb") as handle, Image.open(handle) as image:
            image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))  # JPEG: decode at 1/8 scale
            if image.width * image.height > THUMBNAIL_MAX_FULL_DECODE_PIXELS:
                thumbnails.append("")
                continue
            image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            output = io.BytesIO()
            image.convert("RGB").save(output, format="JPEG", quality=70)
        thumbnails.append(
            "data:image/jpeg;base64," + base64.b64encode(output.getvalue()).decode("ascii")
        )
    return thumbnails
