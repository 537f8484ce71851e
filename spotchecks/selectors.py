"""What the spot-check pages and API read, within the user's scope: the supervisors of a city
draw and revisit, its city committee (and its prefecture's, four levels) reads; outside them a
spot check does not exist (404)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from cases.access import scope_of, visible_cases
from cases.errors import NotAllowed, NotInScope
from cases.models import Attachment, Case, Dispatch, Status
from spotchecks.models import SpotCheck, SpotCheckCase
from teams.models import Department, Region, Role, Team, User
from teams.service_areas import teams_within

Unit = Team | Department


def supervisor_cities(*, user: User) -> frozenset[int]:
    return scope_of(user).regions_of(Role.SUPERVISOR)


def reader_cities(*, user: User) -> frozenset[int]:
    """The cities whose spot checks the user reads: its supervisors and its city committee, and
    the committee of the prefecture above it (four levels), which sees its cases."""
    return scope_of(user).regions_of(
        Role.SUPERVISOR, Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE
    )


def visible_spot_checks(*, user: User) -> QuerySet[SpotCheck]:
    return (
        SpotCheck.objects.filter(city_id__in=reader_cities(user=user))
        .select_related("city", "team", "department", "drawn_by")
        .order_by("-drawn_at", "-pk")
    )


def spot_check_for(*, user: User, pk: int) -> SpotCheck:
    """The spot check if the user reads it; 403 for someone who sees one of its cases but
    reads no spot check, 404 otherwise."""
    found = visible_spot_checks(user=user).filter(pk=pk).first()
    if found is not None:
        return found
    case_ids = SpotCheckCase.objects.filter(spot_check_id=pk).values("case_id")
    if visible_cases(user=user).filter(pk__in=case_ids).exists():
        raise NotAllowed()
    raise NotInScope()


def drawn_cases(*, spot_check: SpotCheck) -> list[SpotCheckCase]:
    """The drawn cases in the order drawn, with the revisit's photos."""
    photos = Attachment.objects.order_by("pk")
    return list(
        spot_check.cases.select_related(
            "case__item", "case__village", "case__town", "dispatch", "recorded_by", "event"
        )
        .prefetch_related(Prefetch("event__attachments", queryset=photos))
        .order_by("position")
    )


def city_units(*, city_id: int) -> tuple[QuerySet[Team], QuerySet[Department]]:
    """The teams of the city (at home in it or its towns) and the departments of the city or
    its towns."""
    teams = teams_within(cities=[city_id]).order_by("code")
    departments = Department.objects.filter(
        Q(region_id=city_id) | Q(region__parent_id=city_id)
    ).order_by("code")
    return teams, departments


def units(*, city_id: int, team_id: int | None, department_id: int | None) -> Unit | None:
    teams, departments = city_units(city_id=city_id)
    if team_id:
        return teams.filter(pk=team_id).first()
    return departments.filter(pk=department_id).first()


def cities(*, ids: frozenset[int]) -> QuerySet[Region]:
    return Region.objects.filter(pk__in=ids).order_by("code")


def _unit_filter(unit: Unit) -> dict:
    return {"team": unit} if isinstance(unit, Team) else {"department": unit}


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def population(*, city_id: int, unit: Unit, closed_from: date, closed_to: date) -> list[int]:
    """The unit's cases closed in the period (local days, both included), by id: closed, with
    a dispatch of the unit that reported it resolved, and not waiting for another revisit."""
    resolved = Dispatch.objects.filter(
        case=OuterRef("pk"), state=Dispatch.State.RESOLVED, **_unit_filter(unit)
    )
    pending = SpotCheckCase.objects.filter(
        case=OuterRef("pk"), outcome=SpotCheckCase.Outcome.PENDING
    )
    rows = Case.objects.filter(
        city_id=city_id,
        status=Status.CLOSED,
        closed_at__gte=_day_start(closed_from),
        closed_at__lt=_day_start(closed_to + timedelta(days=1)),
    ).filter(Exists(resolved), ~Exists(pending))
    return list(rows.order_by("pk").values_list("pk", flat=True))


def replies(*, case_ids: list[int], unit: Unit) -> dict[int, Dispatch]:
    """Per case, the unit's last dispatch that reported it resolved: the reply checked."""
    found: dict[int, Dispatch] = {}
    rows = Dispatch.objects.filter(
        case_id__in=case_ids, state=Dispatch.State.RESOLVED, **_unit_filter(unit)
    ).order_by("case_id", "dispatched_at", "pk")
    for dispatch in rows:
        found[dispatch.case_id] = dispatch
    return found


@dataclass(frozen=True)
class DrawChoices:
    cities: QuerySet[Region]
    teams: QuerySet[Team]
    departments: QuerySet[Department]


def draw_choices(*, user: User) -> DrawChoices | None:
    """What the draw form offers a supervisor: its cities and their units; None for others."""
    ids = supervisor_cities(user=user)
    if not ids:
        return None
    teams = teams_within(cities=ids).order_by("code")
    departments = Department.objects.filter(
        Q(region_id__in=ids) | Q(region__parent_id__in=ids)
    ).order_by("code")
    return DrawChoices(cities=cities(ids=ids), teams=teams, departments=departments)
