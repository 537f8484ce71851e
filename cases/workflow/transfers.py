"""A case or a dispatch moved to where it belongs (移交): a whistle filed in the wrong village or
town goes to the right village, screened there again with fresh clocks; a dispatch routed to the
wrong team or department goes to the right one with a fresh report-in clock. The level that owns
it moves it, with a reason, and the unit whose dispatch ends is not held to it
(docs/workflow.md)."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from cases import notifications
from cases.models import Dispatch, Level, Status
from cases.workflow import effects as fx
from cases.workflow import guards
from cases.workflow.spec import CASE, DISPATCH, REGISTRY, Action, Step, Transition
from checklists.models import Stage
from teams.levels import with_levels
from teams.models import Region

if TYPE_CHECKING:
    from cases.perform import Context
    from teams.models import User

S = Status
# Before anyone resolved it, and outside a consultation (whose agenda is its town's).
TRANSFERABLE = frozenset({S.FILED, S.VILLAGE_HANDLING, S.DISPATCHED, S.IN_PROGRESS})


def _moved(ctx: "Context") -> dict:
    """The data of the transfer step this action wrote (where from, where to, what ended)."""
    return next(e.data for e in ctx.events if e.action in ("transfer", "transfer_dispatch"))


def _reason(ctx: "Context") -> dict:
    return {"reason": _moved(ctx).get("reason", "")}


def _new_town_committee(ctx: "Context") -> list["User"]:
    """The new town's committee, when the case changed towns (a committee that moved a case
    inside its own town needs no message about it)."""
    if _moved(ctx).get("from_town_id") == ctx.case.town_id:
        return []
    return notifications.town_committee(ctx.case.town)


def _old_village_officers(ctx: "Context") -> list["User"]:
    village = Region.objects.filter(pk=_moved(ctx).get("from_village_id")).first()
    return notifications.village_officers(village) if village is not None else []


def _ended_handlers(ctx: "Context") -> list["User"]:
    ended = Dispatch.objects.filter(pk__in=_moved(ctx).get("ended_ids") or [])
    return [person for dispatch in ended for person in notifications.handlers_of_dispatch(dispatch)]


REGISTRY.step(
    Step(
        "transfer",
        timeline=_("transferred the case"),
        tracking=with_levels(_("Transferred to the responsible %(village)s")),
        moves=Transition(TRANSFERABLE, S.FILED, Level.VILLAGE),
        public=True,
        # Screened again where it belongs: every clock of the wrong place is done (no
        # lateness from here on), the open dispatches and supervision orders end, and the
        # screening clock starts from the item's time limit.
        effects=(fx.Meet(), fx.MeetSupervision(whole_case=True), fx.Start(Stage.SCREENING)),
        notices=(
            fx.notice(
                "case_transferred",
                fx.village_officers,
                who="the new village's officers",
                data=_reason,
            ),
            fx.notice(
                "case_transferred",
                _new_town_committee,
                who="the new town's committee, when the town changed",
                data=_reason,
            ),
            fx.notice(
                "case_transferred_away",
                _old_village_officers,
                who="the old village's officers",
                data=_reason,
            ),
            fx.notice(
                "dispatch_transferred",
                _ended_handlers,
                who="the handlers of the dispatches it ended",
                data=_reason,
            ),
        ),
        assessment="the case's place changes; the dispatches it ends are cancelled: not held "
        "against their units",
    )
)
REGISTRY.action(
    Action(
        name="transfer",
        on=CASE,
        steps=("transfer",),
        button=with_levels(_("Transfer to another %(village)s")),
        done=with_levels(
            _("The case was transferred; it waits for screening in its new %(village)s.")
        ),
        summary="Move a case filed in the wrong place to another village, with a reason (town "
        "committee within its town; city committee within its city)",
        who=guards.transferrer,
        forbidden=with_levels(
            _("Only the %(town)s committee, or the %(city)s committee, may transfer a case.")
        ),
        run="cases.services.transfers.run_transfer",
        form="cases.forms_transfer.TransferForm",
        serializer="cases.api.serializers.TransferSerializer",
    )
)

REGISTRY.step(
    Step(
        "transfer_dispatch",
        timeline=_("transferred a dispatch"),
        # The wrong unit's clocks and supervision orders are done; the right unit's report-in
        # clock starts with its new dispatch (cases.services.village.create_dispatch).
        effects=(fx.MeetDispatch(), fx.MeetSupervision()),
        notices=(
            fx.notice(
                "dispatch_transferred",
                fx.dispatch_handlers,
                who="the handlers of the dispatch it ended",
                data=_reason,
            ),
        ),
        board=True,
        assessment="the old dispatch is cancelled (not held against its unit); the new one "
        "counts for the new unit from its own report-in clock",
    )
)
REGISTRY.action(
    Action(
        name="transfer_dispatch",
        on=DISPATCH,
        steps=("transfer_dispatch",),
        button=_("Transfer to another unit"),
        done=_("The dispatch was transferred to the new unit."),
        summary="Move a dispatch to another team or department, with a reason (committee at "
        "the case's level)",
        who=guards.dispatch_committee,
        when=guards.transferable,
        refusal=_(
            "Only a dispatch still with its unit, on a case in handling, may be transferred."
        ),
        run="cases.services.transfers.run_transfer_dispatch",
        form="cases.forms_transfer.TransferDispatchForm",
        serializer="cases.api.serializers.TransferDispatchSerializer",
        api_fields={"handler": "team"},
        form_fields={"handler": "team"},
    )
)
