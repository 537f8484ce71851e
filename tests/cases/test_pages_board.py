"""The dispatch board (captains, members, liaisons) and the town command."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case, Deadline, Dispatch, Postponement, Status
from cases.services import (
    accept_case,
    assign_dispatch,
    file_whistle,
    report_in,
    request_consultation,
    request_postponement,
    suspend_case,
    whistle_to_town,
)
from checklists.models import Stage, TimeUnit
from teams.models import Role
from tests.factories import MembershipFactory, UserFactory

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 6, 10, 9, 0, tzinfo=TZ)  # a Tuesday in office hours
BOARD = "/board/"
COMMAND = "/command/"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def whistled(org, n: int = 0) -> Case:
    """Filed, accepted and whistled up: one team dispatch and one department dispatch.
    Each `n` is a point of the grid far enough from the others not to be a duplicate."""
    case = file_whistle(
        user=org.grid_worker,
        item=org.item,
        description=f"Garbage heap {n}",
        latitude=30.4965 + (n % 8) * 0.001,
        longitude=120.6965 + (n // 8) * 0.001,
    ).case
    accept_case(user=org.village_officer, case_id=case.pk)
    return whistle_to_town(user=org.village_officer, case_id=case.pk, note="Too big")


def team_dispatch(case: Case) -> Dispatch:
    return case.dispatches.get(team__isnull=False)


def department_dispatch(case: Case) -> Dispatch:
    return case.dispatches.get(department__isnull=False)


def rows(response) -> list[int]:
    return [row.dispatch.pk for row in response.context["board"].rows]


def test_url_names():
    assert reverse("cases:board") == BOARD
    assert reverse("cases:command") == COMMAND


# The dispatch board.


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_captain_sees_the_teams_dispatches_in_both_languages(client, org, language):
    case = whistled(org)
    client.force_login(org.captain)

    response = client.get(BOARD, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    assert rows(response) == [team_dispatch(case).pk]
    assert case.number in html
    assert 'data-light="green"' in html
    if language == "en":
        assert "Dispatch board" in html
        assert "waiting for report-in" in html
        assert "of working time left" in html


def test_captain_row_has_report_in_and_assign_forms(client, org):
    case = whistled(org)
    dispatch = team_dispatch(case)
    client.force_login(org.captain)

    html = client.get(BOARD).content.decode()

    report_url = reverse("cases:dispatch_act", args=[dispatch.pk, "report_in"])
    assign_url = reverse("cases:dispatch_act", args=[dispatch.pk, "assign"])
    assert f'action="{report_url}"' in html
    assert f'action="{assign_url}"' in html
    assert f'<input type="hidden" name="version" value="{case.version}">' in html
    assert f'<input type="hidden" name="next" value="{BOARD}">' in html
    assert f'<select name="assignee" id="assignee-{dispatch.pk}"' in html
    assert f'<option value="{org.member.pk}">' in html
    # Handling links appear only once reported in.
    assert reverse("cases:dispatch_act", args=[dispatch.pk, "handle"]) not in html


def test_report_in_through_the_inline_form(client, org):
    case = whistled(org)
    dispatch = team_dispatch(case)
    client.force_login(org.captain)

    response = client.post(
        reverse("cases:dispatch_act", args=[dispatch.pk, "report_in"]),
        {"version": case.version, "next": BOARD},
    )

    assert response.status_code == 302
    assert response["Location"] == BOARD
    dispatch.refresh_from_db()
    assert dispatch.state == Dispatch.State.REPORTED
    html = client.get(BOARD).content.decode()
    case.refresh_from_db()
    # Now the handling links and the captain's case-level actions.
    for action in ("handle", "assign"):
        assert reverse("cases:dispatch_act", args=[dispatch.pk, action]) in html
    for action in ("resolve", "request_consultation", "request_postponement"):
        assert f'href="{reverse("cases:act", args=[case.pk, action])}?next={BOARD}"' in html
    assert reverse("cases:dispatch_act", args=[dispatch.pk, "report_in"]) not in html


def test_member_sees_their_own_and_the_teams_unassigned_read_only(client, org):
    mine, unassigned, someone_elses = whistled(org, 0), whistled(org, 3), whistled(org, 6)
    assign_dispatch(user=org.captain, dispatch_id=team_dispatch(mine).pk, assignee_id=org.member.pk)
    assign_dispatch(
        user=org.captain, dispatch_id=team_dispatch(someone_elses).pk, assignee_id=org.captain.pk
    )
    client.force_login(org.member)

    response = client.get(BOARD)

    board = {row.dispatch.pk: row for row in response.context["board"].rows}
    assert set(board) == {team_dispatch(mine).pk, team_dispatch(unassigned).pk}
    own = board[team_dispatch(mine).pk]
    assert not own.read_only
    assert [a.name for a in own.actions] == ["report_in", "return_dispatch"]
    assert own.case_actions == []
    other = board[team_dispatch(unassigned).pk]
    assert other.read_only
    assert other.actions == []
    html = response.content.decode()
    assert reverse("cases:dispatch_act", args=[team_dispatch(mine).pk, "report_in"]) in html
    assert (
        reverse("cases:dispatch_act", args=[team_dispatch(unassigned).pk, "report_in"]) not in html
    )
    assert someone_elses.number not in html


def test_liaison_sees_only_the_departments_dispatches(client, org):
    case = whistled(org)
    client.force_login(org.liaison)

    response = client.get(BOARD)

    assert rows(response) == [department_dispatch(case).pk]
    html = response.content.decode()
    ours = reverse("cases:dispatch_act", args=[department_dispatch(case).pk, "report_in"])
    assert f'action="{ours}"' in html
    assert reverse("cases:dispatch_act", args=[team_dispatch(case).pk, "report_in"]) not in html


def test_other_towns_captain_does_not_see_our_dispatches(client, org):
    case = whistled(org)
    client.force_login(org.other_captain)

    response = client.get(BOARD)

    assert response.status_code == 200
    assert rows(response) == []
    assert case.number not in response.content.decode()


@pytest.mark.parametrize(
    "role", ["grid_worker", "village_officer", "town_committee", "city_committee", "supervisor"]
)
def test_board_is_forbidden_to_other_roles(client, org, role):
    client.force_login(getattr(org, role))
    assert client.get(BOARD).status_code == 403


def test_board_needs_login(client, org):
    response = client.get(BOARD)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_light_filter_returns_only_that_light(client, org, clock):
    late = whistled(org, 0)
    clock.shift(timedelta(hours=2, minutes=50))  # 11:50
    fresh = whistled(org, 3)
    clock.shift(timedelta(minutes=10))  # 12:00: the first report-in (2 working hours) is late
    client.force_login(org.captain)

    everything = client.get(BOARD, HTTP_ACCEPT_LANGUAGE="en")
    red = client.get(BOARD + "?light=red", HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")
    green = client.get(BOARD + "?light=green", HTTP_HX_REQUEST="true")

    assert everything.context["board"].counts == {"red": 1, "yellow": 0, "green": 1}
    # The most urgent first.
    assert rows(everything) == [team_dispatch(late).pk, team_dispatch(fresh).pk]
    assert rows(red) == [team_dispatch(late).pk]
    assert rows(green) == [team_dispatch(fresh).pk]
    html = red.content.decode()
    # An htmx request gets the results fragment, not the whole page.
    assert "<html" not in html
    assert 'id="board-results"' in html
    assert late.number in html
    assert fresh.number not in html
    assert 'data-light="red"' in html
    assert "overdue by 1 hour of working time" in html
    assert 'data-testid="count-red">1<' in html
    assert "HX-Request" in red["Vary"]


def test_yellow_light_from_80_percent(client, org, clock):
    case = whistled(org)
    clock.shift(timedelta(minutes=100))  # 100 of 120 working minutes
    client.force_login(org.captain)

    response = client.get(BOARD + "?light=yellow")

    assert rows(response) == [team_dispatch(case).pk]


def test_filter_links_work_without_htmx(client, org):
    whistled(org)
    client.force_login(org.captain)

    html = client.get(BOARD).content.decode()

    assert 'href="?light=red"' in html
    assert f'hx-get="{BOARD}?light=red"' in html
    assert 'hx-target="#board-results"' in html
    assert 'hx-push-url="true"' in html


def test_reported_dispatch_shows_the_cases_handling_clock(client, org, clock):
    case = whistled(org)
    report_in(user=org.captain, dispatch_id=team_dispatch(case).pk)
    clock.shift(timedelta(hours=3))  # report-in limit passed, but it was met
    client.force_login(org.captain)

    row = client.get(BOARD).context["board"].rows[0]

    assert row.deadline.stage == Stage.HANDLING
    assert row.deadline.dispatch_id is None
    assert row.light == "green"


def test_bad_light_shows_an_error_and_all_rows(client, org):
    case = whistled(org)
    client.force_login(org.captain)

    response = client.get(BOARD + "?light=purple", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert rows(response) == [team_dispatch(case).pk]
    assert "Select a valid choice" in response.content.decode()


def test_board_query_count_does_not_grow(client, org):
    def fill(start: int, count: int) -> None:
        for n in range(start, start + count):
            case = whistled(org, n)
            if n % 2:
                report_in(user=org.captain, dispatch_id=team_dispatch(case).pk)

    client.force_login(org.captain)
    fill(0, 2)
    client.get(BOARD)  # warm the calendar cache
    with CaptureQueriesContext(connection) as few:
        assert len(rows(client.get(BOARD))) == 2
    fill(2, 13)
    with CaptureQueriesContext(connection) as many:
        assert len(rows(client.get(BOARD))) == 15
    assert len(many) == len(few)


# The town command.


def postponement_asked(org) -> Postponement:
    case = whistled(org)
    report_in(user=org.captain, dispatch_id=team_dispatch(case).pk)
    deadline = Deadline.objects.get(
        case=case, stage=Stage.HANDLING, dispatch__isnull=True, met_at__isnull=True
    )
    return request_postponement(
        user=org.captain,
        case_id=case.pk,
        deadline_id=deadline.pk,
        amount=2,
        unit=TimeUnit.WORKING_HOURS,
        reason="Waiting for the truck",
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_command_shows_each_section_in_both_languages(client, org, language):
    postponement = postponement_asked(org)
    consulted = whistled(org, 3)
    report_in(user=org.captain, dispatch_id=team_dispatch(consulted).pk)
    request_consultation(user=org.captain, case_id=consulted.pk, reason="Needs the bureau")
    suspended = whistled(org, 6)
    suspend_case(
        user=org.town_committee,
        case_id=suspended.pk,
        reason="Owner abroad",
        review_on=date(2025, 9, 1),
    )
    client.force_login(org.town_committee)

    response = client.get(COMMAND, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    command = response.context["command"]
    assert list(command.postponements) == [postponement]
    assert [r.case.pk for r in command.consultation_rows] == [consulted.pk]
    assert [r.case.pk for r in command.suspended_rows] == [suspended.pk]
    assert {r.case.pk for r in command.dispatched_rows} == {postponement.case_id, consulted.pk}
    assert "Waiting for the truck" in html
    if language == "en":
        assert "Town command" in html
        assert "Postponement requests" in html


def test_command_forms_and_links(client, org):
    postponement = postponement_asked(org)
    case = postponement.case
    case.refresh_from_db()
    consulted = whistled(org, 3)
    report_in(user=org.captain, dispatch_id=team_dispatch(consulted).pk)
    consulted = request_consultation(user=org.captain, case_id=consulted.pk, reason="Decide")
    suspended = whistled(org, 6)
    suspended = suspend_case(
        user=org.town_committee, case_id=suspended.pk, reason="Later", review_on=date(2025, 9, 1)
    )
    client.force_login(org.town_committee)

    html = client.get(COMMAND).content.decode()

    decide = reverse("cases:postponement_decide", args=[postponement.pk])
    assert html.count(f'action="{decide}"') == 2
    assert '<input type="hidden" name="approve" value="1">' in html
    assert '<input type="hidden" name="approve" value="0">' in html
    assert f'<input type="hidden" name="next" value="{COMMAND}">' in html
    escalate = reverse("cases:act", args=[consulted.pk, "escalate"])
    assert f'href="{escalate}?next={COMMAND}"' in html
    resume = reverse("cases:act", args=[suspended.pk, "resume"])
    assert f'action="{resume}"' in html
    assert f'<input type="hidden" name="version" value="{suspended.version}">' in html
    for dispatch in case.dispatches.all():
        cancel = reverse("cases:dispatch_act", args=[dispatch.pk, "cancel"])
        assert f'href="{cancel}?next={COMMAND}"' in html
    assert reverse("cases:act", args=[case.pk, "add_dispatch"]) + "?next=" in html


def test_approving_a_postponement_through_the_posted_form(client, org):
    postponement = postponement_asked(org)
    due_before = postponement.deadline.due_at
    client.force_login(org.town_committee)

    response = client.post(
        reverse("cases:postponement_decide", args=[postponement.pk]),
        {"approve": "1", "version": postponement.case.version, "next": COMMAND},
    )

    assert response.status_code == 302
    assert response["Location"] == COMMAND
    postponement.refresh_from_db()
    assert postponement.decision == Postponement.Decision.APPROVED
    postponement.deadline.refresh_from_db()
    assert postponement.deadline.due_at > due_before
    assert list(client.get(COMMAND).context["command"].postponements) == []


def test_resume_through_the_inline_form(client, org):
    case = whistled(org)
    case = suspend_case(
        user=org.town_committee, case_id=case.pk, reason="Later", review_on=date(2025, 9, 1)
    )
    client.force_login(org.town_committee)

    response = client.post(
        reverse("cases:act", args=[case.pk, "resume"]), {"version": case.version, "next": COMMAND}
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED


def test_command_lists_overdue_report_ins(client, org, clock):
    case = whistled(org)
    report_in(user=org.liaison, dispatch_id=department_dispatch(case).pk)
    clock.shift(timedelta(hours=3))
    client.force_login(org.town_committee)

    response = client.get(COMMAND, HTTP_ACCEPT_LANGUAGE="en")

    overdue = response.context["command"].overdue_rows
    assert [d.pk for d, _deadline, _actions in overdue] == [team_dispatch(case).pk]
    html = response.content.decode()
    assert f'data-testid="overdue-{team_dispatch(case).pk}"' in html
    assert "overdue by" in html


def test_command_shows_only_the_staffs_town(client, org):
    whistled(org)
    other_staff = UserFactory(username="town2")
    MembershipFactory(user=other_staff, role=Role.TOWN_COMMITTEE, region=org.other_town)
    client.force_login(other_staff)

    command = client.get(COMMAND).context["command"]

    assert command.dispatched_rows == []
    assert command.consultation_rows == []


@pytest.mark.parametrize(
    "role", ["grid_worker", "village_officer", "captain", "liaison", "city_committee"]
)
def test_command_is_forbidden_to_other_roles(client, org, role):
    client.force_login(getattr(org, role))
    assert client.get(COMMAND).status_code == 403


def test_command_query_count_does_not_grow(client, org):
    def fill(start: int, count: int) -> None:
        for n in range(start, start + count):
            case = whistled(org, n)
            dispatch = team_dispatch(case)
            if n % 3 == 1:
                report_in(user=org.captain, dispatch_id=dispatch.pk)
                request_consultation(user=org.captain, case_id=case.pk, reason="Decide")
            elif n % 3 == 2:
                suspend_case(
                    user=org.town_committee,
                    case_id=case.pk,
                    reason="Later",
                    review_on=date(2025, 9, 1),
                )

    client.force_login(org.town_committee)
    fill(0, 3)
    client.get(COMMAND)  # warm the calendar cache
    with CaptureQueriesContext(connection) as few:
        assert client.get(COMMAND).status_code == 200
    fill(3, 12)
    with CaptureQueriesContext(connection) as many:
        response = client.get(COMMAND)
    assert len(response.context["command"].dispatched_rows) == 10
    assert len(many) == len(few)
