"""`manage.py seed_demo --history`: a year of demo cases walked through the real services, so
that hot spots, trends and rankings have something to show; built once."""

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from assessment.models import CaseFact
from cases.models import Case, Dispatch, Event, Level, Status
from teams.models import User
from tests.assessment.dashboards_steps import count_links
from tests.assessment.test_pages_hotspots import map_data

pytestmark = pytest.mark.django_db

CASES = 40


def seed(*args: str) -> str:
    """The command's output, in English (the default language is Chinese)."""
    out = io.StringIO()
    with translation.override("en"):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def _with_history() -> str:
    """The demo city with its history (a shorter one than `make run` builds)."""
    seed()
    return seed("--history", "--history-cases", str(CASES))


def test_the_history_spans_a_year_of_cases_walked_through_the_services(_with_history, client):
    assert "History added" in _with_history
    now = timezone.now()
    cases = Case.objects.filter(city__code="HN")
    assert cases.count() >= CASES
    months = {timezone.localtime(c.filed_at).strftime("%Y-%m") for c in cases}
    assert len(months) >= 12
    statuses = Counter(cases.values_list("status", flat=True))
    assert statuses[Status.CLOSED] > cases.count() / 2
    levels = Counter(cases.exclude(resolved_level="").values_list("resolved_level", flat=True))
    assert levels[Level.VILLAGE] > levels[Level.TOWN] > 0
    actions = set(Event.objects.filter(case__in=cases).values_list("action", flat=True))
    assert {
        "file",
        "accept",
        "resolve_on_spot",
        "whistle",
        "report_in",
        "resolve",
        "verify_pass",
        "evaluate",
    } <= actions
    # Nothing happened after the history was built, and every case has its facts.
    assert not Event.objects.filter(created_at__gt=now).exists()
    assert CaseFact.objects.filter(case__in=cases).count() == cases.count()
    _the_demo_liaison_has_work_waiting(client)
    _the_dashboards_have_something_to_show(client)


def _the_demo_liaison_has_work_waiting(client):
    liaison = User.objects.get(username="liaison1")
    waiting = Dispatch.objects.filter(
        department__code="HN-MSB", state=Dispatch.State.WAITING, case__status__in=Status.values
    ).exclude(case__status__in=[Status.CLOSED, Status.REJECTED])
    assert waiting.exists()
    assert Dispatch.objects.filter(
        department__code="HN-MSB", state=Dispatch.State.RESOLVED
    ).exists()  # and a past of its own
    client.force_login(liaison)
    response = client.get(reverse("cases:board"))
    assert response.status_code == 200
    assert waiting.first().case.number in response.content.decode()


def _the_dashboards_have_something_to_show(client):
    client.force_login(User.objects.get(username="supervisor1"))
    today = timezone.localdate()
    year = {"start": (today.replace(day=1, year=today.year - 1)).isoformat(), "end": today}
    response = client.get(reverse("assessment:hotspots"), year)
    assert response.status_code == 200
    counts = [f["properties"]["total"] for f in map_data(response.content.decode())["features"]]
    assert sum(counts) > CASES / 2
    response = client.get(reverse("assessment:rankings"), year)
    assert response.status_code == 200
    assert any(count > 0 for _url, count in count_links(response.content.decode()))


def test_a_second_run_adds_nothing():
    seed("--history", "--history-cases", "6")
    before = (Case.objects.count(), Event.objects.count())
    output = seed("--history", "--history-cases", "6")
    assert "already has its history" in output
    assert (Case.objects.count(), Event.objects.count()) == before
