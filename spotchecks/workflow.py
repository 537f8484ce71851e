"""The spot checks' declarations in the workflow registry (docs/workflow.md): the draw and the
revisit's outcome in a case's trace, and the action that records the outcome. A case found not
actually resolved goes back to the same unit (a new dispatch, a fresh handling clock) and the
unit's reply counts as false (assessment/facts.py: false_reply)."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from cases import notifications
from cases.access import scope_of
from cases.models import Case, Status
from cases.workflow import effects as fx
from cases.workflow.spec import CASE, REGISTRY, Action, Step, Transition
from checklists.models import Stage
from teams.levels import with_levels
from teams.models import Role

if TYPE_CHECKING:
    from cases.perform import Context
    from teams.models import User


def supervisor(user: "User", case: Case) -> bool:
    """The supervisors of the case's city draw its cases and record their revisits."""
    return case.city_id in scope_of(user).regions_of(Role.SUPERVISOR)


def waiting_for_revisit(case: Case) -> bool:
    """Closed, and drawn in a spot check whose revisit is not recorded yet (one at a time)."""
    from spotchecks.models import SpotCheckCase

    return (
        case.status == Status.CLOSED
        and SpotCheckCase.objects.filter(
            case_id=case.pk, outcome=SpotCheckCase.Outcome.PENDING
        ).exists()
    )


def _unit_and_town(ctx: "Context") -> list:
    """The unit whose reply was false (ctx.recipients) and the case's town committee."""
    return [*ctx.recipients, *notifications.town_committee(ctx.case.town)]


def _false_reply_data(ctx: "Context") -> dict:
    """The unit and what the revisit found, as the notification shows them."""
    data = ctx.events[-1].data
    return {"handler": data.get("handler", ""), "reason": data.get("note", "")}


def register() -> None:
    """Called once from SpotChecksConfig.ready()."""
    REGISTRY.step(
        Step(
            "spot_check_drawn",
            timeline=_("drew the case for a spot check"),
            assessment="nothing yet: the revisit's outcome counts",
        )
    )
    REGISTRY.step(
        Step(
            "spot_check_confirmed",
            timeline=_("revisited in a spot check: confirmed resolved"),
            assessment="the unit's reply was checked and true (spot-checked dispatches)",
        )
    )
    REGISTRY.step(
        Step(
            "spot_check_failed",
            timeline=_("revisited in a spot check: not actually resolved, back to the same unit"),
            tracking=_("Checked again: not yet solved, back to work"),
            moves=Transition(frozenset({Status.CLOSED}), Status.DISPATCHED),
            public=True,
            # The same unit gets a new dispatch (its report-in clock) and the case a fresh
            # handling clock.
            effects=(fx.Start(Stage.HANDLING),),
            notices=(
                fx.notice(
                    "false_reply",
                    _unit_and_town,
                    who="the unit whose reply was false and the town committee",
                    data=_false_reply_data,
                ),
            ),
            assessment="a false reply (虚假回复) of the unit (the false reply rate)",
        )
    )
    REGISTRY.action(
        Action(
            name="record_spot_check",
            on=CASE,
            steps=("spot_check_confirmed", "spot_check_failed"),
            button=_("Record the spot check's revisit"),
            done=_("The outcome of the revisit was recorded."),
            summary="Record the revisit of a case drawn in a spot check: confirmed, or not "
            "actually resolved (reopened to the same unit) (supervisor)",
            who=supervisor,
            when=waiting_for_revisit,
            refusal=_(
                "This case is not waiting for a spot check's revisit: its outcome was already "
                "recorded, or the case is no longer closed."
            ),
            forbidden=with_levels(
                _("Only the %(city)s's supervisors record a spot check's revisit.")
            ),
            run="spotchecks.services.run_record_revisit",
            form="spotchecks.forms.RevisitForm",
            serializer="spotchecks.api.serializers.RevisitSerializer",
            photos=True,
        )
    )
