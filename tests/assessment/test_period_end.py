"""A closed period's figures do not change after the fact unless a correction says why (issue
19, item 6): a period counts a case as closed, or as overdue, only by what happened before the
period's end; a ClosureCorrection (with its reason) is the one way to move a closing, and the
unit's page shows it."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction
from django.urls import reverse

from assessment.indicators import behind, compute
from assessment.models import CaseFact, ClosureCorrection
from assessment.periods import period_for
from assessment.services import correct_closing, rebuild_all_facts, refresh_case_facts
from cases import sweep
from cases.errors import IllegalTransition, InvalidInput, NotAllowed
from cases.models import Case, Status
from cases.services import verify_case
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0, at, resolved_by_team, whistled

JUNE = period_for("month", date(2025, 6, 1))
JULY = period_for("month", date(2025, 7, 1))


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def refresh_all() -> None:
    for case_id in Case.objects.values_list("pk", flat=True):
        refresh_case_facts(case_id=case_id)


def figures(org, period=JUNE) -> dict:  # noqa: F811
    refresh_all()
    values = compute(unit_type="town", unit_id=org.town.pk, period=period, params={})
    return {
        key: (values["indicators"][key].numerator, values["indicators"][key].denominator)
        for key in ("closure_rate", "on_time_closure_rate", "solved_by_team_share")
    }


def closed_in_june_list(org):  # noqa: F811
    return set(
        behind(
            indicator_key="closure_rate",
            part="numerator",
            unit_type="town",
            unit_id=org.town.pk,
            period=JUNE,
        ).values_list("pk", flat=True)
    )


def test_a_june_case_closed_in_july_leaves_june_as_it_was(org, time_machine):  # noqa: F811
    late = resolved_by_team(org)  # filed, handled and resolved in June, verified in July
    on_time = resolved_by_team(org, description="Another heap")
    verify_case(user=org.grid_worker, case_id=on_time.pk, passed=True)
    time_machine.move_to(at(2025, 6, 30, 23, 0), tick=False)
    sweep.sweep(now=at(2025, 6, 30, 23, 0))  # the beat fires the limits passed by then
    at_month_end = figures(org)
    assert at_month_end["closure_rate"] == (1, 2)

    time_machine.move_to(at(2025, 7, 3, 10, 0), tick=False)
    verify_case(user=org.grid_worker, case_id=late.pk, passed=True)
    assert Case.objects.get(pk=late.pk).status == Status.CLOSED

    assert figures(org) == at_month_end
    assert closed_in_june_list(org) == {on_time.pk}  # the drill-down says the same
    rebuild_all_facts()
    assert figures(org) == at_month_end  # a rebuild gives the same


def test_a_case_falling_due_after_its_month_stays_out_of_that_month(org, time_machine):  # noqa: F811
    time_machine.move_to(at(2025, 6, 30, 17, 50), tick=False)  # after office hours
    whistled(org)  # open, within its limits at the end of June
    time_machine.move_to(at(2025, 6, 30, 23, 0), tick=False)
    sweep.sweep(now=at(2025, 6, 30, 23, 0))
    at_month_end = figures(org)
    assert at_month_end["on_time_closure_rate"] == (0, 0)
    time_machine.move_to(at(2025, 8, 1, 10, 0), tick=False)
    sweep.sweep(now=at(2025, 8, 1, 10, 0))
    refresh_all()
    assert CaseFact.objects.filter(overdue=True).exists()
    assert figures(org) == at_month_end


def test_a_correction_moves_the_closing_with_its_reason(client, org, time_machine):  # noqa: F811
    case = resolved_by_team(org)
    time_machine.move_to(at(2025, 7, 2, 9, 0), tick=False)
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True)
    before = figures(org)
    assert before["closure_rate"] == (0, 1)

    reason = "Verified on site on 30 June, recorded on 2 July"
    with pytest.raises(NotAllowed):
        correct_closing(
            user=org.town_committee, case_id=case.pk, counts_from=at(2025, 6, 30, 16), reason=reason
        )
    with pytest.raises(InvalidInput):
        correct_closing(
            user=org.supervisor, case_id=case.pk, counts_from=at(2025, 6, 30, 16), reason=" "
        )
    with pytest.raises(InvalidInput):
        correct_closing(
            user=org.supervisor, case_id=case.pk, counts_from=at(2025, 7, 9), reason=reason
        )
    correction = correct_closing(
        user=org.supervisor, case_id=case.pk, counts_from=at(2025, 6, 30, 16), reason=reason
    )
    fact = CaseFact.objects.get(pk=case.pk)
    assert fact.closing_corrected and fact.closed_at == at(2025, 6, 30, 16)
    assert figures(org)["closure_rate"] == (1, 1)
    assert closed_in_june_list(org) == {case.pk}
    rebuild_all_facts()
    assert CaseFact.objects.get(pk=case.pk).closed_at == at(2025, 6, 30, 16)

    client.force_login(org.supervisor)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(
        reverse("assessment:unit", args=["town", org.town.pk]), JUNE.as_params()
    ).content.decode()
    assert f'data-testid="correction-{correction.pk}"' in page and reason in page

    # The correction itself is never rewritten or removed (core.db_roles): the database says no.
    for change in (
        lambda: ClosureCorrection.objects.filter(pk=correction.pk).update(reason="Other"),
        lambda: ClosureCorrection.objects.filter(pk=correction.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert ClosureCorrection.objects.get(pk=correction.pk).reason == reason


def test_only_a_closed_case_is_corrected(org):  # noqa: F811
    case = whistled(org)
    with pytest.raises(IllegalTransition):
        correct_closing(user=org.supervisor, case_id=case.pk, counts_from=T0, reason="Why")


def test_the_command_records_a_correction(org, time_machine):  # noqa: F811
    case = resolved_by_team(org)
    time_machine.move_to(at(2025, 7, 2, 9, 0), tick=False)
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True)
    with pytest.raises(CommandError):
        call_command(
            "correct_closing", case.number, counts_from="2025-06-30 16:00", reason="", user="sup"
        )
    call_command(
        "correct_closing",
        case.number,
        counts_from="2025-06-30 16:00",
        reason="Verified on 30 June",
        user="sup",
        stdout=StringIO(),
    )
    assert figures(org)["closure_rate"] == (1, 1)
