"""Reads about the organisation: who holds which role where."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from core import reference
from teams.levels import level_name
from teams.models import Grid, Membership, Region, Role, User

_ROLE_ORDER = {value: index for index, value in enumerate(Role.values)}


@dataclass(frozen=True)
class RolePlace:
    """One membership, ready to show: the role and its place in the active language."""

    role: str
    role_label: str
    place_kind: str
    place_name: str
    place_code: str


def _place_kind(membership: Membership) -> str:
    if membership.region_id:
        return level_name(membership.region.level)
    if membership.grid_id:
        return _("grid")
    if membership.team_id:
        return _("team")
    if membership.department_id:
        return _("department")
    return ""


def user_roles(*, user: User) -> frozenset[str]:
    """The role codes `user` holds anywhere (empty for an anonymous user)."""
    if not user.is_authenticated:
        return frozenset()
    return frozenset(Membership.objects.filter(user=user).values_list("role", flat=True))


def user_roles_and_places(*, user: User) -> list[RolePlace]:
    """Every role `user` holds and where, in the order of the Role list, then by place code.

    Labels come out in the active language, so call it inside the request's language.
    """
    if not user.is_authenticated:
        return []
    memberships = Membership.objects.filter(user=user).select_related(
        "region", "grid", "team", "department"
    )
    rows = []
    for membership in memberships:
        place = membership.place
        rows.append(
            RolePlace(
                role=membership.role,
                role_label=str(membership.get_role_display()),
                place_kind=str(_place_kind(membership)),
                place_name=place.name if place is not None else "",
                place_code=place.code if place is not None else "",
            )
        )
    rows.sort(key=lambda row: (_ROLE_ORDER.get(row.role, len(_ROLE_ORDER)), row.place_code))
    return rows


_GRID_FIELDS = reference.fields_of(Grid, leave_out=("polygon",))
_REGION_FIELDS = reference.fields_of(Region)


def grid_polygon(*, pk: int) -> dict | None:
    """The grid's polygon, kept in the process's copy apart from the grid's row (filing checks
    each whistle's place against it): read once per grid, dropped when any grid changes."""
    return reference.cached(
        ("grid_polygon", pk),
        lambda: Grid.objects.filter(pk=pk).values_list("polygon", flat=True).first(),
    )


def grid_with_regions(*, pk: int) -> Grid | None:
    """The grid with its village, town and city attached, from the process's copy of the
    reference data (core.reference): filing reads them for every whistle. The polygon is
    left out of the copy and read on first use."""

    def load() -> tuple | None:
        grid = (
            Grid.objects.filter(pk=pk)
            .select_related("village__parent__parent")
            .defer("polygon")
            .first()
        )
        if grid is None:
            return None
        regions = []
        region = grid.village
        while region is not None:
            regions.append(reference.row_of(region, _REGION_FIELDS))
            region = region.parent if region.parent_id else None
        return reference.row_of(grid, _GRID_FIELDS), tuple(regions)

    kept = reference.cached(("grid", pk), load)
    if kept is None:
        return None
    grid_row, region_rows = kept
    grid = reference.instance(Grid, _GRID_FIELDS, grid_row)
    child: Grid | Region = grid
    for row in region_rows:
        region = reference.instance(Region, _REGION_FIELDS, row)
        if child is grid:
            grid.village = region
        else:
            child.parent = region
        child = region
    return grid
