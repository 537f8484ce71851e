"""A generated history for the replay's tests, walked through the real services with the
sweep firing the timers: every path of tests.assessment (on the spot, rework, postponement,
suspended and resumed, still suspended, escalated to the city with a task, rejected, left to
the timers), plus cases that cross the end of June (filed in June, dispatched, reported in,
closed in July) and a dispatch reported in late but within the limit's length."""

from datetime import timedelta

from assessment.models import CaseFact, DispatchFact
from assessment.periods import period_for
from cases.models import Deadline
from cases.services import (
    accept_case,
    report_in,
    resolve_case,
    resolve_on_spot,
    verify_case,
    whistle_to_town,
)
from checklists.models import Stage
from tests.assessment.test_rebuild import department_of, drive_all_paths, file, team_of
from tests.cases.engine_steps import T0, at, png

JUNE = period_for("month", at(2025, 6, 1, 0, 0).date())
JULY = period_for("month", at(2025, 7, 1, 0, 0).date())

# Every column the live facts and the replay's share.
CASE_COLUMNS = [
    f.attname for f in CaseFact._meta.concrete_fields if f.attname not in ("case_id", "computed_at")
]
DISPATCH_COLUMNS = [
    f.attname
    for f in DispatchFact._meta.concrete_fields
    if f.attname not in ("dispatch_id", "case_fact_id")
]


def generate(drive, org) -> dict:
    """The cases by name; the clock is left in July."""
    drive.time_machine.move_to(T0, tick=False)
    cases = drive_all_paths(drive, org)

    # Whistled at the end of June: the team reports in in July, the department's report-in
    # timer fires and it reports in later; resolved and verified in July.
    drive.time_machine.move_to(at(2025, 6, 30, 17, 0), tick=False)
    case = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=case.pk)
    drive(whistle_to_town, user=org.village_officer, case_id=case.pk, note="Too big")
    team, department = team_of(case), department_of(case)
    drive.time_machine.move_to(team.report_in_due - timedelta(minutes=1), tick=False)
    drive(report_in, user=org.captain, dispatch_id=team.pk)
    drive.sweep_at(department.report_in_due + timedelta(seconds=1))
    drive.later(minutes=7)
    drive(report_in, user=org.liaison, dispatch_id=department.pk)
    drive.time_machine.move_to(at(2025, 7, 1, 10, 0), tick=False)
    drive(resolve_case, user=org.captain, case_id=case.pk, note="Cleared", photos=[png()])
    drive(verify_case, user=org.grid_worker, case_id=case.pk, passed=True)
    cases["crossing"] = case

    # Filed on the last evening of June, solved on the spot on the first morning of July.
    drive.time_machine.move_to(at(2025, 6, 30, 21, 0), tick=False)
    case = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=case.pk)
    drive.time_machine.move_to(at(2025, 7, 1, 9, 30), tick=False)
    drive(resolve_on_spot, user=org.village_officer, case_id=case.pk, note="Done", photos=[png()])
    drive(verify_case, user=org.grid_worker, case_id=case.pk, passed=True)
    cases["overnight"] = case

    # Filed and whistled in July (the July replay has cases of its own).
    drive.time_machine.move_to(at(2025, 7, 2, 9, 0), tick=False)
    case = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=case.pk)
    drive(whistle_to_town, user=org.village_officer, case_id=case.pk, note="Too big")
    cases["july"] = case
    drive.time_machine.move_to(at(2025, 7, 3, 9, 0), tick=False)
    return cases


def report_in_clocks() -> list[Deadline]:
    return list(Deadline.objects.filter(stage=Stage.REPORT_IN).order_by("id"))
