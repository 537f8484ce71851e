"""Who gets a notification on which channel, and when.

The stored notification row is the inbox entry: everyone gets that. Beyond it, each kind of
notification has one class, declared once in CLASSES:

- URGENT: someone must act within minutes (a whistle to report in for, a new whistle to
  screen within its 30 minutes, an urging, a supervision order) or a time limit has passed.
  It goes at once, whatever the hour: push, a text message (SMS) unless the user turned that
  off, and every channel the user chose. Quiet hours do not hold it: a 30-minute report-in
  cannot wait for the morning. An urgent alert that was not texted at once is texted after
  WHISTLE_URGENT_ESCALATION_MINUTES if it is still unread then.
- NORMAL: someone has something to do, not within the hour (verify a resolved case, decide a
  postponement, attend a consultation). It goes to the user's chosen channels (default: mail
  and push) and waits for the end of the user's quiet hours.
- ROUTINE: news that asks nothing (a case closed, a dispatch cancelled). The inbox only.

Only the channels this installation delivers through (`available`) ever appear. The delivery
framework calls `preferences` once per batch of notifications and `plan` once per
notification, and makes one delivery per Step (docs/architecture.md, Who gets what, how).
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from teams.models import AlertChannel, AlertPreference

URGENT = "urgent"
NORMAL = "normal"
ROUTINE = "routine"

# One class per kind of cases.notifications.KINDS, by name (tests check that every kind is
# here): the notifications module may import this one, so this one does not import it.
CLASSES: dict[str, str] = {
    # A limit of minutes runs: screening (10-30 natural minutes), report-in (30 minutes for an
    # urgent item), re-dispatch after a return; or someone above presses for action now.
    "case_filed": URGENT,
    "case_transferred": URGENT,
    "case_whistled": URGENT,
    "return_overruled": URGENT,
    "dispatch_returned": URGENT,
    "dispatch_urged": URGENT,
    "supervision_ordered": URGENT,
    "case_escalated": URGENT,
    # A yellow light or a limit passed on a case in handling.
    "deadline_warning": URGENT,
    "overdue": URGENT,
    "dispatch_late": URGENT,
    "verification_overdue": URGENT,
    # Something to do within working days.
    "case_resolved": NORMAL,
    "rework": NORMAL,
    "consultation_requested": NORMAL,
    "consultation_invited": NORMAL,
    "investigation_planned": NORMAL,
    "postponement_requested": NORMAL,
    "postponement_decided": NORMAL,
    "suspension_requested": NORMAL,
    "suspension_refused": NORMAL,
    "suspension_review_due": NORMAL,
    "case_resumed": NORMAL,
    "case_assigned": NORMAL,
    "false_reply": NORMAL,
    "case_rejected": NORMAL,
    # News: nothing more is asked.
    "case_closed": ROUTINE,
    "case_suspended": ROUTINE,
    "suspension_approved": ROUTINE,
    "dispatch_cancelled": ROUTINE,
    "dispatch_transferred": ROUTINE,
    "case_transferred_away": ROUTINE,
    "return_upheld": ROUTINE,
    "case_supported": ROUTINE,
    "case_routed_to_town": ROUTINE,
    "case_whistled_at_town": ROUTINE,
}

# A kind nobody classified yet (a new kind stored before its entry here) is treated as normal:
# it reaches the user, but never at night.
UNCLASSIFIED = NORMAL

# The order of the steps of one notification, and the channels urgent alerts always use.
CHANNEL_ORDER = tuple(AlertChannel.values)
URGENT_ALWAYS = (AlertChannel.PUSH.value,)
ESCALATION_CHANNEL = AlertChannel.SMS.value


@dataclass(frozen=True)
class Step:
    """One channel a notification travels, and when."""

    channel: str  # a channel name from WHISTLE_NOTIFICATION_CHANNELS other than "inbox"
    not_before: datetime  # send at or after this moment (now, or the end of quiet hours)
    only_if_unread: bool = False  # an escalation: skipped if the notification was read by then


def class_of(kind: str) -> str:
    return CLASSES.get(kind, UNCLASSIFIED)


def preferences(*, user_ids: Collection[int]) -> dict[int, object]:
    """Each user's alert preference, read in ONE query (missing users: no entry = defaults)."""
    ids = list(user_ids)
    if not ids:
        return {}
    return {row.user_id: row for row in AlertPreference.objects.filter(user_id__in=ids)}


def quiet_until(*, at: datetime, start: time, end: time) -> datetime | None:
    """The end of the quiet hours [start, end) that `at` falls in, or None when it does not.

    Read on the clock of the deployment (TIME_ZONE); a span whose start is after its end
    crosses midnight (22:00-07:00)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    local = at.astimezone(zone)
    now = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= now < end
        end_day = local.date()
    else:
        inside = now >= start or now < end
        end_day = local.date() + timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone)


def _chosen(preference: object | None) -> tuple[str, ...]:
    if preference is None:
        return AlertPreference.DEFAULT_CHANNELS
    return tuple(getattr(preference, "chosen_channels", AlertPreference.DEFAULT_CHANNELS))


def _in_order(names: Collection[str], available: Collection[str]) -> list[str]:
    return [name for name in CHANNEL_ORDER if name in names and name in available]


def plan(
    *,
    kind: str,
    data: dict,
    at: datetime,
    preference: object | None,
    available: Collection[str],
) -> list[Step]:
    """The steps of one notification of `kind` created at `at` for a user with `preference`
    (None = defaults), among the configured channels `available`. No query. "inbox" is never a
    step: the stored row is the inbox entry."""
    level = class_of(kind)
    if level == ROUTINE:
        return []
    chosen = _chosen(preference)
    if level == NORMAL:
        start = getattr(preference, "quiet_start", None)
        end = getattr(preference, "quiet_end", None)
        when = at
        if start is not None and end is not None and start != end:
            when = quiet_until(at=at, start=start, end=end) or at
        return [Step(channel=name, not_before=when) for name in _in_order(chosen, available)]
    at_once = set(chosen) | set(URGENT_ALWAYS)
    if getattr(preference, "urgent_sms", True):
        at_once.add(ESCALATION_CHANNEL)
    steps = [Step(channel=name, not_before=at) for name in _in_order(at_once, available)]
    minutes = settings.WHISTLE_URGENT_ESCALATION_MINUTES
    if ESCALATION_CHANNEL not in at_once and ESCALATION_CHANNEL in available and minutes > 0:
        steps.append(
            Step(
                channel=ESCALATION_CHANNEL,
                not_before=at + timedelta(minutes=minutes),
                only_if_unread=True,
            )
        )
    return steps
