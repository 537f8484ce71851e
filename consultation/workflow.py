"""The consultation app's declarations in the workflow registry (docs/workflow.md): closing a
case at its consultation, and the steps its pages write into a case's trace."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from cases.models import Status
from cases.workflow import effects as fx
from cases.workflow import guards
from cases.workflow.spec import CASE, REGISTRY, Action, Step, Transition

if TYPE_CHECKING:
    from cases.perform import Context


def _village_and_whistler(ctx: "Context") -> list:
    return [*fx.village_officers(ctx), *fx.reporter(ctx)]


def register() -> None:
    """Called once from ConsultationConfig.ready()."""
    REGISTRY.step(
        Step(
            "close",
            timeline=_("closed at the consultation"),
            tracking=_("Closed by the committee"),
            moves=Transition(frozenset({Status.IN_CONSULTATION}), Status.CLOSED),
            public=True,
            effects=(fx.Meet(), fx.MeetSupervision(whole_case=True)),
            notices=(
                fx.notice(
                    "case_closed",
                    _village_and_whistler,
                    who="the village officers and the whistler",
                    data=lambda ctx: {"reason": ctx.case.resolution_note},
                ),
            ),
            assessment="closed at the committee's level, with the reason recorded",
        )
    )
    REGISTRY.action(
        Action(
            name="close",
            on=CASE,
            steps=("close",),
            button=_("Close at the consultation"),
            done=_("The case was closed."),
            summary="Close the case at its consultation, recording why (committee)",
            who=guards.committee,
            run="consultation.services.run_close",
            form="consultation.forms.CloseCaseForm",
            serializer="cases.api.serializers.ReasonSerializer",
        )
    )
    REGISTRY.step(
        Step(
            "consultation_called",
            timeline=_("put on a consultation's agenda"),
            assessment="the case was taken to a consultation (attendance is counted from it)",
        )
    )
    REGISTRY.step(
        Step(
            "investigation_finding",
            timeline=_("found in a comprehensive investigation"),
            assessment="a whistle filed from a comprehensive investigation's finding",
        )
    )
