"""Photos of a whistle form that failed validation are kept on the server, so that a grid
worker on a weak connection neither takes nor uploads them again: the re-shown form carries a
signed token naming them (the user's own, for a day), and the next submit files them."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from cases.models import Attachment
from cases.selectors_pages.pending_photos import (
    PENDING_MAX_AGE,
    PENDING_MAX_COUNT,
    PENDING_ROOT,
    PENDING_SALT,
    pending_folder,
    pending_photos,
)
from cases.uploads import check_upload, save_file, undo_stored_files_on_failure
from teams.models import User


def keep_pending_photos(*, user: User, uploads: Sequence[UploadedFile], token: str = "") -> str:
    """Store the good photos of a failed submit beside those already kept under `token`;
    returns the token naming them all ("" when none is kept). Bad files are not kept: the form
    says why they were refused. Old kept photos of anyone are cleared on the way."""
    clear_stale_pending_photos(now=timezone.now())
    folder = pending_folder(user=user, token=token) or uuid.uuid4().hex
    count = len(pending_photos(user=user, token=token))
    # Checked from their headers only (cases.uploads); a failure part-way keeps none of them.
    with undo_stored_files_on_failure():
        for upload in uploads:
            if count >= PENDING_MAX_COUNT:
                break
            try:
                checked = check_upload(upload=upload)
            except ValidationError:
                continue
            if checked.kind != Attachment.Kind.PHOTO:
                continue
            count += 1
            name = f"{PENDING_ROOT}/{folder}/{count:02d}.{checked.extension}"
            save_file(name=name, content=checked.content)
    if not count:
        return ""
    return signing.dumps({"u": user.pk, "f": folder}, salt=PENDING_SALT)


def discard_pending_photos(*, user: User, token: str) -> None:
    """Once the whistle is filed with them, the kept photos are no longer needed."""
    for photo in pending_photos(user=user, token=token):
        default_storage.delete(photo.path)


def clear_stale_pending_photos(*, now: datetime) -> int:
    """Delete kept photos older than their token's life; returns how many were deleted."""
    try:
        folders, _files = default_storage.listdir(PENDING_ROOT)
    except FileNotFoundError:
        return 0
    deleted = 0
    for folder in folders:
        _dirs, names = default_storage.listdir(f"{PENDING_ROOT}/{folder}")
        for name in names:
            path = f"{PENDING_ROOT}/{folder}/{name}"
            if now - default_storage.get_modified_time(path) > PENDING_MAX_AGE:
                default_storage.delete(path)
                deleted += 1
    return deleted
