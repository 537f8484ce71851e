"""What the town's teams and the departments do with a dispatched case."""

from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import timers
from cases.access import (
    handles_dispatch,
    is_captain_on_case,
    is_town_committee_of,
    require,
    scope_of,
)
from cases.errors import IllegalTransition, InvalidInput
from cases.models import Case, Dispatch, Level, Status
from cases.notifications import (
    city_committee,
    grid_workers,
    handlers_of_dispatch,
    town_committee,
)
from cases.services.common import (
    TIMER,
    check_photos,
    lock_case,
    lock_dispatch,
    notify,
    require_evidence,
    require_text,
    store_photos,
)
from cases.services.village import create_dispatch
from cases.transitions import allowed_actions, apply_transition, record_event
from checklists.models import Stage
from teams.models import Department, Membership, Role, Team, User


def report_in(*, user: User, dispatch_id: int, expected_version: int | None = None) -> Dispatch:
    """The team or department acknowledges its dispatch (报到), on time or late."""
    with transaction.atomic():
        case, dispatch = lock_dispatch(
            user=user, dispatch_id=dispatch_id, expected_version=expected_version
        )
        require(handles_dispatch(user, dispatch))
        if dispatch.state != Dispatch.State.WAITING:
            raise IllegalTransition(_("This dispatch has already reported in."))
        now = timezone.now()
        dispatch.state = Dispatch.State.REPORTED
        dispatch.reported_in_at = now
        dispatch.reported_in_by = user
        dispatch.late = dispatch.late or now > dispatch.report_in_due
        dispatch.save(update_fields=["state", "reported_in_at", "reported_in_by", "late"])
        data = {"handler": dispatch.handler.code, "late": dispatch.late}
        if case.status == Status.DISPATCHED:
            apply_transition(
                case=case,
                action="report_in",
                actor=user,
                dispatch=dispatch,
                data=data,
                public=True,
            )
        elif "report_in" in allowed_actions(case) or case.status == Status.IN_CONSULTATION:
            record_event(case=case, action="report_in", actor=user, dispatch=dispatch, data=data)
        else:
            raise IllegalTransition()
        timers.meet_deadlines(case=case, stages=[Stage.REPORT_IN], dispatch=dispatch)
        timers.sync_dispatch_board(case=case)
        return dispatch


def assign_dispatch(
    *, user: User, dispatch_id: int, assignee_id: int, expected_version: int | None = None
) -> Dispatch:
    """The captain assigns a member of the team to the dispatch."""
    with transaction.atomic():
        case, dispatch = lock_dispatch(
            user=user, dispatch_id=dispatch_id, expected_version=expected_version
        )
        require(
            dispatch.team_id is not None and handles_dispatch(user, dispatch, captain_only=True)
        )
        if dispatch.state not in Dispatch.ACTIVE_STATES:
            raise IllegalTransition()
        member = (
            Membership.objects.filter(
                user_id=assignee_id,
                team_id=dispatch.team_id,
                role__in=[Role.TEAM_MEMBER, Role.TEAM_CAPTAIN],
                user__is_active=True,
            )
            .select_related("user")
            .first()
        )
        if member is None:
            raise InvalidInput(fields={"assignee": [_("Choose a member of this team.")]})
        dispatch.assignee = member.user
        dispatch.save(update_fields=["assignee"])
        record_event(
            case=case,
            action="assign",
            actor=user,
            dispatch=dispatch,
            data={"assignee": member.user.get_username()},
        )
        notify(recipients=[member.user], kind="case_assigned", case=case)
        return dispatch


def record_handling(
    *,
    user: User,
    dispatch_id: int,
    note: str,
    photos: Sequence[UploadedFile] | None = None,
    expected_version: int | None = None,
) -> Dispatch:
    """Handling notes and photos on a dispatch, kept in the trace."""
    photos = check_photos(photos)
    with transaction.atomic():
        case, dispatch = lock_dispatch(
            user=user, dispatch_id=dispatch_id, expected_version=expected_version
        )
        require(handles_dispatch(user, dispatch))
        if dispatch.state != Dispatch.State.REPORTED:
            raise IllegalTransition(_("Report in before recording the handling."))
        note = require_text(note, field="note", message=_("Write what was done."))
        dispatch.handling_note = (dispatch.handling_note + "\n" + note).strip()
        dispatch.handled_at = timezone.now()
        dispatch.save(update_fields=["handling_note", "handled_at"])
        event = record_event(
            case=case, action="handle", actor=user, dispatch=dispatch, data={"note": note}
        )
        store_photos(
            case=case,
            photos=photos,
            purpose="handling",
            user=user,
            event=event,
            dispatch=dispatch,
        )
        return dispatch


def resolve_dispatch(
    *,
    user: User,
    dispatch_id: int,
    note: str,
    photos: Sequence[UploadedFile] | None = None,
    legal_instrument_number: str = "",
    expected_version: int | None = None,
) -> Dispatch:
    """A department (or a team) reports its own part done; the case is resolved by the captain."""
    photos = check_photos(photos)
    with transaction.atomic():
        case, dispatch = lock_dispatch(
            user=user, dispatch_id=dispatch_id, expected_version=expected_version
        )
        require(handles_dispatch(user, dispatch))
        if dispatch.state != Dispatch.State.REPORTED:
            raise IllegalTransition(_("Report in before resolving your part."))
        require_evidence(note=note, photos=photos, legal_instrument_number=legal_instrument_number)
        now = timezone.now()
        dispatch.state = Dispatch.State.RESOLVED
        dispatch.resolved_at = now
        dispatch.handling_note = (dispatch.handling_note + "\n" + note.strip()).strip()
        dispatch.save(update_fields=["state", "resolved_at", "handling_note"])
        event = record_event(
            case=case,
            action="resolve_dispatch",
            actor=user,
            dispatch=dispatch,
            data={"note": note.strip(), "legal_instrument_number": legal_instrument_number},
        )
        store_photos(
            case=case, photos=photos, purpose="evidence", user=user, event=event, dispatch=dispatch
        )
        timers.meet_deadlines(case=case, dispatch=dispatch)
        timers.sync_dispatch_board(case=case)
        return dispatch


def resolve_case(
    *,
    user: User,
    case_id: int,
    note: str,
    photos: Sequence[UploadedFile] | None = None,
    legal_instrument_number: str = "",
    expected_version: int | None = None,
) -> Case:
    """The captain resolves the case with evidence: photos and a note, or a legal instrument."""
    photos = check_photos(photos)
    with transaction.atomic():
        case = lock_case(user=user, case_id=case_id, expected_version=expected_version)
        require(is_captain_on_case(user, case))
        if "resolve" not in allowed_actions(case):
            raise IllegalTransition()
        require_evidence(note=note, photos=photos, legal_instrument_number=legal_instrument_number)
        case.resolution_note = note.strip()
        case.legal_instrument_number = legal_instrument_number.strip()[:64]
        case.save(update_fields=["resolution_note", "legal_instrument_number"])
        event = apply_transition(
            case=case,
            action="resolve",
            actor=user,
            public=True,
            data={"note": note.strip(), "legal_instrument_number": legal_instrument_number},
        )
        store_photos(case=case, photos=photos, purpose="evidence", user=user, event=event)
        now = timezone.now()
        case.dispatches.filter(state__in=Dispatch.ACTIVE_STATES).update(
            state=Dispatch.State.RESOLVED, resolved_at=now
        )
        timers.meet_deadlines(case=case)
        timers.start_deadline(case=case, stage=Stage.VERIFICATION)
        timers.sync_dispatch_board(case=case)
        notify(recipients=grid_workers(case.grid), kind="case_resolved", case=case)
        return case


def request_consultation(
    *, user: User | None, case_id: int, reason: str = "", expected_version: int | None = None
) -> Case:
    """Ask the town committee to decide the case; `user=None` is the handling timer."""
    with transaction.atomic():
        case = lock_case(user=user, case_id=case_id, expected_version=expected_version)
        if user is not None:
            require(is_captain_on_case(user, case))
            reason = require_text(
                reason, field="reason", message=_("Say what the committee must decide.")
            )
        request_consultation_locked(case=case, user=user, reason=reason)
        return case


def request_consultation_locked(
    *, case: Case, user: User | None, reason: str, data: dict | None = None
) -> None:
    apply_transition(
        case=case,
        action="request_consultation",
        actor=user,
        actor_label="" if user else TIMER,
        data={"reason": reason, **(data or {})},
        public=True,
    )
    timers.meet_deadlines(case=case, stages=[Stage.HANDLING])
    # A case the city has taken up (escalated, decided, back in handling) returns to the city.
    if case.level == Level.CITY:
        stage, recipients = Stage.CITY_CONSULTATION, city_committee(case.city)
    else:
        stage, recipients = Stage.TOWN_CONSULTATION, town_committee(case.town)
    timers.start_deadline(case=case, stage=stage)
    timers.sync_dispatch_board(case=case)
    notify(recipients=recipients, kind="consultation_requested", case=case)


def add_dispatch(
    *,
    user: User,
    case_id: int,
    team_id: int | None = None,
    department_id: int | None = None,
    task: str = "",
    expected_version: int | None = None,
) -> Dispatch:
    """The town command adds a team or a department to a case (also how it re-dispatches)."""
    with transaction.atomic():
        case = lock_case(user=user, case_id=case_id, expected_version=expected_version)
        require(is_town_committee_of(user, case))
        if case.status not in (Status.DISPATCHED, Status.IN_PROGRESS, Status.IN_CONSULTATION):
            raise IllegalTransition()
        handler = _handler(case=case, team_id=team_id, department_id=department_id)
        if case.dispatches.filter(
            state__in=Dispatch.ACTIVE_STATES, team_id=team_id, department_id=department_id
        ).exists():
            raise InvalidInput(fields={"handler": [_("This case is already dispatched there.")]})
        dispatch = create_dispatch(
            case=case, handler=handler, origin=Dispatch.Origin.ADDED, task=task.strip()
        )
        record_event(
            case=case,
            action="add_dispatch",
            actor=user,
            dispatch=dispatch,
            data={"handler": handler.code, "task": task.strip()},
        )
        timers.sync_dispatch_board(case=case)
        return dispatch


def cancel_dispatch(
    *, user: User, dispatch_id: int, reason: str, expected_version: int | None = None
) -> Dispatch:
    """The town command withdraws a dispatch (sent to the wrong handler)."""
    with transaction.atomic():
        case, dispatch = lock_dispatch(
            user=user, dispatch_id=dispatch_id, expected_version=expected_version
        )
        require(is_town_committee_of(user, case))
        if dispatch.state not in Dispatch.ACTIVE_STATES:
            raise IllegalTransition()
        reason = require_text(reason, field="reason", message=_("Say why it is withdrawn."))
        dispatch.state = Dispatch.State.CANCELLED
        dispatch.save(update_fields=["state"])
        timers.meet_deadlines(case=case, dispatch=dispatch)
        timers.sync_dispatch_board(case=case)
        record_event(
            case=case,
            action="cancel_dispatch",
            actor=user,
            dispatch=dispatch,
            data={"handler": dispatch.handler.code, "reason": reason},
        )
        notify(recipients=handlers_of_dispatch(dispatch), kind="dispatch_cancelled", case=case)
        return dispatch


def _handler(*, case: Case, team_id: int | None, department_id: int | None) -> Team | Department:
    if bool(team_id) == bool(department_id):
        raise InvalidInput(fields={"handler": [_("Choose one team or one department.")]})
    if team_id:
        team = Team.objects.filter(pk=team_id).first()
        if team is None or not team.serves(case.village):
            raise InvalidInput(fields={"handler": [_("A town's team serves its own town only.")]})
        return team
    department = Department.objects.filter(
        pk=department_id, region_id__in=[case.town_id, case.city_id]
    ).first()
    if department is None:
        raise InvalidInput(fields={"handler": [_("Choose a department of this town or city.")]})
    return department


def my_team_ids(user: User) -> frozenset[int]:
    scope = scope_of(user)
    return scope.teams.get(Role.TEAM_CAPTAIN, frozenset()) | scope.teams.get(
        Role.TEAM_MEMBER, frozenset()
    )
