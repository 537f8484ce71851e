"""What the town and city committees decide: consultations, escalation, suspension (挂账),
postponements and reopening."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import timers
from cases.access import (
    handles_dispatch,
    is_captain_on_case,
    is_committee_at_level,
    is_village_officer_of,
    require,
)
from cases.errors import IllegalTransition, InvalidInput, NotInScope
from cases.models import Case, Deadline, Dispatch, Level, Postponement, Status
from cases.perform import Context, perform
from cases.services.closing import back_to_work
from cases.services.common import lock_case, notify, require_text
from cases.services.handling import _handler
from cases.services.village import create_dispatch
from cases.transitions import record_event
from checklists.models import Stage, TimeUnit
from teams.levels import level_words
from teams.models import User


@dataclass(frozen=True)
class Task:
    """A decision's task: a named team or department, what to do, and by when."""

    action: str
    due_at: datetime
    team_id: int | None = None
    department_id: int | None = None


def decide_consultation(
    *,
    user: User,
    case_id: int,
    decision: str,
    tasks: list[Task],
    expected_version: int | None = None,
) -> Case:
    """A committee decides: the tasks become dispatches with deadlines, and the case returns
    to handling."""
    return perform(
        action="decide",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"decision": decision, "tasks": tasks},
    )


def run_decide(ctx: Context) -> Case:
    case = ctx.case
    decision = require_text(
        ctx.data.get("decision"), field="decision", message=_("Record the decision.")
    )
    tasks = list(ctx.data.get("tasks") or [])
    if not tasks:
        raise InvalidInput(fields={"tasks": [_("Give at least one task.")]})
    now = timezone.now()
    handlers = []
    for index, task in enumerate(tasks):
        action = require_text(
            task.action, field=f"tasks-{index}-action", message=_("Say what must be done.")
        )
        if task.due_at <= now:
            raise InvalidInput(
                fields={f"tasks-{index}-due_at": [_("The deadline must be in the future.")]}
            )
        handler = _handler(case=case, team_id=task.team_id, department_id=task.department_id)
        handlers.append((handler, action, task.due_at))
    ctx.write(
        "decide",
        data={
            "decision": decision,
            "tasks": [
                {"handler": h.code, "action": a, "due_at": d.isoformat()} for h, a, d in handlers
            ],
        },
    )
    for handler, action, due_at in handlers:
        dispatch = create_dispatch(
            case=case,
            handler=handler,
            now=now,
            origin=Dispatch.Origin.DECISION,
            task=action,
            due_at=due_at,
        )
        timers.start_deadline(
            case=case, stage=Stage.HANDLING, dispatch=dispatch, start=now, due=due_at
        )
    return case


def escalate_case(
    *, user: User | None, case_id: int, reason: str = "", expected_version: int | None = None
) -> Case:
    """The town committee sends the case to the city committee; `user=None` is the timer."""
    return perform(
        action="escalate",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"reason": reason},
    )


def run_escalate(ctx: Context) -> Case:
    return _climb(ctx, step="escalate", why=_("Say why the %(town)s cannot decide it."))


def _climb(ctx: Context, *, step: str, why: str) -> Case:
    """Write an escalation step: a person gives the reason the level cannot decide it; the
    timer gives none, and its firing's deadline goes into the step."""
    reason = ctx.data.get("reason") or ""
    if ctx.user is not None:
        reason = require_text(reason, field="reason", message=why % level_words())
    ctx.write(step, data={"reason": reason, **(ctx.data.get("deadline") or {})})
    return ctx.case


def escalate_to_prefecture(
    *, user: User | None, case_id: int, reason: str = "", expected_version: int | None = None
) -> Case:
    """The city committee sends the case to the prefecture committee (four levels, its
    committee on the chain); `user=None` is the timer."""
    return perform(
        action="escalate_to_prefecture",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"reason": reason},
    )


def run_escalate_to_prefecture(ctx: Context) -> Case:
    return _climb(
        ctx, step="escalate_to_prefecture", why=_("Say why the %(city)s cannot decide it.")
    )


def suspend_case(
    *,
    user: User,
    case_id: int,
    reason: str,
    review_on: date,
    expected_version: int | None = None,
) -> Case:
    """Park a long-term case (挂账) with a reason and a review date; every timer pauses."""
    return perform(
        action="suspend",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"reason": reason, "review_on": review_on},
    )


def run_suspend(ctx: Context) -> Case:
    reason = require_text(
        ctx.data.get("reason"), field="reason", message=_("Give the reason for suspending.")
    )
    review_on = ctx.data.get("review_on")
    if review_on is None or review_on <= timezone.localdate():
        raise InvalidInput(fields={"review_on": [_("The review date must be in the future.")]})
    ctx.write("suspend", data={"reason": reason, "review_on": review_on.isoformat()})
    return ctx.case


def resume_case(*, user: User, case_id: int, expected_version: int | None = None) -> Case:
    """Take a suspended case up again; the time left is counted again from now."""
    return perform(action="resume", user=user, case_id=case_id, expected_version=expected_version)


def run_resume(ctx: Context) -> Case:
    ctx.write("resume")
    return ctx.case


def request_postponement(
    *,
    user: User,
    case_id: int,
    deadline_id: int,
    amount: int,
    unit: str,
    reason: str,
    expected_version: int | None = None,
) -> Postponement:
    """The handler asks the level above for a one-time extension of a running deadline."""
    return perform(
        action="request_postponement",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"deadline": deadline_id, "amount": amount, "unit": unit, "reason": reason},
    )


def run_request_postponement(ctx: Context) -> Postponement:
    case, user = ctx.case, ctx.user
    deadline = (
        Deadline.objects.of_case(case)
        .filter(pk=ctx.data.get("deadline"))
        .select_related("dispatch")
        .first()
    )
    if deadline is None:
        raise NotInScope()
    require(_handles_stage(user, case, deadline))
    if not deadline.is_pending or deadline.paused_at is not None:
        raise IllegalTransition(_("Only a running deadline can be postponed."))
    reason = require_text(
        ctx.data.get("reason"), field="reason", message=_("Say why more time is needed.")
    )
    unit, amount = ctx.data.get("unit"), ctx.data.get("amount")
    if unit not in TimeUnit.values:
        raise InvalidInput(fields={"unit": [_("Choose a unit of time.")]})
    if not isinstance(amount, int) or amount <= 0 or amount > 1000:
        raise InvalidInput(fields={"amount": [_("Enter a whole number from 1 to 1000.")]})
    try:
        with transaction.atomic():
            postponement = Postponement.objects.create(
                case=case,
                deadline=deadline,
                reason=reason,
                amount=amount,
                unit=unit,
                requested_by=user,
                requested_at=timezone.now(),
            )
    except IntegrityError:
        raise IllegalTransition(
            _("A postponement of this deadline was already requested; it is granted once.")
        ) from None
    ctx.write(
        "request_postponement",
        dispatch=deadline.dispatch,
        data={"stage": deadline.stage, "amount": amount, "unit": unit, "reason": reason},
    )
    return postponement


def _handles_stage(user: User, case: Case, deadline: Deadline) -> bool:
    if deadline.stage == Stage.REDISPATCH:
        return False  # the committee's own clock on a returned dispatch, not the unit's
    if deadline.dispatch is not None:
        return handles_dispatch(user, deadline.dispatch)
    if deadline.stage in (Stage.SCREENING, Stage.VILLAGE_HANDLING, Stage.VERIFICATION):
        return is_village_officer_of(user, case)
    return is_captain_on_case(user, case)


def decide_postponement(
    *,
    user: User,
    postponement_id: int,
    approve: bool,
    note: str = "",
    expected_version: int | None = None,
) -> Postponement:
    """The level above approves (the deadline moves once) or refuses."""
    case_id = (
        Postponement.objects.filter(pk=postponement_id).values_list("case_id", flat=True).first()
    )
    if case_id is None:
        raise NotInScope()
    with transaction.atomic():
        case = lock_case(user=user, case_id=case_id, expected_version=expected_version)
        require(is_committee_at_level(user, case))
        postponement = (
            Postponement.objects.select_for_update(of=("self",))
            .select_related("deadline", "requested_by")
            .get(pk=postponement_id)
        )
        if postponement.decision != Postponement.Decision.PENDING:
            raise IllegalTransition(_("This request was already decided."))
        deadline = (
            Deadline.objects.of_case(case).select_for_update().get(pk=postponement.deadline_id)
        )
        if approve and not deadline.is_pending:
            raise IllegalTransition(_("The deadline has already passed or been met."))
        postponement.decision = (
            Postponement.Decision.APPROVED if approve else Postponement.Decision.REFUSED
        )
        postponement.decided_by = user
        postponement.decided_at = timezone.now()
        postponement.decision_note = note.strip()
        postponement.save(update_fields=["decision", "decided_by", "decided_at", "decision_note"])
        data = {"stage": deadline.stage, "approved": approve, "note": note.strip()}
        if approve:
            timers.postpone_deadline(
                deadline=deadline, amount=postponement.amount, unit=postponement.unit
            )
            timers.sync_dispatch_board(case=case)
            data["due_at"] = deadline.due_at.isoformat()
        record_event(
            case=case,
            action="decide_postponement",
            actor=user,
            dispatch=deadline.dispatch,
            data=data,
        )
        notify(
            recipients=[postponement.requested_by],
            kind="postponement_decided",
            case=case,
            data={"approved": approve},
        )
        return postponement


def reopen_case(
    *, user: User, case_id: int, reason: str, expected_version: int | None = None
) -> Case:
    """The town reopens a rejected or closed case: a rejected one is screened again, a closed
    one goes back to handling where it was solved."""
    return perform(
        action="reopen",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"reason": reason},
    )


def run_reopen(ctx: Context) -> Case:
    case = ctx.case
    reason = require_text(
        ctx.data.get("reason"), field="reason", message=_("Say why the case is reopened.")
    )
    if (
        case.status == Status.CLOSED
        and case.resolved_level
        and case.resolved_level != Level.VILLAGE
    ):
        target, level, stage = Status.IN_PROGRESS, case.resolved_level, Stage.HANDLING
    elif case.status == Status.CLOSED:
        target, level, stage = Status.VILLAGE_HANDLING, Level.VILLAGE, Stage.VILLAGE_HANDLING
    else:
        target, level, stage = Status.FILED, Level.VILLAGE, Stage.SCREENING
    ctx.write("reopen", target=target, level=level, data={"reason": reason})
    case.closed_at = None
    case.satisfaction = ""
    case.save(update_fields=["closed_at", "satisfaction"])
    if target == Status.IN_PROGRESS:
        # As after a failed verification: the teams that resolved it work it again.
        back_to_work(case=case)
    ctx.next_stage = stage
    return case
