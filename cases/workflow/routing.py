"""Where a whistle goes first: to the village's screening, or straight to the town's dispatch
(the `whistle` step, taken for the whistler) with the village informed: a whistle of the 12345
hotline by its item's rule (checklists Item `hotline_route`), and every whistle where the
deployment blows its whistles at the middle level (teams.levels.whistle_level; Beijing's
streets) (docs/workflow.md)."""

from django.utils.translation import gettext_lazy as _

from cases.workflow import effects as fx
from cases.workflow.spec import REGISTRY, Step
from teams.levels import with_levels

HOTLINE_ROUTE = "hotline_route"
LEVEL_ROUTE = "whistle_level_route"

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

REGISTRY.step(
    Step(
        LEVEL_ROUTE,
        timeline=with_levels(
            _("sent the whistle straight to the %(town)s (whistles are blown at the %(town)s)")
        ),
        notices=(
            fx.notice(
                "case_whistled_at_town",
                fx.village_officers,
                who="the village officers, instead of the filing's notice",
            ),
        ),
        board=False,
        assessment="none: the `whistle` step that follows takes the case to the town",
    )
)
