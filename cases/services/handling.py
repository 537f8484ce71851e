"""What the town's teams and the departments do with a dispatched case."""

from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from cases.access import scope_of
from cases.errors import IllegalTransition, InvalidInput
from cases.models import Case, Dispatch, Status
from cases.perform import Context, perform
from cases.services.common import require_evidence, require_text
from cases.services.village import create_dispatch
from teams.levels import level_words
from teams.models import Department, Membership, Role, Team, User


def report_in(*, user: User, dispatch_id: int, expected_version: int | None = None) -> Dispatch:
    """The team or department acknowledges its dispatch (报到), on time or late."""
    return perform(
        action="report_in", user=user, dispatch_id=dispatch_id, expected_version=expected_version
    )


def run_report_in(ctx: Context) -> Dispatch:
    """The first report-in moves a dispatched case; later ones (the case in progress or with
    the committee) are records that leave it as it is."""
    case, dispatch = ctx.case, ctx.dispatch
    if case.status not in (Status.DISPATCHED, Status.IN_PROGRESS, Status.IN_CONSULTATION):
        raise IllegalTransition()
    dispatch.state = Dispatch.State.REPORTED
    dispatch.reported_in_at = ctx.now
    dispatch.reported_in_by = ctx.user
    dispatch.late = dispatch.late or ctx.now > dispatch.report_in_due
    dispatch.save(update_fields=["state", "reported_in_at", "reported_in_by", "late"])
    data = {"handler": dispatch.handler.code, "late": dispatch.late}
    if case.status == Status.DISPATCHED:
        ctx.write("report_in", data=data)
    else:
        ctx.write("report_in", data=data, public=False, record=True)
    return dispatch


def assign_dispatch(
    *, user: User, dispatch_id: int, assignee_id: int, expected_version: int | None = None
) -> Dispatch:
    """The captain assigns a member of the team to the dispatch."""
    return perform(
        action="assign",
        user=user,
        dispatch_id=dispatch_id,
        expected_version=expected_version,
        data={"assignee": assignee_id},
    )


def run_assign(ctx: Context) -> Dispatch:
    dispatch = ctx.dispatch
    member = (
        Membership.objects.filter(
            user_id=ctx.data.get("assignee"),
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
    ctx.write("assign", data={"assignee": member.user.get_username()})
    ctx.recipients = [member.user]
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
    return perform(
        action="handle",
        user=user,
        dispatch_id=dispatch_id,
        expected_version=expected_version,
        data={"note": note, "photos": photos},
    )


def run_handle(ctx: Context) -> Dispatch:
    dispatch = ctx.dispatch
    note = require_text(ctx.data.get("note"), field="note", message=_("Write what was done."))
    dispatch.handling_note = (dispatch.handling_note + "\n" + note).strip()
    dispatch.handled_at = ctx.now
    dispatch.save(update_fields=["handling_note", "handled_at"])
    ctx.write("handle", data={"note": note}, photos="handling")
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
    """A department reports its own part done; the case is resolved by the captain."""
    return perform(
        action="resolve_part",
        user=user,
        dispatch_id=dispatch_id,
        expected_version=expected_version,
        data={"note": note, "photos": photos, "legal_instrument_number": legal_instrument_number},
    )


def run_resolve_part(ctx: Context) -> Dispatch:
    dispatch = ctx.dispatch
    note = ctx.data.get("note") or ""
    legal_instrument_number = ctx.data.get("legal_instrument_number") or ""
    require_evidence(note=note, photos=ctx.photos, legal_instrument_number=legal_instrument_number)
    dispatch.state = Dispatch.State.RESOLVED
    dispatch.resolved_at = ctx.now
    dispatch.handling_note = (dispatch.handling_note + "\n" + note.strip()).strip()
    dispatch.save(update_fields=["state", "resolved_at", "handling_note"])
    ctx.write(
        "resolve_dispatch",
        data={"note": note.strip(), "legal_instrument_number": legal_instrument_number},
        photos="evidence",
    )
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
    return perform(
        action="resolve",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"note": note, "photos": photos, "legal_instrument_number": legal_instrument_number},
    )


def run_resolve(ctx: Context) -> Case:
    case = ctx.case
    note = ctx.data.get("note") or ""
    legal_instrument_number = ctx.data.get("legal_instrument_number") or ""
    require_evidence(note=note, photos=ctx.photos, legal_instrument_number=legal_instrument_number)
    case.resolution_note = note.strip()
    case.legal_instrument_number = legal_instrument_number.strip()[:64]
    case.save(update_fields=["resolution_note", "legal_instrument_number"])
    ctx.write(
        "resolve",
        data={"note": note.strip(), "legal_instrument_number": legal_instrument_number},
        photos="evidence",
    )
    case.dispatches.filter(state__in=Dispatch.ACTIVE_STATES).update(
        state=Dispatch.State.RESOLVED, resolved_at=ctx.now
    )
    return case


def request_consultation(
    *, user: User | None, case_id: int, reason: str = "", expected_version: int | None = None
) -> Case:
    """Ask the town committee to decide the case; `user=None` is the handling timer."""
    return perform(
        action="request_consultation",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"reason": reason},
    )


def run_request_consultation(ctx: Context) -> Case:
    reason = ctx.data.get("reason") or ""
    if ctx.user is not None:
        reason = require_text(
            reason, field="reason", message=_("Say what the committee must decide.")
        )
    ctx.write("request_consultation", data={"reason": reason, **(ctx.data.get("deadline") or {})})
    return ctx.case


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
    return perform(
        action="add_dispatch",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"team_id": team_id, "department_id": department_id, "task": task},
    )


def run_add_dispatch(ctx: Context) -> Dispatch:
    case = ctx.case
    team_id, department_id = ctx.data.get("team_id"), ctx.data.get("department_id")
    task = (ctx.data.get("task") or "").strip()
    handler = _handler(case=case, team_id=team_id, department_id=department_id)
    if case.dispatches.filter(
        state__in=Dispatch.ACTIVE_STATES, team_id=team_id, department_id=department_id
    ).exists():
        raise InvalidInput(fields={"handler": [_("This case is already dispatched there.")]})
    dispatch = create_dispatch(case=case, handler=handler, origin=Dispatch.Origin.ADDED, task=task)
    ctx.write("add_dispatch", data={"handler": handler.code, "task": task}, dispatch=dispatch)
    return dispatch


def cancel_dispatch(
    *, user: User, dispatch_id: int, reason: str, expected_version: int | None = None
) -> Dispatch:
    """The town command withdraws a dispatch (sent to the wrong handler)."""
    return perform(
        action="cancel",
        user=user,
        dispatch_id=dispatch_id,
        expected_version=expected_version,
        data={"reason": reason},
    )


def run_cancel(ctx: Context) -> Dispatch:
    dispatch = ctx.dispatch
    reason = require_text(
        ctx.data.get("reason"), field="reason", message=_("Say why it is withdrawn.")
    )
    dispatch.state = Dispatch.State.CANCELLED
    dispatch.save(update_fields=["state"])
    ctx.write("cancel_dispatch", data={"handler": dispatch.handler.code, "reason": reason})
    return dispatch


def _handler(*, case: Case, team_id: int | None, department_id: int | None) -> Team | Department:
    if bool(team_id) == bool(department_id):
        raise InvalidInput(fields={"handler": [_("Choose one team or one department.")]})
    if team_id:
        team = Team.objects.filter(pk=team_id).first()
        if team is None or not team.serves(case.village):
            raise InvalidInput(
                fields={"handler": [_("This team does not serve the case's place.")]}
            )
        return team
    department = Department.objects.filter(
        pk=department_id, region_id__in=[case.town_id, case.city_id]
    ).first()
    if department is None:
        raise InvalidInput(
            fields={
                "handler": [_("Choose a department of this %(town)s or %(city)s.") % level_words()]
            }
        )
    return department


def my_team_ids(user: User) -> frozenset[int]:
    scope = scope_of(user)
    return scope.teams.get(Role.TEAM_CAPTAIN, frozenset()) | scope.teams.get(
        Role.TEAM_MEMBER, frozenset()
    )
