"""Closed cases of a unit, driven through the real services, for the spot-check tests."""

from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Case
from cases.services import verify_case
from spotchecks.models import SpotCheck
from spotchecks.services import draw_spot_check
from tests.cases.engine_steps import T0, fresh, png, resolved_by_team

DAY = T0.date()


def closed_by_team(org, **kwargs) -> Case:
    """Whistled, reported in and resolved by the team, verified on site and closed."""
    case = resolved_by_team(org, **kwargs)
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True, reason="Clean now")
    return fresh(case)


def closed_cases(org, count: int) -> list[Case]:
    return [
        closed_by_team(org, description=f"Garbage pile {n}", latitude=30.50 + n * 0.0002)
        for n in range(count)
    ]


def draw(org, *, size: int, seed: int | None = None, **kwargs) -> SpotCheck:
    values = {
        "user": org.supervisor,
        "team_id": org.team.pk,
        "closed_from": DAY,
        "closed_to": DAY,
        "size": size,
        "seed": seed,
    }
    values.update(kwargs)
    return draw_spot_check(**values)


def not_an_image() -> SimpleUploadedFile:
    return SimpleUploadedFile("photo.png", b"this is no picture at all", content_type="image/png")


__all__ = ["DAY", "closed_by_team", "closed_cases", "draw", "not_an_image", "png"]
