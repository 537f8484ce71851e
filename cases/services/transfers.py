"""A case or a dispatch moved to where it belongs (移交) by the level that owns it
(docs/workflow.md, cases/workflow/transfers.py)."""

from django.utils.translation import gettext as _

from cases import timers
from cases.errors import InvalidInput
from cases.models import Case, Dispatch, Level, Status
from cases.perform import Context, perform
from cases.selectors import transfer_grid, transfer_villages
from cases.services.common import require_text
from cases.services.handling import _handler
from cases.services.village import create_dispatch
from checklists.models import Stage
from teams.levels import level_words
from teams.models import Region, User


def transfer_case(
    *,
    user: User,
    case_id: int,
    village_id: int,
    reason: str,
    expected_version: int | None = None,
) -> Case:
    """Move a whistle filed in the wrong place to the village it belongs to: it is screened
    there again with fresh clocks, and the dispatches of the wrong place end without a
    penalty for their units."""
    return perform(
        action="transfer",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"village": village_id, "reason": reason},
    )


def run_transfer(ctx: Context) -> Case:
    case = ctx.case
    errors: dict[str, list[str]] = {}
    village = grid = None
    try:
        village = _target_village(ctx)
        grid = transfer_grid(village=village, case=case)
        if grid is None:
            raise InvalidInput(
                fields={
                    "village": [
                        _("This %(village)s has no grid yet: it cannot take cases.") % level_words()
                    ]
                }
            )
    except InvalidInput as error:
        errors.update(error.fields)
    try:
        reason = require_text(
            ctx.data.get("reason"), field="reason", message=_("Say why the case is transferred.")
        )
    except InvalidInput as error:
        errors.update(error.fields)
    if errors:
        raise InvalidInput(fields=errors)

    from_village, from_town = case.village_id, case.town_id
    old = Region.objects.in_bulk([from_village, from_town])
    ended = list(case.dispatches.filter(state__in=Dispatch.ACTIVE_STATES).select_related("team"))
    case.grid, case.village, case.town = grid, village, village.parent
    case.save(update_fields=["grid", "village", "town"])
    Dispatch.objects.filter(pk__in=[d.pk for d in ended]).update(state=Dispatch.State.CANCELLED)
    ctx.write(
        "transfer",
        target=Status.FILED,
        level=Level.VILLAGE,
        data={
            "reason": reason,
            "from_village": old[from_village].code,
            "from_town": old[from_town].code,
            "to_village": village.code,
            "to_town": village.parent.code,
            "grid": grid.code,
            "ended": [dispatch.handler.code for dispatch in ended],
            # For the notices (cases/workflow/transfers.py).
            "from_village_id": from_village,
            "from_town_id": from_town,
            "ended_ids": [dispatch.pk for dispatch in ended],
        },
    )
    return case


def _target_village(ctx: Context) -> Region:
    """The village chosen (a form's row or an API id), within the actor's reach."""
    value = ctx.data.get("village")
    village_id = getattr(value, "pk", value)
    if not village_id:
        raise InvalidInput(
            fields={"village": [_("Choose the %(village)s the case moves to.") % level_words()]}
        )
    if village_id == ctx.case.village_id:
        raise InvalidInput(
            fields={
                "village": [
                    _("The case is already in this %(village)s: choose another one.")
                    % level_words()
                ]
            }
        )
    village = transfer_villages(user=ctx.user, case=ctx.case).filter(pk=village_id).first()
    if village is None:
        raise InvalidInput(
            fields={
                "village": [
                    _("You may move the case only to a %(village)s in your area.") % level_words()
                ]
            }
        )
    return village


def transfer_dispatch(
    *,
    user: User,
    dispatch_id: int,
    reason: str,
    team_id: int | None = None,
    department_id: int | None = None,
    expected_version: int | None = None,
) -> Dispatch:
    """The committee moves a dispatch routed to the wrong unit to the right team or
    department: the old dispatch ends without a penalty, the new unit reports in within a
    fresh limit. Returns the new dispatch."""
    return perform(
        action="transfer_dispatch",
        user=user,
        dispatch_id=dispatch_id,
        expected_version=expected_version,
        data={"team_id": team_id, "department_id": department_id, "reason": reason},
    )


def run_transfer_dispatch(ctx: Context) -> Dispatch:
    case, old = ctx.case, ctx.dispatch
    team_id, department_id = ctx.data.get("team_id"), ctx.data.get("department_id")
    errors: dict[str, list[str]] = {}
    handler = None
    try:
        handler = _handler(case=case, team_id=team_id, department_id=department_id)
        if (old.team_id, old.department_id) == (team_id or None, department_id or None):
            raise InvalidInput(
                fields={"handler": [_("The dispatch is already with this unit: choose another.")]}
            )
        if case.dispatches.filter(
            state__in=Dispatch.ACTIVE_STATES,
            team_id=team_id or None,
            department_id=department_id or None,
        ).exists():
            raise InvalidInput(fields={"handler": [_("This case is already dispatched there.")]})
    except InvalidInput as error:
        errors.update(error.fields)
    try:
        reason = require_text(
            ctx.data.get("reason"), field="reason", message=_("Say why the dispatch is moved.")
        )
    except InvalidInput as error:
        errors.update(error.fields)
    if errors:
        raise InvalidInput(fields=errors)

    old.state = Dispatch.State.CANCELLED
    old.save(update_fields=["state"])
    new = create_dispatch(
        case=case,
        handler=handler,
        now=ctx.now,
        origin=Dispatch.Origin.TRANSFER,
        task=old.task,
        due_at=old.due_at,
    )
    if old.due_at is not None:  # a consultation's task: its deadline stands
        timers.start_deadline(
            case=case, stage=Stage.HANDLING, dispatch=new, start=ctx.now, due=old.due_at
        )
    ctx.write(
        "transfer_dispatch",
        data={
            "reason": reason,
            "handler": old.handler.code,
            "to_handler": handler.code,
            "dispatch": new.pk,
        },
    )
    return new
