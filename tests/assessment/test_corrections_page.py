"""The supervisors' page for corrections of closed figures (/assessment/corrections/): the one
way, besides the command, to say from when a closed case counts as closed, and why."""

import pytest
from django.urls import reverse

from assessment.models import CaseFact, ClosureCorrection
from cases.services import verify_case
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0, at, resolved_by_team

PAGE = reverse("assessment:corrections")


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def closed_in_july(org, time_machine):  # noqa: F811
    case = resolved_by_team(org)
    time_machine.move_to(at(2025, 7, 2, 9, 0), tick=False)
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True)
    return case


def test_a_supervisor_records_a_correction_on_the_page(client, org, time_machine):  # noqa: F811
    case = closed_in_july(org, time_machine)
    client.force_login(org.supervisor)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(PAGE).content.decode()
    assert 'data-testid="correction-form"' in page and "No correction yet." in page

    reason = "Verified on site on 30 June, recorded on 2 July"
    response = client.post(
        PAGE,
        {"case_number": case.number, "counts_from": "2025-06-30T16:00", "reason": reason},
        follow=True,
    )
    correction = ClosureCorrection.objects.get()
    assert (correction.case, correction.reason, correction.recorded_by) == (
        case,
        reason,
        org.supervisor,
    )
    assert CaseFact.objects.get(pk=case.pk).closing_corrected
    body = response.content.decode()
    assert f"The closing of {case.number} was corrected." in body
    assert f'data-testid="correction-{correction.pk}"' in body and reason in body


def test_bad_input_changes_nothing_and_says_why(client, org, time_machine):  # noqa: F811
    case = closed_in_july(org, time_machine)
    client.force_login(org.supervisor)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    cases = [
        (
            {"case_number": "HN-NOPE", "counts_from": "2025-06-30T16:00", "reason": "x"},
            "No case with this number in your area.",
        ),
        (
            {"case_number": case.number, "counts_from": "2025-06-30T16:00", "reason": " "},
            "This field is required.",
        ),
        (
            {"case_number": case.number, "counts_from": "2030-01-01T00:00", "reason": "Why"},
            "The correction cannot be in the future.",
        ),
        (
            {"case_number": case.number, "counts_from": "not a time", "reason": "Why"},
            "Enter a valid date/time.",
        ),
    ]
    for data, message in cases:
        response = client.post(PAGE, data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
    assert not ClosureCorrection.objects.exists()


def test_only_the_supervisor_corrects(client, org, time_machine):  # noqa: F811
    case = closed_in_july(org, time_machine)
    for user in (org.town_committee, org.city_committee, org.captain):
        client.force_login(user)
        assert client.get(PAGE).status_code == 403
        data = {"case_number": case.number, "counts_from": "2025-06-30T16:00", "reason": "x"}
        assert client.post(PAGE, data).status_code == 403
    assert not ClosureCorrection.objects.exists()
    client.force_login(org.supervisor)
    assert b'data-testid="nav-corrections"' in client.get(reverse("assessment:overview")).content
