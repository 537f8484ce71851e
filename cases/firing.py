"""What a timer does when a stage's limit is reached (docs/workflow.md).

Called by cases.sweep with the case locked and the deadline marked fired. Every firing writes
exactly one event: the transition it caused, or a record that the limit passed."""

from datetime import timedelta

from django.utils import timezone

from cases.models import Case, Deadline, Dispatch, Level, Status
from cases.notifications import (
    city_committee,
    handlers_of_dispatch,
    prefecture_committee,
    town_committee,
    village_officers,
)
from cases.perform import perform
from cases.services.common import TIMER, notify
from cases.transitions import record_event
from checklists.models import Stage
from teams.levels import level_above

# The consultations whose timer sends the case on: at which level, by which action.
CLIMBS = {
    Stage.TOWN_CONSULTATION: (Level.TOWN, "escalate"),
    Stage.CITY_CONSULTATION: (Level.CITY, "escalate_to_prefecture"),
}


def act_on_deadline(*, case: Case, deadline: Deadline) -> None:
    data = {"deadline": deadline.pk, "stage": deadline.stage, "due_at": deadline.due_at.isoformat()}
    stage = deadline.stage
    if (stage == Stage.SCREENING and case.status == Status.FILED) or (
        stage == Stage.VILLAGE_HANDLING and case.status in (Status.FILED, Status.VILLAGE_HANDLING)
    ):
        # A whistle left alone climbs: the village never screened (or never finished) it.
        perform(action="whistle", user=None, case=case, data={"deadline": data})
    elif (
        stage == Stage.HANDLING
        and deadline.dispatch_id is None
        and case.status
        in (
            Status.IN_PROGRESS,
            Status.DISPATCHED,
        )
    ):
        perform(action="request_consultation", user=None, case=case, data={"deadline": data})
    elif (
        stage in CLIMBS
        and case.status == Status.IN_CONSULTATION
        and case.level == CLIMBS[stage][0]
        and level_above(case.level)
    ):
        # A consultation left undecided climbs to the next committee on the chain; at the
        # last one the timer only records the limit as passed (below).
        perform(action=CLIMBS[stage][1], user=None, case=case, data={"deadline": data})
    elif stage == Stage.REPORT_IN and deadline.dispatch_id:
        _report_in_late(case=case, deadline=deadline, data=data)
    elif stage == Stage.SUSPENSION_REVIEW:
        # A suspended case left unreviewed (挂账): the committee is reminded; the case shows red
        # until it is resumed or given a new review date (cases/workflow/longterm.py).
        record_event(
            case=case,
            action="review_overdue",
            actor=None,
            actor_label=TIMER,
            data=data,
            bump_version=False,
        )
        notify(
            recipients=_committee(case),
            kind="suspension_review_due",
            case=case,
            data={"review_on": _review_date(deadline)},
        )
    else:
        record_event(
            case=case,
            action="overdue",
            actor=None,
            actor_label=TIMER,
            data=data,
            dispatch=deadline.dispatch,
            bump_version=False,
        )
        notify(
            recipients=_concerned(case=case, deadline=deadline),
            kind="overdue",
            case=case,
            data={"stage": stage},
        )


def _report_in_late(*, case: Case, deadline: Deadline, data: dict) -> None:
    """The report-in limit passed: the dispatch is marked late and the town is alerted."""
    dispatch = Dispatch.objects.select_for_update().get(pk=deadline.dispatch_id)
    if dispatch.state == Dispatch.State.WAITING:
        dispatch.late = True
        dispatch.save(update_fields=["late"])
    record_event(
        case=case,
        action="report_in_late",
        actor=None,
        actor_label=TIMER,
        dispatch=dispatch,
        data={**data, "handler": dispatch.handler.code},
        bump_version=False,
    )
    notify(
        recipients=[*town_committee(case.town), *handlers_of_dispatch(dispatch)],
        kind="dispatch_late",
        case=case,
        data={"handler": dispatch.handler.code},
    )


def _concerned(*, case: Case, deadline: Deadline) -> list:
    if deadline.stage == Stage.REDISPATCH:
        # The clock of a returned dispatch is the committee's, not the unit's that returned it.
        return _committee(case)
    if deadline.dispatch is not None:
        return list(handlers_of_dispatch(deadline.dispatch))
    if deadline.stage in (Stage.SCREENING, Stage.VILLAGE_HANDLING, Stage.VERIFICATION):
        return list(village_officers(case.village))
    return _committee(case)


def _committee(case: Case) -> list:
    if case.level == Level.CITY:
        return list(city_committee(case.city))
    if case.level == Level.PREFECTURE:
        return list(prefecture_committee(case.city))
    return list(town_committee(case.town))


def warn_on_deadline(*, deadline: Deadline) -> None:
    """Yellow light: tell the people who must act before the limit is reached."""
    notify(
        recipients=_concerned(case=deadline.case, deadline=deadline),
        kind="deadline_warning",
        case=deadline.case,
        data={"stage": deadline.stage, "due_at": deadline.due_at.isoformat()},
    )


def _review_date(deadline: Deadline) -> str:
    """The review date of a review clock, which is due at the end of that day."""
    return (timezone.localtime(deadline.due_at) - timedelta(microseconds=1)).date().isoformat()
