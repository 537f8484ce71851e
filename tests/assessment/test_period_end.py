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
from cases.services import (
    decide_postponement,
    evaluate_case,
    reopen_case,
    request_postponement,
    verify_case,
)
from checklists.models import Stage, TimeUnit
from spotchecks.models import SpotCheckCase
from spotchecks.services import record_revisit
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0, accepted, at, png, resolved_by_team, whistled
from tests.spotchecks.steps import closed_cases, draw

JUNE = period_for("month", date(2025, 6, 1))
JULY = period_for("month", date(2025, 7, 1))


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def refresh_all() -> None:
    for case_id in Case.objects.values_list("pk", flat=True):
        refresh_case_facts(case_id=case_id)


PERIOD_KEYS = (
    "closure_rate",
    "on_time_closure_rate",
    "solved_by_team_share",
    "level_town_share",
    "avg_handling_hours",
    "satisfaction_rate",
    "rework_rate",
    "postponement_rate",
)


def figures(org, period=JUNE, unit=("town", None)) -> dict:  # noqa: F811
    refresh_all()
    unit_type, unit_id = unit
    values = compute(unit_type=unit_type, unit_id=unit_id or org.town.pk, period=period, params={})
    return {
        key: (values["indicators"][key].numerator, values["indicators"][key].denominator)
        for key in PERIOD_KEYS
    }


def listed(org, key: str, unit=("town", None)) -> dict:  # noqa: F811
    """Both drill-down lists of an indicator, June, as case ids."""
    unit_type, unit_id = unit
    return {
        part: set(
            behind(
                indicator_key=key,
                part=part,
                unit_type=unit_type,
                unit_id=unit_id or org.town.pk,
                period=JUNE,
            ).values_list("pk", flat=True)
        )
        for part in ("numerator", "denominator")
    }


def stays_as_at_month_end(org, change, keys) -> None:  # noqa: F811
    """The June figures (of the town and of the team), and their drill-down lists, are the
    same after `change` (done in July), incrementally and after a rebuild."""
    units = [("town", None), ("team", org.team.pk)]
    time_machine_end = at(2025, 6, 30, 23, 0)
    sweep.sweep(now=time_machine_end)
    before = {unit: figures(org, unit=unit) for unit in units}
    lists = {unit: {key: listed(org, key, unit) for key in keys} for unit in units}
    change()
    for unit in units:
        assert figures(org, unit=unit) == before[unit], unit
        assert {key: listed(org, key, unit) for key in keys} == lists[unit], unit
    rebuild_all_facts()
    for unit in units:
        assert figures(org, unit=unit) == before[unit], unit
    return before


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


def test_a_case_closed_in_june_and_reopened_in_july_keeps_june_closed(org, time_machine):  # noqa: F811
    case = resolved_by_team(org)
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True)
    time_machine.move_to(at(2025, 6, 30, 23, 0), tick=False)

    def reopen() -> None:
        time_machine.move_to(at(2025, 7, 3, 10, 0), tick=False)
        reopen_case(user=org.town_committee, case_id=case.pk, reason="Piled up again")
        assert Case.objects.get(pk=case.pk).status != Status.CLOSED

    before = stays_as_at_month_end(
        org, reopen, ("closure_rate", "on_time_closure_rate", "solved_by_team_share")
    )
    town = before[("town", None)]
    assert town["closure_rate"] == (1, 1) and town["on_time_closure_rate"] == (1, 1)
    assert town["solved_by_team_share"] == (1, 1) and town["level_town_share"] == (1, 1)
    fact = CaseFact.objects.get(pk=case.pk)
    assert not fact.closed and fact.reopened_at == at(2025, 7, 3, 10, 0)
    # July's own view of the case: open (a period ending after the reopening).
    july = compute(
        unit_type="town",
        unit_id=org.town.pk,
        period=period_for("year", date(2025, 1, 1)),
        params={},
    )
    assert july["indicators"]["closure_rate"].numerator == 0


def test_a_case_reopened_within_june_is_open_in_june(org, time_machine):  # noqa: F811
    case = resolved_by_team(org)
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True)
    time_machine.move_to(at(2025, 6, 20, 10, 0), tick=False)
    reopen_case(user=org.town_committee, case_id=case.pk, reason="Piled up again")
    assert figures(org)["closure_rate"] == (0, 1)


def test_a_rating_given_in_july_leaves_june_satisfaction(org, time_machine):  # noqa: F811
    rated_in_june = resolved_by_team(org)
    verify_case(user=org.grid_worker, case_id=rated_in_june.pk, passed=True)
    evaluate_case(user=org.grid_worker, case_id=rated_in_june.pk, satisfaction="satisfied")
    rated_later = resolved_by_team(org, description="Another heap")
    verify_case(user=org.grid_worker, case_id=rated_later.pk, passed=True)

    def rate() -> None:
        time_machine.move_to(at(2025, 7, 3, 10, 0), tick=False)
        evaluate_case(user=org.grid_worker, case_id=rated_later.pk, satisfaction="unsatisfied")

    before = stays_as_at_month_end(org, rate, ("satisfaction_rate",))
    assert before[("town", None)]["satisfaction_rate"] == (1, 1)
    assert CaseFact.objects.get(pk=rated_later.pk).satisfaction == "unsatisfied"


def test_a_rework_in_july_leaves_june_rework_rate(org, time_machine):  # noqa: F811
    case = resolved_by_team(org)

    def rework() -> None:
        time_machine.move_to(at(2025, 7, 3, 10, 0), tick=False)
        verify_case(
            user=org.grid_worker,
            case_id=case.pk,
            passed=False,
            reason="Still there",
            photos=[png()],
        )

    before = stays_as_at_month_end(org, rework, ("rework_rate",))
    assert before[("town", None)]["rework_rate"] == (0, 1)
    assert before[("team", org.team.pk)]["rework_rate"] == (0, 1)
    fact = CaseFact.objects.get(pk=case.pk)
    assert fact.reworked and fact.reworked_at == at(2025, 7, 3, 10, 0)
    # The year, which ends after the rework, counts it (for the town and for the team).
    year = period_for("year", date(2025, 1, 1))
    for unit_type, unit_id in (("town", org.town.pk), ("team", org.team.pk)):
        values = compute(unit_type=unit_type, unit_id=unit_id, period=year, params={})
        assert values["indicators"]["rework_rate"].numerator == 1, unit_type


def test_a_postponement_in_july_leaves_june_postponement_rate(org, time_machine):  # noqa: F811
    time_machine.move_to(at(2025, 6, 30, 17, 50), tick=False)  # after office hours
    case = accepted(org)

    def postpone() -> None:
        time_machine.move_to(at(2025, 7, 1, 9, 30), tick=False)
        deadline = case.deadlines.get(stage=Stage.VILLAGE_HANDLING)
        postponement = request_postponement(
            user=org.village_officer,
            case_id=case.pk,
            deadline_id=deadline.pk,
            amount=2,
            unit=TimeUnit.WORKING_DAYS,
            reason="Owner away",
        )
        decide_postponement(user=org.town_committee, postponement_id=postponement.pk, approve=True)

    time_machine.move_to(at(2025, 6, 30, 23, 0), tick=False)
    before = stays_as_at_month_end(org, postpone, ("postponement_rate",))
    assert before[("town", None)]["postponement_rate"] == (0, 1)
    assert CaseFact.objects.get(pk=case.pk).postponed_at == at(2025, 7, 1, 9, 30)
    year = period_for("year", date(2025, 1, 1))
    values = compute(unit_type="town", unit_id=org.town.pk, period=year, params={})
    assert values["indicators"]["postponement_rate"].numerator == 1


def test_a_spot_check_finding_in_july_leaves_june_closed(org, time_machine):  # noqa: F811
    """A revisit in July finds the June closing false (虚假回复): the case is open again, and
    July's later figures say so, but June's closure stays as it stood."""
    (case,) = closed_cases(org, 1)
    draw(org, size=1, seed=7)
    time_machine.move_to(at(2025, 6, 30, 23, 0), tick=False)

    def not_resolved() -> None:
        time_machine.move_to(at(2025, 7, 3, 10, 0), tick=False)
        record_revisit(
            user=org.supervisor,
            case_id=case.pk,
            outcome=SpotCheckCase.Outcome.FALSE_REPLY,
            note="Still piled up",
            photos=[png()],
        )
        assert Case.objects.get(pk=case.pk).status != Status.CLOSED

    before = stays_as_at_month_end(org, not_resolved, ("closure_rate", "on_time_closure_rate"))
    assert before[("town", None)]["closure_rate"] == (1, 1)
    assert CaseFact.objects.get(pk=case.pk).reopened_at == at(2025, 7, 3, 10, 0)
