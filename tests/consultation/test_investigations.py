"""High-frequency screening (hot spots) and comprehensive investigations whose findings become
cases routed like any whistle."""

from datetime import timedelta

import pytest

from cases.errors import IllegalTransition, InvalidInput, NotAllowed, NotInScope
from cases.models import Case, Level, Source, Status
from checklists.models import Aspect, Item
from consultation import selectors, services
from consultation.models import Finding, HotSpotSettings, Investigation
from tests.cases.engine_steps import file_case
from tests.consultation.conftest import T0, at

pytestmark = pytest.mark.usefixtures("clock")

OTHER_LAT, OTHER_LNG = 30.50, 120.80  # the centre of org.other_grid


def file_in(org, count: int, **kwargs) -> list[Case]:
    return [file_case(org, description=f"Garbage again #{n}", **kwargs) for n in range(count)]


def test_the_same_item_again_and_again_in_a_grid_is_a_hot_spot(org, clock):
    clock.move_to(T0 - timedelta(days=40))
    file_in(org, 2)  # too old to count
    clock.move_to(T0)
    repeated = file_in(org, 3)
    file_in(org, 2, user=org.other_grid_worker, latitude=OTHER_LAT, longitude=OTHER_LNG)

    spots = selectors.hot_spots(towns=[org.town.pk])

    assert [(s.item, s.grid, s.count) for s in spots] == [(org.item, org.grid, 3)]
    assert {c.pk for c in spots[0].cases} == {c.pk for c in repeated}
    # Outside the region nothing shows.
    assert selectors.hot_spots(towns=[org.other_town.pk]) == []


def test_threshold_and_window_are_editable(org, clock):
    clock.move_to(T0 - timedelta(days=40))
    file_in(org, 2)
    clock.move_to(T0)
    file_in(org, 2, user=org.other_grid_worker, latitude=OTHER_LAT, longitude=OTHER_LNG)
    assert selectors.hot_spots(cities=[org.city.pk]) == []

    HotSpotSettings(threshold=2, window_days=60).save()

    spots = selectors.hot_spots(cities=[org.city.pk])
    assert sorted((s.grid.pk, s.count) for s in spots) == sorted(
        [(org.grid.pk, 2), (org.other_grid.pk, 2)]
    )
    assert HotSpotSettings.objects.count() == 1


def plan(org, **kwargs) -> Investigation:
    environment = Aspect.objects.get(pk=org.item.aspect_id)
    other_aspect = Aspect.objects.exclude(pk=environment.pk).order_by("order").first()
    values = {
        "user": org.town_committee,
        "town_id": org.town.pk,
        "place_name": "Riverside printing plant",
        "address": "1 River Road",
        "grid_id": org.grid.pk,
        "planned_for": at(2025, 6, 10, 15, 0),  # the afternoon of T0: recordable today
        "team_id": org.team.pk,
        "aspect_ids": [environment.pk, other_aspect.pk],
        "department_ids": [org.department.pk],
        "hotspot_item_id": org.item.pk,
        "hotspot_grid_id": org.grid.pk,
    }
    values.update(kwargs)
    return services.plan_investigation(**values)


def test_planning_a_joint_visit_from_a_hot_spot(org):
    investigation = plan(org)
    assert investigation.status == Investigation.Status.PLANNED
    assert {a.unit for a in investigation.attendance.all()} == {org.team, org.department}
    assert investigation.checks.count() == 2
    assert (investigation.hotspot_item, investigation.hotspot_grid) == (org.item, org.grid)
    assert org.captain.notifications.filter(kind="investigation_planned").exists()
    assert org.liaison.notifications.filter(kind="investigation_planned").exists()
    assert list(selectors.investigations_for(user=org.liaison)) == [investigation]
    assert list(selectors.investigations_for(user=org.other_captain)) == []


def test_only_the_town_plans_and_bad_input_is_refused(org):
    with pytest.raises(NotAllowed):
        plan(org, user=org.captain)
    with pytest.raises(InvalidInput) as refused:
        plan(org, aspect_ids=[], team_id=org.other_team.pk, grid_id=org.other_grid.pk + 999)
    assert {"aspects", "team", "grid"} <= set(refused.value.fields)
    assert not Investigation.objects.exists()


def record(org, investigation, *, finding="Waste water into the river", item=None, **kwargs):
    # The check of the item's aspect first, then the other one.
    checks = sorted(investigation.checks.all(), key=lambda c: c.aspect_id != org.item.aspect_id)
    entries = [
        services.Checked(
            check_id=checks[0].pk,
            checked=True,
            finding=finding,
            item_id=(item or org.item).pk,
        ),
        services.Checked(check_id=checks[1].pk, checked=True),
    ]
    attendance = [
        services.Attended(attendance_id=row.pk, present=row.team_id is not None, people="Li Hong")
        for row in investigation.attendance.all()
    ]
    return services.record_investigation(
        user=kwargs.pop("user", org.captain),
        investigation_id=investigation.pk,
        attendance=attendance,
        checks=entries,
        notes="Two teams, one visit",
    )


def test_findings_become_cases_of_the_investigation_routed_like_whistles(org):
    investigation = plan(org)
    record(org, investigation)

    investigation.refresh_from_db()
    assert investigation.status == Investigation.Status.DONE
    assert investigation.recorded_by == org.captain
    finding = Finding.objects.get(investigation=investigation)
    case = finding.case
    assert (case.source, case.status, case.level) == (
        Source.INVESTIGATION,
        Status.FILED,
        Level.VILLAGE,
    )
    assert (case.grid, case.item, case.reporter) == (org.grid, org.item, org.captain)
    assert case.description == "Waste water into the river"
    assert list(case.events.values_list("action", flat=True)) == ["file", "investigation_finding"]
    # Routed like any whistle: the village officer is asked to screen it.
    assert org.village_officer.notifications.filter(case=case, kind="case_filed").exists()
    present = {row.unit: row.present for row in investigation.attendance.all()}
    assert present == {org.team: True, org.department: False}
    assert investigation.checks.filter(checked=True).count() == 2
    with pytest.raises(IllegalTransition):
        record(org, investigation)
    assert Finding.objects.count() == 1


def test_a_finding_needs_an_item_of_its_aspect_and_nothing_changes_otherwise(org):
    investigation = plan(org)
    wrong = Item.objects.exclude(aspect_id=org.item.aspect_id).first()
    with pytest.raises(InvalidInput) as refused:
        record(org, investigation, item=wrong)
    check = investigation.checks.get(aspect_id=org.item.aspect_id)
    assert f"item_{check.pk}" in refused.value.fields
    investigation.refresh_from_db()
    assert investigation.status == Investigation.Status.PLANNED
    assert not Case.objects.filter(source=Source.INVESTIGATION).exists()
    assert not investigation.checks.filter(checked=True).exists()


def test_only_the_town_or_the_team_in_charge_records(org):
    investigation = plan(org)
    with pytest.raises(NotAllowed):
        record(org, investigation, user=org.liaison)  # takes part, may read, not record
    with pytest.raises(NotInScope):
        record(org, investigation, user=org.other_captain)
    record(org, investigation, user=org.town_committee)
    assert Case.objects.get(source=Source.INVESTIGATION).reporter == org.town_committee
