"""Closing the loop: on-site verification by the grid, and the whistler's evaluation."""

from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from cases.errors import InvalidInput, NotInScope
from cases.models import Case, Dispatch, Level, Satisfaction, Status
from cases.notifications import handlers_of_dispatch, village_officers
from cases.perform import Context, perform
from cases.services.common import require_text
from checklists.models import Stage
from teams.models import User


def verify_case(
    *,
    user: User,
    case_id: int,
    passed: bool,
    reason: str = "",
    photos: Sequence[UploadedFile] | None = None,
    expected_version: int | None = None,
) -> Case:
    """The grid worker (or the village officer) checks on site: pass closes the case, fail
    sends it back for rework with a reason and a photo."""
    return perform(
        action="verify",
        user=user,
        case_id=case_id,
        expected_version=expected_version,
        data={"passed": passed, "reason": reason, "photos": photos},
    )


def run_verify(ctx: Context) -> Case:
    case = ctx.case
    reason = ctx.data.get("reason") or ""
    if ctx.data.get("passed"):
        ctx.write("verify_pass", data={"note": reason.strip()}, photos="verification")
        return case
    reason = require_text(reason, field="reason", message=_("Say what is still wrong."))
    if not ctx.photos:
        raise InvalidInput(fields={"photos": [_("Add a photo of what is still wrong.")]})
    at_village = case.resolved_level == Level.VILLAGE or case.level == Level.VILLAGE
    target = Status.VILLAGE_HANDLING if at_village else Status.IN_PROGRESS
    case.rework_count += 1
    case.save(update_fields=["rework_count"])
    ctx.write(
        "verify_fail",
        target=target,
        data={"reason": reason, "rework_count": case.rework_count},
        photos="verification",
    )
    if at_village:
        ctx.next_stage = Stage.VILLAGE_HANDLING
        ctx.recipients = list(village_officers(case.village))
    else:
        ctx.next_stage = Stage.HANDLING
        back_to_work(case=case)
        ctx.recipients = [
            person
            for dispatch in case.dispatches.exclude(state__in=Dispatch.GONE_STATES)
            for person in handlers_of_dispatch(dispatch)
        ]
    return case


def back_to_work(*, case: Case) -> None:
    """The dispatches the case's resolution ended go back to work as they were: reported in,
    or still waiting for a report-in (a unit that never reported in is not shown as having
    done so, nor charged as one)."""
    resolved = case.dispatches.filter(state=Dispatch.State.RESOLVED)
    resolved.filter(reported_in_at__isnull=False).update(
        state=Dispatch.State.REPORTED, resolved_at=None
    )
    resolved.filter(reported_in_at__isnull=True).update(
        state=Dispatch.State.WAITING, resolved_at=None
    )


def evaluate_case(
    *,
    user: User | None,
    case_id: int,
    satisfaction: str,
    comment: str = "",
    tracking_code: str = "",
    expected_version: int | None = None,
) -> Case:
    """The whistler (or the citizen, by tracking code) rates a closed case, once."""
    if satisfaction not in Satisfaction.values:
        raise InvalidInput(fields={"satisfaction": [_("Choose how satisfied you are.")]})
    data = {"satisfaction": satisfaction, "comment": comment}
    if user is not None:
        return perform(
            action="evaluate",
            user=user,
            case_id=case_id,
            expected_version=expected_version,
            data=data,
        )
    with transaction.atomic():
        case = (
            Case.objects.select_for_update().filter(pk=case_id, tracking_code=tracking_code).first()
        )
        if case is None or not tracking_code:
            raise NotInScope()
        return perform(action="evaluate", user=None, case=case, actor_label="citizen", data=data)


def run_evaluate(ctx: Context) -> Case:
    satisfaction = ctx.data["satisfaction"]
    ctx.case.satisfaction = satisfaction
    ctx.case.save(update_fields=["satisfaction"])
    comment = (ctx.data.get("comment") or "").strip()[:1000]
    ctx.write("evaluate", data={"satisfaction": satisfaction, "comment": comment})
    return ctx.case
