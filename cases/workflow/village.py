"""What the village does with a whistle: filed, accepted, rejected or merged, solved on the
spot, whistled up to the town (docs/workflow.md)."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from cases.models import Level, Status
from cases.workflow import effects as fx
from cases.workflow import guards
from cases.workflow.spec import CASE, NEW, REGISTRY, Action, Step, Transition
from checklists.models import Stage
from teams.levels import with_levels

if TYPE_CHECKING:
    from cases.perform import Context

S = Status

REGISTRY.step(
    Step(
        "file",
        timeline=_("filed the whistle"),
        tracking=_("Whistle received"),
        public=True,
        effects=(fx.Start(Stage.SCREENING), fx.TakeNumber()),
        notices=(
            fx.notice(
                "case_filed",
                fx.screening_village_officers,
                who="the village officers (unless a hotline item's rule sends it to the town)",
            ),
        ),
        board=False,
        assessment="counts the whistle (one whistle, one assessment); its clocks start with it",
    )
)
REGISTRY.action(
    Action(
        name="file",
        on=NEW,
        steps=("file",),
        button=_("Blow the whistle"),
        done=_("The whistle was filed."),
        summary="File a whistle (grid worker); photos as multipart/form-data",
        who=guards.filer,
        run="cases.services.filing.run_file",
        form="cases.forms_filing.WhistleForm",
        serializer="cases.api.serializers.FileWhistleSerializer",
        photos=True,
    )
)

REGISTRY.step(
    Step(
        "accept",
        timeline=_("accepted"),
        tracking=with_levels(_("Accepted by the %(village)s")),
        moves=Transition(frozenset({S.FILED}), S.VILLAGE_HANDLING),
        public=True,
        effects=(fx.Meet((Stage.SCREENING,)), fx.Start(Stage.VILLAGE_HANDLING)),
        assessment="accepted: the village took the whistle into handling",
    )
)
REGISTRY.action(
    Action(
        name="accept",
        on=CASE,
        steps=("accept",),
        button=_("Accept"),
        done=_("The case was accepted."),
        summary="Accept a filed whistle (village officer)",
        who=guards.village_officer,
        run="cases.services.village.run_accept",
        form="cases.forms_detail.AcceptForm",
        serializer="cases.api.serializers.VersionSerializer",
        inline=True,
    )
)


def _rejection_notice(ctx: "Context") -> dict:
    """Codes and parameters, put into words in the reader's language (cases.rejections)."""
    case = ctx.case
    data = {"reason": case.rejection_reason}
    if case.rejection_code:
        data["reason_code"] = case.rejection_code
    if case.merged_into_id:
        data["merged_into"] = case.merged_into.number
    return data


REGISTRY.step(
    Step(
        "reject",
        timeline=_("rejected"),
        tracking=_("Not accepted"),
        moves=Transition(frozenset({S.FILED}), S.REJECTED),
        public=True,
        effects=(fx.Meet(),),
        notices=(
            fx.notice(
                "case_rejected",
                fx.reporter,
                who="the whistler",
                data=_rejection_notice,
            ),
        ),
        assessment="rejected (or merged as a duplicate): out of every rate but whistle quality",
    )
)
REGISTRY.action(
    Action(
        name="reject",
        on=CASE,
        steps=("reject",),
        button=_("Reject"),
        done=_("The case was rejected."),
        summary="Reject a whistle with the reason and where to go instead (village officer)",
        who=guards.village_officer,
        run="cases.services.village.run_reject",
        form="cases.forms_detail.RejectForm",
        serializer="cases.api.serializers.RejectSerializer",
    )
)
REGISTRY.action(
    Action(
        name="merge",
        on=CASE,
        steps=("reject",),
        button=_("Merge into another case"),
        done=_("The case was merged."),
        summary="Merge a duplicate into the open case it repeats (village officer)",
        who=guards.village_officer,
        when=guards.possible_duplicate,
        run="cases.services.village.run_merge",
        form="cases.forms_detail.MergeForm",
        serializer="cases.api.serializers.MergeSerializer",
        inline=True,
    )
)

REGISTRY.step(
    Step(
        "whistle",
        timeline=with_levels(_("whistled to the %(town)s")),
        tracking=with_levels(_("Whistled up to the %(town)s")),
        moves=Transition(frozenset({S.FILED, S.VILLAGE_HANDLING}), S.DISPATCHED, Level.TOWN),
        public=True,
        # The handling clock and each dispatch's report-in clock start with the dispatches,
        # in one insert (cases.services.village.create_dispatches).
        effects=(fx.Meet((Stage.SCREENING, Stage.VILLAGE_HANDLING)),),
        notices=(fx.notice("case_whistled", fx.town_committee, who="the town committee"),),
        assessment="accepted; the case leaves the village: not solved by the village (70/20/10)",
    )
)
REGISTRY.action(
    Action(
        name="whistle",
        on=CASE,
        steps=("whistle",),
        button=with_levels(_("Whistle to the %(town)s")),
        done=with_levels(_("The case was whistled to the %(town)s.")),
        summary="Whistle the case to the town (village officer)",
        who=guards.village_officer,
        run="cases.services.village.run_whistle",
        form="cases.forms_detail.WhistleForm",
        serializer="cases.api.serializers.NoteSerializer",
        inline=True,
        by_timer=True,
    )
)

REGISTRY.step(
    Step(
        "resolve_on_spot",
        timeline=_("resolved on the spot"),
        tracking=with_levels(_("Resolved on the spot by the %(village)s")),
        moves=Transition(frozenset({S.VILLAGE_HANDLING}), S.RESOLVED),
        public=True,
        effects=(
            fx.Meet((Stage.VILLAGE_HANDLING, Stage.SCREENING)),
            fx.Start(Stage.VERIFICATION),
        ),
        notices=(fx.notice("case_resolved", fx.grid_workers, who="the grid's workers"),),
        assessment="a resolution at the village: closed at village level once verified",
    )
)
REGISTRY.action(
    Action(
        name="resolve_on_spot",
        on=CASE,
        steps=("resolve_on_spot",),
        button=_("Resolve on the spot"),
        done=_("The case was resolved on the spot."),
        summary="Resolve on the spot in the village (village officer)",
        who=guards.village_officer,
        run="cases.services.village.run_resolve_on_spot",
        form="cases.forms_detail.ResolveOnSpotForm",
        serializer="cases.api.serializers.NotePhotosSerializer",
        photos=True,
    )
)
