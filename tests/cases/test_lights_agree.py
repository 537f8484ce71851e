"""The lights and their words agree (issue 19, item 14): at the due moment the text says
overdue, not "less than a minute left"; a limit that fired before the case moved on is shown
as past on the case page, not as a current red light; the dashboard's red list reads the
current clock, not the long-fired first one."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from assessment import selectors as assessment_selectors
from cases import timers
from cases.models import Deadline, Dispatch
from cases.services.handling import report_in
from cases.services.village import accept_case, whistle_to_town
from cases.templatetags.whistle_cases import describe_time_left
from checklists.models import Stage
from tests.cases.engine_steps import accepted, file_case, team_dispatch, whistled

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _natural(deadline: Deadline) -> Deadline:
    deadline.unit = "natural_minutes"
    deadline.save(update_fields=["unit"])
    return deadline


def test_at_the_due_moment_the_words_say_overdue_like_the_light(org):
    case = accepted(org)
    clock = _natural(case.deadlines.get(stage=Stage.VILLAGE_HANDLING))
    moment = clock.due_at + timedelta(milliseconds=500)
    assert timers.light(clock, now=moment) == timers.RED
    assert describe_time_left(clock, now=moment) == "overdue by less than a minute"
    assert describe_time_left(clock, now=clock.due_at) == "overdue by less than a minute"
    before = clock.due_at - timedelta(seconds=30)
    assert timers.light(clock, now=before) != timers.RED
    assert describe_time_left(clock, now=before) == "less than a minute left"


def test_a_paused_clock_with_no_time_left_reads_overdue(org):
    case = accepted(org)
    clock = case.deadlines.get(stage=Stage.VILLAGE_HANDLING)
    clock.paused_at = clock.due_at + timedelta(seconds=1)
    clock.remaining_seconds = 0
    clock.save(update_fields=["paused_at", "remaining_seconds"])
    assert timers.light(clock) == timers.RED
    assert describe_time_left(clock).startswith("overdue by")


def _fire(deadline: Deadline, *, ago: timedelta) -> None:
    now = timezone.now()
    Deadline.objects.filter(pk=deadline.pk).update(
        started_at=now - ago - timedelta(hours=1),
        warn_at=now - ago - timedelta(minutes=30),
        due_at=now - ago,
        fired_at=now - ago,
    )


def _deadline_rows(html: str) -> dict[str, str]:
    """stage -> data-light of each row of the case page's time limits."""
    return dict(re.findall(r'data-testid="deadline" data-stage="(\w+)" data-light="(\w*)"', html))


def test_a_fired_report_in_limit_is_past_once_the_unit_reported_in(client, org):
    case = whistled(org)
    team = team_dispatch(case)
    _fire(case.deadlines.get(dispatch=team, stage=Stage.REPORT_IN), ago=timedelta(hours=2))
    Dispatch.objects.filter(pk=team.pk).update(late=True)
    client.force_login(org.town_committee)
    url = reverse("cases:detail", args=[case.pk])

    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-light="red"' in html  # still waiting: the fired limit is the current one

    report_in(user=org.captain, dispatch_id=team.pk)
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    report_in_rows = re.findall(
        r'data-testid="deadline" data-stage="report_in" data-light="(\w*)"[^>]*data-past="(\w*)"',
        html,
    )
    team_row = [row for row in report_in_rows if row[1] == "fired"]
    assert team_row == [("", "fired")]
    assert "limit passed" in html


def test_a_fired_screening_limit_is_past_once_the_case_climbed(client, org):
    case = file_case(org)
    _fire(case.deadlines.get(stage=Stage.SCREENING), ago=timedelta(days=3))
    case = whistled_from_filed(org, case)
    client.force_login(org.town_committee)
    html = client.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
    rows = _deadline_rows(html.content.decode())
    assert rows["screening"] == ""
    assert rows["handling"] in ("green", "yellow")


def whistled_from_filed(org, case):
    accept_case(user=org.village_officer, case_id=case.pk)
    return whistle_to_town(user=org.village_officer, case_id=case.pk, note="Too big")


def test_the_red_list_shows_the_current_clock_not_the_first_fired_one(org):
    case = whistled(org)
    now = timezone.now()
    screening = case.deadlines.get(stage=Stage.SCREENING)
    Deadline.objects.filter(pk=screening.pk).update(
        started_at=now - timedelta(days=4),
        warn_at=now - timedelta(days=3, hours=12),
        due_at=now - timedelta(days=3),
        fired_at=now - timedelta(days=3),
        met_at=None,
    )
    handling = case.deadlines.get(stage=Stage.HANDLING)
    Deadline.objects.filter(pk=handling.pk).update(
        warn_at=now - timedelta(minutes=20), due_at=now - timedelta(minutes=10)
    )
    red = assessment_selectors.red_and_overdue(user=org.supervisor, limit=50)
    assert [c.pk for c in red] == [case.pk]
    assert abs(red[0].overdue_since - (now - timedelta(minutes=10))) < timedelta(seconds=1)


def test_a_case_whose_only_overdue_clock_is_past_is_not_on_the_red_list(org):
    case = whistled(org)
    team = team_dispatch(case)
    _fire(case.deadlines.get(dispatch=team, stage=Stage.REPORT_IN), ago=timedelta(days=2))
    report_in(user=org.captain, dispatch_id=team.pk)
    department = case.dispatches.get(department__isnull=False)
    report_in(user=org.liaison, dispatch_id=department.pk)
    assert assessment_selectors.red_and_overdue(user=org.supervisor, limit=50) == []
