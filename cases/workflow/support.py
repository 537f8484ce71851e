"""A "me too" (附议): a grid worker who meets a problem already whistled, or a caller of the
12345 hotline (through Open311), backs the open case instead of filing a duplicate. The case
shows how many support it, and who; the assessment counts the whistles others backed
(docs/workflow.md)."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from cases.access import is_grid_worker_of
from cases.models import Case, Status
from cases.workflow import effects as fx
from cases.workflow.spec import CASE, REGISTRY, Action, Step
from teams.models import User

if TYPE_CHECKING:
    from cases.perform import Context

SUPPORT = "support"
# Open and not yet resolved: a resolved case waits for its check on site, not for support.
SUPPORTABLE = frozenset(
    {
        Status.FILED,
        Status.VILLAGE_HANDLING,
        Status.DISPATCHED,
        Status.IN_PROGRESS,
        Status.IN_CONSULTATION,
        Status.SUSPENDED,
    }
)


def supporter(user: User, case: Case) -> bool:
    """A grid worker of the case's grid (the cases a grid worker sees) who did not whistle it."""
    return case.reporter_id != user.pk and is_grid_worker_of(user, case)


def supportable(case: Case) -> bool:
    return case.status in SUPPORTABLE


def _supported(ctx: "Context") -> dict:
    return {"supporters": ctx.events[-1].data["supporters"]}


REGISTRY.step(
    Step(
        SUPPORT,
        timeline=_("added a “me too”"),
        notices=(fx.notice("case_supported", fx.reporter, who="the whistler", data=_supported),),
        board=False,
        assessment="a “me too”: the whistle is backed by someone else (whistle quality)",
    )
)
REGISTRY.action(
    Action(
        name=SUPPORT,
        on=CASE,
        steps=(SUPPORT,),
        button=_("Me too"),
        done=_("Your “me too” was added to the case."),
        summary=(
            "Back an open case instead of filing a duplicate (“me too”, grid worker of its "
            "grid); once per person"
        ),
        who=supporter,
        when=supportable,
        forbidden=_(
            "Only a grid worker of the case's grid who did not whistle it can add a “me too”."
        ),
        refusal=_("Only an open case that is not yet resolved takes a “me too”."),
        run="cases.services.support.run_support",
        form="cases.forms_detail.SupportForm",
        serializer="cases.api.serializers.NoteSerializer",
    )
)
