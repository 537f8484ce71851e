"""What the public may see of a case: its open/closed state, its status in words and the
public steps by action label and date. Never who acted, never notes, never contact data."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Event, Status
from cases.workflow import tracking_label

CLOSED_STATUSES = frozenset({Status.CLOSED, Status.REJECTED})


def open311_status(status: str) -> str:
    """GeoReport v2 knows two states: closed (closed or rejected) and open (everything else)."""
    return "closed" if status in CLOSED_STATUSES else "open"


def step_label(action: str) -> str:
    """A public step in words, phrased without an actor (declared with the step)."""
    return tracking_label(action) or str(_("Updated"))


@dataclass(frozen=True)
class PublicStep:
    at: datetime
    label: str


def public_events(*, case: Case) -> QuerySet[Event]:
    return Event.objects.filter(case=case, public=True).order_by("created_at", "id")


def public_steps(*, case: Case) -> list[PublicStep]:
    """The public steps of a case with their time, in the reader's language."""
    return [
        PublicStep(at=at, label=step_label(action))
        for action, at in public_events(case=case).values_list("action", "created_at")
    ]


def status_label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def normalize_code(code: str) -> str:
    """Codes are read out over the phone: ignore case, spaces and dashes."""
    return "".join(ch for ch in (code or "").upper() if ch not in " -\t")[:32]


def case_by_tracking_code(*, code: str) -> Case | None:
    """One indexed lookup whatever the code looks like, so a malformed code answers in the
    same way and time as a well-formed wrong one."""
    return Case.objects.select_related("item").filter(tracking_code=normalize_code(code)).first()
