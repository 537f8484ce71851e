"""What the village does with a whistle: accept, reject, merge, solve on the spot, whistle up."""

from collections.abc import Sequence
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import batching, timers
from cases.access import is_village_officer_of, require
from cases.errors import IllegalTransition, InvalidInput
from cases.models import Case, Deadline, Dispatch
from cases.notifications import grid_workers, handlers_of_dispatch, town_committee
from cases.selectors import default_handlers
from cases.services.common import (
    TIMER,
    check_photos,
    lock_case,
    notify,
    require_evidence,
    require_text,
    store_photos,
)
from cases.transitions import allowed_actions, apply_transition
from checklists.models import Stage
from teams.models import Department, Team, User


def accept_case(*, user: User, case_id: int, expected_version: int | None = None) -> Case:
    with transaction.atomic():
        case = lock_case(user=user, case_id=case_id, expected_version=expected_version)
        require(is_village_officer_of(user, case))
        apply_transition(case=case, action="accept", actor=user, public=True)
        timers.meet_deadlines(case=case, stages=[Stage.SCREENING])
        timers.start_deadline(case=case, stage=Stage.VILLAGE_HANDLING)
        timers.sync_dispatch_board(case=case)
        return case


def reject_case(
    *,
    user: User,
    case_id: int,
    reason: str,
    redirect: str = "",
    expected_version: int | None = None,
) -> Case:
    """Refuse a whistle that is not for whistling, saying why and where to go instead."""
    with transaction.atomic():
        case = lock_case(user=user, case_id=case_id, expected_version=expected_version)
        require(is_village_officer_of(user, case))
        reason = require_text(reason, field="reason", message=_("Give the reason for rejection."))
        _reject(case=case, user=user, reason=reason, redirect=redirect.strip())
        return case


def _reject(
    *, case: Case, user: User, reason: str, redirect: str, data: dict | None = None
) -> None:
    case.rejection_reason = reason
    case.redirect = redirect
    case.save(update_fields=["rejection_reason", "redirect"])
    apply_transition(
        case=case,
        action="reject",
        actor=user,
        data={"reason": reason, "redirect": redirect, **(data or {})},
        public=True,
    )
    timers.meet_deadlines(case=case)
    timers.sync_dispatch_board(case=case)
    if case.reporter_id:
        notify(recipients=[case.reporter], kind="case_rejected", case=case, data={"reason": reason})


def merge_case(
    *, user: User, case_id: int, into_case_id: int, expected_version: int | None = None
) -> Case:
    """Merge a duplicate whistle into the open case it repeats: it is rejected as a duplicate
    and linked to that case."""
    with transaction.atomic():
        case = lock_case(user=user, case_id=case_id, expected_version=expected_version)
        require(is_village_officer_of(user, case))
        target = Case.objects.filter(pk=into_case_id, village_id=case.village_id).first()
        if target is None or target.pk == case.pk or not target.is_open:
            raise InvalidInput(
                fields={"into": [_("Choose an open case of this village to merge into.")]}
            )
        case.merged_into = target
        case.save(update_fields=["merged_into"])
        reason = _("Duplicate of %(number)s.") % {"number": target.number}
        _reject(
            case=case, user=user, reason=reason, redirect="", data={"merged_into": target.number}
        )
        return case


def resolve_on_spot(
    *,
    user: User,
    case_id: int,
    note: str,
    photos: Sequence[UploadedFile] | None = None,
    expected_version: int | None = None,
) -> Case:
    """The village solved it itself ("small things don't leave the village")."""
    photos = check_photos(photos)
    with transaction.atomic():
        case = lock_case(user=user, case_id=case_id, expected_version=expected_version)
        require(is_village_officer_of(user, case))
        if "resolve_on_spot" not in allowed_actions(case):
            raise IllegalTransition()
        require_evidence(note=note, photos=photos)
        case.resolution_note = note.strip()
        case.save(update_fields=["resolution_note"])
        event = apply_transition(
            case=case,
            action="resolve_on_spot",
            actor=user,
            data={"note": note.strip()},
            public=True,
        )
        store_photos(case=case, photos=photos, purpose="evidence", user=user, event=event)
        timers.meet_deadlines(case=case, stages=[Stage.VILLAGE_HANDLING, Stage.SCREENING])
        timers.start_deadline(case=case, stage=Stage.VERIFICATION)
        timers.sync_dispatch_board(case=case)
        notify(recipients=grid_workers(case.grid), kind="case_resolved", case=case)
        return case


def whistle_to_town(
    *, user: User | None, case_id: int, note: str = "", expected_version: int | None = None
) -> Case:
    """Whistle the case up to the town: dispatches go to the item's default handlers.

    `user=None` is the village-handling timer."""
    with transaction.atomic():
        case = lock_case(user=user, case_id=case_id, expected_version=expected_version)
        if user is not None:
            require(is_village_officer_of(user, case))
        whistle_locked(case=case, user=user, note=note)
        return case


def whistle_locked(
    *, case: Case, user: User | None, note: str = "", data: dict | None = None
) -> None:
    """The whistle itself, on a case the caller has locked."""
    teams, departments = batching.remember(
        ("default_handlers", case.item_id, case.town_id, case.city_id),
        lambda: default_handlers(case=case),
    )
    apply_transition(
        case=case,
        action="whistle",
        actor=user,
        actor_label="" if user else TIMER,
        data={
            "note": note,
            "teams": [team.code for team in teams],
            "departments": [department.code for department in departments],
            **(data or {}),
        },
        public=True,
    )
    timers.meet_deadlines(case=case, stages=[Stage.SCREENING, Stage.VILLAGE_HANDLING])
    now = timezone.now()
    handling = timers.plan_deadline(case=case, stage=Stage.HANDLING, start=now)
    create_dispatches(
        case=case,
        handlers=[*teams, *departments],
        now=now,
        other_clocks=[handling] if handling else [],
    )
    timers.sync_dispatch_board(case=case)
    notify(recipients=town_committee(case.town), kind="case_whistled", case=case)


def create_dispatch(
    *,
    case: Case,
    handler: Team | Department,
    now: datetime | None = None,
    origin: str = Dispatch.Origin.WHISTLE,
    task: str = "",
    due_at: datetime | None = None,
) -> Dispatch:
    """Hand the case to one team or department and start its report-in clock."""
    (dispatch,) = create_dispatches(
        case=case, handlers=[handler], now=now, origin=origin, task=task, due_at=due_at
    )
    return dispatch


def create_dispatches(
    *,
    case: Case,
    handlers: Sequence[Team | Department],
    now: datetime | None = None,
    origin: str = Dispatch.Origin.WHISTLE,
    task: str = "",
    due_at: datetime | None = None,
    other_clocks: Sequence[Deadline] = (),
) -> list[Dispatch]:
    """Hand the case to teams and departments at once: the dispatches in one insert, their
    report-in clocks (with `other_clocks`, started at the same moment) in another, since a
    whistle fired by the timer does this for thousands of cases in a burst."""
    now = now or timezone.now()
    for handler in handlers:
        if isinstance(handler, Team) and not handler.serves(case.village):
            raise InvalidInput(fields={"team": [_("A town's team serves its own town only.")]})
    # The report-in clock is planned first, so each dispatch is written once with its due time.
    report_in = timers.plan_deadline(case=case, stage=Stage.REPORT_IN, start=now)
    dispatches = Dispatch.objects.bulk_create(
        [
            Dispatch(
                case=case,
                team=handler if isinstance(handler, Team) else None,
                department=None if isinstance(handler, Team) else handler,
                origin=origin,
                task=task,
                dispatched_at=now,
                report_in_due=report_in.due_at if report_in else now,
                due_at=due_at,
            )
            for handler in handlers
        ]
    )
    clocks = list(other_clocks)
    if report_in is not None:
        clocks += [
            timers.plan_deadline(
                case=case, stage=Stage.REPORT_IN, dispatch=dispatch, start=now, due=report_in.due_at
            )
            for dispatch in dispatches
        ]
    if clocks:
        Deadline.objects.bulk_create(clocks)
    for dispatch, handler in zip(dispatches, handlers, strict=True):
        notify(
            recipients=handlers_of_dispatch(dispatch),
            kind="case_whistled",
            case=case,
            data={"handler": handler.code},
        )
    return dispatches
