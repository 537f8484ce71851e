"""How the committees and the supervisors press a late unit: urge it (催办), or issue a
supervision order (督办) with its own deadline (docs/workflow.md)."""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from cases.errors import InvalidInput
from cases.models import Dispatch, SupervisionOrder
from cases.perform import Context, perform
from cases.services.common import require_text
from teams.models import User


def urge_dispatch(
    *, user: User, dispatch_id: int, note: str, expected_version: int | None = None
) -> Dispatch:
    """Urge a unit whose report-in or handling clock is yellow or red; its handlers are told."""
    return perform(
        action="urge",
        user=user,
        dispatch_id=dispatch_id,
        expected_version=expected_version,
        data={"note": note},
    )


def run_urge(ctx: Context) -> Dispatch:
    dispatch = ctx.dispatch
    note = require_text(
        ctx.data.get("note"), field="note", message=_("Say what the unit must do now.")
    )
    ctx.write("urge", data={"handler": dispatch.handler.code, "note": note})
    return dispatch


def issue_supervision_order(
    *,
    user: User,
    dispatch_id: int,
    note: str,
    due_at: datetime | None,
    expected_version: int | None = None,
) -> SupervisionOrder:
    """A written order to a late unit with a deadline of its own, kept (and listed on the
    supervision page) until the unit's part or the case is resolved."""
    return perform(
        action="supervise",
        user=user,
        dispatch_id=dispatch_id,
        expected_version=expected_version,
        data={"note": note, "due_at": due_at},
    )


def run_supervise(ctx: Context) -> SupervisionOrder:
    dispatch = ctx.dispatch
    note = require_text(
        ctx.data.get("note"), field="note", message=_("Say what the unit must do by when.")
    )
    due_at = ctx.data.get("due_at")
    if not isinstance(due_at, datetime):
        raise InvalidInput(fields={"due_at": [_("Give the deadline of the order.")]})
    if timezone.is_naive(due_at):
        due_at = timezone.make_aware(due_at)
    if due_at <= ctx.now:
        raise InvalidInput(
            fields={"due_at": [_("The deadline of the order must be in the future.")]}
        )
    order = SupervisionOrder.objects.create(
        case=ctx.case,
        dispatch=dispatch,
        note=note,
        due_at=due_at,
        issued_by=ctx.user,
        issued_at=ctx.now,
    )
    ctx.write(
        "supervise",
        data={
            "handler": dispatch.handler.code,
            "note": note,
            "due_at": due_at.isoformat(),
            "order": order.pk,
        },
    )
    return order
