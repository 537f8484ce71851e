"""Bulk actions on the pages: ticked rows of the village inbox, the board and the town command,
each carried out through perform() on its own; a refused row does not stop the others, a row
outside the user's scope is "not found" without being named, and the result page says what
became of each row in the user's language. Also the export of the ticked rows."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cases.models import Case, Dispatch, Event, Status
from cases.services import accept_case
from tests.cases.engine_steps import T0, file_case, team_dispatch, whistled

BULK = "/cases/bulk/"
DISPATCH_BULK = "/dispatches/bulk/"


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def filed(org, n: int) -> Case:
    return file_case(
        org,
        description=f"Garbage heap {n}",
        latitude=30.4965 + (n % 8) * 0.001,
        longitude=120.6965 + (n // 8) * 0.001,
    )


def elsewhere(org) -> Case:
    """A case of the other village, which the village officer does not see."""
    return file_case(
        org,
        user=org.other_grid_worker,
        grid=org.other_grid,
        latitude=30.50,
        longitude=120.80,
        description="Broken street light",
    )


def rows(response) -> dict[str, str]:
    """data-testid of each result row -> its data-status."""
    html = response.content.decode()
    found = {}
    for part in html.split('data-testid="bulk-row-')[1:]:
        pk, rest = part.split('"', 1)
        found[pk] = rest.split('data-status="', 1)[1].split('"', 1)[0]
    return found


def test_url_names():
    assert reverse("cases:bulk") == BULK
    assert reverse("cases:dispatch_bulk") == DISPATCH_BULK


def test_the_inbox_offers_the_bulk_form_and_a_checkbox_per_case(client, org):
    cases = [filed(org, n) for n in range(2)]
    client.force_login(org.village_officer)
    html = client.get(reverse("cases:village_inbox"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="bulk-inbox"' in html and f'action="{BULK}"' in html
    assert '<option value="accept">Accept</option>' in html
    for case in cases:
        assert f'data-testid="select-{case.pk}"' in html
        assert 'form="bulk-inbox"' in html


def test_bulk_accept_one_refused_row_does_not_stop_the_others(client, org):
    first, second, third = (filed(org, n) for n in range(3))
    accept_case(user=org.village_officer, case_id=second.pk)  # already accepted: 409
    outside = elsewhere(org)
    client.force_login(org.village_officer)
    response = client.post(
        BULK,
        {
            "action": "accept",
            "ids": [first.pk, second.pk, outside.pk, third.pk],
            "next": "/village/inbox/",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert rows(response) == {
        str(first.pk): "200",
        str(second.pk): "409",
        str(outside.pk): "404",
        str(third.pk): "200",
    }
    html = response.content.decode()
    assert "2 rows done, 2 refused." in html
    assert "The case was accepted." in html
    assert "This action is not possible in the case&#x27;s current state." in html
    assert "No such case." in html
    # The row outside the scope is not named: only the id that was sent.
    assert outside.number not in html and f"#{outside.pk}" in html
    assert first.number in html and second.number in html
    assert 'href="/village/inbox/"' in html
    statuses = dict(Case.objects.values_list("pk", "status"))
    assert statuses[first.pk] == statuses[third.pk] == Status.VILLAGE_HANDLING
    assert statuses[outside.pk] == Status.FILED
    # Each row went through perform(): one accept step each, none for the refused rows.
    assert Event.objects.filter(action="accept").count() == 3  # two in bulk, one before


def test_the_result_page_speaks_the_users_language(client, org):
    case = filed(org, 0)
    accept_case(user=org.village_officer, case_id=case.pk)
    client.force_login(org.village_officer)
    response = client.post(
        BULK, {"action": "accept", "ids": [case.pk]}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200
    assert rows(response) == {str(case.pk): "409"}
    assert "This action is not possible" not in response.content.decode()


def test_a_role_that_may_not_act_is_refused_per_row(client, org):
    case = filed(org, 0)
    client.force_login(org.grid_worker)  # sees the case, may not accept it
    response = client.post(BULK, {"action": "accept", "ids": [case.pk]}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert rows(response) == {str(case.pk): "403"}
    assert "You are not allowed to do this." in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == Status.FILED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "accept"}, "Select at least one row."),
        ({"action": "accept", "ids": ["x"]}, "Select rows of the list."),
        ({"action": "resolve", "ids": ["1"]}, "Select a valid choice."),
    ],
)
def test_bad_input_changes_nothing(client, org, data, message):
    case = filed(org, 0)
    client.force_login(org.village_officer)
    response = client.post(BULK, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == Status.FILED


def test_the_captain_assigns_a_member_to_several_dispatches(client, org):
    one, two = (team_dispatch(whistled(org, description=f"Heap {n}")) for n in range(2))
    department = two.case.dispatches.get(department__isnull=False)  # seen, not the captain's
    client.force_login(org.captain)
    board = client.get(reverse("cases:board"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="bulk-board"' in board and 'name="assignee"' in board
    assert f'data-testid="select-{one.pk}"' in board
    assert f'<option value="{org.member.pk}">' in board

    missing = client.post(
        DISPATCH_BULK, {"action": "assign", "ids": [one.pk]}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert missing.status_code == 400
    assert "Choose the member to assign." in missing.content.decode()
    assert not Dispatch.objects.filter(assignee=org.member).exists()

    response = client.post(
        DISPATCH_BULK,
        {"action": "assign", "ids": [one.pk, department.pk, two.pk], "assignee": org.member.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert rows(response) == {str(one.pk): "200", str(department.pk): "403", str(two.pk): "200"}
    assert set(Dispatch.objects.filter(assignee=org.member).values_list("pk", flat=True)) == {
        one.pk,
        two.pk,
    }
    assert Event.objects.filter(action="assign").count() == 2


def test_the_town_urges_late_units_from_the_command(client, org, time_machine):
    late = team_dispatch(whistled(org, description="Heap 1"))
    time_machine.move_to(late.clock_due_at + timedelta(minutes=1), tick=False)
    on_time = team_dispatch(whistled(org, description="Heap 2", latitude=30.499))
    assert timezone.now() < on_time.clock_due_at
    client.force_login(org.town_committee)
    command = client.get(reverse("cases:command"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="bulk-overdue"' in command and f'data-testid="select-{late.pk}"' in command

    response = client.post(
        DISPATCH_BULK,
        {"action": "urge", "ids": [late.pk, on_time.pk], "note": "Report in now"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert rows(response) == {str(late.pk): "200", str(on_time.pk): "409"}
    html = response.content.decode()
    assert "The unit was urged." in html
    assert "This unit is on time" in html
    urges = Event.objects.filter(action="urge")
    assert list(urges.values_list("dispatch_id", "data__note")) == [(late.pk, "Report in now")]


def test_urging_needs_a_note(client, org):
    dispatch = team_dispatch(whistled(org))
    client.force_login(org.town_committee)
    response = client.post(
        DISPATCH_BULK, {"action": "urge", "ids": [dispatch.pk]}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "Say what the units must do now." in response.content.decode()


def test_export_the_selected_rows_the_user_may_see(client, org):
    first, second = filed(org, 0), filed(org, 1)
    outside = elsewhere(org)
    client.force_login(org.village_officer)
    response = client.post(
        BULK,
        {"action": "export", "format": "csv", "ids": [second.pk, outside.pk, first.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["Number", "Item", "Village"]
    assert [line[0] for line in lines[1:]] == [second.number, first.number]
    assert Case.objects.filter(status=Status.FILED).count() == 3  # nothing changed


def test_export_dispatches_as_xlsx(client, org):
    dispatch = team_dispatch(whistled(org))
    client.force_login(org.captain)
    response = client.post(
        DISPATCH_BULK,
        {"action": "export", "format": "xlsx", "ids": [dispatch.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:4] == ["Case", "Item", "Village", "Handler"]
    assert values[1][0] == dispatch.case.number and values[1][3] == org.team.name


def test_the_case_list_offers_export_of_ticked_rows(client, org):
    case = filed(org, 0)
    client.force_login(org.village_officer)
    html = client.get(reverse("cases:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="bulk-list"' in html and f'data-testid="select-{case.pk}"' in html
    assert '<option value="accept">' not in html


def test_bulk_pages_need_a_post_and_a_login(client, org):
    assert client.post(BULK, {"action": "accept", "ids": [1]}).status_code == 302
    client.force_login(org.village_officer)
    assert client.get(BULK).status_code == 405
