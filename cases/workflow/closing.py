"""Closing the loop: verification on site, the whistler's evaluation, and what the timer
writes when a limit passes (docs/workflow.md)."""

from django.utils.translation import gettext_lazy as _

from cases.models import Status
from cases.workflow import effects as fx
from cases.workflow import guards
from cases.workflow.spec import CASE, REGISTRY, Action, Step, Transition
from checklists.models import Stage

S = Status

REGISTRY.step(
    Step(
        "verify_pass",
        timeline=_("verified on site: passed"),
        tracking=_("Checked on site: solved"),
        moves=Transition(frozenset({S.RESOLVED}), S.CLOSED),
        public=True,
        effects=(fx.Meet(),),
        notices=(
            fx.notice(
                "case_closed",
                lambda ctx: (
                    []
                    if ctx.case.reporter_id == getattr(ctx.user, "pk", None)
                    else fx.reporter(ctx)
                ),
                who="the whistler, unless it verified itself",
            ),
        ),
        assessment="closed; on time when no handling deadline was missed",
    )
)
# Back to handling: at the village for a case solved on the spot, else with the town.
REGISTRY.step(
    Step(
        "verify_fail",
        timeline=_("verified on site: failed, back for rework"),
        tracking=_("Checked on site: not yet solved, back to work"),
        moves=Transition(frozenset({S.RESOLVED}), S.IN_PROGRESS),
        public=True,
        effects=(fx.Meet((Stage.VERIFICATION,)), fx.Start()),
        notices=(
            fx.notice(
                "rework",
                fx.chosen,
                who="the village officers, or the handlers still on the case",
                data=lambda ctx: {"reason": ctx.data.get("reason", "").strip()},
            ),
        ),
        assessment="reworked: a failed verification (the rework count)",
    )
)
REGISTRY.action(
    Action(
        name="verify",
        on=CASE,
        steps=("verify_pass", "verify_fail"),
        button=_("Verify on site"),
        done=_("The verification was recorded."),
        summary="Verify on site: pass closes, fail sends back for rework",
        who=guards.verifier,
        run="cases.services.closing.run_verify",
        form="cases.forms_detail.VerifyForm",
        serializer="cases.api.serializers.VerifySerializer",
        photos=True,
    )
)

REGISTRY.step(
    Step(
        "evaluate",
        timeline=_("evaluated"),
        tracking=_("Rated by the citizen"),
        moves=Transition(frozenset({S.CLOSED}), S.CLOSED),
        public=True,
        board=False,
        assessment="the whistler's satisfaction (the satisfaction rate)",
    )
)
REGISTRY.action(
    Action(
        name="evaluate",
        on=CASE,
        steps=("evaluate",),
        button=_("Evaluate"),
        done=_("Thank you for your evaluation."),
        summary="Rate a closed case (its whistler)",
        who=guards.whistler,
        when=guards.not_evaluated,
        refusal=_("This case was already evaluated."),
        forbidden=_("Only the whistler can evaluate the case."),
        run="cases.services.closing.run_evaluate",
        form="cases.forms_detail.EvaluateForm",
        serializer="cases.api.serializers.EvaluateSerializer",
    )
)

# What the timer writes when a limit passes and nothing moves (cases.firing).

REGISTRY.step(
    Step(
        "overdue",
        timeline=_("time limit passed"),
        assessment="overdue: a handling stage's deadline passed before it was met",
    )
)
REGISTRY.step(
    Step(
        "report_in_late",
        timeline=_("report-in overdue"),
        assessment="the dispatch reported in late (the report-in rate)",
    )
)
