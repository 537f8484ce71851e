"""The tracking code a resident is given (on the case page and its printable receipt, with a
QR code of the tracking address), and how a rejected or merged whistle reads to people."""

import segno
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from cases.models import Case, Status
from cases.workflow import guards
from teams.models import User


def status_in_words(*, status: str, merged: bool) -> str:
    """A merged whistle ends as rejected; people read it as merged (合并)."""
    if status == Status.REJECTED and merged:
        return _("Merged")
    return str(Status(status).label) if status in Status.values else status


def may_see_tracking_code(*, user: User, case: Case) -> bool:
    """Who hands the code to a resident: whoever filed the whistle, and the village officers
    of its village (the resident who came to the village office). The code also lets its
    holder rate the case, so it is not shown to everyone who can see the case."""
    return case.reporter_id == user.pk or guards.village_officer(user, case)


def merged_cases_of(*, case: Case) -> QuerySet[Case]:
    """The duplicate whistles merged into this case, oldest first."""
    return Case.objects.filter(merged_into=case).order_by("filed_at", "id")


def tracking_qr_svg(*, url: str) -> str:
    """An inline SVG QR code of the tracking address, drawn here: no outside service."""
    return segno.make(url, error="m").svg_inline(scale=4, dark="#000", light="#fff")
