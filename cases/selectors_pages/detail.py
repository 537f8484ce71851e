"""Reads for the case detail page and the action forms: everything the page shows in a fixed
number of queries, whatever the length of the trace or the number of dispatches."""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import partitions, timers
from cases.access import (
    handles_dispatch,
    is_captain_on_case,
    is_committee_at_level,
    is_village_officer_of,
    visible_cases,
)
from cases.errors import NotInScope
from cases.models import (
    Attachment,
    Case,
    Deadline,
    Dispatch,
    Event,
    Level,
    Postponement,
    Satisfaction,
    Status,
)
from cases.rejections import reason_text
from cases.selectors_pages.board import pressure
from cases.workflow import available_actions, available_dispatch_actions, timeline_label
from cases.workflow.routing import LEVEL_ROUTE
from cases.workflow.updates import PHOTO_VISIBILITY, PUBLIC_UPDATE
from checklists.models import Stage, TimeUnit
from teams.levels import with_levels
from teams.models import Department, Region, Role, Team, User
from teams.service_areas import teams_serving

# Who acted when it was not a user.
ACTOR_LABELS = {
    "timer": gettext_lazy("timer"),
    "hotline": gettext_lazy("12345 hotline"),
    "citizen": gettext_lazy("citizen"),
    "investigation": gettext_lazy("comprehensive investigation"),
    LEVEL_ROUTE: with_levels(gettext_lazy("the %(town)s, where whistles are blown")),
}


def display_name(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def actor_name(event: Event) -> str:
    if event.actor_id:
        return display_name(event.actor)
    label = ACTOR_LABELS.get(event.actor_label)
    return str(label) if label else (event.actor_label or _("system"))


@dataclass
class TimelineEntry:
    event: Event
    actor: str
    label: str
    from_status: str
    to_status: str
    details: list[tuple[str, str]]
    attachments: list[Attachment]
    # Whether the citizen reads the entry's text: only a public update's message; every
    # other note and reason of the trace is internal.
    text_public: bool = False


@dataclass
class DispatchRow:
    dispatch: Dispatch
    actions: list[str]


@dataclass
class DeadlineRow:
    deadline: Deadline
    running: bool
    may_postpone: bool
    pending: list[Postponement]
    decided: list[Postponement]
    # "fired" or "ended": a limit the case moved on from, shown as past instead of a light.
    past: str = ""


@dataclass
class CaseDetail:
    case: Case
    actions: list[str]
    dispatches: list[DispatchRow]
    deadlines: list[DeadlineRow]
    timeline: list[TimelineEntry]
    photos: list[Attachment]
    documents: list[Attachment]
    decides_postponements: bool
    map_data: dict[str, Any] = field(default_factory=dict)
    # "2025-06" when the timeline is empty because its month was archived (cases.partitions).
    history_archived: str = ""


def case_for_page(*, user: User, pk: int) -> Case:
    """The case with what its header shows, if the user may see it (404 otherwise)."""
    case = (
        visible_cases(user=user)
        .select_related(
            "item",
            "grid",
            "village",
            "town",
            "city",
            "reporter",
            "possible_duplicate_of",
            "merged_into",
        )
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise NotInScope()
    return case


def _status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else value


# Region codes among the names of `_handler_names` (a transfer's villages and towns).
REGION = "region:"


def _handler_names(codes: set[str]) -> dict[str, str]:
    """Names of teams and departments by code, and of regions by REGION + code, for the data
    of the events (a query per kind named)."""
    if not codes:
        return {}
    regions = {code.removeprefix(REGION) for code in codes if code.startswith(REGION)}
    codes = codes - {REGION + code for code in regions}
    names = {
        REGION + region.code: region.name for region in Region.objects.filter(code__in=regions)
    }
    names.update({team.code: team.name for team in Team.objects.filter(code__in=codes)})
    names.update(
        {
            department.code: department.name
            for department in Department.objects.filter(code__in=codes)
        }
    )
    return names


def _codes_in(data: dict) -> set[str]:
    codes = set()
    for key in ("handler", "to_handler"):
        if isinstance(data.get(key), str):
            codes.add(data[key])
    for key in ("from_village", "from_town", "to_village", "to_town"):  # a transfer's places
        if isinstance(data.get(key), str):
            codes.add(REGION + data[key])
    for key in ("teams", "departments", "ended"):
        codes.update(code for code in data.get(key) or [] if isinstance(code, str))
    for task in data.get("tasks") or []:
        if isinstance(task, dict) and isinstance(task.get("handler"), str):
            codes.add(task["handler"])
    return codes


def _format_when(value: str) -> str:
    from django.utils import formats, timezone

    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        parsed_date = parse_date(value) if isinstance(value, str) else None
        return formats.date_format(parsed_date, "SHORT_DATE_FORMAT") if parsed_date else value
    if timezone.is_aware(parsed):
        parsed = timezone.localtime(parsed)
    return formats.date_format(parsed, "SHORT_DATETIME_FORMAT")


def _choice(choices: type, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def event_details(event: Event, names: dict[str, str]) -> list[tuple[str, str]]:
    """The parts of an event's data that matter to a reader, labelled in their language."""
    data = event.data or {}
    rows: list[tuple[str, str]] = []

    def add(label: str, value: Any) -> None:
        if value not in (None, "", [], {}):
            rows.append((label, str(value)))

    def name(code: Any) -> str:
        return names.get(code, code) if isinstance(code, str) else ""

    add(_("Message for the public"), data.get("message"))
    if event.action == PHOTO_VISIBILITY and "public" in data:
        add(_("Who may see it"), _("public") if data["public"] else _("internal"))
    # A rejection's reason by its code, in the reader's language (the number is its own line).
    add(_("Reason"), reason_text(code=data.get("reason_code") or "", text=data.get("reason") or ""))
    add(_("Where to go instead"), data.get("redirect"))
    add(_("Note"), data.get("note"))
    add(_("Decision"), data.get("decision"))
    add(_("Handler"), name(data.get("handler")))
    add(_("Transferred to"), name(data.get("to_handler")))
    if data.get("to_village"):  # a case transferred: from where to where

        def place(village: Any, town: Any) -> str:
            return ", ".join(name(REGION + code) for code in (village, town) if code)

        add(_("Moved from"), place(data.get("from_village"), data.get("from_town")))
        add(_("Moved to"), place(data["to_village"], data.get("to_town")))
        add(_("Dispatches ended"), ", ".join(name(code) for code in data.get("ended") or []))
    handlers = [name(c) for c in [*(data.get("teams") or []), *(data.get("departments") or [])]]
    add(_("Dispatched to"), ", ".join(handlers))
    for task in data.get("tasks") or []:
        if isinstance(task, dict):
            add(
                _("Task"),
                _("%(handler)s: %(action)s, due %(due)s")
                % {
                    "handler": name(task.get("handler")),
                    "action": task.get("action", ""),
                    "due": _format_when(task.get("due_at", "")),
                },
            )
    add(_("Task"), data.get("task"))
    if data.get("return_reason"):
        add(_("Returned because"), _choice(Dispatch.ReturnReason, data["return_reason"]))
    if data.get("ruling"):
        add(_("Ruling on the return"), _choice(Dispatch.ReturnRuling, data["ruling"]))
    add(_("Assignee"), data.get("assignee"))
    add(_("Legal instrument number"), data.get("legal_instrument_number"))
    if data.get("satisfaction"):
        add(_("Satisfaction"), _choice(Satisfaction, data["satisfaction"]))
    add(_("Comment"), data.get("comment"))
    if data.get("stage"):
        add(_("Stage"), _choice(Stage, data["stage"]))
    if data.get("amount") and data.get("unit"):
        add(_("Extra time"), f"{data['amount']} {_choice(TimeUnit, data['unit'])}")
    if "approved" in data:
        add(_("Decision"), _("approved") if data["approved"] else _("refused"))
    if data.get("due_at") and event.action == "decide_postponement":
        add(_("New due time"), _format_when(data["due_at"]))
    if data.get("review_on"):
        add(_("Review on"), _format_when(data["review_on"]))
    if event.action == "report_in" and "late" in data:
        add(_("Report-in"), _("late") if data["late"] else _("on time"))
    add(_("Possible duplicate of"), data.get("possible_duplicate"))
    add(_("Merged into"), data.get("merged_into"))
    add(_("Rework"), data.get("rework_count"))
    return rows


def _timeline(case: Case, attachments: list[Attachment]) -> list[TimelineEntry]:
    events = list(Event.objects.of_case(case).select_related("actor").order_by("created_at", "id"))
    by_event: dict[int, list[Attachment]] = {}
    by_pk = {attachment.pk: attachment for attachment in attachments}
    for attachment in attachments:
        if attachment.event_id:
            by_event.setdefault(attachment.event_id, []).append(attachment)
    for event in events:  # a change of visibility shows the photo it changed
        if event.action == PHOTO_VISIBILITY:
            changed = by_pk.get((event.data or {}).get("attachment"))
            if changed is not None:
                by_event.setdefault(event.pk, []).append(changed)
    codes: set[str] = set()
    for event in events:
        codes |= _codes_in(event.data or {})
    names = _handler_names(codes)
    entries = []
    for event in events:
        moved = event.from_status != event.to_status
        entries.append(
            TimelineEntry(
                event=event,
                actor=actor_name(event),
                label=timeline_label(event.action),
                from_status=_status_label(event.from_status) if moved else "",
                to_status=_status_label(event.to_status) if moved or not event.from_status else "",
                details=event_details(event, names),
                attachments=by_event.get(event.pk, []),
                text_public=event.action == PUBLIC_UPDATE,
            )
        )
    return entries


def handles_deadline(*, user: User, case: Case, deadline: Deadline, captain: bool) -> bool:
    """Who may ask to postpone a deadline: the handler of its dispatch, the village officer for
    the village's stages, the captain for the others (as the service checks); nobody for the
    committee's re-dispatch clock on a returned dispatch."""
    if deadline.stage == Stage.REDISPATCH:
        return False
    if deadline.dispatch_id is not None:
        return handles_dispatch(user, deadline.dispatch)
    if deadline.stage in (Stage.SCREENING, Stage.VILLAGE_HANDLING, Stage.VERIFICATION):
        return is_village_officer_of(user, case)
    return captain


def running_deadlines(*, case: Case) -> QuerySet[Deadline]:
    return (
        Deadline.objects.of_case(case)
        .filter(fired_at__isnull=True, met_at__isnull=True, paused_at__isnull=True)
        .select_related("dispatch__team", "dispatch__department")
    )


def postponable_deadlines(*, user: User, case: Case) -> list[Deadline]:
    """Running deadlines of the case this user may ask to postpone, not asked for before."""
    captain = is_captain_on_case(user, case) if case.level != Level.VILLAGE else False
    rows = running_deadlines(case=case).filter(postponements__isnull=True).order_by("due_at")
    return [d for d in rows if handles_deadline(user=user, case=case, deadline=d, captain=captain)]


def _deadlines(*, user: User, case: Case, actions: list[str]) -> list[DeadlineRow]:
    deadlines = list(
        Deadline.objects.of_case(case)
        .select_related("dispatch__team", "dispatch__department")
        .prefetch_related(
            Prefetch(
                "postponements",
                queryset=Postponement.objects.select_related("requested_by", "decided_by"),
            )
        )
        .order_by("started_at", "id")
    )
    may_request = "request_postponement" in actions
    captain = may_request and case.level != Level.VILLAGE and is_captain_on_case(user, case)
    rows = []
    for deadline in deadlines:
        postponements = list(deadline.postponements.all())
        running = deadline.is_pending and deadline.paused_at is None
        past = ""
        if deadline.met_at is None and (
            not case.is_open or not timers.is_current_clock(deadline, clocks=deadlines)
        ):
            past = "fired" if deadline.fired_at is not None else "ended"
            running = False
        rows.append(
            DeadlineRow(
                deadline=deadline,
                running=running,
                may_postpone=may_request
                and running
                and not postponements
                and handles_deadline(user=user, case=case, deadline=deadline, captain=captain),
                pending=[p for p in postponements if p.decision == Postponement.Decision.PENDING],
                decided=[p for p in postponements if p.decision != Postponement.Decision.PENDING],
                past=past,
            )
        )
    return rows


def _dispatches(*, user: User, case: Case) -> list[DispatchRow]:
    dispatches = list(
        case.dispatches.select_related(
            "team", "department", "assignee", "reported_in_by", "returned_by"
        ).annotate(**pressure())  # urged ×N and the open supervision order, in the same query
    )
    rows = []
    for dispatch in dispatches:
        dispatch.case = case  # available_dispatch_actions reads the case; no query per row
        rows.append(
            DispatchRow(
                dispatch=dispatch,
                actions=available_dispatch_actions(user=user, dispatch=dispatch),
            )
        )
    return rows


def map_data(case: Case, *, tile_url: str, attribution: str, crs: str, icons: str) -> dict:
    return {
        "polygon": case.grid.polygon,
        "lat": case.latitude,
        "lng": case.longitude,
        "tileUrl": tile_url,
        "attribution": attribution,
        "crs": crs,
        "iconPath": icons,
        "gridName": case.grid.name,
    }


def case_detail(*, user: User, case: Case) -> CaseDetail:
    """The whole detail page of one case for this user."""
    actions = available_actions(user=user, case=case)
    attachments = list(
        Attachment.objects.filter(case=case).select_related("uploaded_by").order_by("created_at")
    )
    timeline = _timeline(case, attachments)
    return CaseDetail(
        case=case,
        actions=actions,
        dispatches=_dispatches(user=user, case=case),
        deadlines=_deadlines(user=user, case=case, actions=actions),
        timeline=timeline,
        history_archived="" if timeline else partitions.archived_month_of(case),
        photos=[a for a in attachments if a.kind == Attachment.Kind.PHOTO],
        documents=[a for a in attachments if a.kind == Attachment.Kind.DOCUMENT],
        decides_postponements=is_committee_at_level(user, case),
    )


def dispatch_for_page(*, user: User, pk: int) -> Dispatch:
    """A dispatch whose case the user may see (404 otherwise), with its case."""
    dispatch = (
        Dispatch.objects.select_related("team", "department", "assignee").filter(pk=pk).first()
    )
    if dispatch is None:
        raise NotInScope()
    dispatch.case = case_for_page(user=user, pk=dispatch.case_id)
    return dispatch


def postponement_for_page(*, user: User, pk: int) -> Postponement:
    postponement = Postponement.objects.filter(pk=pk).first()
    if postponement is None:
        raise NotInScope()
    postponement.case = case_for_page(user=user, pk=postponement.case_id)
    return postponement


def attachment_for_user(*, user: User, pk: int) -> Attachment:
    """An attachment of a case the user may see; any other is not found."""
    attachment = Attachment.objects.filter(pk=pk).first()
    if attachment is None or not visible_cases(user=user).filter(pk=attachment.case_id).exists():
        raise NotInScope()
    return attachment


def attachment_choices(*, case: Case) -> list[tuple[Attachment, str]]:
    """The case's photos and documents as the publishing form lists them: what each is, what
    it was uploaded for, and whether the public sees it now."""
    rows = Attachment.objects.filter(case=case).order_by("created_at", "id")
    choices = []
    for number, attachment in enumerate(rows, start=1):
        label = _("%(kind)s %(number)d (%(purpose)s), now %(visibility)s") % {
            "kind": attachment.get_kind_display(),
            "number": number,
            "purpose": attachment.get_purpose_display(),
            "visibility": _("public") if attachment.public else _("internal"),
        }
        choices.append((attachment, label))
    return choices


def team_members(*, team_id: int) -> QuerySet[User]:
    """Active members and captains of a team, who may be assigned a dispatch."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__team_id=team_id,
            memberships__role__in=[Role.TEAM_MEMBER, Role.TEAM_CAPTAIN],
        )
        .distinct()
        .order_by("username")
    )


def dispatch_targets(*, case: Case) -> tuple[QuerySet[Team], QuerySet[Department]]:
    """The teams serving the case's town (teams.service_areas) and the departments of its town
    or city."""
    teams = teams_serving(towns=[case.town_id]).order_by("code")
    departments = Department.objects.filter(
        Q(region_id=case.town_id) | Q(region_id=case.city_id)
    ).order_by("code")
    return teams, departments


def case_id_by_number(*, user: User, number: str) -> int | None:
    """A visible case's id by its readable number (for merging by number)."""
    return (
        visible_cases(user=user)
        .filter(number__iexact=number.strip())
        .values_list("pk", flat=True)
        .first()
    )
