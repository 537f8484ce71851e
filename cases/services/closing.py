"""Closing the loop: on-site verification by the grid, and the whistler's evaluation."""

from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from cases import timers
from cases.access import is_grid_worker_of, is_village_officer_of, require
from cases.errors import IllegalTransition, InvalidInput, NotAllowed, NotInScope
from cases.models import Case, Dispatch, Level, Satisfaction, Status
from cases.notifications import handlers_of_dispatch, village_officers
from cases.services.common import check_photos, lock_case, notify, require_text, store_photos
from cases.transitions import allowed_actions, apply_transition
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
    photos = check_photos(photos)
    with transaction.atomic():
        case = lock_case(user=user, case_id=case_id, expected_version=expected_version)
        require(is_grid_worker_of(user, case) or is_village_officer_of(user, case))
        if case.status != Status.RESOLVED:
            raise IllegalTransition()
        if passed:
            event = apply_transition(
                case=case,
                action="verify_pass",
                actor=user,
                public=True,
                data={"note": reason.strip()},
            )
            store_photos(case=case, photos=photos, purpose="verification", user=user, event=event)
            timers.meet_deadlines(case=case)
            timers.sync_dispatch_board(case=case)
            if case.reporter_id and case.reporter_id != user.pk:
                notify(recipients=[case.reporter], kind="case_closed", case=case)
            return case
        reason = require_text(reason, field="reason", message=_("Say what is still wrong."))
        if not photos:
            raise InvalidInput(fields={"photos": [_("Add a photo of what is still wrong.")]})
        at_village = case.resolved_level == Level.VILLAGE or case.level == Level.VILLAGE
        target = Status.VILLAGE_HANDLING if at_village else Status.IN_PROGRESS
        case.rework_count += 1
        case.save(update_fields=["rework_count"])
        event = apply_transition(
            case=case,
            action="verify_fail",
            actor=user,
            target=target,
            public=True,
            data={"reason": reason, "rework_count": case.rework_count},
        )
        store_photos(case=case, photos=photos, purpose="verification", user=user, event=event)
        timers.meet_deadlines(case=case, stages=[Stage.VERIFICATION])
        if at_village:
            timers.start_deadline(case=case, stage=Stage.VILLAGE_HANDLING)
            recipients = list(village_officers(case.village))
        else:
            timers.start_deadline(case=case, stage=Stage.HANDLING)
            case.dispatches.filter(state=Dispatch.State.RESOLVED).update(
                state=Dispatch.State.REPORTED, resolved_at=None
            )
            recipients = [
                person
                for dispatch in case.dispatches.exclude(state=Dispatch.State.CANCELLED)
                for person in handlers_of_dispatch(dispatch)
            ]
        timers.sync_dispatch_board(case=case)
        notify(recipients=recipients, kind="rework", case=case, data={"reason": reason})
        return case


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
    with transaction.atomic():
        if user is None:
            case = (
                Case.objects.select_for_update()
                .filter(pk=case_id, tracking_code=tracking_code)
                .first()
            )
            if case is None or not tracking_code:
                raise NotInScope()
            actor_label = "citizen"
        else:
            case = lock_case(user=user, case_id=case_id, expected_version=expected_version)
            if case.reporter_id != user.pk:
                raise NotAllowed(_("Only the whistler can evaluate the case."))
            actor_label = ""
        if "evaluate" not in allowed_actions(case):
            raise IllegalTransition()
        if case.satisfaction:
            raise IllegalTransition(_("This case was already evaluated."))
        case.satisfaction = satisfaction
        case.save(update_fields=["satisfaction"])
        apply_transition(
            case=case,
            action="evaluate",
            actor=user,
            actor_label=actor_label,
            public=True,
            data={"satisfaction": satisfaction, "comment": comment.strip()[:1000]},
        )
        return case
