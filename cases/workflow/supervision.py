"""How the committees and the supervisors press a late unit: they urge it (催办), or issue a
supervision order (督办) with a deadline of its own, kept until the unit's part is resolved
(docs/workflow.md)."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from cases.workflow import effects as fx
from cases.workflow import guards
from cases.workflow.spec import DISPATCH, REGISTRY, Action, Step

if TYPE_CHECKING:
    from cases.perform import Context


def _urged(ctx: "Context") -> dict:
    return {"handler": ctx.dispatch.handler.code, "reason": ctx.events[-1].data["note"]}


def _ordered(ctx: "Context") -> dict:
    data = ctx.events[-1].data
    return {"handler": ctx.dispatch.handler.code, "reason": data["note"], "due": data["due_at"]}


REGISTRY.step(
    Step(
        "urge",
        timeline=_("urged the unit"),
        notices=(
            fx.notice(
                "dispatch_urged", fx.dispatch_handlers, who="the dispatch's handlers", data=_urged
            ),
        ),
        board=False,  # the boards count the urges from the trace
        assessment="the dispatch was urged (urged dispatches per unit)",
    )
)
REGISTRY.action(
    Action(
        name="urge",
        on=DISPATCH,
        steps=("urge",),
        button=_("Urge"),
        done=_("The unit was urged."),
        summary="Urge a late unit (town or city committee, supervisor)",
        who=guards.overseer,
        when=guards.behind_time,
        refusal=_(
            "This unit is on time: only a unit whose time limit is yellow or passed can be urged."
        ),
        run="cases.services.supervision.run_urge",
        form="cases.forms_detail.UrgeForm",
        serializer="cases.api.serializers.NoteSerializer",
    )
)

REGISTRY.step(
    Step(
        "supervise",
        timeline=_("issued a supervision order"),
        notices=(
            fx.notice(
                "supervision_ordered",
                fx.dispatch_handlers,
                who="the dispatch's handlers",
                data=_ordered,
            ),
        ),
        board=False,  # the boards read the open order from its row
        assessment="the dispatch is under supervision; its order met late or on time",
    )
)
REGISTRY.action(
    Action(
        name="supervise",
        on=DISPATCH,
        steps=("supervise",),
        button=_("Issue a supervision order"),
        done=_("The supervision order was issued."),
        summary="Issue a supervision order with its own deadline to a late unit (town or city "
        "committee, supervisor)",
        who=guards.overseer,
        when=guards.behind_time,
        refusal=_(
            "This unit is on time: a supervision order is for a unit whose time limit is "
            "yellow or passed."
        ),
        run="cases.services.supervision.run_supervise",
        form="cases.forms_detail.SuperviseForm",
        serializer="cases.api.serializers.SuperviseSerializer",
    )
)
