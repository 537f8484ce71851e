"""What the public may see of a case: its open/closed state, its status in words, the public
steps by action label and date, the text of the public updates, and the attachments marked
public. Never who acted, never a note or reason of the trace, never contact data; the handling
photos only once someone on the case made them public, and the whistle's own text, address,
exact place and photos only once the case itself is public as well (`Case.public`, set by the
publish_case action): a whistle's words name neighbours and phone numbers."""

from dataclasses import dataclass, field
from datetime import datetime

from django.core import signing
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cases.models import Attachment, Case, Event, Status
from cases.workflow import tracking_label
from cases.workflow.updates import PUBLIC_UPDATE

# Public attachments are served by a signed id: nobody can walk the ids, and the flag is read
# again on every request, so an attachment made internal again is gone at once.
PHOTO_SALT = "cases.public-attachment"

CLOSED_STATUSES = frozenset({Status.CLOSED, Status.REJECTED})


def open311_status(status: str) -> str:
    """GeoReport v2 knows two states: closed (closed or rejected) and open (everything else)."""
    return "closed" if status in CLOSED_STATUSES else "open"


def step_label(action: str) -> str:
    """A public step in words, phrased without an actor (declared with the step)."""
    return tracking_label(action) or str(_("Updated"))


@dataclass(frozen=True)
class PublicAttachment:
    url: str
    is_photo: bool
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class PublicStep:
    at: datetime
    label: str
    text: str = ""  # a public update's message; no other step shows any text
    attachments: tuple[PublicAttachment, ...] = ()


@dataclass(frozen=True)
class PublicTrace:
    steps: list[PublicStep]
    attachments: list[PublicAttachment] = field(default_factory=list)  # not under a step


# About 100 m: three decimals of a degree (111 m of latitude; less of longitude).
ROUNDED_DECIMALS = 3


def rounded(value: float | None) -> float | None:
    """A coordinate the public may see of a case that is not public: about 100 m off at most."""
    return None if value is None else round(value, ROUNDED_DECIMALS)


def public_attachments_filter() -> Q:
    """Attachments (filtered on Attachment) the public may see: marked public, and not the
    whistle's own unless its case is public; a photo only once re-encoded (cases.uploads)."""
    return Q(public=True, state=Attachment.State.READY) & (
        ~Q(purpose=Attachment.Purpose.FILING) | Q(case__public=True)
    )


def public_events(*, case: Case) -> QuerySet[Event]:
    return Event.objects.of_case(case).filter(public=True).order_by("created_at", "id")


def public_attachment_token(*, attachment_id: int) -> str:
    return signing.Signer(salt=PHOTO_SALT).sign(str(attachment_id))


def public_attachment_url(*, attachment_id: int) -> str:
    """The public address of an attachment (relative; Open311 makes it absolute)."""
    return reverse("track_attachment", args=[public_attachment_token(attachment_id=attachment_id)])


def attachment_by_token(*, token: str) -> Attachment | None:
    """The public attachment a signed address names; None for a forged or internal one."""
    try:
        pk = int(signing.Signer(salt=PHOTO_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return Attachment.objects.filter(public_attachments_filter(), pk=pk).first()


def _shown(attachment: Attachment) -> PublicAttachment:
    return PublicAttachment(
        url=public_attachment_url(attachment_id=attachment.pk),
        is_photo=attachment.kind == Attachment.Kind.PHOTO,
        width=attachment.width,
        height=attachment.height,
    )


def public_trace(*, case: Case) -> PublicTrace:
    """The public steps of a case with their time, in the reader's language; each public
    update with its message; the public attachments under the step they came with, the others
    (made public later, from an internal step) on their own."""
    attachments = Attachment.objects.filter(public_attachments_filter(), case=case).order_by(
        "created_at", "id"
    )
    by_event: dict[int | None, list[PublicAttachment]] = {}
    for attachment in attachments.only("id", "event_id", "kind", "width", "height"):
        by_event.setdefault(attachment.event_id, []).append(_shown(attachment))
    rows = (
        public_events(case=case)
        .annotate(message=KeyTextTransform("message", "data"))
        .values_list("pk", "action", "created_at", "message")
    )
    steps = [
        PublicStep(
            at=at,
            label=step_label(action),
            text=(message or "") if action == PUBLIC_UPDATE else "",
            attachments=tuple(by_event.pop(pk, [])),
        )
        for pk, action, at, message in rows
    ]
    loose = [shown for group in by_event.values() for shown in group]
    return PublicTrace(steps=steps, attachments=loose)


def status_notes(*, action: str | None, message: str | None) -> str | None:
    """Open311's status_notes: the latest public step in words, or the message of a public
    update (the one text of the trace written for the public)."""
    if not action:
        return None
    if action == PUBLIC_UPDATE and message:
        return message
    return step_label(action)


def status_label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def normalize_code(code: str) -> str:
    """Codes are read out over the phone: ignore case, spaces and dashes."""
    return "".join(ch for ch in (code or "").upper() if ch not in " -\t")[:32]


def case_by_tracking_code(*, code: str) -> Case | None:
    """One indexed lookup whatever the code looks like, so a malformed code answers in the
    same way and time as a well-formed wrong one."""
    return Case.objects.select_related("item").filter(tracking_code=normalize_code(code)).first()
