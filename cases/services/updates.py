"""What the citizen following a case is told: public updates in the handlers' own words, and
which of the case's photos and documents the public may see. Everything else in the trace
(notes, reasons, handling photos, the whistle's own photos) stays internal."""

from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from cases.errors import IllegalTransition, InvalidInput, NotInScope
from cases.models import Attachment, Case
from cases.perform import Context, perform
from cases.services.common import require_text
from teams.models import User

# A short message: the citizen reads it on a phone, and Open311 carries it as status_notes.
MAX_UPDATE_LENGTH = 1000


def post_update(
    *,
    user: User,
    case_id: int,
    message: str,
    photos: Sequence[UploadedFile] | None = None,
    expected_version: int | None = None,
) -> Case:
    """Tell the citizen what is happening, in words written for them (the trace's notes are
    written for colleagues and never reach the citizen)."""
    return perform(
        action="post_update",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"message": message, "photos": photos},
    )


def run_post_update(ctx: Context) -> Case:
    """The message is required; the photos posted with it are public from the start."""
    message = require_text(
        ctx.data.get("message"),
        field="message",
        message=_("Write the message for the public."),
        max_length=MAX_UPDATE_LENGTH,
    )
    ctx.write("public_update", data={"message": message}, photos=Attachment.Purpose.UPDATE)
    if ctx.attachments:
        Attachment.objects.filter(pk__in=[a.pk for a in ctx.attachments]).update(public=True)
        for attachment in ctx.attachments:
            attachment.public = True
    return ctx.case


def publish_photo(
    *,
    user: User,
    case_id: int,
    attachment_id: int,
    public: bool,
    expected_version: int | None = None,
) -> Attachment:
    """Show a photo or document of the case to the public, or take it back."""
    return perform(
        action="publish_photo",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"attachment": attachment_id, "public": public},
    )


def run_publish_photo(ctx: Context) -> Attachment:
    """An attachment of another case does not exist here (404); asking for the visibility it
    already has is refused (409), so that every change leaves exactly one event."""
    public = ctx.data.get("public")
    if not isinstance(public, bool):
        raise InvalidInput(fields={"public": [_("Choose public or internal.")]})
    attachment_id = ctx.data.get("attachment")
    attachment = (
        Attachment.objects.select_for_update().filter(pk=attachment_id, case=ctx.case).first()
        if isinstance(attachment_id, int) and not isinstance(attachment_id, bool)
        else None
    )
    if attachment is None:
        raise NotInScope(_("This case has no such photo or document."))
    if attachment.public == public:
        raise IllegalTransition(
            _("The photo is already public.") if public else _("The photo is already internal.")
        )
    attachment.public = public
    attachment.save(update_fields=["public"])
    ctx.write("photo_visibility", data={"attachment": attachment.pk, "public": public})
    return attachment


def publish_case(
    *, user: User, case_id: int, public: bool, expected_version: int | None = None
) -> Case:
    """Let the public read the whistle's own text, address and photos, or take it back."""
    return perform(
        action="publish_case",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"public": public},
    )


def run_publish_case(ctx: Context) -> Case:
    """Asking for the visibility the case already has is refused (409): every change leaves
    exactly one event."""
    public = ctx.data.get("public")
    if not isinstance(public, bool):
        raise InvalidInput(fields={"public": [_("Choose public or internal.")]})
    if ctx.case.public == public:
        raise IllegalTransition(
            _("The case is already public.") if public else _("The case is already internal.")
        )
    ctx.case.public = public
    ctx.case.save(update_fields=["public"])
    ctx.write("case_visibility", data={"public": public})
    return ctx.case
