"""Reads of the "me too" (附议): who backs a case, for its page (names, for the staff) and for
the citizen's tracking page (the count alone)."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from cases.models import Case, Source, Supporter


@dataclass(frozen=True)
class SupporterRow:
    name: str
    source: str
    at: datetime
    note: str


def supporters_of(*, case: Case) -> list[SupporterRow]:
    """Everyone who backs the case, first first: the grid worker's name, or the hotline
    caller's name as the hotline gave it."""
    rows = Supporter.objects.filter(case=case).select_related("user").order_by("supported_at", "id")
    return [
        SupporterRow(
            name=(
                (row.user.get_full_name() or row.user.get_username())
                if row.user is not None
                else row.contact_name or _("a caller")
            ),
            source=str(Source(row.source).label) if row.source in Source.values else row.source,
            at=row.supported_at,
            note=row.note,
        )
        for row in rows
    ]


def supporter_count(*, case: Case) -> int:
    return Supporter.objects.filter(case=case).count()
