"""Consultations through the services: calling one, reporting in and lateness, each kind of
decision and its effect on the case and its timers, and the object permissions of the invited."""

from datetime import date, timedelta

import pytest
from django.utils import translation

from cases import notifications
from cases.access import visible_cases
from cases.errors import IllegalTransition, InvalidInput, NotAllowed, NotInScope, StaleCase
from cases.models import Deadline, Dispatch, Event, Level, Notification, Status
from cases.services import Task, resume_case
from checklists.models import Stage
from consultation import selectors, services
from consultation.models import AgendaItem, Consultation, Invitation
from teams.models import Membership, Role
from tests.cases.engine_steps import fresh, in_progress
from tests.consultation.conftest import MEETING, T0, at, in_consultation

pytestmark = pytest.mark.usefixtures("clock")


def call(org, extra, cases, **kwargs):
    values = {
        "user": org.town_committee,
        "level": Consultation.Level.TOWN,
        "region_id": org.town.pk,
        "scheduled_at": MEETING,
        "place": "Town hall, room 2",
        "case_ids": [c.pk for c in cases],
        "department_ids": [extra.bureau.pk],
        "team_ids": [org.team.pk],
        "user_ids": [org.village_officer.pk],
    }
    values.update(kwargs)
    return services.call_consultation(**values)


def item_of(consultation, case) -> AgendaItem:
    return consultation.agenda_items.get(case=case)


def decide(org, item, kind, text="Decided", tasks=(), review_on=None, **kwargs):
    return services.decide_item(
        user=kwargs.pop("user", org.town_committee),
        item_id=item.pk,
        decision=services.Decision(kind=kind, text=text, tasks=tuple(tasks), review_on=review_on),
        expected_version=kwargs.pop("version", fresh(item.case).version),
    )


# --- calling ----------------------------------------------------------------------------------


def test_calling_puts_the_cases_on_the_agenda_and_invites_and_grants(org, extra):
    first, second = in_consultation(org), in_consultation(org, description="Second heap")
    assert first.pk not in visible_cases(user=extra.bureau_liaison).values_list("pk", flat=True)

    consultation = call(org, extra, [second, first])
    view = selectors.consultation_view(user=org.town_committee, consultation=consultation)
    # Each agenda case shows the clock that makes it climb to the city.
    assert [row.deadline.stage for row in view.agenda] == [Stage.TOWN_CONSULTATION] * 2
    assert [row.deadline.case_id for row in view.agenda] == [second.pk, first.pk]

    assert consultation.status == Consultation.Status.PLANNED
    assert list(consultation.agenda_items.values_list("case_id", "order")) == [
        (second.pk, 0),
        (first.pk, 1),
    ]
    invitees = {inv.invitee for inv in consultation.invitations.all()}
    assert invitees == {extra.bureau, org.team, org.village_officer}
    # The invited see the consultation and its cases by object permission; others do not.
    for person in (extra.bureau_liaison, org.captain, org.village_officer):
        assert person.has_perm("consultation.view_consultation", consultation)
        assert selectors.consultation_for(user=person, pk=consultation.pk) == consultation
    assert set(visible_cases(user=extra.bureau_liaison).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert not visible_cases(user=extra.outsider).exists()
    with pytest.raises(NotInScope):
        selectors.consultation_for(user=extra.outsider, pk=consultation.pk)
    # Invitees are told, and the cases' traces say they were put on an agenda.
    invited = Notification.objects.get(recipient=extra.bureau_liaison, kind="consultation_invited")
    subject, body = notifications.render(invited, "en")
    assert subject == f"Invitation to a consultation on {second.number}, {first.number}"
    assert body.endswith("Due: 2025-06-10 14:30")
    assert Event.objects.filter(case=first, action="consultation_called").count() == 1


def test_only_the_committee_of_the_level_calls(org, extra):
    case = in_consultation(org)
    with pytest.raises(NotAllowed):
        call(org, extra, [case], user=org.captain)
    with pytest.raises(NotAllowed):
        call(org, extra, [case], user=org.city_committee)
    assert not Consultation.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scheduled_at": T0 - timedelta(minutes=1)}, "scheduled_at"),
        ({"place": "", "online_link": ""}, "place"),
        ({"case_ids": []}, "cases"),
        ({"department_ids": [], "team_ids": [], "user_ids": []}, "departments"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(org, extra, changes, field):
    case = in_consultation(org)
    with pytest.raises(InvalidInput) as refused:
        call(org, extra, [case], **changes)
    assert field in refused.value.fields
    assert not Consultation.objects.exists()
    assert not extra.bureau_liaison.has_perm("cases.view_case", case)


def test_cases_not_waiting_or_already_scheduled_are_refused(org, extra):
    handling = in_progress(org)
    with pytest.raises(InvalidInput) as refused:
        call(org, extra, [handling])
    assert "cases" in refused.value.fields
    case = in_consultation(org)
    call(org, extra, [case])
    with translation.override("en"), pytest.raises(InvalidInput) as again:
        call(org, extra, [case])
    assert "another consultation" in str(again.value.fields["cases"][0])
    assert Consultation.objects.count() == 1


def test_invitees_from_another_town_are_refused(org, extra):
    case = in_consultation(org)
    with pytest.raises(InvalidInput) as refused:
        call(org, extra, [case], team_ids=[org.other_team.pk])
    assert "teams" in refused.value.fields
    with pytest.raises(InvalidInput) as person:
        call(org, extra, [case], user_ids=[org.grid_worker.pk])
    assert "people" in person.value.fields


# --- reporting in: confirm, check in, lateness ------------------------------------------------


def invitation_of(consultation, **invitee) -> Invitation:
    return consultation.invitations.get(**invitee)


def test_confirm_then_check_in_on_time_and_late(org, extra, clock):
    consultation = call(org, extra, [in_consultation(org)])
    bureau = invitation_of(consultation, department=extra.bureau)
    team = invitation_of(consultation, team=org.team)

    services.confirm_invitation(user=extra.bureau_liaison, invitation_id=bureau.pk)
    with pytest.raises(IllegalTransition):
        services.confirm_invitation(user=extra.bureau_liaison, invitation_id=bureau.pk)

    clock.move_to(at(2025, 6, 10, 14, 20))
    on_time = services.check_in(user=extra.bureau_liaison, invitation_id=bureau.pk)
    assert (on_time.checked_in_at, on_time.late) == (at(2025, 6, 10, 14, 20), False)

    clock.move_to(at(2025, 6, 10, 14, 45))
    late = services.check_in(user=org.captain, invitation_id=team.pk)
    assert (late.checked_in_at, late.late) == (at(2025, 6, 10, 14, 45), True)
    assert late.confirmed_at == at(2025, 6, 10, 14, 45)  # arriving confirms it too
    with pytest.raises(IllegalTransition):
        services.check_in(user=org.captain, invitation_id=team.pk)


def test_check_in_only_on_the_day_and_only_for_oneself(org, extra, clock):
    consultation = call(org, extra, [in_consultation(org)], scheduled_at=at(2025, 6, 11, 9, 0))
    bureau = invitation_of(consultation, department=extra.bureau)
    with pytest.raises(IllegalTransition):
        services.check_in(user=extra.bureau_liaison, invitation_id=bureau.pk)
    with pytest.raises(NotAllowed):  # invited, but not for the bureau
        services.confirm_invitation(user=org.captain, invitation_id=bureau.pk)
    with pytest.raises(NotInScope):  # not invited at all: the consultation does not exist
        services.confirm_invitation(user=extra.outsider, invitation_id=bureau.pk)
    clock.move_to(at(2025, 6, 11, 8, 55))
    # The committee records an arrival at the door.
    arrived = services.check_in(user=org.town_committee, invitation_id=bureau.pk)
    assert arrived.checked_in_by == org.town_committee and not arrived.late
    # The committee's record is not the invitee's confirmation (the clerk confirms apart).
    assert Invitation.objects.get(pk=bureau.pk).confirmed_at is None


# --- decisions ---------------------------------------------------------------------------------


def test_tasks_send_the_case_back_to_handling_with_dispatch_timers(org, extra):
    case = in_consultation(org)
    consultation = call(org, extra, [case])
    due_bureau, due_team = at(2025, 6, 12, 17, 0), at(2025, 6, 13, 12, 0)

    item = decide(
        org,
        item_of(consultation, case),
        AgendaItem.Decision.TASKS,
        text="Clear it jointly",
        tasks=[
            Task(action="Fine the owner", due_at=due_bureau, department_id=extra.bureau.pk),
            Task(action="Remove the heap", due_at=due_team, team_id=org.team.pk),
        ],
    )

    assert (item.decision, item.decision_text, item.decided_by) == (
        "tasks",
        "Clear it jointly",
        org.town_committee,
    )
    case = fresh(case)
    assert (case.status, case.level) == (Status.IN_PROGRESS, Level.TOWN)
    assert case.deadlines.get(stage=Stage.TOWN_CONSULTATION).met_at == T0
    tasks = list(case.dispatches.filter(origin=Dispatch.Origin.DECISION).order_by("pk"))
    assert [(d.handler, d.task, d.due_at, d.state) for d in tasks] == [
        (extra.bureau, "Fine the owner", due_bureau, Dispatch.State.WAITING),
        (org.team, "Remove the heap", due_team, Dispatch.State.WAITING),
    ]
    # Like a dispatch: a report-in clock and a handling clock on each task.
    for dispatch in tasks:
        stages = set(Deadline.objects.filter(dispatch=dispatch).values_list("stage", flat=True))
        assert stages == {Stage.REPORT_IN, Stage.HANDLING}
    assert Consultation.objects.get(pk=consultation.pk).status == Consultation.Status.HELD
    # The consultation page shows the tasks under the decision.
    view = selectors.consultation_view(user=org.town_committee, consultation=consultation)
    assert [d.pk for d in view.agenda[0].tasks] == [d.pk for d in tasks]


def test_a_task_with_a_past_deadline_is_refused_and_nothing_changes(org, extra):
    case = in_consultation(org)
    consultation = call(org, extra, [case])
    with pytest.raises(InvalidInput) as refused:
        decide(
            org,
            item_of(consultation, case),
            AgendaItem.Decision.TASKS,
            tasks=[Task(action="Late", due_at=T0 - timedelta(hours=1), team_id=org.team.pk)],
        )
    assert "tasks-0-due_at" in refused.value.fields
    assert fresh(case).status == Status.IN_CONSULTATION
    assert item_of(consultation, case).decision == AgendaItem.Decision.PENDING
    assert not case.dispatches.filter(origin=Dispatch.Origin.DECISION).exists()


def test_escalation_sends_the_case_to_the_city_committee_queue(org, extra):
    case = in_consultation(org)
    consultation = call(org, extra, [case])
    town_seats = selectors.committee_seats(user=org.town_committee)
    city_seats = selectors.committee_seats(user=org.city_committee)
    assert [r.case for r in selectors.queue(user=org.town_committee, seats=town_seats)[1]] == [case]

    decide(org, item_of(consultation, case), AgendaItem.Decision.ESCALATE, text="Beyond us")

    case = fresh(case)
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.CITY)
    assert case.deadlines.get(stage=Stage.TOWN_CONSULTATION).met_at == T0
    city_clock = case.deadlines.get(stage=Stage.CITY_CONSULTATION)
    assert city_clock.met_at is None
    assert selectors.queue(user=org.town_committee, seats=town_seats)[1] == []
    rows = selectors.queue(user=org.city_committee, seats=city_seats)[1]
    assert [(r.case, r.deadline, r.consultation_id) for r in rows] == [(case, city_clock, None)]
    # The city calls its own consultation on it.
    city = services.call_consultation(
        user=org.city_committee,
        level=Consultation.Level.CITY,
        region_id=org.city.pk,
        scheduled_at=at(2025, 6, 12, 9, 0),
        online_link="https://meet.example.org/city",
        case_ids=[case.pk],
        department_ids=[extra.bureau.pk],
    )
    assert city.agenda_items.get().case == case
    with pytest.raises(InvalidInput):  # a city case cannot climb further
        decide(org, city.agenda_items.get(), AgendaItem.Decision.ESCALATE, user=org.city_committee)


def test_suspension_pauses_the_clock_and_resume_restarts_it(org, extra, clock):
    case = in_consultation(org)
    consultation = call(org, extra, [case])
    with pytest.raises(InvalidInput) as no_date:
        decide(org, item_of(consultation, case), AgendaItem.Decision.SUSPEND)
    assert "review_on" in no_date.value.fields

    decide(
        org,
        item_of(consultation, case),
        AgendaItem.Decision.SUSPEND,
        text="Waiting for the court",
        review_on=date(2025, 7, 1),
    )
    case = fresh(case)
    assert case.status == Status.SUSPENDED
    clock_row = case.deadlines.get(stage=Stage.TOWN_CONSULTATION)
    assert clock_row.paused_at == T0 and clock_row.remaining_seconds > 0
    event = case.events.get(action="suspend")
    assert event.data == {"reason": "Waiting for the court", "review_on": "2025-07-01"}

    clock.move_to(at(2025, 7, 1, 9, 0))
    resume_case(user=org.town_committee, case_id=case.pk)
    case = fresh(case)
    assert case.status == Status.IN_CONSULTATION
    clock_row.refresh_from_db()
    assert clock_row.paused_at is None and clock_row.due_at > at(2025, 7, 1, 9, 0)
    # Back in the queue, free for a new consultation, since this one decided it.
    seats = selectors.committee_seats(user=org.town_committee)
    rows = selectors.queue(user=org.town_committee, seats=seats)[1]
    assert [(r.case, r.consultation_id) for r in rows] == [(case, None)]


def test_closing_records_the_reason_and_stops_every_clock(org, extra):
    case = in_consultation(org)
    consultation = call(org, extra, [case])
    decide(org, item_of(consultation, case), AgendaItem.Decision.CLOSE, text="Settled by deal")
    case = fresh(case)
    assert (case.status, case.resolved_level) == (Status.CLOSED, Level.TOWN)
    assert case.closed_at == T0 and case.resolution_note == "Settled by deal"
    assert case.events.get(action="close").data == {"reason": "Settled by deal"}
    assert not case.deadlines.filter(met_at__isnull=True, fired_at__isnull=True).exists()
    assert Notification.objects.filter(
        recipient=org.grid_worker, case=case, kind="case_closed"
    ).exists()


def test_a_decision_is_taken_once_by_the_committee_on_the_current_version(org, extra):
    case = in_consultation(org)
    consultation = call(org, extra, [case])
    item = item_of(consultation, case)
    with pytest.raises(NotAllowed):
        decide(org, item, AgendaItem.Decision.CLOSE, user=extra.bureau_liaison)
    with pytest.raises(NotInScope):
        decide(org, item, AgendaItem.Decision.CLOSE, user=extra.outsider)
    with pytest.raises(StaleCase):
        decide(org, item, AgendaItem.Decision.CLOSE, version=fresh(case).version - 1)
    decide(org, item, AgendaItem.Decision.CLOSE)
    with pytest.raises(IllegalTransition):
        decide(org, item, AgendaItem.Decision.CLOSE, version=None)


def test_the_minutes_mark_the_meeting_held(org, extra, clock):
    consultation = call(org, extra, [in_consultation(org)])
    with pytest.raises(InvalidInput):
        services.record_minutes(
            user=org.town_committee, consultation_id=consultation.pk, minutes=""
        )
    services.record_minutes(
        user=org.town_committee, consultation_id=consultation.pk, minutes="Draft agenda"
    )
    assert Consultation.objects.get(pk=consultation.pk).status == Consultation.Status.PLANNED
    clock.move_to(MEETING + timedelta(minutes=40))
    held = services.record_minutes(
        user=org.town_committee, consultation_id=consultation.pk, minutes="Agreed on tasks"
    )
    assert (held.status, held.minutes, held.held_at) == (
        Consultation.Status.HELD,
        "Agreed on tasks",
        MEETING + timedelta(minutes=40),
    )
    with pytest.raises(NotAllowed):
        services.record_minutes(
            user=extra.bureau_liaison, consultation_id=consultation.pk, minutes="Mine"
        )


# --- object permissions ------------------------------------------------------------------------


def test_archiving_revokes_the_grants_but_keeps_those_another_consultation_needs(org, extra):
    first, second = in_consultation(org), in_consultation(org, description="Second")
    consultation = call(org, extra, [first])
    other = call(org, extra, [second])
    liaison = extra.bureau_liaison

    services.archive_consultation(user=org.town_committee, consultation_id=consultation.pk)

    liaison = type(liaison).objects.get(pk=liaison.pk)  # no cached permissions
    assert not liaison.has_perm("consultation.view_consultation", consultation)
    assert not liaison.has_perm("cases.view_case", first)
    assert liaison.has_perm("cases.view_case", second)
    assert liaison.has_perm("consultation.view_consultation", other)
    assert list(visible_cases(user=liaison).values_list("pk", flat=True)) == [second.pk]
    with pytest.raises(NotInScope):
        selectors.consultation_for(user=liaison, pk=consultation.pk)
    assert [c.pk for c in selectors.invited_consultations(user=liaison)] == [other.pk]
    with pytest.raises(IllegalTransition):
        services.archive_consultation(user=org.town_committee, consultation_id=consultation.pk)


def test_a_lawyer_of_the_town_can_be_invited(org, extra):
    lawyer = type(org.captain).objects.create_user(username="lawyer", password="x")
    Membership.objects.create(
        user=lawyer, role=Role.TEAM_MEMBER, team=org.team, force=Membership.Force.LAWYER
    )
    case = in_consultation(org)
    consultation = call(org, extra, [case], user_ids=[lawyer.pk], department_ids=[], team_ids=[])
    assert lawyer.has_perm("cases.view_case", case)
    assert [inv.user for inv in consultation.invitations.all()] == [lawyer]
