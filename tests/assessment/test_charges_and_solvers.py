"""The assessment's numbers as issue 19 found them wrong: a unit charged only for what its own
dispatch did, the 70/20/10 by who solved the case, on-time closure of the cases fallen due
only, the response rate counted (and listed) in dispatches; with the rebuild equal to the
incremental facts and every drill-down list as long as its number, for multi-dispatch cases
where some units never act and for cases not yet due."""

from datetime import date, timedelta

import pytest
from django.utils import translation

from assessment import selectors
from assessment.indicators import KEYS, LABELS
from assessment.models import CaseFact, DispatchFact
from assessment.periods import custom
from assessment.services import rebuild_all_facts, stale_case_ids
from cases.models import Deadline, Dispatch, Level
from cases.services import (
    Task,
    add_dispatch,
    decide_consultation,
    report_in,
    request_consultation,
    resolve_case,
    verify_case,
)
from checklists.models import Stage
from teams.models import Department, DepartmentKind
from tests.assessment.facts_steps import Driver, eager_celery, snapshot  # noqa: F401
from tests.assessment.test_rebuild import department_of, file, team_of, whistle
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0, png

SUMMER = custom(date(2025, 6, 1), date(2025, 8, 31))
UNIT_TYPES = ("city", "town", "village", "grid", "grid_worker", "team", "department")


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def drive(django_capture_on_commit_callbacks, time_machine, eager_celery):  # noqa: F811
    return Driver(django_capture_on_commit_callbacks, time_machine)


@pytest.fixture
def second_bureau(org):  # noqa: F811
    return Department.objects.create(
        code="HN-EP",
        kind=DepartmentKind.objects.get(code="urban_management"),
        region=org.city,
        name_zh="生态环境局",
        name_en="Ecology and environment bureau",
    )


def failed_after_team_alone(drive, org, bureau):  # noqa: F811
    """Dispatched to the team and two bureaus; only the team reports in and resolves; the
    verification fails."""
    case = whistle(drive, org)
    for department in (org.department, bureau):
        if not case.dispatches.filter(department=department).exists():
            drive(
                add_dispatch, user=org.town_committee, case_id=case.pk, department_id=department.pk
            )
    assert case.dispatches.count() == 3
    drive(report_in, user=org.captain, dispatch_id=team_of(case).pk)
    drive(resolve_case, user=org.captain, case_id=case.pk, note="Cleared", photos=[png()])
    drive(
        verify_case,
        user=org.grid_worker,
        case_id=case.pk,
        passed=False,
        reason="Still there",
        photos=[png()],
    )
    return case


def pair(values, key):
    return values[key].numerator, values[key].denominator


def assert_every_number_has_its_cases(org):  # noqa: F811
    for unit_type in UNIT_TYPES:
        unit_id = {
            "city": org.city.pk,
            "town": org.town.pk,
            "village": org.village.pk,
            "grid": org.grid.pk,
            "grid_worker": org.grid_worker.pk,
            "team": org.team.pk,
            "department": org.department.pk,
        }[unit_type]
        values = selectors.indicators(
            user=org.supervisor, unit_type=unit_type, unit_id=unit_id, period=SUMMER
        )
        for key in KEYS:
            for part in ("numerator", "denominator"):
                if key == "p90_handling_hours" and part == "numerator":
                    continue
                listed = selectors.cases_behind(
                    user=org.supervisor,
                    indicator_key=key,
                    part=part,
                    unit_type=unit_type,
                    unit_id=unit_id,
                    period=SUMMER,
                ).count()
                assert listed == getattr(values[key], part), (unit_type, key, part)


# --- 1. a unit is charged only for what its own dispatch did --------------------------------


def test_rework_is_charged_only_to_the_units_that_acted(org, drive, second_bureau):  # noqa: F811
    case = failed_after_team_alone(drive, org, second_bureau)

    team = DispatchFact.objects.get(pk=team_of(case).pk)
    assert (team.reworked, team.rework_count) == (True, 1)
    for bureau in (department_of_org(case, org), case.dispatches.get(department=second_bureau)):
        fact = DispatchFact.objects.get(pk=bureau.pk)
        assert (fact.reworked, fact.rework_count) == (False, 0)

    def rework(unit_type, unit_id):
        return pair(
            selectors.indicators(
                user=org.supervisor, unit_type=unit_type, unit_id=unit_id, period=SUMMER
            ),
            "rework_rate",
        )

    assert rework("team", org.team.pk) == (1, 1)
    assert rework("department", org.department.pk) == (0, 1)
    assert rework("department", second_bureau.pk) == (0, 1)
    assert rework("town", org.town.pk) == (1, 1)  # the case itself was reworked

    rows = {
        row.unit_id: row
        for row in selectors.ranking(user=org.supervisor, unit_type="department", period=SUMMER)
    }
    for bureau in (org.department, second_bureau):
        assert pair(rows[bureau.pk].indicators, "rework_rate") == (0, 1)
        assert rows[bureau.pk].indicators["rework_rate"].value == 0
    assert_every_number_has_its_cases(org)


def department_of_org(case, org):  # noqa: F811
    return case.dispatches.get(department=org.department)


def test_after_a_failed_verification_units_that_never_reported_in_still_wait(
    org,  # noqa: F811
    drive,
    second_bureau,
):
    case = failed_after_team_alone(drive, org, second_bureau)
    states = {d.handler.code: (d.state, d.reported_in_at) for d in case.dispatches.all()}
    assert states[org.team.code][0] == Dispatch.State.REPORTED
    assert states[org.team.code][1] is not None
    for code in (org.department.code, second_bureau.code):
        assert states[code] == (Dispatch.State.WAITING, None)


def test_a_bureau_that_reported_in_shares_the_rework_of_the_resolution(org, drive):  # noqa: F811
    case = whistle(drive, org)
    assert case.dispatches.get(department__isnull=False).department == org.department
    drive(report_in, user=org.captain, dispatch_id=team_of(case).pk)
    drive(report_in, user=org.liaison, dispatch_id=department_of(case).pk)
    drive(resolve_case, user=org.captain, case_id=case.pk, note="Cleared", photos=[png()])
    drive(
        verify_case,
        user=org.grid_worker,
        case_id=case.pk,
        passed=False,
        reason="Still there",
        photos=[png()],
    )
    assert DispatchFact.objects.get(pk=department_of(case).pk).reworked
    assert DispatchFact.objects.get(pk=team_of(case).pk).reworked
    assert department_of(case).state == Dispatch.State.REPORTED


# --- 2. who solved it -----------------------------------------------------------------------


def test_the_distribution_counts_who_solved_the_case(org, drive):  # noqa: F811
    from cases.services import accept_case, resolve_on_spot

    on_spot = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=on_spot.pk)
    drive(resolve_on_spot, user=org.village_officer, case_id=on_spot.pk, note="Ok", photos=[png()])
    drive(verify_case, user=org.grid_worker, case_id=on_spot.pk, passed=True)

    by_team = whistle(drive, org)
    drive(report_in, user=org.captain, dispatch_id=team_of(by_team).pk)
    drive(resolve_case, user=org.captain, case_id=by_team.pk, note="Done", photos=[png()])
    drive(verify_case, user=org.grid_worker, case_id=by_team.pk, passed=True)

    # Settled at the town's consultation: a town-level case, solved by the consultation.
    consulted = whistle(drive, org)
    drive(report_in, user=org.captain, dispatch_id=team_of(consulted).pk)
    drive(request_consultation, user=org.captain, case_id=consulted.pk, reason="Needs a say")
    from django.utils import timezone

    drive(
        decide_consultation,
        user=org.town_committee,
        case_id=consulted.pk,
        decision="The team clears it with the bureau's help",
        tasks=[
            Task(action="Clear", due_at=timezone.now() + timedelta(days=2), team_id=org.team.pk)
        ],
    )
    drive(resolve_case, user=org.captain, case_id=consulted.pk, note="Done", photos=[png()])
    drive(verify_case, user=org.grid_worker, case_id=consulted.pk, passed=True)

    open_case = whistle(drive, org)

    facts = {pk: CaseFact.objects.get(pk=pk) for pk in (on_spot.pk, by_team.pk, consulted.pk)}
    assert facts[on_spot.pk].solved_by == "village"
    assert facts[by_team.pk].solved_by == "team"
    assert facts[consulted.pk].solved_by == "consultation"
    assert facts[consulted.pk].closed_level == Level.TOWN  # the level view stays as it was
    assert CaseFact.objects.get(pk=open_case.pk).solved_by == ""

    values = selectors.indicators(
        user=org.supervisor, unit_type="city", unit_id=None, period=SUMMER
    )
    assert pair(values, "solved_by_village_share") == (1, 3)
    assert pair(values, "solved_by_team_share") == (1, 3)
    assert pair(values, "solved_by_consultation_share") == (1, 3)
    assert pair(values, "level_town_share") == (2, 3)
    with translation.override("en"):
        assert "level view" in str(values["level_town_share"].label)

    levels = selectors.level_distribution(
        user=org.supervisor, unit_type="city", unit_id=None, period=SUMMER
    )
    assert levels["counts"] == {"village": 1, "team": 1, "consultation": 1}
    assert levels["targets"] == {"village": 0.7, "team": 0.2, "consultation": 0.1}
    assert {k: v["count"] for k, v in levels["closing_levels"].items()} == {
        "village": 1,
        "town": 2,
        "city": 0,
    }
    assert_every_number_has_its_cases(org)


# --- 3. on-time closure leaves the cases not yet due out ------------------------------------


def test_on_time_closure_waits_for_open_cases_to_fall_due(org, drive):  # noqa: F811
    from cases.services import accept_case, resolve_on_spot

    closed = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=closed.pk)
    drive(resolve_on_spot, user=org.village_officer, case_id=closed.pk, note="Ok", photos=[png()])
    drive(verify_case, user=org.grid_worker, case_id=closed.pk, passed=True)
    waiting = file(drive, org)
    drive(accept_case, user=org.village_officer, case_id=waiting.pk)

    def on_time():
        return pair(
            selectors.indicators(
                user=org.supervisor, unit_type="village", unit_id=org.village.pk, period=SUMMER
            ),
            "on_time_closure_rate",
        )

    assert on_time() == (1, 1)  # the open case is within its limit: not judged yet
    assert_every_number_has_its_cases(org)

    due = Deadline.objects.get(case=waiting, stage=Stage.VILLAGE_HANDLING).due_at
    drive.sweep_at(due + timedelta(seconds=1))
    assert CaseFact.objects.get(pk=waiting.pk).overdue
    assert on_time() == (1, 2)  # fallen due and still open: counted against the village
    assert_every_number_has_its_cases(org)


# --- 4. the response rate counts dispatches and lists their units ---------------------------


def test_the_response_rate_says_dispatches_and_lists_each_unit_once(org, drive, second_bureau):  # noqa: F811
    case = failed_after_team_alone(drive, org, second_bureau)
    values = selectors.indicators(
        user=org.supervisor, unit_type="city", unit_id=None, period=SUMMER
    )
    with translation.override("en"):
        assert "dispatches" in str(LABELS["response_rate"])
    assert values["response_rate"].source == "dispatch"
    assert pair(values, "response_rate") == (1, 3)
    rows = selectors.cases_behind(
        user=org.supervisor,
        indicator_key="response_rate",
        part="denominator",
        unit_type="city",
        unit_id=None,
        period=SUMMER,
    )
    assert sorted(row.counted_dispatch_id for row in rows) == sorted(
        case.dispatches.values_list("pk", flat=True)
    )


# --- rebuild equals incremental ------------------------------------------------------------


def test_rebuild_equals_incremental_with_idle_units_and_cases_not_yet_due(
    org,  # noqa: F811
    drive,
    second_bureau,
):
    failed_after_team_alone(drive, org, second_bureau)
    whistle(drive, org)  # dispatched, nobody acted, nothing due yet
    incremental = snapshot()
    assert stale_case_ids() == []
    assert DispatchFact.objects.filter(reworked=True).count() == 1
    assert rebuild_all_facts(batch_size=1) == 2
    assert snapshot() == incremental
    assert_every_number_has_its_cases(org)
