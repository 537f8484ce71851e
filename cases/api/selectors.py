"""Reads of the case API: the rows each endpoint returns, within the user's scope, with what
their serializers show and no query per row."""

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from cases import notifications, timers
from cases.access import visible_cases
from cases.errors import NotInScope
from cases.models import (
    Attachment,
    Case,
    Deadline,
    Dispatch,
    Event,
    Notification,
    Postponement,
)
from cases.selectors_pages.detail import actor_name, case_for_page
from cases.selectors_pages.lists import with_light
from cases.workflow import available_actions, available_dispatch_actions, timeline_label
from checklists.models import Stage
from teams.models import User


def case_rows(*, user: User) -> QuerySet[Case]:
    """The cases the user may see, with their warning light computed in SQL."""
    return with_light(visible_cases(user=user), now=timezone.now()).select_related(
        "item", "grid", "village"
    )


def case_detail(*, user: User, pk: int) -> Case:
    """The case (404 outside the scope) with its dispatches, deadlines, attachments and the
    actions this user may take, as the detail serializer reads them."""
    case = case_for_page(user=user, pk=pk)
    dispatches = list(case.dispatches.select_related("team", "department", "assignee"))
    deadlines = list(
        Deadline.objects.of_case(case)
        .prefetch_related(
            Prefetch(
                "postponements",
                queryset=Postponement.objects.select_related("requested_by", "decided_by"),
            )
        )
        .order_by("started_at", "id")
    )
    for deadline in deadlines:
        deadline.postponement_rows = list(deadline.postponements.all())
    attachments = list(Attachment.objects.filter(case=case).order_by("created_at", "id"))
    return _with_detail(
        user=user, case=case, dispatches=dispatches, deadlines=deadlines, attachments=attachments
    )


def filed_case_detail(
    *, user: User, case: Case, deadlines: list[Deadline], attachments: list[Attachment]
) -> Case:
    """The detail of a case this request has just filed, from the rows the filing wrote (no
    read): a new case has no dispatch and no postponement yet. Equal to case_detail's."""
    for deadline in deadlines:
        deadline.postponement_rows = []
    deadlines = sorted(deadlines, key=lambda d: (d.started_at, d.pk))
    attachments = sorted(attachments, key=lambda a: (a.created_at, a.pk))
    return _with_detail(
        user=user, case=case, dispatches=[], deadlines=deadlines, attachments=attachments
    )


def _with_detail(
    *,
    user: User,
    case: Case,
    dispatches: list[Dispatch],
    deadlines: list[Deadline],
    attachments: list[Attachment],
) -> Case:
    now = timezone.now()
    case.available_actions = available_actions(user=user, case=case)
    for dispatch in dispatches:
        dispatch.case = case  # available_dispatch_actions reads it; no query per row
        dispatch.available_actions = available_dispatch_actions(user=user, dispatch=dispatch)
    case.light = ""
    case_clocks = []
    for deadline in deadlines:
        deadline.running = deadline.is_pending and deadline.paused_at is None
        deadline.light = timers.light(deadline, now=now)
        deadline.time_left_seconds = (
            timers.time_left_seconds(deadline, now=now) if deadline.is_pending else None
        )
        # A suspended case's review clock shows until it is reviewed, red once it has fired.
        overdue_review = deadline.stage == Stage.SUSPENSION_REVIEW and deadline.met_at is None
        if (deadline.running or overdue_review) and deadline.dispatch_id is None:
            case_clocks.append(deadline)
    if case_clocks:
        case.light = min(case_clocks, key=lambda d: (d.due_at, d.pk)).light
    case.dispatch_rows = dispatches
    case.deadline_rows = deadlines
    case.attachment_rows = attachments
    return case


def case_events(*, user: User, pk: int) -> QuerySet[Event]:
    """The trace of a visible case, oldest first."""
    case = case_for_page(user=user, pk=pk)
    return Event.objects.of_case(case).select_related("actor").order_by("created_at", "id")


def label_events(events: list[Event]) -> list[Event]:
    for event in events:
        event.label = timeline_label(event.action)
        event.actor_name = actor_name(event)
    return events


def dispatch_rows(*, user: User) -> QuerySet[Dispatch]:
    """Dispatches of the cases the user may see."""
    return Dispatch.objects.filter(case__in=visible_cases(user=user).values("pk")).select_related(
        "case", "team", "department", "assignee"
    )


def with_dispatch_actions(*, user: User, dispatches: list[Dispatch]) -> list[Dispatch]:
    for dispatch in dispatches:
        dispatch.available_actions = available_dispatch_actions(user=user, dispatch=dispatch)
    return dispatches


def dispatch_case_id(*, user: User, pk: int) -> int:
    """The case of a visible dispatch (404 otherwise)."""
    case_id = dispatch_rows(user=user).filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NotInScope()
    return case_id


def postponement_case_id(*, user: User, pk: int) -> int:
    """The case of a postponement of a visible case (404 otherwise)."""
    case_id = (
        Postponement.objects.filter(pk=pk, case__in=visible_cases(user=user).values("pk"))
        .values_list("case_id", flat=True)
        .first()
    )
    if case_id is None:
        raise NotInScope()
    return case_id


def notification_rows(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("case__item")


def rendered(rows: list[Notification]) -> list[Notification]:
    """Subject and body of each notification in the active (the reader's) language."""
    for row in rows:
        row.subject, row.body = notifications.render(row)
        row.case_number = row.case.number if row.case_id else None
    return rows
