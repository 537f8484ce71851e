"""Who may see and do what: the one place every page, API view, service and task asks.

Scope follows the organisation (docs/architecture.md): outside it a case does not exist (404);
inside it, an action the user's roles do not allow is refused (403).
"""

from dataclasses import dataclass, field

from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast

from cases.errors import NotAllowed, NotInScope
from cases.models import Case, Dispatch, Level
from core import reference
from teams.models import HELD_BELOW_PREFECTURE, Membership, Region, Role, User
from teams.service_areas import Places, has_own_layout, home_places, served_places

VIEW_CASE_PERMISSION = "cases.view_case"


@dataclass(frozen=True)
class Scope:
    """The places where a user holds each role, read once from their memberships."""

    grids: dict[str, frozenset[int]] = field(default_factory=dict)
    regions: dict[str, frozenset[int]] = field(default_factory=dict)
    teams: dict[str, frozenset[int]] = field(default_factory=dict)
    # The towns and the whole cities the user's teams (and their brigades) serve, by role
    # (teams.service_areas); for a town's team, its town.
    team_towns: dict[str, frozenset[int]] = field(default_factory=dict)
    team_cities: dict[str, frozenset[int]] = field(default_factory=dict)
    # The villages where the user is stationed as a team captain or member.
    stationed: frozenset[int] = frozenset()
    departments: dict[str, frozenset[int]] = field(default_factory=dict)
    grid_villages: frozenset[int] = frozenset()
    # The prefectures where the user holds a role (four levels), by role; `regions` holds the
    # same role at every county below them.
    prefectures: dict[str, frozenset[int]] = field(default_factory=dict)

    def roles(self) -> set[str]:
        held = set()
        for mapping in (self.grids, self.regions, self.teams, self.departments):
            held.update(role for role, ids in mapping.items() if ids)
        return held

    def regions_of(self, *roles: str) -> frozenset[int]:
        return frozenset().union(*(self.regions.get(r, frozenset()) for r in roles))

    def served(self, *roles: str) -> Places:
        """The places the user's teams serve, for these team roles."""
        return Places(
            towns=frozenset().union(*(self.team_towns.get(r, frozenset()) for r in roles)),
            cities=frozenset().union(*(self.team_cities.get(r, frozenset()) for r in roles)),
        )


def scope_of(user: User) -> Scope:
    """The user's scope, cached on the user object for the request or task.

    Each process also keeps every user's scope it read, with the reference data
    (core.reference): memberships, teams, their areas and the regions change rarely, and every
    write to them drops the copies, in this process at once and in the others within
    WHISTLE_REFERENCE_CHECK_SECONDS (1 s; at most WHISTLE_REFERENCE_MAX_AGE_SECONDS while the
    cache is down). Reading it took a query and about 2.5 ms of Python on every request
    (docs/benchmarks.md, "Whistle intake"). Whether the account is active is read from the
    user object, never kept."""
    cached = getattr(user, "_whistle_scope", None)
    if cached is not None:
        return cached
    if user.is_authenticated and user.is_active:
        scope = reference.cached(("scope", user.pk), lambda: _read_scope(user_id=user.pk))
    else:
        scope = Scope()
    user._whistle_scope = scope
    return scope


def _read_scope(*, user_id: int) -> Scope:
    """The scope as the user's memberships give it now."""
    grids: dict[str, set[int]] = {}
    regions: dict[str, set[int]] = {}
    teams: dict[str, set[int]] = {}
    served: dict[str, Places] = {}
    laid_out: dict[str, set[int]] = {}  # teams with areas or brigades, read after
    departments: dict[str, set[int]] = {}
    grid_villages: set[int] = set()
    stationed: set[int] = set()
    prefectures: dict[str, set[int]] = {}  # four levels: held at each top region below
    has_areas, has_brigades = has_own_layout()
    rows = (
        Membership.objects.filter(user_id=user_id)
        .annotate(has_areas=has_areas, has_brigades=has_brigades)
        .values_list(
            "role",
            "grid_id",
            "grid__village_id",
            "region_id",
            "region__level",
            "team_id",
            "team__region_id",
            "team__region__level",
            "has_areas",
            "has_brigades",
            "stationed_in_id",
            "department_id",
        )
    )
    for (
        role,
        grid,
        grid_village,
        region,
        region_level,
        team,
        home,
        level,
        areas,
        brigades,
        village,
        department,
    ) in rows:
        if grid:
            grids.setdefault(role, set()).add(grid)
            grid_villages.add(grid_village)
        if region and region_level == Region.Level.PREFECTURE:
            if role in HELD_BELOW_PREFECTURE:
                prefectures.setdefault(role, set()).add(region)
        elif region:
            regions.setdefault(role, set()).add(region)
        if team:
            teams.setdefault(role, set()).add(team)
            if areas or brigades:
                laid_out.setdefault(role, set()).add(team)
            else:  # the home region: no further query (a town's team)
                own = home_places(region_id=home, level=level)
                served[role] = served.get(role, Places()) | own
        if village:
            stationed.add(village)
        if department:
            departments.setdefault(role, set()).add(department)
    for role, team_ids in laid_out.items():
        served[role] = served.get(role, Places()) | served_places(team_ids=team_ids)
    for role, below in _cities_below(prefectures).items():
        regions.setdefault(role, set()).update(below)

    def freeze(mapping: dict[str, set[int]]) -> dict[str, frozenset[int]]:
        return {key: frozenset(value) for key, value in mapping.items()}

    return Scope(
        grids=freeze(grids),
        regions=freeze(regions),
        teams=freeze(teams),
        team_towns={role: places.towns for role, places in served.items()},
        team_cities={role: places.cities for role, places in served.items()},
        stationed=frozenset(stationed),
        departments=freeze(departments),
        grid_villages=frozenset(grid_villages),
        prefectures=freeze(prefectures),
    )


def _cities_below(prefectures: dict[str, set[int]]) -> dict[str, set[int]]:
    """A role held at a prefecture is held at every region of the top level below it (four
    levels, teams.levels): one query, only for the few who hold one."""
    if not prefectures:
        return {}
    wanted = set().union(*prefectures.values())
    children: dict[int, set[int]] = {}
    for pk, parent in Region.objects.filter(
        parent_id__in=wanted, level=Region.Level.CITY
    ).values_list("pk", "parent_id"):
        children.setdefault(parent, set()).add(pk)
    return {
        role: set().union(*(children.get(p, set()) for p in ids))
        for role, ids in prefectures.items()
    }


def forget_scope(user: User) -> None:
    """Drop the cached scope, after memberships changed."""
    user.__dict__.pop("_whistle_scope", None)


def _place_terms(user: User, scope: Scope) -> list[tuple[str, frozenset[int]]]:
    """The case fields and the ids that make a case visible by its place alone (or by who filed
    it): each term is one branch of visible_cases' condition."""
    captain = scope.served(Role.TEAM_CAPTAIN)  # the places their team and its brigades serve
    terms = [
        ("reporter_id", frozenset({user.pk})),
        ("grid_id", scope.grids.get(Role.GRID_WORKER, frozenset())),
        ("village_id", scope.regions_of(Role.VILLAGE_OFFICER) | scope.stationed),
        ("town_id", scope.regions_of(Role.TOWN_COMMITTEE) | captain.towns),
        (
            "city_id",
            scope.regions_of(
                Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE, Role.SUPERVISOR, Role.ADMIN
            )
            | captain.cities,
        ),
    ]
    return [(name, ids) for name, ids in terms if ids]


def visible_cases(*, user: User) -> QuerySet[Case]:
    """Every case the user may see: the cases of their places, the cases dispatched to their
    teams and departments, the cases they filed, and cases granted to them one by one."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    scope = scope_of(user)
    condition = Q()
    for name, ids in _place_terms(user, scope):
        condition |= Q(**{f"{name}__in": ids})
    member_teams = scope.teams.get(Role.TEAM_MEMBER, frozenset())
    if member_teams:
        condition |= Exists(Dispatch.objects.filter(case=OuterRef("pk"), team_id__in=member_teams))
    departments = scope.departments.get(Role.DEPARTMENT_LIAISON, frozenset())
    if departments:
        condition |= Exists(
            Dispatch.objects.filter(case=OuterRef("pk"), department_id__in=departments)
        )
    return Case.objects.filter(condition | _granted_cases(user))


def visible_among(*, user: User, cases: list[Case]) -> list[Case]:
    """The cases of `cases` the user may see, in their order: those their place (or their
    filer) makes visible are decided from the scope alone, the rest by one query of
    visible_cases. The same condition, so it never disagrees with visible_cases; the duplicate
    search of every whistle uses it (cases.screening)."""
    if not cases or not user.is_authenticated or not user.is_active:
        return []
    terms = _place_terms(user, scope_of(user))
    undecided = [
        case.pk for case in cases if not any(getattr(case, name) in ids for name, ids in terms)
    ]
    hidden = set(undecided)
    if undecided:
        hidden -= set(
            visible_cases(user=user).filter(pk__in=undecided).values_list("pk", flat=True)
        )
    return [case for case in cases if case.pk not in hidden]


def _granted_cases(user: User) -> Q:
    """Cases granted to this user object by object (django-guardian), e.g. a lawyer added to
    one case, or a department invited to one consultation: directly or through a group, as
    guardian's get_objects_for_user reads them (a superuser is granted every case).

    The ids come from the permission rows themselves: guardian's own queryset tested every case
    of the history against them, a cost that grew with the number of cases."""
    from django.contrib.contenttypes.models import ContentType
    from guardian.models import GroupObjectPermission, UserObjectPermission

    if user.is_superuser:
        return ~Q(pk=None)
    permission = {
        "permission__content_type": ContentType.objects.get_for_model(Case),
        "permission__codename": VIEW_CASE_PERMISSION.split(".")[1],
    }
    as_id = Cast("object_pk", output_field=BigIntegerField())
    direct = UserObjectPermission.objects.filter(user=user, **permission)
    through_groups = GroupObjectPermission.objects.filter(group__user=user, **permission)
    return Q(pk__in=direct.annotate(case_pk=as_id).values("case_pk")) | Q(
        pk__in=through_groups.annotate(case_pk=as_id).values("case_pk")
    )


def access_case(*, user: User, pk: int, for_update: bool = False) -> Case:
    """The case with this id if the user may see it; otherwise NotInScope (404).

    With for_update the row is locked until the end of the caller's transaction."""
    queryset = visible_cases(user=user)
    if for_update:
        if not queryset.filter(pk=pk).exists():
            raise NotInScope()
        # of=self: lock the case only, not its item and grid (every case of the item would wait).
        return (
            Case.objects.select_for_update(of=("self",)).select_related("item", "grid").get(pk=pk)
        )
    try:
        return queryset.select_related("item", "grid", "village", "town", "city").get(pk=pk)
    except Case.DoesNotExist:
        raise NotInScope() from None


# Who may act on a case, by role and place (the guards of docs/workflow.md).


def is_grid_worker_of(user: User, case: Case) -> bool:
    return case.grid_id in scope_of(user).grids.get(Role.GRID_WORKER, frozenset())


def is_village_officer_of(user: User, case: Case) -> bool:
    return case.village_id in scope_of(user).regions_of(Role.VILLAGE_OFFICER)


def is_town_committee_of(user: User, case: Case) -> bool:
    return case.town_id in scope_of(user).regions_of(Role.TOWN_COMMITTEE)


def is_city_committee_of(user: User, case: Case) -> bool:
    return case.city_id in scope_of(user).regions_of(Role.CITY_COMMITTEE)


def is_prefecture_committee_of(user: User, case: Case) -> bool:
    """A prefecture's committee holds its role at every city below it (scope_of)."""
    return case.city_id in scope_of(user).regions_of(Role.PREFECTURE_COMMITTEE)


def is_committee_at_level(user: User, case: Case) -> bool:
    """The committee that governs the case at its level: the town's for village and town
    cases, the city's for city cases, the prefecture's for prefecture cases (four levels)."""
    if case.level == Level.CITY:
        return is_city_committee_of(user, case)
    if case.level == Level.PREFECTURE:
        return is_prefecture_committee_of(user, case)
    return is_town_committee_of(user, case)


def handles_dispatch(user: User, dispatch: Dispatch, *, captain_only: bool = False) -> bool:
    """The team captain of the dispatch's team (or a member, unless captain_only), or the
    liaison of its department."""
    scope = scope_of(user)
    if dispatch.team_id:
        roles = [Role.TEAM_CAPTAIN] if captain_only else [Role.TEAM_CAPTAIN, Role.TEAM_MEMBER]
        return any(dispatch.team_id in scope.teams.get(role, frozenset()) for role in roles)
    return dispatch.department_id in scope.departments.get(Role.DEPARTMENT_LIAISON, frozenset())


def is_captain_on_case(user: User, case: Case) -> bool:
    """A captain of a team the case is (still) dispatched to."""
    teams = scope_of(user).teams.get(Role.TEAM_CAPTAIN, frozenset())
    if not teams:
        return False
    prefetched = getattr(case, "_prefetched_objects_cache", {}).get("dispatches")
    if prefetched is not None:  # list pages prefetch the dispatches: no query per row
        return any(d.team_id in teams and d.state not in Dispatch.GONE_STATES for d in prefetched)
    return (
        case.dispatches.filter(team_id__in=teams).exclude(state__in=Dispatch.GONE_STATES).exists()
    )


def require(allowed: bool) -> None:
    """Refuse with 403 when an in-scope user may not take the action."""
    if not allowed:
        raise NotAllowed()
