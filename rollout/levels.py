"""What keeps a committee on the escalation chain (teams.levels.on_chain): a county goes from
three levels to two, or takes the prefecture's committee off the chain, only once no open case is
handled at that level, since its committee, which would decide those cases, leaves the chain.
Here and not in teams, because it reads the cases."""

from django.utils.translation import ngettext

from cases.models import OPEN_STATUSES, Case, Level


def open_cases_at(level: str) -> int:
    """The open cases handled at this level (escalated to its committee)."""
    return Case.objects.filter(level=level, status__in=OPEN_STATUSES).count()


def open_top_cases_left(count: int) -> str:
    return ngettext(
        "%(count)d open case is handled at the top level: its committee must settle it before "
        "the top level goes out of use.",
        "%(count)d open cases are handled at the top level: its committee must settle them before "
        "the top level goes out of use.",
        count,
    ) % {"count": count}


def open_cases_off_chain(count: int) -> str:
    """Why this committee cannot leave the escalation chain yet."""
    return ngettext(
        "%(count)d open case is handled at this level: its committee must settle it before it "
        "leaves the escalation chain.",
        "%(count)d open cases are handled at this level: its committee must settle them before "
        "it leaves the escalation chain.",
        count,
    ) % {"count": count}


def leaving_chain_problem(*, level: str, committee: bool, in_use: bool) -> str:
    """Why the committee of the top level, or of the level above it, cannot leave the chain
    now (its row's new flags), or "": open cases at its level."""
    if level not in (Level.CITY, Level.PREFECTURE) or (committee and in_use):
        return ""
    count = open_cases_at(level)
    if not count:
        return ""
    if level == Level.CITY and not in_use:
        return open_top_cases_left(count)
    return open_cases_off_chain(count)
