"""Urging and supervision orders on the pages: the buttons where a unit is late, the action
pages, the marks on the board, the supervision page and its link from the home page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Dispatch, Event, SupervisionOrder
from cases.services import (
    issue_supervision_order,
    report_in,
    resolve_case,
    resolve_dispatch,
    urge_dispatch,
)
from tests.cases.engine_steps import T0, department_dispatch, png, team_dispatch, whistled

BOARD = "/board/"
SUPERVISION = "/supervision/"


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def late(org, time_machine, n: int = 0) -> Dispatch:
    """A whistled case whose team has not reported in by its report-in limit."""
    case = whistled(
        org,
        description=f"Garbage heap {n}",
        latitude=30.4965 + (n % 8) * 0.001,
        longitude=120.6965 + (n // 8) * 0.001,
    )
    dispatch = team_dispatch(case)
    if timezone.now() <= dispatch.clock_due_at:
        time_machine.move_to(dispatch.clock_due_at + timedelta(minutes=1), tick=False)
    return dispatch


def test_url_name():
    assert reverse("cases:supervision") == SUPERVISION


def test_the_buttons_show_only_where_the_unit_is_late(client, org, time_machine):
    case = whistled(org)
    dispatch = team_dispatch(case)
    client.force_login(org.town_committee)
    page = client.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-testid="urge"' not in page.content
    time_machine.move_to(dispatch.clock_due_at + timedelta(minutes=1), tick=False)
    page = client.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert reverse("cases:dispatch_act", args=[dispatch.pk, "urge"]).encode() in page.content
    assert reverse("cases:dispatch_act", args=[dispatch.pk, "supervise"]).encode() in page.content
    client.force_login(org.captain)
    page = client.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert reverse("cases:dispatch_act", args=[dispatch.pk, "urge"]).encode() not in page.content


def test_the_committee_urges_and_orders_from_the_action_pages(client, org, time_machine):
    dispatch = late(org, time_machine)
    case = dispatch.case
    client.force_login(org.town_committee)
    url = reverse("cases:dispatch_act", args=[dispatch.pk, "urge"])
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    refused = client.post(url, {"version": case.version, "note": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert not Event.objects.filter(action="urge").exists()
    done = client.post(
        url, {"version": case.version, "note": "Report in now"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert done.status_code == 302
    assert Event.objects.filter(action="urge", dispatch=dispatch).count() == 1

    case.refresh_from_db()
    url = reverse("cases:dispatch_act", args=[dispatch.pk, "supervise"])
    past = timezone.localtime(timezone.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post(
        url,
        {"version": case.version, "note": "Solve it", "due_at": past},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 400
    assert b"in the future" in refused.content
    assert not SupervisionOrder.objects.exists()
    due = timezone.localtime(timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    done = client.post(
        url, {"version": case.version, "note": "Solve it", "due_at": due}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert done.status_code == 302
    order = SupervisionOrder.objects.get()
    assert timezone.localtime(order.due_at).strftime("%Y-%m-%dT%H:%M") == due
    # The case page shows both on the unit, and the trace says what was done.
    page = client.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert 'data-testid="urged"' in html and "×1" in html
    assert 'data-testid="supervision"' in html
    assert "urged the unit" in html and "issued a supervision order" in html


def test_a_captain_cannot_open_the_urge_page(client, org, time_machine):
    dispatch = late(org, time_machine)
    client.force_login(org.captain)
    url = reverse("cases:dispatch_act", args=[dispatch.pk, "urge"])
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_board_shows_the_urges_and_the_open_order(client, org, time_machine, language):
    dispatch = late(org, time_machine)
    urge_dispatch(user=org.town_committee, dispatch_id=dispatch.pk, note="Report in")
    urge_dispatch(user=org.supervisor, dispatch_id=dispatch.pk, note="Report in now")
    due = timezone.now() + timedelta(days=1)
    issue_supervision_order(user=org.city_committee, dispatch_id=dispatch.pk, note="Go", due_at=due)
    client.force_login(org.captain)
    response = client.get(BOARD, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    (row,) = response.context["board"].rows
    assert (row.dispatch.urged, row.dispatch.supervision_due) == (2, due)
    html = response.content.decode()
    assert 'data-testid="urged"' in html and "×2" in html
    assert 'data-testid="supervision"' in html
    assert timezone.localtime(due).strftime("%Y-%m-%d %H:%M") in html


def test_board_with_urges_and_orders_query_count_does_not_grow(client, org, time_machine):
    def fill(start: int, count: int) -> None:
        for n in range(start, start + count):
            time_machine.move_to(T0, tick=False)
            dispatch = late(org, time_machine, n)
            urge_dispatch(user=org.town_committee, dispatch_id=dispatch.pk, note="Hurry")
            issue_supervision_order(
                user=org.town_committee,
                dispatch_id=dispatch.pk,
                note="Solve it",
                due_at=timezone.now() + timedelta(days=1),
            )

    client.force_login(org.captain)
    fill(0, 2)
    client.get(BOARD)  # warm the calendar cache
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(BOARD).context["board"].rows) == 2
    fill(2, 8)
    with CaptureQueriesContext(connection) as many:
        board = client.get(BOARD).context["board"]
    assert len(board.rows) == 10
    assert all(row.dispatch.urged == 1 for row in board.rows)
    assert len(many) == len(few)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("who", ["town_committee", "city_committee", "supervisor"])
def test_the_supervision_page_lists_the_open_orders(client, org, time_machine, who, language):
    team = late(org, time_machine)
    department = department_dispatch(team.case)
    due = timezone.now() + timedelta(hours=3)
    open_order = issue_supervision_order(
        user=org.town_committee, dispatch_id=team.pk, note="Clear the heap", due_at=due
    )
    met = issue_supervision_order(
        user=org.town_committee, dispatch_id=department.pk, note="Report in", due_at=due
    )
    report_in(user=org.liaison, dispatch_id=department.pk)
    resolve_dispatch(user=org.liaison, dispatch_id=department.pk, note="Done", photos=[png()])
    client.force_login(getattr(org, who))
    response = client.get(SUPERVISION, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert [order.pk for order in response.context["page"].object_list] == [open_order.pk]
    html = response.content.decode()
    assert f'data-testid="order-{open_order.pk}"' in html
    assert f'data-testid="order-{met.pk}"' not in html
    assert "Clear the heap" in html


def test_the_supervision_page_is_for_the_committees_and_supervisors(client, org):
    for user in (org.grid_worker, org.village_officer, org.captain, org.member, org.liaison):
        client.force_login(user)
        assert client.get(SUPERVISION).status_code == 403


def test_an_order_leaves_the_page_once_the_case_is_resolved(client, org, time_machine):
    team = late(org, time_machine)
    issue_supervision_order(
        user=org.town_committee,
        dispatch_id=team.pk,
        note="Clear it",
        due_at=timezone.now() + timedelta(hours=3),
    )
    report_in(user=org.captain, dispatch_id=team.pk)
    resolve_case(user=org.captain, case_id=team.case_id, note="Cleared", photos=[png()])
    client.force_login(org.supervisor)
    response = client.get(SUPERVISION, HTTP_ACCEPT_LANGUAGE="en")
    assert list(response.context["page"].object_list) == []
    assert b'data-testid="supervision-empty"' in response.content


def test_supervision_page_query_count_does_not_grow(client, org, time_machine):
    def fill(start: int, count: int) -> None:
        for n in range(start, start + count):
            time_machine.move_to(T0, tick=False)
            dispatch = late(org, time_machine, n)
            urge_dispatch(user=org.town_committee, dispatch_id=dispatch.pk, note="Hurry")
            issue_supervision_order(
                user=org.town_committee,
                dispatch_id=dispatch.pk,
                note="Solve it",
                due_at=timezone.now() + timedelta(days=1),
            )

    fill(0, 2)
    # Signed in at the clock of both requests: the session's idle clock (teams.sessions),
    # written at most once a minute, is not the page's cost.
    client.force_login(org.city_committee)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(SUPERVISION).context["page"].object_list) == 2
    fill(2, 8)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(SUPERVISION).context["page"].object_list) == 10
    assert len(many) == len(few)


def test_the_home_page_links_the_supervision_page(client, org):
    client.force_login(org.supervisor)
    assert SUPERVISION.encode() in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content
    client.force_login(org.captain)
    assert SUPERVISION.encode() not in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content
