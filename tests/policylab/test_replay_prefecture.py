"""The policy lab on four levels with the prefecture's committee on the escalation chain
(teams.levels.on_chain): a replayed city consultation that runs out before the city committee
decided climbs to the prefecture (as the timer would have sent it, cases.firing); a city
consultation whose timer did send it there counts as never ended; a prefecture consultation
that ran under the city's limit is judged by the scenario's city limit; the prefecture's
committee uses the lab for the cities below it; its consultation's limits are offered only
where it is on the chain."""

from datetime import timedelta

import pytest

from assessment.models import CaseFact
from assessment.services import refresh_case_facts
from cases import calendar
from cases.models import Deadline, Level
from cases.services import Task, decide_consultation
from checklists.models import Stage, TimeLimit, TimeUnit
from policylab import access, selectors, services
from policylab.errors import LabNotAllowed
from policylab.forms import ScenarioForm
from policylab.models import ReplayCaseFact
from policylab.rules import limits_in_force
from teams.models import LevelName
from tests.cases.engine_steps import T0, at
from tests.cases.prefecture import at_the_city, at_the_prefecture, at_the_town, four_levels
from tests.cases.test_level_shape import no_city_committee
from tests.policylab.test_replay_rules import replayed, scaled, scenario_with

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def one_working_day(rows):
    """Every item's city consultation limit: one working day."""
    return [
        dict(row, amount=1, unit=TimeUnit.WORKING_DAYS)
        if row["stage"] == Stage.CITY_CONSULTATION
        else row
        for row in rows
    ]


def decided_by_the_city(org, time_machine):
    """Escalated to the city at T0 (Tuesday 09:00) and decided by the city committee on
    Thursday, within its five working days: nothing late live."""
    case = at_the_city(org)
    time_machine.move_to(at(2025, 6, 12, 10, 0), tick=False)
    task = Task(action="Demolish", due_at=at(2025, 6, 20, 12, 0), team_id=org.team.pk)
    decide_consultation(user=org.city_committee, case_id=case.pk, decision="Go", tasks=[task])
    refresh_case_facts(case_id=case.pk)
    time_machine.move_to(at(2025, 6, 30, 9, 0), tick=False)
    return case


def test_a_city_consultation_that_runs_out_climbs_to_the_prefecture(org, time_machine):
    four_levels(org)
    case = decided_by_the_city(org, time_machine)
    live = CaseFact.objects.get(case_id=case.pk)
    assert live.max_level == Level.CITY and live.escalated and not live.overdue
    clock = Deadline.objects.get(case=case, stage=Stage.CITY_CONSULTATION)
    assert (clock.amount, clock.unit) == (5, TimeUnit.WORKING_DAYS)
    # One working day instead of five: the timer would have fired on Wednesday 09:00.
    replay = replayed(org, scenario_with(org, limits=one_working_day))
    due = calendar.add_duration(start=clock.started_at, amount=1, unit=TimeUnit.WORKING_DAYS)
    assert clock.started_at < due < clock.met_at
    row = ReplayCaseFact.objects.get(replay=replay, case_id=case.pk)
    assert row.would_escalate_at == due
    assert row.max_level == Level.PREFECTURE and row.escalated
    assert row.overdue and row.overdue_at == due and row.verdict_changed
    tally = replay.summary["tally"]
    assert tally["would_escalate"] == 1 and tally["would_escalate_by"] == {"prefecture": 1}
    # The comparison counts it, and offers the prefecture's level share.
    found = selectors.comparison(user=org.supervisor, replay_ids=[replay.pk])
    would = {row.key: row.replays[0].count for row in found.would_escalate}
    assert would["would_escalate"] == would["would_escalate_prefecture"] == 1
    assert "level_prefecture_share" in [row.key for row in found.indicators]


def test_on_three_levels_the_city_consultation_only_runs_late(org, time_machine):
    case = decided_by_the_city(org, time_machine)
    replay = replayed(org, scenario_with(org, limits=one_working_day))
    row = ReplayCaseFact.objects.get(replay=replay, case_id=case.pk)
    # The city committee decides last: its timer sends nothing up.
    assert row.would_escalate_at is None and row.max_level == Level.CITY
    assert row.overdue and row.verdict_changed
    tally = replay.summary["tally"]
    assert tally["would_escalate"] == 0 and tally["would_escalate_by"] == {}
    # Nothing of a prefecture in the comparison.
    found = selectors.comparison(user=org.supervisor, replay_ids=[replay.pk])
    assert "would_escalate_prefecture" not in [row.key for row in found.would_escalate]
    assert "level_prefecture_share" not in [row.key for row in found.indicators]


def test_a_city_consultation_the_timer_sent_up_counts_as_never_ended(org, drive, time_machine):
    prefecture = four_levels(org)
    case = at_the_city(org)
    clock = Deadline.objects.get(case=case, stage=Stage.CITY_CONSULTATION)
    drive.sweep_at(clock.due_at)
    case.refresh_from_db()
    assert case.level == Level.PREFECTURE  # the timer sent it on, meeting nothing of the city
    clock.refresh_from_db()
    assert clock.fired_at is not None and clock.met_at is None
    time_machine.move_to(clock.due_at + timedelta(hours=2), tick=False)
    task = Task(action="Demolish", due_at=at(2025, 6, 27, 12, 0), team_id=org.team.pk)
    decide_consultation(user=prefecture.member, case_id=case.pk, decision="Go", tasks=[task])
    refresh_case_facts(case_id=case.pk)
    live = CaseFact.objects.get(case_id=case.pk)
    assert live.max_level == Level.PREFECTURE and live.overdue
    time_machine.move_to(at(2025, 6, 30, 9, 0), tick=False)
    # Twice the city's limit: what would have followed is unknown, so the escalation that
    # the timer made is no end of the stage, and it stays late once the new limit is past.
    replay = replayed(org, scenario_with(org, limits=scaled(Stage.CITY_CONSULTATION, 2)))
    row = ReplayCaseFact.objects.get(replay=replay, case_id=case.pk)
    doubled = calendar.add_duration(start=clock.started_at, amount=10, unit=clock.unit)
    assert row.overdue and row.overdue_at == doubled and not row.verdict_changed
    assert row.would_escalate_at is None and row.max_level == Level.PREFECTURE


def test_a_prefecture_consultation_follows_the_scenarios_city_limit(org, time_machine):
    """An item with no limit of its own for the prefecture ran its consultation under the
    city's (cases.timers): a scenario's shorter city limit judges it again."""
    prefecture = four_levels(org)
    # Every item got one from its city's (migration checklists 0009); this one has none.
    TimeLimit.objects.filter(stage=Stage.PREFECTURE_CONSULTATION).delete()
    case = at_the_prefecture(org)
    clock = Deadline.objects.get(case=case, stage=Stage.PREFECTURE_CONSULTATION)
    assert (clock.amount, clock.unit) == (5, TimeUnit.WORKING_DAYS)
    time_machine.move_to(at(2025, 6, 12, 10, 0), tick=False)
    task = Task(action="Demolish", due_at=at(2025, 6, 20, 12, 0), team_id=org.team.pk)
    decide_consultation(user=prefecture.member, case_id=case.pk, decision="Go", tasks=[task])
    refresh_case_facts(case_id=case.pk)
    assert not CaseFact.objects.get(case_id=case.pk).overdue
    time_machine.move_to(at(2025, 6, 30, 9, 0), tick=False)
    replay = replayed(org, scenario_with(org, limits=one_working_day))
    row = ReplayCaseFact.objects.get(replay=replay, case_id=case.pk)
    due = calendar.add_duration(start=clock.started_at, amount=1, unit=TimeUnit.WORKING_DAYS)
    assert row.overdue and row.overdue_at == due and row.verdict_changed
    # The prefecture's consultation is the last step: its timer sends nothing further up.
    assert row.would_escalate_at is None and row.max_level == Level.PREFECTURE


def test_the_prefecture_committee_uses_the_lab_for_the_cities_below_it(org):
    prefecture = four_levels(org)
    member = prefecture.member
    assert access.lab_cities(member) == {org.city.pk}
    places = set(access.places_of(member).values_list("pk", flat=True))
    assert places == {org.city.pk, org.town.pk, org.other_town.pk}
    scenario = services.create_scenario(user=member, city=org.city, name="Prefecture's rules")
    assert access.access_scenario(user=member, pk=scenario.pk) == scenario
    # A town committee's member still has no lab.
    with pytest.raises(LabNotAllowed):
        access.require_lab(org.town_committee)


def test_the_prefecture_consultation_limits_are_offered_only_on_the_chain(org):
    four_levels(org, on_chain=False)
    TimeLimit.objects.filter(item=org.item, stage=Stage.PREFECTURE_CONSULTATION).update(
        amount=10, unit=TimeUnit.WORKING_DAYS
    )
    scenario = services.create_scenario(user=org.supervisor, city=org.city, name="All limits")
    cell = f"limit_{org.item.pk}_{Stage.PREFECTURE_CONSULTATION}"
    city_cell = f"limit_{org.item.pk}_{Stage.CITY_CONSULTATION}"
    form = ScenarioForm(scenario=scenario, in_force=limits_in_force())
    assert cell not in form.fields and city_cell in form.fields
    row = LevelName.objects.get(level="prefecture")
    row.committee = True
    row.save()
    form = ScenarioForm(scenario=scenario, in_force=limits_in_force())
    assert cell in form.fields and form.fields[cell].initial == 10


def test_without_the_city_committee_a_town_consultation_only_runs_late(org, time_machine):
    """Two levels, or the top committee left off the chain: the town consultation's timer only
    reminds (cases.firing), so the replay sends nothing up either."""
    no_city_committee()
    case = at_the_town(org)
    time_machine.move_to(at(2025, 6, 12, 10, 0), tick=False)
    task = Task(action="Demolish", due_at=at(2025, 6, 20, 12, 0), team_id=org.team.pk)
    decide_consultation(user=org.town_committee, case_id=case.pk, decision="Go", tasks=[task])
    refresh_case_facts(case_id=case.pk)
    time_machine.move_to(at(2025, 6, 30, 9, 0), tick=False)

    def one_hour(rows):
        return [
            dict(row, amount=1, unit=TimeUnit.WORKING_HOURS)
            if row["stage"] == Stage.TOWN_CONSULTATION
            else row
            for row in rows
        ]

    replay = replayed(org, scenario_with(org, limits=one_hour))
    row = ReplayCaseFact.objects.get(replay=replay, case_id=case.pk)
    assert row.would_escalate_at is None and row.max_level == Level.TOWN
    assert row.overdue and not row.escalated
    assert replay.summary["tally"]["would_escalate_by"] == {}
