"""Pieces every case service uses: the locked, permission-checked fetch, evidence, side effects."""

from collections.abc import Callable, Iterable, Sequence

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from cases import notifications
from cases.access import access_case
from cases.errors import InvalidInput, NotInScope
from cases.models import Attachment, Case, Dispatch, Event
from cases.transitions import check_version
from cases.uploads import check_uploads, store_checked_attachment
from teams.models import User

TIMER = "timer"


def lock_case(*, user: User | None, case_id: int, expected_version: int | None = None) -> Case:
    """The case, locked for this transaction, if the user may see it (404 otherwise).

    `user=None` is the timer acting for the system; it sees every case."""
    if user is None:
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None:
            raise NotInScope()
    else:
        case = access_case(user=user, pk=case_id, for_update=True)
    check_version(case, expected_version)
    return case


def lock_dispatch(
    *, user: User | None, dispatch_id: int, expected_version: int | None = None
) -> tuple[Case, Dispatch]:
    """A dispatch and its case, the case locked first (the order every writer uses)."""
    case_id = Dispatch.objects.filter(pk=dispatch_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NotInScope()
    case = lock_case(user=user, case_id=case_id, expected_version=expected_version)
    # of=self: team and department are outer joins, which PostgreSQL cannot lock.
    dispatch = (
        Dispatch.objects.select_for_update(of=("self",))
        .select_related("team", "department")
        .get(pk=dispatch_id)
    )
    return case, dispatch


def check_photos(photos: Sequence[UploadedFile] | None) -> list[UploadedFile]:
    """Validate uploads before anything is written; InvalidInput lists what is wrong."""
    photos = list(photos or [])
    if photos:
        try:
            check_uploads(uploads=photos)
        except ValidationError as error:
            raise InvalidInput(fields={"photos": error.messages}) from error
    return photos


def store_photos(
    *,
    case: Case,
    photos: Iterable[UploadedFile],
    purpose: str,
    user: User | None,
    event: Event | None = None,
    dispatch: Dispatch | None = None,
) -> list[Attachment]:
    """Store the photos (and documents) of an action, checked together again: the pixel
    budget is the request's, and small photos are re-encoded here (cases.uploads)."""
    photos = list(photos)
    for photo in photos:
        photo.seek(0)
    try:
        checked = check_uploads(uploads=photos)
    except ValidationError as error:
        raise InvalidInput(fields={"photos": error.messages}) from error
    return [
        store_checked_attachment(
            case=case,
            checked=item,
            purpose=purpose,
            uploaded_by=user,
            event=event,
            dispatch=dispatch,
        )
        for item in checked
    ]


def require_text(value: str | None, *, field: str, message: str, max_length: int = 4000) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(fields={field: [message]})
    if len(value) > max_length:
        raise InvalidInput(
            fields={field: [_("Use at most %(count)d characters.") % {"count": max_length}]}
        )
    return value


def require_evidence(
    *,
    note: str,
    photos: Sequence[UploadedFile],
    legal_instrument_number: str = "",
    instrument_allowed: bool = True,
) -> None:
    """Resolution needs photos and a note, or the number of a legal instrument where the form
    has that field (a team's resolve has it; the village's on-the-spot solution does not)."""
    if legal_instrument_number.strip():
        return
    errors = {}
    if not note.strip():
        errors["note"] = [_("Describe what was done.")]
    if not photos:
        errors["photos"] = [
            _("Add at least one photo, or enter the number of the legal instrument.")
            if instrument_allowed
            else _("Add at least one photo of the result.")
        ]
    if errors:
        raise InvalidInput(_("Evidence is required to resolve a case."), fields=errors)


def after_commit(function: Callable, *args: object, **kwargs: object) -> None:
    """Run a side effect once the transaction has committed."""
    transaction.on_commit(lambda: function(*args, **kwargs))


def notify(*, recipients: Iterable[User], kind: str, case: Case, data: dict | None = None) -> None:
    """Store notifications for the people concerned; delivery is sent after commit."""
    payload = {"number": case.number, **(data or {})}
    notifications.notify(recipients=recipients, kind=kind, case=case, data=payload)
