"""The transition table: every allowed move works and every other one is refused, unchanged."""

import pytest

from cases.errors import IllegalTransition, StaleCase
from cases.models import Case, Event, Level, Status
from cases.services import file_whistle
from cases.transitions import TRANSITIONS, allowed_actions, apply_transition, check_version

EXPECTED = {
    # action: {from status (at level): to status}
    "accept": {"filed": "village_handling"},
    "reject": {"filed": "rejected"},
    "whistle": {"filed": "dispatched", "village_handling": "dispatched"},
    "resolve_on_spot": {"village_handling": "resolved"},
    "report_in": {"dispatched": "in_progress", "in_progress": "in_progress"},
    "resolve": {"in_progress": "resolved"},
    "request_consultation": {"in_progress": "in_consultation", "dispatched": "in_consultation"},
    "decide": {"in_consultation": "in_progress"},
    "escalate": {"in_consultation": "in_consultation"},
    # Four levels, the prefecture's committee on the chain: a city case climbs once more.
    "escalate_to_prefecture": {"in_consultation": "in_consultation"},
    "close": {"in_consultation": "closed"},
    "verify_pass": {"resolved": "closed"},
    "verify_fail": {"resolved": "in_progress"},
    "suspend": dict.fromkeys(
        ["filed", "village_handling", "dispatched", "in_progress", "in_consultation", "resolved"],
        "suspended",
    ),
    "resume": {"suspended": "in_progress"},
    "reopen": {"rejected": "filed", "closed": "filed"},
    # Moved to the village it belongs to (移交): screened there again.
    "transfer": dict.fromkeys(["filed", "village_handling", "dispatched", "in_progress"], "filed"),
    "evaluate": {"closed": "closed"},
    # A spot check's revisit found it not actually resolved (虚假回复): back to the same unit.
    "spot_check_failed": {"closed": "dispatched"},
}


@pytest.fixture
def case(org) -> Case:
    return file_whistle(
        user=org.grid_worker, item=org.item, description="garbage", grid=org.grid
    ).case


def _put(case: Case, status: str, level: str) -> None:
    """Place a case in a state for the matrix (test set-up only)."""
    Case.objects.filter(pk=case.pk).update(
        status=status, level=level, status_before_suspension="in_progress"
    )
    case.refresh_from_db()


def test_table_matches_the_design():
    assert set(TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize("status", Status.values)
@pytest.mark.parametrize("level", Level.values)
def test_every_action_from_every_state(case, status, level):
    _put(case, status, level)
    for action, moves in EXPECTED.items():
        climbs_from = {"escalate": Level.TOWN, "escalate_to_prefecture": Level.CITY}
        allowed = status in moves and level == climbs_from.get(action, level)
        assert (action in allowed_actions(case)) is allowed, (action, status, level)
        before = Case.objects.values().get(pk=case.pk)
        events = Event.objects.count()
        if allowed:
            event = apply_transition(case=case, action=action, actor=None, actor_label="test")
            case.refresh_from_db()
            assert case.status == moves[status]
            assert (event.from_status, event.to_status) == (status, moves[status])
            assert case.version == before["version"] + 1
            assert Event.objects.count() == events + 1
            if action == "whistle":
                assert case.level == Level.TOWN
            if action == "escalate":
                assert case.level == Level.CITY
            if action == "escalate_to_prefecture":
                assert case.level == Level.PREFECTURE
            if action == "transfer":
                assert case.level == Level.VILLAGE
            _put(case, status, level)
        else:
            with pytest.raises(IllegalTransition):
                apply_transition(case=case, action=action, actor=None, actor_label="test")
            case.refresh_from_db()
            assert Case.objects.values().get(pk=case.pk) == before
            assert Event.objects.count() == events


def test_suspend_remembers_and_resume_returns(case):
    _put(case, "dispatched", "town")
    apply_transition(case=case, action="suspend", actor=None)
    assert (case.status, case.status_before_suspension) == ("suspended", "dispatched")
    apply_transition(case=case, action="resume", actor=None)
    assert (case.status, case.status_before_suspension) == ("dispatched", "")


def test_stale_version_is_refused(case):
    check_version(case, case.version)
    with pytest.raises(StaleCase):
        check_version(case, case.version - 1)


def test_events_cannot_be_changed_or_removed(case):
    event = case.events.get()
    event.action = "forged"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).delete()
    assert Event.objects.get(pk=event.pk).action == "file"


def test_database_refuses_event_update_and_delete(case):
    """A trigger guards the table below the ORM, on PostgreSQL and SQLite alike."""
    from django.db import DatabaseError, connection, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_event SET action = 'forged'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_event")
    assert Event.objects.filter(action="file").count() == 1
