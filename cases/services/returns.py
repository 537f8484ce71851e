"""A dispatch handed back (退回) by its team or department, and the committee's ruling on it
(docs/workflow.md, cases/workflow/returns.py)."""

from django.utils.translation import gettext as _

from cases import timers
from cases.errors import InvalidInput
from cases.models import Dispatch
from cases.perform import Context, perform
from cases.services.common import require_text
from cases.services.village import create_dispatch
from checklists.models import Stage
from teams.models import User

Ruling = Dispatch.ReturnRuling


def return_dispatch(
    *,
    user: User,
    dispatch_id: int,
    reason: str,
    note: str,
    expected_version: int | None = None,
) -> Dispatch:
    """The unit hands the dispatch back before its report-in limit: not its duty, the wrong
    place, a duplicate... The committee must dispatch again within the re-dispatch limit."""
    return perform(
        action="return_dispatch",
        user=user,
        dispatch_id=dispatch_id,
        expected_version=expected_version,
        data={"return_reason": reason, "note": note},
    )


def run_return_dispatch(ctx: Context) -> Dispatch:
    dispatch = ctx.dispatch
    reason = ctx.data.get("return_reason") or ""
    if reason not in Dispatch.ReturnReason.values:
        raise InvalidInput(fields={"return_reason": [_("Choose why the dispatch is returned.")]})
    note = require_text(
        ctx.data.get("note"), field="note", message=_("Say why the dispatch is returned.")
    )
    dispatch.state = Dispatch.State.RETURNED
    dispatch.returned_at = ctx.now
    dispatch.returned_by = ctx.user
    dispatch.return_reason = reason
    dispatch.return_note = note
    dispatch.save(
        update_fields=["state", "returned_at", "returned_by", "return_reason", "return_note"]
    )
    ctx.write(
        "return_dispatch",
        data={"handler": dispatch.handler.code, "return_reason": reason, "note": note},
    )
    return dispatch


def review_return(
    *,
    user: User,
    dispatch_id: int,
    ruling: str,
    note: str = "",
    expected_version: int | None = None,
) -> Dispatch:
    """The committee rules once on a return: upheld (it dispatches elsewhere, with
    add_dispatch) or overruled (the same unit is dispatched again). Returns the new dispatch
    when overruled, the returned one otherwise."""
    return perform(
        action="review_return",
        user=user,
        dispatch_id=dispatch_id,
        expected_version=expected_version,
        data={"return_ruling": ruling, "note": note},
    )


def run_review_return(ctx: Context) -> Dispatch:
    returned = ctx.dispatch
    ruling = ctx.data.get("return_ruling") or ""
    if ruling not in Ruling.values:
        raise InvalidInput(fields={"return_ruling": [_("Choose whether the return is upheld.")]})
    note = (ctx.data.get("note") or "").strip()
    if note:  # optional; require_text checks its length
        note = require_text(note, field="note", message="")
    returned.return_ruling = ruling
    returned.return_ruled_at = ctx.now
    returned.return_ruled_by = ctx.user
    returned.save(update_fields=["return_ruling", "return_ruled_at", "return_ruled_by"])
    data = {"handler": returned.handler.code, "ruling": ruling, "note": note}
    if ruling == Ruling.UPHELD:
        ctx.write("uphold_return", data=data)
        return returned
    again = create_dispatch(
        case=ctx.case,
        handler=returned.handler,
        now=ctx.now,
        origin=Dispatch.Origin.OVERRULED,
        task=returned.task,
        due_at=returned.due_at,
    )
    if returned.due_at is not None:  # a consultation's task: its deadline stands
        timers.start_deadline(
            case=ctx.case, stage=Stage.HANDLING, dispatch=again, start=ctx.now, due=returned.due_at
        )
    ctx.write("overrule_return", data={**data, "dispatch": again.pk})
    return again
