"""Bad scenarios and bad replay requests get clear errors, every one listed by field, and
change nothing (issue 21, Must hold)."""

from datetime import date

import pytest
from django.test import override_settings
from django.utils import translation

from assessment.periods import custom, period_for
from checklists.models import Stage, TimeUnit
from policylab import services
from policylab.errors import LabError
from policylab.models import Replay, Scenario
from teams.models import Role, User
from tests.cases.engine_steps import T0
from tests.factories import CityFactory, MembershipFactory, TownFactory


def edit(org, scenario, **changes):
    fields = {
        "user": org.supervisor,
        "scenario_id": scenario.pk,
        "name": scenario.name,
        "note": "",
        "limits": scenario.limits,
        "holidays": scenario.holidays,
        "workdays": scenario.workdays,
        "yellow_at_percent": scenario.yellow_at_percent,
        "scheme": scenario.scheme,
    }
    return services.update_scenario(**{**fields, **changes})


def stored(scenario) -> dict:
    return Scenario.objects.filter(pk=scenario.pk).values().get()


@pytest.fixture
def scenario(org):
    return services.create_scenario(user=org.supervisor, city=org.city, name="In force")


@pytest.mark.django_db
@override_settings(LANGUAGE_CODE="en")
def test_every_error_of_a_bad_scenario_is_listed_by_field_and_nothing_changes(org, scenario):
    translation.activate("en")
    before = stored(scenario)
    item = org.item.pk
    limits = [dict(row) for row in scenario.limits if row["item"] == item]
    assert limits, "the item has limits in force"
    bad = [
        {"item": item, "stage": Stage.SCREENING, "amount": 0, "unit": TimeUnit.NATURAL_MINUTES},
        {"item": item, "stage": Stage.REPORT_IN, "amount": -3, "unit": TimeUnit.WORKING_HOURS},
        {"item": item, "stage": Stage.HANDLING, "amount": "soon", "unit": TimeUnit.WORKING_DAYS},
        {"item": item, "stage": "lunch", "amount": 1, "unit": TimeUnit.WORKING_DAYS},
        {"item": item, "stage": Stage.VERIFICATION, "amount": 1, "unit": "fortnights"},
        {"item": 999_999, "stage": Stage.VERIFICATION, "amount": 1, "unit": TimeUnit.WORKING_DAYS},
    ]
    scheme = {
        "town_evaluation_weight": "0.3",
        "indicators": [
            {"key": "closure_rate", "weight": "0", "floor": "0.5", "ceiling": "0.9"},
            {"key": "happiness", "weight": "1"},
        ],
        "deductions": [],
    }
    with pytest.raises(LabError) as raised:
        edit(
            org,
            scenario,
            name="  ",
            limits=bad,
            holidays=["2025-13-01", "2025-10-08"],
            workdays=["2025-10-08"],
            yellow_at_percent=100,
            scheme=scheme,
        )
    fields = raised.value.fields
    assert set(fields) >= {
        "name",
        f"limit_{item}_{Stage.SCREENING}",
        f"limit_{item}_{Stage.REPORT_IN}",
        f"limit_{item}_{Stage.HANDLING}",
        f"limit_{item}_lunch",
        f"limit_{item}_{Stage.VERIFICATION}",
        f"limit_999999_{Stage.VERIFICATION}",
        "holidays",
        "workdays",
        "yellow_at_percent",
        "weight_closure_rate",
        "scheme",
    }
    text = str(fields)
    assert "more than zero (0 given)" in text and "(-3 given)" in text
    assert "“soon” is not a whole number" in text
    assert "“lunch” is not a stage with a limit" in text
    assert "“fortnights” is not a unit of time" in text
    assert "no checklist item 999999" in text
    assert "“2025-13-01” is not a date" in text
    assert "both a holiday and a working day: 2025-10-08" in text
    assert "between 1 and 99%" in text
    assert "not both" in text
    assert "“happiness” is not an indicator" in text
    assert "must add up to more than zero" in text
    assert stored(scenario) == before

    for yellow in (0, -5, "abc"):
        with pytest.raises(LabError) as raised:
            edit(org, scenario, yellow_at_percent=yellow)
        assert list(raised.value.fields) == ["yellow_at_percent"]
    assert stored(scenario) == before

    # A good edit goes through (and a yellow given as text is a number).
    changed = edit(org, scenario, yellow_at_percent="70", holidays=["2025-10-08"])
    assert (changed.yellow_at_percent, changed.holidays) == (70, ["2025-10-08"])


@pytest.mark.django_db
@override_settings(LANGUAGE_CODE="en")
def test_a_replay_of_nothing_of_the_future_or_of_another_city_is_refused(
    org, scenario, time_machine
):
    translation.activate("en")
    time_machine.move_to(T0, tick=False)
    summer = custom(date(2025, 6, 1), date(2025, 8, 31))

    def refused(*, place, period) -> str:
        with pytest.raises(LabError) as raised:
            services.request_replay(
                user=org.supervisor,
                scenario_id=scenario.pk,
                place_id=place.pk,
                period=period,
                name="x",
            )
        return str(raised.value.fields)

    assert "nothing to replay" in refused(place=org.city, period=summer)  # no case at all
    assert "has not begun" in refused(place=org.city, period=period_for("month", date(2026, 1, 1)))
    other_city = CityFactory(code="ZZ")
    other_town = TownFactory(parent=other_city)
    # Another city's place: not in the supervisor's scope (a 404), or not the scenario's city.
    with pytest.raises(LabError):
        services.request_replay(
            user=org.supervisor,
            scenario_id=scenario.pk,
            place_id=other_town.pk,
            period=summer,
            name="x",
        )
    # A supervisor of both cities: the place is not in the scenario's city.
    MembershipFactory(user=org.supervisor, role=Role.SUPERVISOR, region=other_city)
    org.supervisor = User.objects.get(pk=org.supervisor.pk)  # its scope, read again
    assert "not in the scenario's city" in refused(place=other_town, period=summer)
    assert "not in the scenario's city" in refused(place=other_city, period=summer)
    assert not Replay.objects.exists()
