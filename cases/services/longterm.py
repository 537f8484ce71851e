"""Long-term cases (挂账): the handler's request to suspend a case, the committee's decision on
it, and a new review date for a suspended case (docs/workflow.md, cases/workflow/longterm.py).
The committee's own `suspend` and `resume` are in cases.services.committee."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.errors import IllegalTransition, InvalidInput
from cases.models import Case, SuspensionRequest
from cases.perform import Context, perform
from cases.services.common import require_text
from teams.models import User

State = SuspensionRequest.State


def future_review_date(value: date | None, *, field: str = "review_on") -> date:
    """A review date must be a day after today: the review clock is due at its end."""
    if not isinstance(value, date) or value <= timezone.localdate():
        raise InvalidInput(fields={field: [_("The review date must be in the future.")]})
    return value


def request_suspension(
    *,
    user: User,
    case_id: int,
    reason: str,
    review_on: date | None,
    expected_version: int | None = None,
) -> SuspensionRequest:
    """The handler of a case it cannot solve for now (a court case, the season, money) asks
    the committee at the case's level to suspend it until a review date."""
    return perform(
        action="request_suspension",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"reason": reason, "review_on": review_on},
    )


def run_request_suspension(ctx: Context) -> SuspensionRequest:
    case = ctx.case
    reason = require_text(
        ctx.data.get("reason"), field="reason", message=_("Say why the case should be suspended.")
    )
    review_on = future_review_date(ctx.data.get("review_on"))
    try:
        with transaction.atomic():
            request = SuspensionRequest.objects.create(
                case=case,
                requested_by=ctx.user,
                requested_at=ctx.now,
                reason=reason,
                review_on=review_on,
            )
    except IntegrityError:
        raise IllegalTransition(ctx.action.refusal) from None
    case.suspension_requested = True
    case.save(update_fields=["suspension_requested"])
    ctx.data.update(reason=reason, review_on=review_on)  # the committee's notification
    ctx.write(
        "request_suspension",
        data={"reason": reason, "review_on": review_on.isoformat(), "request": request.pk},
    )
    return request


def review_suspension(
    *,
    user: User,
    case_id: int,
    approve: bool,
    note: str = "",
    review_on: date | None = None,
    expected_version: int | None = None,
) -> SuspensionRequest:
    """The committee decides once on the waiting request: approved, the case is suspended until
    the proposed review date (or the one the committee sets instead); refused (with a note), it
    stays in handling and the requester is told why."""
    return perform(
        action="review_suspension",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"approve": approve, "note": note, "review_on": review_on},
    )


def run_review_suspension(ctx: Context) -> SuspensionRequest:
    case = ctx.case
    request = (
        SuspensionRequest.objects.select_for_update(of=("self",))
        .select_related("requested_by")
        .filter(case=case, state=State.PENDING)
        .first()
    )
    if request is None:
        raise IllegalTransition(ctx.action.refusal)
    approve = ctx.data.get("approve")
    if not isinstance(approve, bool):
        raise InvalidInput(fields={"approve": [_("Choose to approve or refuse the request.")]})
    note = (ctx.data.get("note") or "").strip()
    if approve:
        if note:  # optional; require_text checks its length
            note = require_text(note, field="note", message="")
        review_on = future_review_date(ctx.data.get("review_on") or request.review_on)
    else:
        note = require_text(note, field="note", message=_("Say why the request is refused."))
    request.state = State.APPROVED if approve else State.REFUSED
    request.decided_by = ctx.user
    request.decided_at = ctx.now
    request.decision_note = note
    request.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    case.suspension_requested = False
    case.save(update_fields=["suspension_requested"])
    ctx.recipients = [request.requested_by]
    ctx.data["note"] = note
    if not approve:
        ctx.write("refuse_suspension", data={"request": request.pk, "note": note})
        return request
    ctx.data["review_on"] = review_on  # the review clock's due date (StartReview)
    ctx.write(
        "approve_suspension",
        data={"request": request.pk, "note": note, "review_on": review_on.isoformat()},
    )
    ctx.write(
        "suspend",
        data={"reason": request.reason, "review_on": review_on.isoformat(), "request": request.pk},
    )
    return request


def reschedule_review(
    *,
    user: User,
    case_id: int,
    review_on: date | None,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """The committee reviews a suspended case and keeps it suspended until a new review date:
    the review clock starts again (an overdue one is met, so the case is no longer red)."""
    return perform(
        action="reschedule_review",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"review_on": review_on, "note": note},
    )


def run_reschedule_review(ctx: Context) -> Case:
    review_on = future_review_date(ctx.data.get("review_on"))
    note = (ctx.data.get("note") or "").strip()
    if note:  # optional; require_text checks its length
        note = require_text(note, field="note", message="")
    ctx.data["review_on"] = review_on
    ctx.write("reschedule_review", data={"review_on": review_on.isoformat(), "note": note})
    return ctx.case
