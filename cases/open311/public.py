"""What the public may see of a case: its open/closed state, its status in words and the
public steps by action label and date. Never who acted, never notes, never contact data."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Event, Status

CLOSED_STATUSES = frozenset({Status.CLOSED, Status.REJECTED})

# Each public step in words, phrased without an actor.
STEP_LABELS: dict[str, Promise] = {
    "file": _("Whistle received"),
    "accept": _("Accepted by the village"),
    "reject": _("Not accepted"),
    "whistle": _("Whistled up to the town"),
    "report_in": _("A team or department reported in"),
    "resolve": _("Resolved"),
    "resolve_on_spot": _("Resolved on the spot by the village"),
    "request_consultation": _("Taken to a consultation"),
    "decide": _("Decided in consultation"),
    "escalate": _("Escalated to the city"),
    "verify_pass": _("Checked on site: solved"),
    "verify_fail": _("Checked on site: not yet solved, back to work"),
    "suspend": _("Suspended"),
    "resume": _("Resumed"),
    "reopen": _("Reopened"),
    "evaluate": _("Rated by the citizen"),
}


def open311_status(status: str) -> str:
    """GeoReport v2 knows two states: closed (closed or rejected) and open (everything else)."""
    return "closed" if status in CLOSED_STATUSES else "open"


def step_label(action: str) -> str:
    return str(STEP_LABELS.get(action, _("Updated")))


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
