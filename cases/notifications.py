"""Notifications: who is told about a case, how the message reads, and the channels it travels.

A notification is one row per recipient (the in-app inbox). Its text is not stored: it is
rendered from `kind` and `data` when shown, in the reader's language. Delivery beyond the inbox
(mail, SMS, DingTalk, WeCom) goes through channels with one small interface, named in
the setting WHISTLE_NOTIFICATION_CHANNELS (cases.channels). Each channel's delivery is a row
(Delivery) made in the notification's transaction; publishing its task happens after commit
and never breaks the request: if the broker is down, the periodic delivery sweep sends what
is still due.
"""

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import partial
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases import batching
from cases.channels import delivery
from cases.models import Case, Dispatch, Level, Notification
from cases.rejections import reason_text
from checklists.models import Item, Stage
from teams.levels import level_name, level_words
from teams.models import Department, Grid, Membership, Region, Role, Team, User

logger = logging.getLogger(__name__)

# --- kinds -------------------------------------------------------------------------------------

CASE_FILED = "case_filed"
CASE_WHISTLED = "case_whistled"
DISPATCH_LATE = "dispatch_late"
CONSULTATION_REQUESTED = "consultation_requested"
CASE_ESCALATED = "case_escalated"
CASE_RESOLVED = "case_resolved"
VERIFICATION_OVERDUE = "verification_overdue"
REWORK = "rework"
POSTPONEMENT_REQUESTED = "postponement_requested"
POSTPONEMENT_DECIDED = "postponement_decided"
CASE_SUSPENDED = "case_suspended"
CASE_RESUMED = "case_resumed"
SUSPENSION_REQUESTED = "suspension_requested"
SUSPENSION_APPROVED = "suspension_approved"
SUSPENSION_REFUSED = "suspension_refused"
SUSPENSION_REVIEW_DUE = "suspension_review_due"
CASE_REJECTED = "case_rejected"
CASE_CLOSED = "case_closed"
DEADLINE_WARNING = "deadline_warning"
OVERDUE = "overdue"
CASE_ASSIGNED = "case_assigned"
DISPATCH_CANCELLED = "dispatch_cancelled"
DISPATCH_RETURNED = "dispatch_returned"
RETURN_UPHELD = "return_upheld"
RETURN_OVERRULED = "return_overruled"
CASE_TRANSFERRED = "case_transferred"
CASE_TRANSFERRED_AWAY = "case_transferred_away"
DISPATCH_TRANSFERRED = "dispatch_transferred"
CONSULTATION_INVITED = "consultation_invited"
INVESTIGATION_PLANNED = "investigation_planned"
DISPATCH_URGED = "dispatch_urged"
SUPERVISION_ORDERED = "supervision_ordered"
FALSE_REPLY = "false_reply"
CASE_SUPPORTED = "case_supported"
CASE_ROUTED_TO_TOWN = "case_routed_to_town"
CASE_WHISTLED_AT_TOWN = "case_whistled_at_town"

# Subject and body per kind. `%(number)s` is the case number; `%(case)s` is the number with the
# item name in the reader's language. Facts that only some messages carry (handler, due time,
# reason...) are added as separate lines by `render`, so no sentence has a hole in it.
TEMPLATES: dict[str, tuple[Promise, Promise]] = {
    CASE_FILED: (
        _("New whistle %(number)s"),
        _("Whistle %(case)s was filed in your %(village)s and waits for screening."),
    ),
    CASE_WHISTLED: (
        _("Whistled: report in for %(number)s"),
        _("Case %(case)s was whistled to you. Report in within the time limit."),
    ),
    DISPATCH_LATE: (
        _("Report-in overdue: %(number)s"),
        _("The report-in limit of case %(case)s has passed without a report-in."),
    ),
    CONSULTATION_REQUESTED: (
        _("Consultation requested: %(number)s"),
        _("A consultation was requested on case %(case)s."),
    ),
    CASE_ESCALATED: (
        _("Case %(number)s escalated"),
        _("Case %(case)s was whistled up to the next level and needs your decision."),
    ),
    CASE_RESOLVED: (
        _("Please verify case %(number)s"),
        _("Case %(case)s was reported resolved. Please verify on site."),
    ),
    VERIFICATION_OVERDUE: (
        _("Verification overdue: %(number)s"),
        _("The on-site verification of case %(case)s is overdue."),
    ),
    REWORK: (
        _("Rework: %(number)s"),
        _("The verification of case %(case)s failed; the case is back with you for rework."),
    ),
    POSTPONEMENT_REQUESTED: (
        _("Postponement requested: %(number)s"),
        _("A postponement was requested for case %(case)s and waits for your decision."),
    ),
    POSTPONEMENT_DECIDED: (
        _("Postponement decided: %(number)s"),
        _("The request to postpone case %(case)s was decided."),
    ),
    CASE_SUSPENDED: (
        _("Case %(number)s suspended"),
        _("Case %(case)s was suspended; its time limits are stopped."),
    ),
    CASE_RESUMED: (
        _("Case %(number)s resumed"),
        _("Case %(case)s was resumed; its time limits run again."),
    ),
    SUSPENSION_REQUESTED: (
        _("Suspension requested: %(number)s"),
        _(
            "The handler of case %(case)s asks to suspend it until a review date. Approve or "
            "refuse the request."
        ),
    ),
    SUSPENSION_APPROVED: (
        _("Suspension approved: %(number)s"),
        _("Your request to suspend case %(case)s was approved; its time limits are stopped."),
    ),
    SUSPENSION_REFUSED: (
        _("Suspension refused: %(number)s"),
        _("Your request to suspend case %(case)s was refused: keep handling it."),
    ),
    SUSPENSION_REVIEW_DUE: (
        _("Review overdue: %(number)s"),
        _(
            "The review date of suspended case %(case)s has passed. Resume the case or set a "
            "new review date."
        ),
    ),
    CASE_REJECTED: (
        _("Whistle %(number)s not accepted"),
        _("Your whistle %(case)s was not accepted."),
    ),
    CASE_CLOSED: (
        _("Case %(number)s closed"),
        _("Case %(case)s was closed."),
    ),
    DEADLINE_WARNING: (
        _("Deadline near: %(number)s"),
        _("Case %(case)s is close to its time limit (yellow light)."),
    ),
    OVERDUE: (
        _("Time limit passed: %(number)s"),
        _("A time limit of case %(case)s has passed."),
    ),
    CASE_ASSIGNED: (
        _("Case %(number)s assigned to you"),
        _("Case %(case)s was assigned to you."),
    ),
    DISPATCH_CANCELLED: (
        _("Dispatch cancelled: %(number)s"),
        _("Your dispatch for case %(case)s was cancelled; nothing more is needed from you."),
    ),
    DISPATCH_RETURNED: (
        _("Dispatch returned: %(number)s"),
        _(
            "A dispatch of case %(case)s was returned. Rule on the return and dispatch the "
            "case again within the time limit."
        ),
    ),
    RETURN_UPHELD: (
        _("Return upheld: %(number)s"),
        _("Your return of case %(case)s was upheld; nothing more is needed from you."),
    ),
    RETURN_OVERRULED: (
        _("Return overruled: %(number)s"),
        _(
            "Your return of case %(case)s was overruled: the case is dispatched to you again. "
            "Report in within the time limit."
        ),
    ),
    CASE_TRANSFERRED: (
        _("Case transferred to you: %(number)s"),
        _(
            "Case %(case)s was filed in the wrong place and transferred to your area. "
            "It waits for screening by the %(village)s within the time limit."
        ),
    ),
    CASE_TRANSFERRED_AWAY: (
        _("Case transferred away: %(number)s"),
        _(
            "Case %(case)s was transferred to the %(village)s it belongs to; "
            "nothing more is needed from you."
        ),
    ),
    DISPATCH_TRANSFERRED: (
        _("Dispatch transferred: %(number)s"),
        _(
            "Your dispatch for case %(case)s was transferred elsewhere: nothing more is needed "
            "from you, and it is not held against you."
        ),
    ),
    DISPATCH_URGED: (
        _("Urged: %(number)s"),
        _("You are urged to act on case %(case)s now: its time limit is near or has passed."),
    ),
    SUPERVISION_ORDERED: (
        _("Supervision order: %(number)s"),
        _(
            "A supervision order was issued on your dispatch for case %(case)s: "
            "solve it by its deadline."
        ),
    ),
    CASE_SUPPORTED: (
        _("“Me too” on %(number)s"),
        _("Someone else met the problem of your whistle %(case)s and backed it."),
    ),
    CASE_ROUTED_TO_TOWN: (
        _("Hotline whistle sent to the %(town)s: %(number)s"),
        _(
            "Whistle %(case)s came from the 12345 hotline and went straight to the %(town)s's "
            "dispatch by the rule of its item. It is in your %(village)s: no screening is needed."
        ),
    ),
    CASE_WHISTLED_AT_TOWN: (
        _("Whistle sent to the %(town)s: %(number)s"),
        _(
            "Whistle %(case)s was filed in your %(village)s and went straight to the %(town)s's "
            "dispatch: whistles are blown at the %(town)s here. No screening is needed."
        ),
    ),
    FALSE_REPLY: (
        _("False reply found in a spot check: %(number)s"),
        _(
            "A spot check's revisit found case %(case)s not actually resolved: it is dispatched "
            "again to the same unit, whose reply counts as a false reply."
        ),
    ),
    # These two concern no single case: `number` carries the agenda's case numbers, or the
    # place of the investigation.
    CONSULTATION_INVITED: (
        _("Invitation to a consultation on %(number)s"),
        _(
            "You are invited to a committee consultation on %(case)s. "
            "Confirm, then check in on the day."
        ),
    ),
    INVESTIGATION_PLANNED: (
        _("Comprehensive investigation planned: %(number)s"),
        _("You take part in a joint comprehensive investigation at %(case)s."),
    ),
}
KINDS = frozenset(TEMPLATES)

# The decision of a postponement reads better as its own sentence.
_POSTPONEMENT_OUTCOME = {
    True: (
        _("Postponement approved: %(number)s"),
        _("The postponement of case %(case)s was approved."),
    ),
    False: (
        _("Postponement refused: %(number)s"),
        _("The postponement of case %(case)s was refused."),
    ),
}
_GENERIC_WITH_CASE = (
    _("Notification about case %(number)s"),
    _("There is news about case %(case)s."),
)
_GENERIC = (_("Notification"), _("You have a new notification."))

# Optional facts, in the order they are shown, each as one line after the body.
_EXTRA_LINES: tuple[tuple[str, Promise], ...] = (
    ("handler", _("Handler: %(handler)s")),
    ("stage", _("Stage: %(stage)s")),
    ("level", _("Level: %(level)s")),
    ("due", _("Due: %(due)s")),
    ("review_on", _("Review date: %(review_on)s")),
    ("reason", _("Reason: %(reason)s")),
    ("redirect", _("Where to go instead: %(redirect)s")),
)

DUE_FORMAT = "Y-m-d H:i"


class _Blank(dict):
    """Missing placeholders render empty instead of raising KeyError."""

    def __missing__(self, key: str) -> str:
        return ""


# --- rendering ---------------------------------------------------------------------------------


def _format_due(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = parse_datetime(value)
        if moment is None:
            return value
    else:
        return ""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return formats.date_format(timezone.localtime(moment), DUE_FORMAT)


def _choice_label(choices: type, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _level_label(value: Any) -> str:
    try:
        return level_name(Level(value))
    except ValueError:
        return str(value or "")


def _handler_name(data: dict) -> str:
    """The team or department named by code (`handler`, `team_code`, `department_code`)."""
    team_code = data.get("team_code") or data.get("handler")
    if team_code:
        team = Team.objects.filter(code=team_code).first()
        if team is not None:
            return team.name
    department_code = data.get("department_code") or data.get("handler")
    if department_code:
        department = Department.objects.filter(code=department_code).first()
        if department is not None:
            return department.name
    return str(data.get("handler") or "")


def _item_name(notification: Notification, data: dict) -> str:
    if notification.case_id is not None:
        return notification.case.item.name
    if data.get("item_code"):
        item = Item.objects.filter(code=data["item_code"]).first()
        if item is not None:
            return item.name
    return ""


def _context(notification: Notification) -> _Blank:
    """The placeholders, computed inside the reader's language."""
    data = notification.data if isinstance(notification.data, dict) else {}
    number = str(data.get("number") or (notification.case.number if notification.case_id else ""))
    item = _item_name(notification, data)
    case_label = (
        gettext("%(number)s (%(item)s)") % {"number": number, "item": item} if item else number
    )
    return _Blank(
        **level_words(),
        number=number,
        item=item,
        case=case_label,
        handler=_handler_name(data),
        stage=_choice_label(Stage, data["stage"]) if data.get("stage") else "",
        level=_level_label(data["level"]) if data.get("level") else "",
        due=_format_due(data.get("due") or data.get("due_at")),
        # A rejection's reason by its code (old rows: the prose stored then, read as written).
        reason=reason_text(
            code=str(data.get("reason_code") or ""),
            text=str(data.get("reason") or ""),
            merged_into=str(data.get("merged_into") or ""),
        ),
        review_on=str(data.get("review_on") or ""),  # a suspended case's review date
        redirect=str(data.get("redirect") or ""),
    )


def _templates_for(notification: Notification, context: dict) -> tuple[Promise, Promise]:
    data = notification.data if isinstance(notification.data, dict) else {}
    if notification.kind == POSTPONEMENT_DECIDED and isinstance(data.get("approved"), bool):
        return _POSTPONEMENT_OUTCOME[data["approved"]]
    if notification.kind in TEMPLATES:
        return TEMPLATES[notification.kind]
    return _GENERIC_WITH_CASE if context["number"] else _GENERIC


def render(notification: Notification, language: str | None = None) -> tuple[str, str]:
    """(subject, body) of a notification in `language` (default: the active language).

    Never raises for an unknown kind or odd data: the inbox must always show something.
    """
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        try:
            context = _context(notification)
            subject_template, body_template = _templates_for(notification, context)
            subject = str(subject_template) % context
            lines = [str(body_template) % context]
            lines += [str(line) % context for key, line in _EXTRA_LINES if context[key]]
        except (KeyError, ValueError, TypeError, AttributeError):
            logger.exception("Could not render notification %s", notification.pk)
            return str(_GENERIC[0]), str(_GENERIC[1])
    return " ".join(subject.split()), "\n".join(lines)


def case_url(case_id: int | None) -> str | None:
    """The link to the case page, absolute under WHISTLE_SITE_URL (relative while that is
    empty), or None while that page does not exist."""
    if case_id is None:
        return None
    try:
        path = reverse("cases:detail", args=[case_id])
    except NoReverseMatch:
        return None
    return settings.WHISTLE_SITE_URL.rstrip("/") + path


# --- services ----------------------------------------------------------------------------------


def _json_safe(data: dict) -> dict:
    """Datetimes and decimals in `data` become strings, as the JSON column stores them."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


# Named as when it sat in cases.tasks, so that deliveries queued before an upgrade still run.
@shared_task(name="cases.tasks.deliver_notifications")
def deliver_notifications(notification_ids: list[int]) -> int:
    """Deliver notifications queued by name before the delivery framework (their rows were
    made by the data migration)."""
    return deliver(notification_ids=notification_ids)


# The most deliveries one queued task sends.
DELIVERY_TASK_CHUNK = 200


def _publish_delivery(channel: str, delivery_ids: list[int]) -> None:
    """Queue one channel's fresh deliveries; a broker that is down only costs a warning (the
    periodic sweep sends them)."""
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    from cases.tasks import send_deliveries

    try:
        # Small tasks spread a burst over every delivery process.
        for start in range(0, len(delivery_ids), DELIVERY_TASK_CHUNK):
            send_deliveries.delay(channel, delivery_ids[start : start + DELIVERY_TASK_CHUNK])
    except (OperationalError, RedisError, OSError) as error:
        logger.warning(
            "Could not queue delivery of %s deliveries %s; the delivery sweep will retry: %s",
            channel,
            delivery_ids,
            error,
        )


def notify(
    *, recipients: Iterable[User], kind: str, case: Case | None, data: dict
) -> list[Notification]:
    """Store one notification per distinct active recipient and deliver them after commit.

    Runs inside the caller's transaction: if it rolls back, nothing is stored or sent. A kind
    without a template is stored all the same (it reads as a generic message) and logged, so a
    new kind never breaks the transition that sends it.
    """
    if kind not in KINDS:
        logger.warning("Notification kind %r has no template; it renders as generic", kind)
    payload = dict(data)
    if case is not None:
        payload.setdefault("number", case.number)
    payload = _json_safe(payload)
    seen: set[int] = set()
    now = timezone.now()
    rows = []
    for user in recipients:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(
            Notification(recipient=user, case=case, kind=kind, data=payload, created_at=now)
        )
    if not rows:
        return []
    together = _stored_together.get()
    if together is not None:
        together.extend(rows)
        return rows
    return _store(rows)


def _store(rows: list[Notification]) -> list[Notification]:
    """Insert the rows and their deliveries (cases.alerting plans them), and queue one task
    per channel after commit for what is due now (an inbox-only row needs no task: storing
    it was its delivery; later steps wait for the sweep)."""
    created = Notification.objects.bulk_create(rows)
    deliveries = delivery.plan_deliveries(notifications=created)
    for channel, ids in delivery.due_now(deliveries).items():
        transaction.on_commit(
            partial(
                batching.send,
                f"deliver:{channel}",
                ids,
                partial(_publish_delivery, channel),
            ),
            robust=True,
        )
    return created


_stored_together: ContextVar[list[Notification] | None] = ContextVar(
    "notifications_stored_together", default=None
)


@contextmanager
def stored_together() -> Iterator[None]:
    """Store the notifications of this block in one insert when it ends without an error
    (a batch of timer firings writes the notices of all its firings at once, with their
    deliveries). Use it inside the transaction they belong to."""
    rows: list[Notification] = []
    token = _stored_together.set(rows)
    try:
        yield
    finally:
        _stored_together.reset(token)
    if rows:
        _store(rows)


def deliver(*, notification_ids: Iterable[int]) -> int:
    """Send the due deliveries of these notifications now, channel after channel; returns how
    many deliveries were handled. A failing channel does not stop the others."""
    handled = 0
    for channel, ids in delivery.ids_of_notifications(notification_ids=notification_ids).items():
        handled += delivery.send(channel=channel, delivery_ids=ids)
    return handled


def sweep_deliveries(*, send: Callable[[str], None]) -> list[str]:
    """Hand each channel with due deliveries (retries, later steps, what was never queued,
    claims of dead workers) to `send`, which queues one task per channel."""
    channels = delivery.due_channels()
    for channel in channels:
        send(channel)
    return channels


def mark_read(*, user: User, notification_ids: Iterable[int]) -> int:
    """Mark some of `user`'s own notifications read; others' rows are never touched."""
    return Notification.objects.filter(
        recipient=user, pk__in=list(notification_ids), read_at__isnull=True
    ).update(read_at=timezone.now())


def mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- selectors ---------------------------------------------------------------------------------


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def inbox(*, user: User, limit: int = 50) -> list[Notification]:
    """The newest notifications of `user`, ready to render without further queries per row."""
    return list(Notification.objects.filter(recipient=user).select_related("case__item")[:limit])


def _holders(role: str, **place: int) -> list[User]:
    """The active holders of `role` at a place (given by id), by id; read once per timer batch.

    In SQL: every filing asks for its village officers, and the ORM spends three times the CPU
    of this statement building the same join for each call."""
    quote = connection.ops.quote_name
    keys = sorted(place)
    at_place = "".join(
        f" AND m.{quote(Membership._meta.get_field(key).column)}"
        + (" = %s" if place[key] is not None else " IS NULL")  # as filter(key=None) reads
        for key in keys
    )
    sql = (
        f"SELECT u.* FROM {quote(User._meta.db_table)} u WHERE u.is_active AND EXISTS "  # noqa: S608
        f"(SELECT 1 FROM {quote(Membership._meta.db_table)} m "
        f"WHERE m.user_id = u.id AND m.role = %s{at_place}) ORDER BY u.id"
    )
    params = [role, *(place[key] for key in keys if place[key] is not None)]

    def read() -> list[User]:
        return list(User.objects.raw(sql, params))

    return batching.remember(("holders", role, *sorted(place.items())), read)


def village_officers(village: Region) -> list[User]:
    return _holders(Role.VILLAGE_OFFICER, region=village.pk)


def town_committee(town: Region) -> list[User]:
    return _holders(Role.TOWN_COMMITTEE, region=town.pk)


def city_committee(city: Region) -> list[User]:
    return _holders(Role.CITY_COMMITTEE, region=city.pk)


def prefecture_committee(city: Region) -> list[User]:
    """The committee of the prefecture above the city (four levels): none when the city stands
    alone."""
    if city.parent_id is None:
        return []
    return _holders(Role.PREFECTURE_COMMITTEE, region=city.parent_id)


def grid_workers(grid: Grid) -> list[User]:
    return _holders(Role.GRID_WORKER, grid=grid.pk)


def handlers_of_dispatch(dispatch: Dispatch) -> list[User]:
    """Who answers for a dispatch: the captains of its team or the liaisons of its department."""
    if dispatch.team_id is not None:
        return _holders(Role.TEAM_CAPTAIN, team=dispatch.team_id)
    return _holders(Role.DEPARTMENT_LIAISON, department=dispatch.department_id)
