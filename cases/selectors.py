"""Reads about cases and places, used by services, pages and the API alike."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from cases.access import scope_of
from cases.models import ABOVE_TOWN, Case, Deadline, Dispatch
from checklists.demo import is_demo_item
from checklists.models import Aspect, Item
from core import reference
from teams.geo import contains
from teams.models import Department, Grid, Region, Role, Team, User
from teams.service_areas import leaf_units_serving


def locate_grid(*, latitude: float, longitude: float) -> Grid | None:
    """The grid whose polygon holds the point; the bounding-box index narrows the candidates."""
    candidates = Grid.objects.filter(
        min_lat__lte=latitude, max_lat__gte=latitude, min_lng__lte=longitude, max_lng__gte=longitude
    ).select_related("village__parent__parent")  # filing needs the town and the city too
    for grid in candidates:
        if contains(grid.polygon, longitude, latitude):
            return grid
    return None


def default_handlers(*, case: Case) -> tuple[list[Team], list[Department]]:
    """The teams and departments an item is dispatched to by default for the case's place.

    Teams: the units without brigades, of the item's kinds, that serve the case's town or
    city (teams.service_areas) and take the item (its speciality, or none). In Haining's shape
    that is the town's teams of those kinds, as before service areas. Departments: of the
    item's kinds in the town (its branch) or else in the city.

    Kept in each process with the reference data (core.reference) for each item and place:
    a timer burst whistles thousands of cases of a few dozen items and towns, and reading them
    again (about six statements) was a quarter of a firing's statements over a megacity's
    history."""
    teams, departments = reference.cached(
        ("default_handlers", case.item_id, case.town_id, case.city_id),
        lambda: _default_handler_rows(case=case),
    )
    return (
        [reference.instance(Team, _TEAM_FIELDS, row) for row in teams],
        [reference.instance(Department, _DEPARTMENT_FIELDS, row) for row in departments],
    )


_TEAM_FIELDS = reference.fields_of(Team)
_DEPARTMENT_FIELDS = reference.fields_of(Department)


def _default_handler_rows(*, case: Case) -> tuple[tuple[tuple, ...], tuple[tuple, ...]]:
    kinds = list(case.item.default_team_kinds or [])
    teams = (
        leaf_units_serving(town_id=case.town_id, city_id=case.city_id)
        .filter(taking(case.item), kind__in=kinds)
        .order_by("code")
    )
    departments = []
    # The demo item goes to the city's bureau first: the demo's liaison sits there.
    regions = (
        (case.city_id, case.town_id) if is_demo_item(case.item) else (case.town_id, case.city_id)
    )
    for kind_id in case.item.default_department_kinds.values_list("pk", flat=True):
        department = (
            Department.objects.filter(kind_id=kind_id, region_id=regions[0]).first()
            or Department.objects.filter(kind_id=kind_id, region_id=regions[1]).first()
        )
        if department is not None:
            departments.append(department)
    return (
        tuple(reference.row_of(team, _TEAM_FIELDS) for team in teams),
        tuple(reference.row_of(department, _DEPARTMENT_FIELDS) for department in departments),
    )


def taking(item: Item) -> Q:
    """A filter on units that take the item: it or its aspect is in their speciality, or they
    have no speciality (checklists: Aspect.teams, Item.teams)."""
    by_item = Item.teams.through.objects.filter(team_id=OuterRef("pk"))
    by_aspect = Aspect.teams.through.objects.filter(team_id=OuterRef("pk"))
    return (
        (~Exists(by_item) & ~Exists(by_aspect))
        | Exists(by_item.filter(item_id=item.pk))
        | Exists(by_aspect.filter(aspect_id=item.aspect_id))
    )


def case_deadlines(*, case: Case) -> QuerySet[Deadline]:
    return Deadline.objects.of_case(case).select_related("dispatch").order_by("due_at")


def transfer_villages(*, user: User, case: Case) -> QuerySet[Region]:
    """The villages `user` may move this case into (移交), its own left out: those of the
    towns where they sit on the town committee (while the case is not the city's), or of the
    case's city for its city committee. Never another city: the case keeps its number."""
    scope = scope_of(user)
    villages = Region.objects.filter(
        level=Region.Level.VILLAGE, parent__parent_id=case.city_id
    ).exclude(pk=case.village_id)
    if case.city_id not in scope.regions_of(Role.CITY_COMMITTEE):
        towns = scope.regions_of(Role.TOWN_COMMITTEE) if case.level not in ABOVE_TOWN else ()
        villages = villages.filter(parent_id__in=list(towns))
    return villages.select_related("parent").order_by("parent__code", "code")


def transfer_grid(*, village: Region, case: Case) -> Grid | None:
    """The grid a transferred case takes in its new village: the one its pin lies in, else the
    village's first grid (a case always lies in a grid); None for a village without grids."""
    grids = list(Grid.objects.filter(village=village).order_by("code"))
    if case.latitude is not None and case.longitude is not None:
        for grid in grids:
            if contains(grid.polygon, case.longitude, case.latitude):
                return grid
    return grids[0] if grids else None


def open_dispatches(*, case: Case) -> QuerySet[Dispatch]:
    return case.dispatches.exclude(state__in=Dispatch.GONE_STATES).select_related(
        "team", "department", "assignee"
    )
