"""The delivery framework: one Delivery row per notification and channel, claimed by one
worker at a time, sent through its channel, retried with backoff, given up after the last
attempt (docs/architecture.md, Notifications).

A claim is one conditional UPDATE (status due and `not_before` passed -> sending, with a fresh
token and a lease), so two workers never both hold a row, on PostgreSQL (whose row locks
make the second UPDATE re-check the condition) as on SQLite (one writer at a time). A worker
killed mid-send leaves the row "sending" until its lease ends; the next sweep takes it back.
The claim is committed before the (slow) provider call: no lock is held while sending.
"""

import logging
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases import alerting
from cases.channels import Channel, DeliveryError, Message, PermanentDeliveryError, configured_names
from cases.channels import channel as make_channel
from cases.channels.base import short_error
from cases.models import DUE_DELIVERY_STATUSES, Delivery, DeliveryStatus, Notification, SkipReason

logger = logging.getLogger(__name__)

# How a channel is named to a reader (the inbox, the admin).
CHANNEL_LABELS = {
    "mail": _("mail"),
    "sms": _("SMS"),
    "dingtalk": _("DingTalk"),
    "wecom": _("WeCom"),
    "push": _("push"),
}
# The longest wait between two attempts.
MAX_BACKOFF = timedelta(hours=6)


# --- creating ----------------------------------------------------------------------------------


def plan_deliveries(*, notifications: list[Notification]) -> list[Delivery]:
    """Insert the delivery rows of freshly stored notifications, in their transaction: one per
    step that cases.alerting plans (one preference read for the whole batch). A recipient
    without an address on a channel gets a row skipped at once ("no address")."""
    available = configured_names()
    if not available or not notifications:
        return []
    preferences = alerting.preferences(user_ids={row.recipient_id for row in notifications})
    channels = {name: make_channel(name) for name in available}
    recipients = {row.recipient_id: row.recipient for row in notifications}
    addresses = {name: channel.addresses(recipients.values()) for name, channel in channels.items()}
    now = timezone.now()
    rows = []
    for notification in notifications:
        steps = alerting.plan(
            kind=notification.kind,
            data=notification.data,
            at=notification.created_at,
            preference=preferences.get(notification.recipient_id),
            available=available,
        )
        seen: set[str] = set()
        for step in steps:
            if step.channel not in channels or step.channel in seen:
                continue
            seen.add(step.channel)
            reachable = addresses[step.channel].get(notification.recipient_id)
            rows.append(
                Delivery(
                    notification=notification,
                    channel=step.channel,
                    status=DeliveryStatus.PENDING if reachable else DeliveryStatus.SKIPPED,
                    skip_reason="" if reachable else SkipReason.NO_ADDRESS,
                    not_before=step.not_before,
                    only_if_unread=step.only_if_unread,
                    created_at=now,
                    updated_at=now,
                )
            )
    return Delivery.objects.bulk_create(rows)


def due_now(rows: Iterable[Delivery], *, now: datetime | None = None) -> dict[str, list[int]]:
    """The ids of fresh rows to send at once, by channel (later steps wait for the sweep)."""
    now = now or timezone.now()
    due: dict[str, list[int]] = {}
    for row in rows:
        if row.status == DeliveryStatus.PENDING and row.not_before <= now:
            due.setdefault(row.channel, []).append(row.pk)
    return due


# --- claiming ----------------------------------------------------------------------------------


def _due(now: datetime) -> QuerySet[Delivery]:
    """Rows due to be sent at `now`: pending or to retry, their time come."""
    return Delivery.objects.filter(status__in=DUE_DELIVERY_STATUSES, not_before__lte=now)


def claim(
    *, channel: str, delivery_ids: Iterable[int] | None = None, limit: int = 50
) -> list[Delivery]:
    """Take up to `limit` due rows of `channel` (of `delivery_ids` only, when given) for this
    worker: they become "sending" under a fresh token until the lease ends. Rows another
    worker holds are left alone; every attempt is counted here, before the send."""
    now = timezone.now()
    token = uuid.uuid4().hex
    due = _due(now).filter(channel=channel)
    if delivery_ids is not None:
        due = due.filter(pk__in=list(delivery_ids))
    with transaction.atomic():
        # On PostgreSQL, rows another worker is claiming this instant are skipped rather
        # than waited for; the UPDATE's own condition keeps the claim exact everywhere.
        picked = list(
            due.select_for_update(skip_locked=True)
            .order_by("not_before", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if not picked:
            return []
        lease = timedelta(seconds=settings.WHISTLE_DELIVERY_LEASE_SECONDS)
        _due(now).filter(pk__in=picked).update(
            status=DeliveryStatus.SENDING,
            claim=token,
            attempts=F("attempts") + 1,
            not_before=now + lease,
            updated_at=now,
        )
    return list(
        Delivery.objects.filter(claim=token, status=DeliveryStatus.SENDING)
        .select_related("notification__recipient", "notification__case__item")
        .order_by("not_before", "id")
    )


# --- sending -----------------------------------------------------------------------------------


def message_for(notification: Notification) -> Message:
    """The notification rendered in its reader's language (the database is read here, in the
    worker's own thread, never in a sending thread)."""
    from cases.notifications import case_url, render

    recipient = notification.recipient
    language = getattr(recipient, "language", None) or settings.LANGUAGE_CODE
    subject, body = render(notification, language)
    url = case_url(notification.case_id)
    link = ""
    if url:
        with translation.override(language):
            link = gettext("Open the case: %(url)s") % {"url": url}
    data = notification.data if isinstance(notification.data, dict) else {}
    number = str(data.get("number") or (notification.case.number if notification.case else ""))
    return Message(
        subject=subject,
        body=body,
        url=url,
        link=link,
        number=number,
        kind=notification.kind,
        language=language,
    )


@dataclass
class Outcome:
    status: str
    provider_id: str = ""
    error: str = ""
    skip_reason: str = ""


def _attempt(channel: Channel, address: str, message: Message) -> Outcome:
    """One send, in a sending thread: its outcome, never an exception."""
    try:
        provider_id = channel.send(address=address, message=message)
    except PermanentDeliveryError as error:
        return Outcome(DeliveryStatus.GIVEN_UP, error=short_error(error.message))
    except DeliveryError as error:
        return Outcome(DeliveryStatus.RETRYING, error=short_error(error.message))
    except Exception as error:  # an unexpected failure is retried, and logged in full
        logger.exception("Channel %s failed", channel.name)
        return Outcome(DeliveryStatus.RETRYING, error=short_error(error))
    return Outcome(DeliveryStatus.SENT, provider_id=str(provider_id or "")[:128])


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: doubling from the base."""
    base = timedelta(seconds=settings.WHISTLE_DELIVERY_BACKOFF_SECONDS)
    return min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _record(row: Delivery, outcome: Outcome) -> bool:
    """Store one outcome, if this worker still holds the row (its token); True if stored."""
    now = timezone.now()
    fields: dict = {"updated_at": now, "claim": "", "skip_reason": outcome.skip_reason}
    status = outcome.status
    if status == DeliveryStatus.RETRYING and row.attempts >= settings.WHISTLE_DELIVERY_ATTEMPTS:
        status = DeliveryStatus.GIVEN_UP
    fields["status"] = status
    if status == DeliveryStatus.SENT:
        fields.update(sent_at=now, provider_id=outcome.provider_id, last_error="")
    elif status == DeliveryStatus.RETRYING:
        fields.update(not_before=now + backoff(row.attempts), last_error=outcome.error)
    elif status == DeliveryStatus.GIVEN_UP:
        fields["last_error"] = outcome.error
    stored = Delivery.objects.filter(
        pk=row.pk, claim=row.claim, status=DeliveryStatus.SENDING
    ).update(**fields)
    if stored and status == DeliveryStatus.SENT and row.channel == "mail":
        # Kept for the reports and tools that read "mailed at" on the notification.
        Notification.objects.filter(pk=row.notification_id, emailed_at__isnull=True).update(
            emailed_at=now
        )
    return bool(stored)


def process(*, channel: Channel | None, rows: list[Delivery]) -> dict[str, int]:
    """Send claimed rows through `channel` (None: no longer configured), up to
    WHISTLE_DELIVERY_THREADS at a time, and record each outcome; counts by status."""
    outcomes: dict[int, Outcome] = {}
    jobs: list[tuple[Delivery, str, Message]] = []
    if channel is None:
        for row in rows:
            outcomes[row.pk] = Outcome(DeliveryStatus.SKIPPED, skip_reason=SkipReason.CHANNEL_OFF)
    else:
        addresses = channel.addresses([row.notification.recipient for row in rows])
        for row in rows:
            notification = row.notification
            address = addresses.get(notification.recipient_id)
            if row.attempts > settings.WHISTLE_DELIVERY_ATTEMPTS:
                # Taken back from dead workers more often than it may be tried.
                outcomes[row.pk] = Outcome(DeliveryStatus.GIVEN_UP, error="worker lost")
            elif row.only_if_unread and notification.read_at is not None:
                outcomes[row.pk] = Outcome(DeliveryStatus.SKIPPED, skip_reason=SkipReason.READ)
            elif not notification.recipient.is_active:
                outcomes[row.pk] = Outcome(DeliveryStatus.SKIPPED, skip_reason=SkipReason.INACTIVE)
            elif not address:
                outcomes[row.pk] = Outcome(
                    DeliveryStatus.SKIPPED, skip_reason=SkipReason.NO_ADDRESS
                )
            else:
                jobs.append((row, address, message_for(notification)))
    threads = max(1, min(settings.WHISTLE_DELIVERY_THREADS, len(jobs)))
    if threads == 1:
        for row, address, message in jobs:
            outcomes[row.pk] = _attempt(channel, address, message)
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="delivery") as pool:
            futures = {
                row.pk: pool.submit(_attempt, channel, address, message)
                for row, address, message in jobs
            }
            for pk, future in futures.items():
                outcomes[pk] = future.result()
    if channel is not None and jobs:
        channel.finish()
    counts: dict[str, int] = {}
    for row in rows:
        outcome = outcomes[row.pk]
        if _record(row, outcome):
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return counts


def send(
    *,
    channel: str,
    delivery_ids: Iterable[int] | None = None,
    budget_seconds: float | None = None,
) -> int:
    """Claim and send due rows of `channel` chunk by chunk (of `delivery_ids` only, when
    given) until none is left or `budget_seconds` have passed (the sweep's tasks end before
    the next sweep); returns how many were handled."""
    instance = make_channel(channel) if channel in configured_names() else None
    ids = list(delivery_ids) if delivery_ids is not None else None
    chunk = max(settings.WHISTLE_DELIVERY_THREADS * 4, 10)
    stop = timezone.now() + timedelta(seconds=budget_seconds) if budget_seconds else None
    handled = 0
    while True:
        rows = claim(channel=channel, delivery_ids=ids, limit=chunk)
        if not rows:
            break
        process(channel=instance, rows=rows)
        handled += len(rows)
        if stop is not None and timezone.now() >= stop:
            break
    return handled


def due_count(*, now: datetime) -> int:
    """Deliveries due to be sent now, all channels (the operations metrics, whistle.health)."""
    return _due(now).count()


def due_channels(*, now: datetime | None = None) -> list[str]:
    """The channels that have rows due now (the sweep hands each its own task)."""
    return sorted(set(_due(now or timezone.now()).values_list("channel", flat=True).distinct()))


def ids_of_notifications(*, notification_ids: Iterable[int]) -> dict[str, list[int]]:
    """The due rows of some notifications, by channel (the tasks queued before the
    framework carried notification ids)."""
    due: dict[str, list[int]] = {}
    rows = (
        _due(timezone.now())
        .filter(notification_id__in=list(notification_ids))
        .values_list("channel", "pk")
    )
    for name, pk in rows:
        due.setdefault(name, []).append(pk)
    return due


# --- reading -----------------------------------------------------------------------------------


def channel_label(name: str) -> str:
    return str(CHANNEL_LABELS.get(name, name))


def describe(row: Delivery) -> str:
    """One delivery's state for a reader: "SMS: sent 10:02", "WeCom: failed, retrying"."""
    from django.utils import formats

    label = channel_label(row.channel)
    if row.status == DeliveryStatus.SENT and row.sent_at:
        at = formats.date_format(timezone.localtime(row.sent_at), "H:i")
        return gettext("%(channel)s: sent %(time)s") % {"channel": label, "time": at}
    if row.status == DeliveryStatus.RETRYING:
        return gettext("%(channel)s: failed, retrying") % {"channel": label}
    if row.status == DeliveryStatus.GIVEN_UP:
        return gettext("%(channel)s: failed") % {"channel": label}
    if row.status == DeliveryStatus.SKIPPED:
        reason = SkipReason(row.skip_reason).label if row.skip_reason else ""
        return gettext("%(channel)s: not sent (%(reason)s)") % {
            "channel": label,
            "reason": reason,
        }
    if row.status == DeliveryStatus.PENDING and row.not_before > timezone.now():
        # A later step (the end of quiet hours, an escalation if still unread).
        at = formats.date_format(timezone.localtime(row.not_before), "H:i")
        return gettext("%(channel)s: planned for %(time)s") % {"channel": label, "time": at}
    return gettext("%(channel)s: sending") % {"channel": label}
