"""Long-term cases (挂账): a handler asks to suspend a case it cannot solve for now, with a reason
and a proposed review date; the committee at the case's level approves or refuses, or suspends
it itself. Every clock of a suspended case stands still but its review clock, due at the end
of the review date: when it passes the committee is reminded and the case shows red until it is
reviewed (a new review date) or resumed (docs/workflow.md)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import timers
from cases.models import OPEN_STATUSES, Case, Deadline, Status
from cases.workflow import effects as fx
from cases.workflow import guards
from cases.workflow.spec import CASE, REGISTRY, Action, Effect, Step, Transition
from checklists.models import Stage

if TYPE_CHECKING:
    from cases.perform import Context

S = Status
# Every open status but suspended itself.
OPEN = frozenset(OPEN_STATUSES) - {S.SUSPENDED}
# Where the handler answers for a running clock (as for a postponement).
REQUESTABLE = frozenset({S.VILLAGE_HANDLING, S.DISPATCHED, S.IN_PROGRESS})


def review_due(review_on: date) -> datetime:
    """A review is due by the end of its date: local midnight at the start of the next day."""
    return timezone.make_aware(datetime.combine(review_on + timedelta(days=1), time.min))


@dataclass(frozen=True)
class StartReview(Effect):
    """The review clock, due at the end of the review date the action's code chose
    (ctx.data["review_on"]); started after the Pause, so it runs while the case is suspended.
    Its light turns yellow at the item's share of the suspension (its suspension-review limit)."""

    def apply(self, ctx: "Context") -> None:
        deadline = timers.start_deadline(
            case=ctx.case,
            stage=Stage.SUSPENSION_REVIEW,
            start=ctx.now,
            due=review_due(ctx.data["review_on"]),
        )
        if deadline is not None:
            ctx.started.append(deadline)

    def describe(self) -> str:
        return "starts the suspension review, due at the end of the review date"


@dataclass(frozen=True)
class MeetReview(Effect):
    """The review clock is done, also when it has already fired (an overdue review)."""

    def apply(self, ctx: "Context") -> None:
        Deadline.objects.of_case(ctx.case).filter(
            stage=Stage.SUSPENSION_REVIEW, met_at__isnull=True
        ).update(met_at=ctx.now)

    def describe(self) -> str:
        return "meets the suspension review, also an overdue one"


def requestable(case: Case) -> bool:
    """In handling, and no request of the case waits for the committee."""
    return case.status in REQUESTABLE and not case.suspension_requested


def request_to_decide(case: Case) -> bool:
    return case.suspension_requested and case.status in OPEN


def no_request_waiting(case: Case) -> bool:
    return not case.suspension_requested


def suspended(case: Case) -> bool:
    return case.status == S.SUSPENDED


def _request_data(ctx: "Context") -> dict:
    """The reason and the proposed review date, as the committee's notification shows them."""
    return {"reason": ctx.data.get("reason", ""), "review_on": ctx.data["review_on"].isoformat()}


def _approval_data(ctx: "Context") -> dict:
    return {"review_on": ctx.data["review_on"].isoformat()}


def _refusal_data(ctx: "Context") -> dict:
    return {"reason": ctx.data.get("note", "")}


REGISTRY.step(
    Step(
        "request_suspension",
        timeline=_("asked for the case to be suspended"),
        notices=(
            fx.notice(
                "suspension_requested",
                fx.committee_at_level,
                who="the committee at the case's level",
                data=_request_data,
            ),
        ),
        assessment="a suspension was asked for (the committee decides)",
    )
)
REGISTRY.action(
    Action(
        name="request_suspension",
        on=CASE,
        steps=("request_suspension",),
        button=_("Request suspension"),
        done=_("The suspension was requested; the committee decides."),
        summary="Ask the committee to suspend a long-term case, with a reason and a review "
        "date (handler)",
        who=guards.deadline_holder,
        when=requestable,
        refusal=_(
            "Only a case in handling may be suspended, and only one request may wait for the "
            "committee at a time."
        ),
        run="cases.services.longterm.run_request_suspension",
        form="cases.forms_detail.RequestSuspensionForm",
        serializer="cases.api.serializers.RequestSuspensionSerializer",
    )
)

REGISTRY.step(
    Step(
        "approve_suspension",
        timeline=_("approved a suspension request"),
        notices=(
            fx.notice(
                "suspension_approved",
                fx.chosen,
                who="the handler who asked for it",
                data=_approval_data,
            ),
        ),
        assessment="the request was granted: the case is suspended with it",
    )
)
REGISTRY.step(
    Step(
        "refuse_suspension",
        timeline=_("refused a suspension request"),
        notices=(
            fx.notice(
                "suspension_refused",
                fx.chosen,
                who="the handler who asked for it",
                data=_refusal_data,
            ),
        ),
        assessment="the request was refused: the case stays in handling",
    )
)

REGISTRY.step(
    Step(
        "suspend",
        timeline=_("suspended"),
        tracking=_("Suspended"),
        moves=Transition(OPEN, S.SUSPENDED),
        public=True,
        effects=(fx.Pause(), StartReview()),
        notices=(fx.notice("case_suspended", fx.village_officers, who="the village officers"),),
        assessment="suspended now; was suspended ever",
    )
)
REGISTRY.action(
    Action(
        name="review_suspension",
        on=CASE,
        steps=("approve_suspension", "refuse_suspension", "suspend"),
        button=_("Decide on the suspension request"),
        done=_("The suspension request was decided."),
        summary="Approve (the case is suspended) or refuse a suspension request (committee at "
        "the case's level)",
        who=guards.committee,
        when=request_to_decide,
        refusal=_("No suspension request of this case waits for a decision: it was decided."),
        run="cases.services.longterm.run_review_suspension",
        form="cases.forms_detail.ReviewSuspensionForm",
        serializer="cases.api.serializers.ReviewSuspensionSerializer",
    )
)
REGISTRY.action(
    Action(
        name="suspend",
        on=CASE,
        steps=("suspend",),
        button=_("Suspend"),
        done=_("The case was suspended."),
        summary="Suspend a long-term case until a review date (committee)",
        who=guards.committee,
        when=no_request_waiting,
        refusal=_("A suspension request waits for your decision: approve or refuse it instead."),
        run="cases.services.committee.run_suspend",
        form="cases.forms_detail.SuspendForm",
        serializer="cases.api.serializers.SuspendSerializer",
    )
)

REGISTRY.step(
    Step(
        "reschedule_review",
        timeline=_("set a new review date"),
        effects=(MeetReview(), StartReview()),
        assessment="reviewed: still suspended, until the new review date",
    )
)
REGISTRY.action(
    Action(
        name="reschedule_review",
        on=CASE,
        steps=("reschedule_review",),
        button=_("Set a new review date"),
        done=_("The new review date was set."),
        summary="Review a suspended case and keep it suspended until a new review date (committee)",
        who=guards.committee,
        when=suspended,
        refusal=_("Only a suspended case has a review date."),
        run="cases.services.longterm.run_reschedule_review",
        form="cases.forms_detail.RescheduleReviewForm",
        serializer="cases.api.serializers.RescheduleReviewSerializer",
    )
)

REGISTRY.step(
    Step(
        "resume",
        timeline=_("resumed"),
        tracking=_("Resumed"),
        # Back to the status it had before it was suspended.
        moves=Transition(frozenset({S.SUSPENDED}), None),
        public=True,
        effects=(fx.Resume(), MeetReview()),
        notices=(fx.notice("case_resumed", fx.village_officers, who="the village officers"),),
        assessment="no longer suspended",
    )
)
REGISTRY.action(
    Action(
        name="resume",
        on=CASE,
        steps=("resume",),
        button=_("Resume"),
        done=_("The case was resumed."),
        summary="Resume a suspended case (committee)",
        who=guards.committee,
        run="cases.services.committee.run_resume",
        form="cases.forms_detail.ResumeForm",
        serializer="cases.api.serializers.VersionSerializer",
        inline=True,
    )
)

# What the timer writes when a review date passes unreviewed (cases.firing).
REGISTRY.step(
    Step(
        "review_overdue",
        timeline=_("review date passed"),
        assessment="a suspended case not reviewed by its review date (it shows red)",
    )
)
