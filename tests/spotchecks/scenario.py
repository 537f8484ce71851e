"""A spot check in each organisation of the permission matrix (tests/security): one case the
team closed, drawn by the city's supervisor. Built on first use and kept on the objects."""

from django.utils import timezone

from cases.services import verify_case
from spotchecks.models import SpotCheck
from spotchecks.services import draw_spot_check
from tests.cases.engine_steps import resolved_by_team


def spot_check_of(objects) -> SpotCheck:
    """The organisation's spot check (its case waits for the revisit)."""
    found = objects.__dict__.get("_spot_check")
    if found is not None:
        return found
    org = objects.org
    case = resolved_by_team(
        org,
        description="Rubbish left at the market gate",
        latitude=30.5045,
        longitude=objects.case.longitude,
    )
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True)
    today = timezone.localdate()
    found = draw_spot_check(
        user=org.supervisor, team_id=org.team.pk, closed_from=today, closed_to=today, size=1
    )
    objects.__dict__["_spot_check"] = found
    return found


def drawn_case_of(objects):
    return spot_check_of(objects).cases.get().case
