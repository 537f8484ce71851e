"""Who gets a notification on which channel, and when (provisional: every configured channel
at once, for everyone). The alerting work replaces this module with the same names and
signatures (docs/architecture.md, Notifications)."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Step:
    """One channel a notification travels, and when."""

    channel: str  # a channel name from WHISTLE_NOTIFICATION_CHANNELS other than "inbox"
    not_before: datetime  # send at or after this moment (now, or the end of quiet hours)
    only_if_unread: bool = False  # an escalation: skipped if the notification was read by then


def preferences(*, user_ids: Collection[int]) -> dict[int, object]:
    """Each user's alert preference, read in ONE query (missing users: no entry = defaults)."""
    return {}


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
    return [Step(name, at) for name in available if name != "inbox"]
