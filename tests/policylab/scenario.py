"""A scenario and a finished replay in an organisation of the permission matrix
(tests.security.scenario.Objects), made once per organisation when a URL first asks."""

from django.utils import timezone

from assessment.periods import period_for
from assessment.services import refresh_cases_facts
from cases.models import Case
from policylab import services
from policylab.models import Replay, Scenario


def scenario_of(objects) -> Scenario:
    found = objects.__dict__.get("_lab_scenario")
    if found is None:
        org = objects.org
        found = services.create_scenario(user=org.supervisor, city=org.city, name="Matrix")
        objects.__dict__["_lab_scenario"] = found
    return found


def replay_of(objects) -> Replay:
    """A finished replay of the organisation's city over this month (its cases' facts
    refreshed first, as the after-commit hook would)."""
    found = objects.__dict__.get("_lab_replay")
    if found is None:
        org = objects.org
        refresh_cases_facts(
            case_ids=list(Case.objects.filter(city=org.city).values_list("pk", flat=True))
        )
        found = services.request_replay(
            user=org.supervisor,
            scenario_id=scenario_of(objects).pk,
            place_id=org.city.pk,
            period=period_for("month", timezone.localdate()),
            name="Matrix replay",
        )
        services.run_replay(replay_id=found.pk)
        found.refresh_from_db()
        objects.__dict__["_lab_replay"] = found
    return found
