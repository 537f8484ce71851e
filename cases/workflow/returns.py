"""A dispatch handed back (退回): the team or department returns it before its report-in limit,
with a reason; the committee must dispatch again within the re-dispatch limit, and rules on the
return: upheld (the unit was wrong: the committee dispatches elsewhere) or overruled (the same
unit gets the case back, and the return counts against it) (docs/workflow.md)."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from cases.workflow import effects as fx
from cases.workflow import guards
from cases.workflow.spec import DISPATCH, REGISTRY, Action, Step
from checklists.models import Stage
from teams.levels import with_levels

if TYPE_CHECKING:
    from cases.perform import Context


def _return_data(ctx: "Context") -> dict:
    """The return's handler and reason, as the committee's notification shows them."""
    dispatch = ctx.dispatch
    return {"handler": dispatch.handler.code, "reason": dispatch.return_note}


def _handler_data(ctx: "Context") -> dict:
    return {"handler": ctx.dispatch.handler.code}


REGISTRY.step(
    Step(
        "return_dispatch",
        timeline=_("returned a dispatch"),
        # Its report-in clock is done; the committee's re-dispatch clock starts on it.
        effects=(fx.MeetDispatch(), fx.StartDispatch(Stage.REDISPATCH)),
        notices=(
            fx.notice(
                "dispatch_returned",
                fx.committee_at_level,
                who="the committee at the case's level",
                data=_return_data,
            ),
        ),
        board=True,
        assessment="returned by its unit: neither late nor unanswered until the committee rules",
    )
)
REGISTRY.action(
    Action(
        name="return_dispatch",
        on=DISPATCH,
        steps=("return_dispatch",),
        button=_("Return the dispatch"),
        done=_("The dispatch was returned to the committee."),
        summary="Return the dispatch before its report-in limit, with a reason (handler)",
        who=guards.handler,
        when=guards.returnable,
        refusal=with_levels(
            _(
                "Only a dispatch waiting for its report-in may be returned, and only before the "
                "report-in time is over: ask the %(town)s to withdraw the dispatch instead."
            )
        ),
        run="cases.services.returns.run_return_dispatch",
        form="cases.forms_detail.ReturnDispatchForm",
        serializer="cases.api.serializers.ReturnDispatchSerializer",
    )
)

REGISTRY.step(
    Step(
        "uphold_return",
        timeline=_("upheld a return"),
        notices=(
            fx.notice(
                "return_upheld",
                fx.dispatch_handlers,
                who="the returned dispatch's handlers",
                data=_handler_data,
            ),
        ),
        assessment="the return stands: the dispatch is not held against its unit",
    )
)
REGISTRY.step(
    Step(
        "overrule_return",
        timeline=_("overruled a return"),
        # The same unit is dispatched again (a fresh report-in clock, with the new dispatch).
        effects=(fx.MeetDispatch((Stage.REDISPATCH,)),),
        notices=(
            fx.notice(
                "return_overruled",
                fx.dispatch_handlers,
                who="the returned dispatch's handlers",
                data=_handler_data,
            ),
        ),
        board=True,
        assessment="the return is held against its unit (the overruled-return rate)",
    )
)
REGISTRY.action(
    Action(
        name="review_return",
        on=DISPATCH,
        steps=("uphold_return", "overrule_return"),
        button=_("Rule on the return"),
        done=_("The ruling on the return was recorded."),
        summary="Uphold or overrule a returned dispatch (committee at the case's level)",
        who=guards.dispatch_committee,
        when=guards.return_to_rule_on,
        refusal=_("This return was already ruled on, or the case is no longer in handling."),
        run="cases.services.returns.run_review_return",
        form="cases.forms_detail.ReviewReturnForm",
        serializer="cases.api.serializers.ReviewReturnSerializer",
    )
)
