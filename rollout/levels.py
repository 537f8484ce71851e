"""What keeps the top level in use (teams.levels.levels_in_use): a county goes from three levels to
two only once no open case is handled at the top level, since its committee, which would decide
those cases, leaves with it. Here and not in teams, because it reads the cases."""

from django.utils.translation import ngettext

from cases.models import OPEN_STATUSES, Case, Level


def open_top_cases() -> int:
    """The open cases handled at the top level (escalated to its committee)."""
    return Case.objects.filter(level=Level.CITY, status__in=OPEN_STATUSES).count()


def open_top_cases_left(count: int) -> str:
    return ngettext(
        "%(count)d open case is handled at the top level: its committee must settle it before "
        "the top level goes out of use.",
        "%(count)d open cases are handled at the top level: its committee must settle them before "
        "the top level goes out of use.",
        count,
    ) % {"count": count}
