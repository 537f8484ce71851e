"""Spot checks (抽查) in the facts and the indicators: per dispatch, whether a revisit was
recorded and whether it found the reply false (虚假回复); the false reply rate of a unit, whose
drill-down lists exactly the cases it counts; the rebuild from the events gives exactly the
incremental facts."""

from datetime import date

import pytest

from assessment import selectors
from assessment.models import CaseFact, DispatchFact
from assessment.periods import custom
from assessment.services import rebuild_all_facts, stale_case_ids
from cases.services import report_in, verify_case
from spotchecks.models import SpotCheckCase
from spotchecks.services import draw_spot_check, record_revisit
from tests.assessment.facts_steps import Driver, eager_celery, snapshot  # noqa: F401
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0, png, resolved_by_team, team_dispatch

SUMMER = custom(date(2025, 6, 1), date(2025, 8, 31))
Outcome = SpotCheckCase.Outcome


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def drive(django_capture_on_commit_callbacks, time_machine, eager_celery):  # noqa: F811
    return Driver(django_capture_on_commit_callbacks, time_machine)


@pytest.fixture
def revisits(org, drive) -> dict:  # noqa: F811
    """Three cases the team closed, all drawn: one found not actually resolved (the team
    reports in on it again), one confirmed, one still waiting for its revisit."""
    cases = []
    for n in range(3):
        case = drive(resolved_by_team, org=org, description=f"Pile {n}", latitude=30.50 + n * 1e-4)
        drive(verify_case, user=org.grid_worker, case_id=case.pk, passed=True)
        cases.append(case)
    drive(
        draw_spot_check,
        user=org.supervisor,
        team_id=org.team.pk,
        closed_from=T0.date(),
        closed_to=T0.date(),
        size=3,
        seed=42,
    )
    false, confirmed, waiting = cases
    drive.later(days=1)
    drive(
        record_revisit,
        user=org.supervisor,
        case_id=false.pk,
        outcome=Outcome.FALSE_REPLY,
        note="Back again",
        photos=[png()],
    )
    again = false.dispatches.filter(team=org.team).latest("pk")
    drive(report_in, user=org.captain, dispatch_id=again.pk)
    drive(record_revisit, user=org.supervisor, case_id=confirmed.pk, outcome=Outcome.CONFIRMED)
    return {"false": false, "confirmed": confirmed, "waiting": waiting}


def test_the_facts_of_the_revisits(org, revisits):  # noqa: F811
    def fact(case):
        return DispatchFact.objects.get(pk=team_dispatch_of(case).pk)

    def team_dispatch_of(case):
        return case.dispatches.filter(team=org.team).earliest("pk")

    assert (fact(revisits["false"]).spot_checked, fact(revisits["false"]).false_reply) == (
        True,
        True,
    )
    assert (fact(revisits["confirmed"]).spot_checked, fact(revisits["confirmed"]).false_reply) == (
        True,
        False,
    )
    assert not fact(revisits["waiting"]).spot_checked
    # The new dispatch of the reopened case starts afresh; the case is open again.
    again = revisits["false"].dispatches.filter(team=org.team).latest("pk").fact
    assert not again.spot_checked and not again.false_reply and again.reported_on_time
    assert not CaseFact.objects.get(pk=revisits["false"].pk).closed
    assert CaseFact.objects.get(pk=revisits["confirmed"].pk).closed
    assert team_dispatch(revisits["waiting"]).fact.spot_checked is False


def test_the_false_reply_rate_of_the_team_and_its_drill_down(org, revisits):  # noqa: F811
    values = selectors.indicators(
        user=org.supervisor, unit_type="team", unit_id=org.team.pk, period=SUMMER
    )
    rate = values["false_reply_rate"]
    assert (rate.numerator, rate.denominator) == (1, 2)
    assert rate.value == pytest.approx(0.5)
    expected = {
        "numerator": [revisits["false"].pk],
        "denominator": sorted([revisits["false"].pk, revisits["confirmed"].pk]),
    }
    for part, count in (("numerator", rate.numerator), ("denominator", rate.denominator)):
        behind = selectors.cases_behind(
            user=org.supervisor,
            indicator_key="false_reply_rate",
            part=part,
            unit_type="team",
            unit_id=org.team.pk,
            period=SUMMER,
        )
        assert behind.count() == count, part
        assert sorted(behind.values_list("pk", flat=True)) == expected[part], part
    # The department resolved its part of the same cases, but its replies were not checked.
    department = selectors.indicators(
        user=org.supervisor, unit_type="department", unit_id=org.department.pk, period=SUMMER
    )
    assert (
        department["false_reply_rate"].numerator,
        department["false_reply_rate"].denominator,
    ) == (
        0,
        0,
    )


def test_rebuild_gives_exactly_the_incremental_facts_of_spot_checks(org, revisits):  # noqa: F811
    incremental = snapshot()
    assert stale_case_ids() == []
    assert rebuild_all_facts(batch_size=2) == len(revisits)
    assert snapshot() == incremental
