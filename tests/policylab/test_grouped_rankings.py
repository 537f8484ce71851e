"""The rankings count every team and department in a few grouped queries
(assessment.selectors._grouped_handlers): the same counts as `indicators.compute` gives each
unit alone, on the live facts and on a replay's, over a generated history with multi-dispatch,
a rework, late report-ins, a consultation's task and cases crossing the month's end."""

import pytest

from assessment import indicators, selectors
from checklists.models import Stage
from policylab.services import replay_facts
from teams.models import Department, Team
from tests.policylab.history import JULY, JUNE, generate
from tests.policylab.test_replay_rules import replayed, scaled, scenario_with

# What a unit without any case gets from compute() and from the grouped queries alike.
EMPTY = {"c_avg_seconds": None, "c_late_limits": None, "p90_seconds": None}


def assert_same_counts(*, unit_type, unit_ids, period, facts) -> int:
    grouped = selectors._grouped_handlers(unit_type, unit_ids, period, facts=facts)
    compared = 0
    for unit_id in unit_ids:
        alone = indicators.compute(
            unit_type=unit_type, unit_id=unit_id, period=period, params={}, facts=facts
        )["counts"]
        for key, value in alone.items():
            expected = EMPTY.get(key, 0) if key not in grouped[unit_id] else grouped[unit_id][key]
            assert value == expected or value == pytest.approx(expected), (
                unit_type,
                unit_id,
                key,
            )
        compared += sum(1 for key, value in alone.items() if value)
    return compared


@pytest.mark.django_db
def test_grouped_team_and_department_counts_are_those_of_each_unit_alone(
    org, drive, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    generate(drive, org)
    halved = replayed(org, scenario_with(org, limits=scaled(Stage.REPORT_IN, 0.5), name="/2"))
    units = {
        "team": list(Team.objects.values_list("pk", flat=True)),
        "department": list(Department.objects.values_list("pk", flat=True)),
    }
    nonzero = 0
    for facts in (None, replay_facts(halved)):
        for period in (JUNE, JULY):
            for unit_type, unit_ids in units.items():
                nonzero += assert_same_counts(
                    unit_type=unit_type, unit_ids=unit_ids, period=period, facts=facts
                )
    assert nonzero > 100  # the history gives the units real numbers to compare
    # The replay's numbers differ from the live ones (halved report-in limits), and the
    # grouped ranking shows the difference.
    live = selectors._grouped_handlers("team", units["team"], JUNE)
    scenario = selectors._grouped_handlers("team", units["team"], JUNE, facts=replay_facts(halved))
    assert sum(c.get("d_late", 0) for c in scenario.values()) > sum(
        c.get("d_late", 0) for c in live.values()
    )
