"""Who may take an action: the predicates of cases.access, shaped as an action's `who`
(the user and the case or dispatch) and `when` (the case or dispatch alone)."""

from django.utils import timezone

from cases.access import (
    handles_dispatch,
    is_captain_on_case,
    is_committee_at_level,
    is_grid_worker_of,
    is_town_committee_of,
    is_village_officer_of,
    scope_of,
)
from cases.models import ABOVE_TOWN, Case, Dispatch, Level, Source, Status
from teams.levels import on_chain
from teams.models import Role, User


def filer(user: User, case: Case) -> bool:
    """A grid worker files in the villages of their grids; the hotline, Open311 and an
    investigation file through their own entry points, which answer for the caller."""
    if case.source != Source.GRID_WORKER:
        return True
    return case.village_id in scope_of(user).grid_villages


def village_officer(user: User, case: Case) -> bool:
    return is_village_officer_of(user, case)


def town_committee(user: User, case: Case) -> bool:
    return is_town_committee_of(user, case)


def city_committee_on_chain(case: Case) -> bool:
    return on_chain(Level.CITY)


def prefecture_committee_on_chain(case: Case) -> bool:
    return on_chain(Level.PREFECTURE)


def dispatcher(user: User, case: Case) -> bool:
    """Who adds a team or department: the town committee, and the city (or prefecture)
    committee once the case is at its level (re-dispatching a return it upheld)."""
    return town_committee(user, case) or (
        case.level in ABOVE_TOWN and is_committee_at_level(user, case)
    )


def committee(user: User, case: Case) -> bool:
    """The committee at the case's level (town, or city or prefecture once escalated)."""
    return is_committee_at_level(user, case)


def captain(user: User, case: Case) -> bool:
    """A captain of a team the case is dispatched to, once it has left the village. Several
    actions ask it of one case on one page: the answer is kept on the case object for it."""
    if case.level == Level.VILLAGE:
        return False
    answers = case.__dict__.setdefault("_captain_answers", {})
    if user.pk not in answers:
        answers[user.pk] = is_captain_on_case(user, case)
    return answers[user.pk]


def speaks_for_case(user: User, case: Case) -> bool:
    """Who may tell the public about a case and choose what of it the public sees: the village
    officer, a captain on the case, or the committee at its level."""
    return village_officer(user, case) or captain(user, case) or committee(user, case)


def verifier(user: User, case: Case) -> bool:
    return is_grid_worker_of(user, case) or is_village_officer_of(user, case)


def whistler(user: User, case: Case) -> bool:
    return case.reporter_id == user.pk


def deadline_holder(user: User, case: Case) -> bool:
    """Who answers for a running clock: the village officer, a captain on the case, or the
    handler of one of its dispatches (the service checks the chosen clock)."""
    if village_officer(user, case) or captain(user, case):
        return True
    scope = scope_of(user)
    if not any(scope.teams.values()) and not any(scope.departments.values()):
        return False  # no team or department: no dispatch to answer for, and no query
    prefetched = getattr(case, "_prefetched_objects_cache", {}).get("dispatches")
    if prefetched is not None:  # list pages prefetch the dispatches: no query per row
        dispatches = [d for d in prefetched if d.state in Dispatch.ACTIVE_STATES]
    else:
        dispatches = case.dispatches.filter(state__in=Dispatch.ACTIVE_STATES)
    return any(handles_dispatch(user, dispatch) for dispatch in dispatches)


def handler(user: User, dispatch: Dispatch) -> bool:
    return handles_dispatch(user, dispatch)


def dispatch_captain(user: User, dispatch: Dispatch) -> bool:
    return dispatch.team_id is not None and handles_dispatch(user, dispatch, captain_only=True)


def dispatch_town(user: User, dispatch: Dispatch) -> bool:
    return dispatch.case.town_id in scope_of(user).regions_of(Role.TOWN_COMMITTEE)


def dispatch_committee(user: User, dispatch: Dispatch) -> bool:
    """The committee that rules on a returned dispatch and dispatches again: the town's, or
    the city's or the prefecture's once the case is at its level (where it dispatches)."""
    return is_committee_at_level(user, dispatch.case)


def transferrer(user: User, case: Case) -> bool:
    """Who moves a case filed in the wrong place (移交): the level that owns it, the town
    committee of its town (not once the city has it), or the city committee of its city."""
    if case.level not in ABOVE_TOWN and is_town_committee_of(user, case):
        return True
    return case.city_id in scope_of(user).regions_of(Role.CITY_COMMITTEE)


def overseer(user: User, dispatch: Dispatch) -> bool:
    """Who urges a unit and issues a supervision order: the town committee of the case's town,
    the city committee and the supervisors of its city, and the prefecture's committee (the
    cases they see)."""
    scope = scope_of(user)
    case = dispatch.case
    return case.town_id in scope.regions_of(Role.TOWN_COMMITTEE) or case.city_id in (
        scope.regions_of(Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE, Role.SUPERVISOR)
    )


# State rules beyond the status table.


def status_in(*statuses: str):
    allowed = frozenset(statuses)

    def rule(case: Case) -> bool:
        return case.status in allowed

    rule.__name__ = "status in " + ", ".join(sorted(allowed))
    return rule


def waiting(dispatch: Dispatch) -> bool:
    return dispatch.state == Dispatch.State.WAITING


def reported(dispatch: Dispatch) -> bool:
    return dispatch.state == Dispatch.State.REPORTED


def active(dispatch: Dispatch) -> bool:
    return dispatch.state in Dispatch.ACTIVE_STATES


def behind_time(dispatch: Dispatch) -> bool:
    """Still on the boards, and the clock it shows (report-in or handling) is yellow or red:
    the board's copy (cases.timers.sync_dispatch_board), read as the board's light is."""
    if dispatch.state not in Dispatch.ACTIVE_STATES or not dispatch.on_board:
        return False
    now = dispatch.clock_paused_at or timezone.now()
    return any(
        moment is not None and now >= moment
        for moment in (dispatch.clock_warn_at, dispatch.clock_due_at)
    )


def returnable(dispatch: Dispatch) -> bool:
    """Waiting for its report-in, before the report-in limit, on a case in handling: after
    the limit the unit is late, and only the town may withdraw the dispatch."""
    return (
        dispatch.state == Dispatch.State.WAITING
        and timezone.now() < dispatch.report_in_due
        and dispatch.case.status in IN_HANDLING
    )


def return_to_rule_on(dispatch: Dispatch) -> bool:
    """Returned, not yet ruled on (one ruling per return), on a case still in handling."""
    return (
        dispatch.state == Dispatch.State.RETURNED
        and not dispatch.return_ruling
        and dispatch.case.status in IN_HANDLING
    )


def transferable(dispatch: Dispatch) -> bool:
    """Still with its unit (waiting or reported in), on a case in handling."""
    return dispatch.state in Dispatch.ACTIVE_STATES and dispatch.case.status in IN_HANDLING


def department_reported(dispatch: Dispatch) -> bool:
    return reported(dispatch) and dispatch.department_id is not None


def not_evaluated(case: Case) -> bool:
    return not case.satisfaction


def not_rejected(case: Case) -> bool:
    return case.status != Status.REJECTED


def possible_duplicate(case: Case) -> bool:
    return case.possible_duplicate_of_id is not None


IN_HANDLING = (Status.DISPATCHED, Status.IN_PROGRESS, Status.IN_CONSULTATION)
