"""A decision's task rows in Chromium (issue 19): "Add a row" adds an empty row in place with
JavaScript (no inline script: the Content-Security-Policy holds), up to the server's maximum,
and the decision with the added rows is recorded; the clerk enters an arrival time and confirms
the attendance with its own button."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Dispatch
from cases.services import request_consultation
from consultation import services
from consultation.forms import MAX_TASKS
from consultation.models import AgendaItem, Consultation, Invitation
from teams.models import Role
from tests.cases.engine_steps import in_progress
from tests.e2e.helpers import messages_text
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_add_rows_in_place_and_record_the_tasks(browsing, org):
    bureau = DepartmentFactory(region=org.city, name_en="Ecology bureau", name_zh="生态环境局")
    MembershipFactory(
        user=UserFactory(username="bureau"), role=Role.DEPARTMENT_LIAISON, department=bureau
    )
    case = in_progress(org)
    request_consultation(user=org.captain, case_id=case.pk, reason="Needs the bureau")
    consultation = services.call_consultation(
        user=org.town_committee,
        level=Consultation.Level.TOWN,
        region_id=org.town.pk,
        scheduled_at=timezone.now() + timedelta(minutes=2),
        place="Town hall",
        case_ids=[case.pk],
        department_ids=[bureau.pk],
    )
    # Called an hour ago (an arrival time is never before the call).
    Consultation.objects.filter(pk=consultation.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    item = AgendaItem.objects.get(consultation=consultation)
    invitation = Invitation.objects.get(consultation=consultation)

    page = browsing.page("town", language="en", phone=False)
    page.goto(f"/consultation/{consultation.pk}/")
    page.get_by_test_id(f"open-decide-{item.pk}").click()
    form = page.get_by_test_id(f"decide-form-{item.pk}")
    assert form.locator("[data-task-row]").count() == 3
    add = form.get_by_test_id(f"add-task-row-{item.pk}")
    add.click()
    assert form.locator("[data-task-row]").count() == 4
    assert page.url.endswith(f"/consultation/{consultation.pk}/")  # no round trip with JS
    total = form.locator(f"input[name='item{item.pk}-tasks-TOTAL_FORMS']")
    assert total.input_value() == "4"
    while add.is_visible():
        add.click()
    assert form.locator("[data-task-row]").count() == MAX_TASKS

    form.get_by_label("Tasks for named departments or teams: back to handling").check()
    form.locator(f"#id_item{item.pk}-decision").fill("The bureau and the team act.")
    due = local_input(timezone.now() + timedelta(days=2))
    last = MAX_TASKS - 1
    form.locator(f"#id_item{item.pk}-tasks-{last}-department").select_option(str(bureau.pk))
    form.locator(f"#id_item{item.pk}-tasks-{last}-action").fill("Fine the owner")
    form.locator(f"#id_item{item.pk}-tasks-{last}-due_at").fill(due)
    form.locator(f"#id_item{item.pk}-tasks-3-team").select_option(str(org.team.pk))
    form.locator(f"#id_item{item.pk}-tasks-3-action").fill("Clear the heap")
    form.locator(f"#id_item{item.pk}-tasks-3-due_at").fill(due)
    form.get_by_test_id(f"decide-{item.pk}").click()
    page.wait_for_load_state()
    assert "The decision was recorded." in messages_text(page)
    tasks = Dispatch.objects.filter(case=case, origin=Dispatch.Origin.DECISION)
    assert sorted(tasks.values_list("task", flat=True)) == ["Clear the heap", "Fine the owner"]

    # The clerk enters the bureau's arrival time, then confirms the attendance apart.
    arrived = timezone.localtime() - timedelta(minutes=1)
    page.get_by_test_id(f"arrived-at-{invitation.pk}").fill(local_input(arrived))
    page.get_by_test_id(f"desk-check-in-{invitation.pk}").click()
    page.wait_for_load_state()
    invitation.refresh_from_db()
    assert invitation.checked_in_at is not None and invitation.confirmed_at is None
    consultation.refresh_from_db()
    assert consultation.attendance_confirmed_at is None
