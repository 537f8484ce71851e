"""A town consultation in real browsers: the town committee finds an escalated case in its
queue, calls a consultation and invites a city bureau; the bureau's liaison (on a phone, in
Chinese) confirms and checks in; the committee records a decision with a task for the bureau;
the liaison finds the task on the dispatch board and reports in."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Dispatch, Status
from cases.services import request_consultation
from consultation.models import AgendaItem, Consultation, Invitation
from teams.models import Role
from tests.cases.engine_steps import in_progress
from tests.e2e.helpers import messages_text, shot
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TASK = "Fine the owner and order the waste removed"


def local_input(moment) -> str:
    """The value of a datetime-local input in the server's local time."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def meeting_time():
    """A few minutes from now, on today's date (check-in is on the day of the meeting)."""
    while True:
        now = timezone.localtime()
        meeting = now + timedelta(minutes=3)
        if meeting.date() == now.date():
            return meeting
        time.sleep(30)  # just before midnight: wait for the new day


def test_a_town_consultation_from_the_queue_to_the_department_task(browsing, org):
    bureau = DepartmentFactory(region=org.city, name_en="Ecology bureau", name_zh="生态环境局")
    liaison = UserFactory(username="bureau")
    MembershipFactory(user=liaison, role=Role.DEPARTMENT_LIAISON, department=bureau)
    case = in_progress(org)
    request_consultation(user=org.captain, case_id=case.pk, reason="Needs the bureau")

    # --- the town committee: the queue, then calling a consultation ------------------------
    committee = browsing.page("town", language="en", phone=False)
    committee.goto("/")
    committee.locator(".site-nav a[href='/consultation/']").first.click()
    committee.wait_for_url("**/consultation/")
    row = committee.get_by_test_id(f"queue-case-{case.pk}")
    assert row.get_by_test_id("light").get_attribute("data-light") in {"green", "yellow", "red"}
    assert "left" in row.locator(".time-left").inner_text()
    shot(committee, "consultation-01-queue-en")
    row.get_by_test_id(f"pick-{case.pk}").check()
    committee.get_by_test_id("call-consultation").click()
    committee.wait_for_url("**/consultation/new/**")
    agenda = committee.get_by_test_id("agenda-cases")
    assert agenda.locator(f"input[value='{case.pk}']").is_checked()
    meeting = meeting_time()
    committee.locator("#id_scheduled_at").fill(local_input(meeting))
    committee.locator("#id_place").fill("Town hall, room 2")
    committee.get_by_test_id("invite-departments").get_by_label("Ecology bureau").check()
    shot(committee, "consultation-02-call-en")
    committee.get_by_test_id("submit-call").click()
    committee.wait_for_url("**/consultation/*/")
    consultation = Consultation.objects.get()
    assert committee.get_by_test_id("consultation-status").get_attribute("data-status") == (
        "planned"
    )
    invitation = Invitation.objects.get(consultation=consultation)

    # --- the bureau's liaison, on a phone in Chinese: confirm and check in ------------------
    phone = browsing.page("bureau", language="zh")
    phone.goto("/")
    phone.locator(".site-nav a[href='/consultation/mine/']").first.click()
    phone.get_by_test_id(f"invited-{consultation.pk}").locator("a.case-number").click()
    phone.wait_for_url(f"**/consultation/{consultation.pk}/")
    assert case.number in phone.get_by_test_id("agenda").inner_text()
    assert phone.locator("[data-testid^='decide-form']").count() == 0
    phone.get_by_test_id(f"confirm-{invitation.pk}").click()
    phone.wait_for_load_state()
    phone.get_by_test_id(f"check-in-{invitation.pk}").click()
    phone.wait_for_load_state()
    invitation.refresh_from_db()
    assert invitation.confirmed_at is not None and invitation.checked_in_at is not None
    assert invitation.late is False
    shot(phone, "consultation-03-checked-in-zh")

    # --- the committee records the decision with a task for the bureau ----------------------
    committee.reload()
    assert committee.get_by_test_id(f"arrival-{invitation.pk}").locator(".badge-on-time").count()
    item = AgendaItem.objects.get(consultation=consultation)
    committee.get_by_test_id(f"open-decide-{item.pk}").click()
    form = committee.get_by_test_id(f"decide-form-{item.pk}")
    form.get_by_label("Tasks for named departments or teams: back to handling").check()
    form.locator(f"#id_item{item.pk}-decision").fill("The bureau enforces; the team cleans up.")
    form.locator(f"#id_item{item.pk}-tasks-0-department").select_option(str(bureau.pk))
    form.locator(f"#id_item{item.pk}-tasks-0-action").fill(TASK)
    due = timezone.localtime() + timedelta(days=2)
    form.locator(f"#id_item{item.pk}-tasks-0-due_at").fill(local_input(due))
    shot(committee, "consultation-04-decide-en")
    form.get_by_test_id(f"decide-{item.pk}").click()
    committee.wait_for_load_state()
    assert "The decision was recorded." in messages_text(committee)
    decision = committee.get_by_test_id(f"decision-{item.pk}")
    assert decision.get_attribute("data-decision") == "tasks"
    assert TASK in decision.inner_text()
    shot(committee, "consultation-05-decided-en")
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
    task = Dispatch.objects.get(case=case, origin=Dispatch.Origin.DECISION)
    assert (task.department, task.task, task.state) == (bureau, TASK, Dispatch.State.WAITING)

    # --- the liaison finds the task on the dispatch board and reports in --------------------
    phone.goto("/board/")
    row = phone.get_by_test_id(f"dispatch-{task.pk}")
    assert TASK in row.get_by_test_id("dispatch-task").inner_text()
    shot(phone, "consultation-06-board-zh")
    row.get_by_test_id("report_in").click()
    phone.wait_for_load_state()
    task.refresh_from_db()
    assert task.state == Dispatch.State.REPORTED and task.reported_in_by == liaison
