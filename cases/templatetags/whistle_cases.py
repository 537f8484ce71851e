"""Template helpers for cases: warning lights and time left in the limit's own time."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases import timers
from cases.models import Deadline

register = template.Library()


@register.filter
def light(deadline: Deadline | None, now: datetime | None = None) -> str:
    """green, yellow or red."""
    if deadline is None:
        return ""
    return timers.light(deadline, now=now)


@register.filter
def light_label(value: str) -> str:
    return {"green": _("green"), "yellow": _("yellow"), "red": _("red")}.get(value, "")


def format_seconds(seconds: int) -> str:
    """A short human duration: 2 d 3 h, 3 h 20 min, 12 min."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if minutes and not days:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return " ".join(parts) or _("less than a minute")


@register.filter
def time_left(deadline: Deadline | None) -> str:
    """ "3 hours 20 minutes left" or "overdue by 2 hours", in working time for working limits."""
    if deadline is None:
        return ""
    return describe_time_left(deadline)


def describe_time_left(deadline: Deadline, *, now: datetime | None = None) -> str:
    """The words of the light: overdue exactly when the light is red (from the due moment on,
    also within the first second and outside working hours, when no working time has passed)."""
    if deadline.met_at is not None:
        return _("done")
    now = now or timezone.now()
    seconds = timers.time_left_seconds(deadline, now=now)
    working = deadline.unit in timers.WORKING_UNITS
    if timers.light(deadline, now=now) != timers.RED:
        if working:
            return _("%(time)s of working time left") % {"time": format_seconds(seconds)}
        return _("%(time)s left") % {"time": format_seconds(seconds)}
    if working:
        return _("overdue by %(time)s of working time") % {"time": format_seconds(seconds)}
    return _("overdue by %(time)s") % {"time": format_seconds(seconds)}
