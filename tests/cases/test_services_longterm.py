"""Long-term cases (挂账): the handler's request to suspend a case, the committee's decision, the
review clock of a suspended case (its warning, its firing, its light), a new review date, and
resume (cases/workflow/longterm.py)."""

from datetime import date, timedelta

import pytest
from django.utils import translation

from cases import notifications, sweep
from cases.errors import IllegalTransition, InvalidInput, NotAllowed, NotInScope
from cases.models import Deadline, Event, Notification, Status, SuspensionRequest
from cases.selectors_pages.lists import CaseFilters, case_list
from cases.services import (
    request_suspension,
    reschedule_review,
    resume_case,
    review_suspension,
    suspend_case,
)
from cases.workflow import available_actions
from checklists.models import Stage
from tests.cases.engine_steps import (
    T0,
    accepted,
    actions,
    at,
    fresh,
    in_progress,
    kinds_for,
)


@pytest.fixture(autouse=True)
def _english():
    """The refusals are read in English here (the default language is Chinese)."""
    with translation.override("en"):
        yield


State = SuspensionRequest.State
REVIEW_ON = date(2025, 7, 10)  # a month after T0
REVIEW_DUE = at(2025, 7, 11, 0, 0)  # the end of the review date


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def asked(org, *, who=None, review_on=REVIEW_ON):
    case = in_progress(org)
    request = request_suspension(
        user=who or org.captain,
        case_id=case.pk,
        reason="Waiting for the court's ruling",
        review_on=review_on,
    )
    return fresh(case), request


def suspended(org, *, review_on=REVIEW_ON):
    case, _request = asked(org, review_on=review_on)
    review_suspension(user=org.town_committee, case_id=case.pk, approve=True)
    return fresh(case)


def review_clock(case) -> Deadline:
    return Deadline.objects.get(case=case, stage=Stage.SUSPENSION_REVIEW, met_at__isnull=True)


def light_in_list(org, case) -> str:
    rows = case_list(user=org.town_committee, filters=CaseFilters(), now=None)
    return next(row.light for row in rows if row.pk == case.pk)


# --- the request ----------------------------------------------------------------------------


def test_the_captain_asks_and_the_committee_is_told(org):
    case = in_progress(org)
    version = case.version
    request = request_suspension(
        user=org.captain,
        case_id=case.pk,
        reason="  Waiting for the court's ruling  ",
        review_on=REVIEW_ON,
        expected_version=version,
    )
    request.refresh_from_db()
    assert (request.requested_by, request.requested_at, request.state) == (
        org.captain,
        T0,
        State.PENDING,
    )
    assert (request.reason, request.review_on) == ("Waiting for the court's ruling", REVIEW_ON)
    case = fresh(case)
    assert case.status == Status.IN_PROGRESS  # nothing stops before the committee decides
    assert case.suspension_requested
    assert case.version == version + 1
    event = case.events.get(action="request_suspension")
    assert (event.actor, event.public) == (org.captain, False)
    assert event.data == {
        "reason": "Waiting for the court's ruling",
        "review_on": "2025-07-10",
        "request": request.pk,
    }
    told = Notification.objects.get(recipient=org.town_committee, kind="suspension_requested")
    assert (told.data["reason"], told.data["review_on"]) == (
        "Waiting for the court's ruling",
        "2025-07-10",
    )
    with translation.override("en"):
        subject, body = notifications.render(told)
    assert subject == f"Suspension requested: {case.number}"
    assert "Review date: 2025-07-10" in body and "Reason: Waiting" in body
    assert "suspension_requested" not in kinds_for(org.city_committee)
    # The buttons follow: no second request, the committee's decision instead of `suspend`.
    assert "request_suspension" not in available_actions(user=org.captain, case=case)
    committee = available_actions(user=org.town_committee, case=case)
    assert "review_suspension" in committee and "suspend" not in committee


def test_the_village_officer_asks_for_a_case_the_village_handles(org):
    case = accepted(org)
    request_suspension(
        user=org.village_officer, case_id=case.pk, reason="Winter: no digging", review_on=REVIEW_ON
    )
    assert fresh(case).suspension_requested
    assert "suspension_requested" in kinds_for(org.town_committee, case)


@pytest.mark.parametrize(
    ("reason", "review_on", "field"),
    [
        ("   ", REVIEW_ON, "reason"),
        ("x" * 4001, REVIEW_ON, "reason"),
        ("Court", date(2025, 6, 10), "review_on"),  # today
        ("Court", date(2025, 6, 1), "review_on"),  # in the past
        ("Court", None, "review_on"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(org, reason, review_on, field):
    case = in_progress(org)
    with pytest.raises(InvalidInput) as refused:
        request_suspension(user=org.captain, case_id=case.pk, reason=reason, review_on=review_on)
    assert field in refused.value.fields
    assert str(refused.value.fields[field][0])
    after = fresh(case)
    assert (after.version, after.suspension_requested) == (case.version, False)
    assert not SuspensionRequest.objects.exists()
    assert "request_suspension" not in actions(case)


def test_a_second_request_while_one_waits_is_refused(org):
    case, first = asked(org)
    with pytest.raises(IllegalTransition) as refused:
        request_suspension(
            user=org.village_officer, case_id=case.pk, reason="x", review_on=REVIEW_ON
        )
    assert "only one request may wait" in str(refused.value)
    assert SuspensionRequest.objects.get() == first
    assert fresh(case).version == case.version


def test_who_may_ask(org):
    case = in_progress(org)
    for outsider in (org.town_committee, org.grid_worker, org.supervisor):
        with pytest.raises((NotAllowed, NotInScope)):
            request_suspension(user=outsider, case_id=case.pk, reason="x", review_on=REVIEW_ON)
    with pytest.raises(NotInScope):  # another town's captain does not see the case
        request_suspension(user=org.other_captain, case_id=case.pk, reason="x", review_on=REVIEW_ON)
    assert not SuspensionRequest.objects.exists()


# --- the committee's decision ---------------------------------------------------------------


def test_approved_the_case_is_suspended_and_its_review_clock_runs(org, time_machine):
    case, request = asked(org)
    time_machine.move_to(T0 + timedelta(hours=1), tick=False)
    review_suspension(user=org.town_committee, case_id=case.pk, approve=True, note="Agreed")
    case = fresh(case)
    assert (case.status, case.status_before_suspension) == (Status.SUSPENDED, Status.IN_PROGRESS)
    assert not case.suspension_requested
    request.refresh_from_db()
    assert (request.state, request.decided_by, request.decided_at, request.decision_note) == (
        State.APPROVED,
        org.town_committee,
        T0 + timedelta(hours=1),
        "Agreed",
    )
    assert actions(case)[-2:] == ["approve_suspension", "suspend"]
    assert case.events.get(action="suspend").data == {
        "reason": "Waiting for the court's ruling",
        "review_on": "2025-07-10",
        "request": request.pk,
    }
    # Every clock of the handlers stands still; the review clock runs to the end of the date.
    handling = Deadline.objects.get(case=case, stage=Stage.HANDLING, dispatch=None)
    assert handling.paused_at == T0 + timedelta(hours=1)
    clock = review_clock(case)
    assert (clock.started_at, clock.due_at, clock.paused_at) == (
        T0 + timedelta(hours=1),
        REVIEW_DUE,
        None,
    )
    # Yellow at the item's share (80 %) of the suspension, in natural time.
    span = REVIEW_DUE - clock.started_at
    assert clock.warn_at == clock.started_at + span * 80 / 100
    assert kinds_for(org.captain, case).count("suspension_approved") == 1
    approved = Notification.objects.get(recipient=org.captain, kind="suspension_approved")
    assert approved.data["review_on"] == "2025-07-10"
    assert "case_suspended" in kinds_for(org.village_officer, case)
    assert light_in_list(org, case) == "green"


def test_the_committee_may_set_another_review_date(org):
    case, _request = asked(org)
    review_suspension(
        user=org.town_committee, case_id=case.pk, approve=True, review_on=date(2025, 8, 1)
    )
    assert review_clock(case).due_at == at(2025, 8, 2, 0, 0)


def test_a_proposed_date_that_passed_while_waiting_needs_a_new_one(org, time_machine):
    case, request = asked(org, review_on=date(2025, 6, 12))
    time_machine.move_to(at(2025, 6, 13, 9, 0), tick=False)
    with pytest.raises(InvalidInput) as refused:
        review_suspension(user=org.town_committee, case_id=case.pk, approve=True)
    assert "review_on" in refused.value.fields
    request.refresh_from_db()
    assert request.state == State.PENDING
    assert fresh(case).status == Status.IN_PROGRESS
    review_suspension(
        user=org.town_committee, case_id=case.pk, approve=True, review_on=date(2025, 7, 1)
    )
    assert fresh(case).status == Status.SUSPENDED


def test_refused_with_a_note_the_requester_is_told_why(org):
    case, request = asked(org)
    with pytest.raises(InvalidInput) as refused:
        review_suspension(user=org.town_committee, case_id=case.pk, approve=False, note="  ")
    assert "note" in refused.value.fields
    assert SuspensionRequest.objects.get().state == State.PENDING
    review_suspension(
        user=org.town_committee, case_id=case.pk, approve=False, note="Solve it this month"
    )
    case = fresh(case)
    assert (case.status, case.suspension_requested) == (Status.IN_PROGRESS, False)
    request.refresh_from_db()
    assert (request.state, request.decision_note) == (State.REFUSED, "Solve it this month")
    assert not Deadline.objects.filter(case=case, stage=Stage.SUSPENSION_REVIEW).exists()
    assert not Deadline.objects.filter(case=case, paused_at__isnull=False).exists()
    told = Notification.objects.get(recipient=org.captain, kind="suspension_refused")
    assert told.data["reason"] == "Solve it this month"
    # A new request may be made now.
    request_suspension(user=org.captain, case_id=case.pk, reason="Again", review_on=REVIEW_ON)


def test_a_decided_request_is_not_decided_again(org):
    case, _request = asked(org)
    review_suspension(user=org.town_committee, case_id=case.pk, approve=False, note="No")
    version = fresh(case).version
    for approve in (True, False):
        with pytest.raises(IllegalTransition) as refused:
            review_suspension(user=org.town_committee, case_id=case.pk, approve=approve, note="x")
        assert "already" in str(refused.value) or "was decided" in str(refused.value)
    assert fresh(case).version == version
    assert SuspensionRequest.objects.get().state == State.REFUSED


def test_only_the_committee_at_the_case_level_decides(org):
    case, _request = asked(org)
    for user in (org.captain, org.village_officer, org.supervisor, org.city_committee):
        with pytest.raises((NotAllowed, NotInScope)):
            review_suspension(user=user, case_id=case.pk, approve=True)
    assert SuspensionRequest.objects.get().state == State.PENDING


def test_the_direct_suspension_waits_for_the_decision_on_a_request(org):
    case, _request = asked(org)
    with pytest.raises(IllegalTransition) as refused:
        suspend_case(user=org.town_committee, case_id=case.pk, reason="Court", review_on=REVIEW_ON)
    assert "approve or refuse" in str(refused.value)
    assert fresh(case).status == Status.IN_PROGRESS


# --- the review clock -----------------------------------------------------------------------


def test_the_direct_suspension_starts_the_review_clock_too(org):
    case = in_progress(org)
    suspend_case(user=org.town_committee, case_id=case.pk, reason="Court", review_on=REVIEW_ON)
    assert review_clock(case).due_at == REVIEW_DUE


def test_an_unreviewed_case_fires_once_reminds_the_committee_and_turns_red(org, time_machine):
    case = suspended(org)
    clock = review_clock(case)
    # Yellow first: the committee is warned before the review date.
    time_machine.move_to(clock.warn_at + timedelta(minutes=1), tick=False)
    assert sweep.sweep() == 0
    assert kinds_for(org.town_committee, case).count("deadline_warning") == 1
    assert light_in_list(org, case) == "yellow"
    # On the review date itself it is still not overdue.
    time_machine.move_to(at(2025, 7, 10, 23, 59), tick=False)
    assert sweep.sweep() == 0
    # The day after: it fires once.
    time_machine.move_to(at(2025, 7, 11, 0, 1), tick=False)
    assert sweep.sweep() == 1
    assert sweep.sweep() == 0
    timer = Event.objects.filter(case=case, actor_label="timer")
    assert list(timer.values_list("action", flat=True)) == ["review_overdue"]
    assert timer.get().data["stage"] == Stage.SUSPENSION_REVIEW
    reminders = Notification.objects.filter(kind="suspension_review_due", case=case)
    assert [n.recipient for n in reminders] == [org.town_committee]
    assert reminders.get().data["review_on"] == "2025-07-10"
    with translation.override("en"):
        subject, body = notifications.render(reminders.get())
    assert subject == f"Review overdue: {case.number}" and "Review date: 2025-07-10" in body
    assert not Notification.objects.filter(kind="overdue").exists()
    case = fresh(case)
    assert case.status == Status.SUSPENDED
    assert light_in_list(org, case) == "red"
    # The handlers' clocks never moved.
    assert (
        not Deadline.objects.filter(case=case, fired_at__isnull=False)
        .exclude(stage=Stage.SUSPENSION_REVIEW)
        .exists()
    )


def test_a_new_review_date_meets_the_overdue_review(org, time_machine):
    case = suspended(org)
    time_machine.move_to(at(2025, 7, 12, 9, 0), tick=False)
    sweep.sweep()
    assert light_in_list(org, case) == "red"
    with pytest.raises(InvalidInput) as refused:
        reschedule_review(user=org.town_committee, case_id=case.pk, review_on=date(2025, 7, 12))
    assert "review_on" in refused.value.fields
    with pytest.raises(NotAllowed):
        reschedule_review(user=org.captain, case_id=case.pk, review_on=date(2025, 8, 12))
    reschedule_review(
        user=org.town_committee, case_id=case.pk, review_on=date(2025, 8, 12), note="Court late"
    )
    clocks = Deadline.objects.filter(case=case, stage=Stage.SUSPENSION_REVIEW).order_by("id")
    assert [c.met_at for c in clocks] == [at(2025, 7, 12, 9, 0), None]
    assert clocks[1].due_at == at(2025, 8, 13, 0, 0)
    assert light_in_list(org, case) == "green"
    assert fresh(case).events.filter(action="reschedule_review").get().data == {
        "review_on": "2025-08-12",
        "note": "Court late",
    }


def test_a_new_review_date_is_only_for_a_suspended_case(org):
    case = in_progress(org)
    with pytest.raises(IllegalTransition):
        reschedule_review(user=org.town_committee, case_id=case.pk, review_on=REVIEW_ON)


def test_resume_puts_the_clocks_back_and_meets_the_review(org, time_machine):
    case = suspended(org)
    handling = Deadline.objects.get(case=case, stage=Stage.HANDLING, dispatch=None)
    left = handling.remaining_seconds
    time_machine.move_to(at(2025, 7, 14, 9, 0), tick=False)  # Monday, after the review date
    sweep.sweep()
    resume_case(user=org.town_committee, case_id=case.pk)
    case = fresh(case)
    assert case.status == Status.IN_PROGRESS
    handling.refresh_from_db()
    assert (handling.paused_at, handling.remaining_seconds) == (None, None)
    assert handling.due_at > at(2025, 7, 14, 9, 0) and left > 0
    review = Deadline.objects.get(case=case, stage=Stage.SUSPENSION_REVIEW)
    assert review.met_at == at(2025, 7, 14, 9, 0)
    assert light_in_list(org, case) != "red" or handling.due_at <= at(2025, 7, 14, 9, 0)
    assert sweep.sweep() == 0
