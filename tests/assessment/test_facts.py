"""The facts of a case: computed from its events and rows alone, refreshed after commit, with
consultation attendance per dispatch; the hook never breaks a service when the broker is down."""

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from assessment.facts import compute_facts
from assessment.hooks import enqueue_fact_refresh
from assessment.models import CaseFact, DispatchFact
from assessment.services import refresh_case_facts
from cases.models import Case, Dispatch, Event, Level, Status, SupervisionOrder
from cases.services import (
    accept_case,
    report_in,
    request_consultation,
    resolve_on_spot,
    verify_case,
    whistle_to_town,
)
from consultation.services import close_in_consultation
from tests.assessment.facts_steps import Driver, eager_celery  # noqa: F401
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0, at, file_case, png, team_dispatch
from tests.workers import publishing_to


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def test_the_hook_refreshes_after_commit_through_the_task(
    org,  # noqa: F811
    django_capture_on_commit_callbacks,
    eager_celery,  # noqa: F811
):
    case = file_case(org)
    assert not CaseFact.objects.filter(pk=case.pk).exists()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        accept_case(user=org.village_officer, case_id=case.pk)
    assert callbacks
    fact = CaseFact.objects.get(pk=case.pk)
    assert fact.accepted and not fact.closed and fact.town_id == org.town.pk
    assert fact.last_event_id == Event.objects.filter(case=case).order_by("-id").first().pk


def test_a_broker_that_is_down_costs_only_a_warning(org, caplog, time_machine):  # noqa: F811
    case = file_case(org)
    time_machine.move_to(T0, tick=True)  # the client's connection timeout needs a running clock
    with (
        publishing_to(
            url="redis://127.0.0.1:6399/0",
            transport_options={},
            connection_timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT,
        ),
        caplog.at_level(logging.WARNING, logger="assessment.hooks"),
    ):
        enqueue_fact_refresh(case.pk)
    assert any("Could not queue the fact refresh" in r.getMessage() for r in caplog.records)


def test_facts_are_a_function_of_the_events_given(org):  # noqa: F811
    """compute_facts reads nothing but its arguments (and the working calendar): unsaved
    events of a committee close give a town-level closure, overdue by a late deadline."""
    case = Case(
        pk=10_001,
        city=org.city,
        town=org.town,
        village=org.village,
        grid=org.grid,
        item=org.item,
        filed_at=at(2025, 6, 10, 9, 0),
        status=Status.CLOSED,
    )

    def event(pk, action, from_status, to_status, from_level, to_level, when, **data):
        return Event(
            pk=pk,
            case=case,
            action=action,
            from_status=from_status,
            to_status=to_status,
            from_level=from_level,
            to_level=to_level,
            data=data,
            created_at=when,
        )

    events = [
        event(3, "close", "in_consultation", "closed", "town", "town", at(2025, 6, 11, 10, 0)),
        event(1, "whistle", "filed", "dispatched", "village", "town", at(2025, 6, 10, 9, 30)),
        event(
            2,
            "request_consultation",
            "dispatched",
            "in_consultation",
            "town",
            "town",
            at(2025, 6, 10, 17, 0),
        ),
    ]
    events[1].actor = org.village_officer  # the village whistled it (a timer's has no actor)
    computed = compute_facts(case=case, events=events, dispatches=[], deadlines=[])
    values = computed.case
    assert values["closed"] and values["closed_level"] == Level.TOWN
    assert values["closed_at"] == at(2025, 6, 11, 10, 0)
    assert values["accepted"] and values["whistled"] and not values["escalated"]
    assert values["max_level"] == Level.TOWN
    assert values["last_event_id"] == 3
    assert values["closed_on_time"] and not values["overdue"]
    # Working time from Tuesday 09:00 to Wednesday 10:00: one full office day plus an hour.
    assert values["handling_seconds"] > 3600
    assert computed.dispatches == []


def test_a_late_report_in_and_a_rework_show_in_the_facts(org, time_machine):  # noqa: F811
    case = file_case(org)
    accept_case(user=org.village_officer, case_id=case.pk)
    resolve_on_spot(user=org.village_officer, case_id=case.pk, note="Swept", photos=[png()])
    verify_case(
        user=org.grid_worker, case_id=case.pk, passed=False, reason="Still there", photos=[png()]
    )
    whistle_to_town(user=org.village_officer, case_id=case.pk)
    dispatch = team_dispatch(case)
    later = dispatch.report_in_due + timedelta(minutes=5)
    time_machine.move_to(later, tick=False)
    report_in(user=org.captain, dispatch_id=dispatch.pk)
    refresh_case_facts(case_id=case.pk)
    fact = CaseFact.objects.get(pk=case.pk)
    assert fact.reworked and fact.rework_count == 1 and fact.whistled
    assert not fact.closed and fact.closed_level == ""
    assert fact.resolved_at is not None  # the failed on-the-spot resolution
    row = DispatchFact.objects.get(pk=dispatch.pk)
    assert row.late and not row.reported_on_time and row.reported_in_at == later


def test_consultation_attendance_per_dispatch(org):  # noqa: F811
    from consultation.models import AgendaItem, Consultation, Invitation

    case = file_case(org)
    accept_case(user=org.village_officer, case_id=case.pk)
    whistle_to_town(user=org.village_officer, case_id=case.pk)
    report_in(user=org.captain, dispatch_id=team_dispatch(case).pk)
    request_consultation(user=org.captain, case_id=case.pk, reason="Needs the bureau")
    meeting = Consultation.objects.create(
        level=Consultation.Level.TOWN,
        region=org.town,
        scheduled_at=timezone.now() + timedelta(days=1),
        called_by=org.town_committee,
    )
    AgendaItem.objects.create(consultation=meeting, case=case)
    Invitation.objects.create(
        consultation=meeting,
        team=org.team,
        checked_in_at=timezone.now() + timedelta(days=1, minutes=20),
        late=True,
    )
    Invitation.objects.create(consultation=meeting, department=org.department)
    refresh_case_facts(case_id=case.pk)
    team_row = DispatchFact.objects.get(dispatch__case=case, team=org.team)
    department_row = DispatchFact.objects.get(dispatch__case=case, department=org.department)
    assert (team_row.consultation_invited, team_row.consultation_attended) == (True, True)
    assert team_row.consultation_late
    assert department_row.consultation_invited and not department_row.consultation_attended
    assert not department_row.consultation_late


def test_a_committee_close_is_a_closure_at_its_level(org):  # noqa: F811
    case = file_case(org)
    accept_case(user=org.village_officer, case_id=case.pk)
    whistle_to_town(user=org.village_officer, case_id=case.pk)
    report_in(user=org.captain, dispatch_id=team_dispatch(case).pk)
    request_consultation(user=org.captain, case_id=case.pk, reason="Not for us")
    close_in_consultation(user=org.town_committee, case_id=case.pk, reason="x")
    refresh_case_facts(case_id=case.pk)
    fact = CaseFact.objects.get(pk=case.pk)
    assert fact.closed and fact.closed_level == Level.TOWN and fact.closed_at is not None
    assert fact.handling_seconds is not None


def test_urges_and_supervision_orders_are_a_function_of_what_is_given(org):  # noqa: F811
    """Unsaved rows: two urges and an order met after its deadline on the department, an
    order still open on the team (not late: the facts do not read the clock)."""
    case = Case(
        pk=10_002,
        city=org.city,
        town=org.town,
        village=org.village,
        grid=org.grid,
        item=org.item,
        filed_at=at(2025, 6, 10, 9, 0),
        status=Status.IN_PROGRESS,
    )
    department = Dispatch(
        pk=20_001,
        case=case,
        department=org.department,
        dispatched_at=at(2025, 6, 10, 9, 30),
        report_in_due=at(2025, 6, 10, 10, 30),
    )
    team = Dispatch(
        pk=20_002,
        case=case,
        team=org.team,
        dispatched_at=at(2025, 6, 10, 9, 30),
        report_in_due=at(2025, 6, 10, 10, 30),
    )
    events = [
        Event(pk=n, case=case, dispatch=department, action="urge", created_at=at(2025, 6, 10, 11))
        for n in (1, 2)
    ]
    orders = [
        SupervisionOrder(
            case=case,
            dispatch=department,
            due_at=at(2025, 6, 10, 12, 0),
            issued_at=at(2025, 6, 10, 11, 0),
            met_at=at(2025, 6, 10, 12, 1),
        ),
        SupervisionOrder(
            case=case,
            dispatch=team,
            due_at=at(2025, 6, 10, 12, 0),
            issued_at=at(2025, 6, 10, 11, 0),
        ),
    ]
    computed = compute_facts(
        case=case, events=events, dispatches=[department, team], deadlines=[], orders=orders
    )
    pressed = {row["dispatch_id"]: row for row in computed.dispatches}
    assert [
        pressed[department.pk][name]
        for name in ("urged", "urge_count", "supervised", "supervision_late")
    ] == [True, 2, True, True]
    assert [
        pressed[team.pk][name] for name in ("urged", "urge_count", "supervised", "supervision_late")
    ] == [False, 0, True, False]
