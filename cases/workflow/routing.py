"""Where a whistle of the 12345 hotline goes first: by its item's rule (checklists Item
`hotline_route`), to the village's screening as any whistle, or straight to the town's
dispatch (the `whistle` step, taken for the hotline), with the village informed
(docs/workflow.md)."""

from django.utils.translation import gettext_lazy as _

from cases.workflow import effects as fx
from cases.workflow.spec import REGISTRY, Step
from teams.levels import with_levels

HOTLINE_ROUTE = "hotline_route"

REGISTRY.step(
    Step(
        HOTLINE_ROUTE,
        timeline=with_levels(
            _("sent the whistle straight to the %(town)s (the item's hotline rule)")
        ),
        notices=(
            fx.notice(
                "case_routed_to_town",
                fx.village_officers,
                who="the village officers, instead of the filing's notice",
            ),
        ),
        board=False,
        assessment="none: the `whistle` step that follows takes the case to the town",
    )
)
