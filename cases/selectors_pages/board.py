"""Reads for the dispatch board (captains, members, liaisons) and the town command.

The warning light of a dispatch is computed in the database, so the board can filter, count
and sort by it and still read one page of rows: while the dispatch waits, its report-in clock
decides; once reported in, its own task clock (a consultation decision) or else the case's
running clock. Every list costs a fixed number of queries whatever its length."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.paginator import Page
from django.db import connection
from django.db.models import Case as CaseWhen
from django.db.models import (
    CharField,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.access import available_actions, available_dispatch_actions, scope_of
from cases.models import OPEN_STATUSES, Case, Deadline, Dispatch, Level, Postponement, Status
from cases.selectors_pages.village import (
    Action,
    actions_for,
    deadlines_by_id,
    page_of,
    running_case_deadline,
)
from checklists.models import Stage
from teams.models import Membership, Role, User

LIGHTS = ("red", "yellow", "green")
ACTIVE = (Dispatch.State.WAITING, Dispatch.State.REPORTED)
CAPTAIN_CASE_ACTIONS = ("resolve", "request_consultation", "request_postponement")
BOARD_PER_PAGE = 50


@dataclass(frozen=True)
class BoardScope:
    """Where the user works the board: as captain, member or liaison."""

    captain_teams: frozenset[int]
    member_teams: frozenset[int]
    departments: frozenset[int]

    @property
    def empty(self) -> bool:
        return not (self.captain_teams or self.member_teams or self.departments)


def board_scope(*, user: User) -> BoardScope:
    scope = scope_of(user)
    return BoardScope(
        captain_teams=scope.teams.get(Role.TEAM_CAPTAIN, frozenset()),
        member_teams=scope.teams.get(Role.TEAM_MEMBER, frozenset()),
        departments=scope.departments.get(Role.DEPARTMENT_LIAISON, frozenset()),
    )


def _dispatch_deadline(*, stages: Q) -> Subquery:
    return Subquery(
        Deadline.objects.filter(stages, dispatch_id=OuterRef("pk"), met_at__isnull=True)
        .order_by("-started_at", "-id")
        .values("pk")[:1],
        output_field=IntegerField(),
    )


def _clock_field(name: str, output_field) -> Subquery:
    return Subquery(
        Deadline.objects.filter(pk=OuterRef("clock_id")).values(name)[:1],
        output_field=output_field,
    )


def with_light(queryset: QuerySet[Dispatch], *, now: datetime | None = None) -> QuerySet[Dispatch]:
    """Annotate each dispatch with its clock (`clock_id`, `clock_due`) and `light`, by the same
    rule as cases.timers.light: red from the due time, yellow from the warning time; a paused
    clock keeps the light it had when paused."""
    now = now or timezone.now()
    report_in = _dispatch_deadline(stages=Q(stage=Stage.REPORT_IN))
    own_task = _dispatch_deadline(stages=~Q(stage=Stage.REPORT_IN))
    case_clock = running_case_deadline("pk", case_ref="case_id")
    reference = Coalesce(F("clock_paused"), Value(now, output_field=DateTimeField()))
    return queryset.annotate(
        clock_id=CaseWhen(
            When(state=Dispatch.State.WAITING, then=report_in),
            default=Coalesce(own_task, case_clock),
            output_field=IntegerField(),
        ),
        clock_due=_clock_field("due_at", DateTimeField()),
        clock_warn=_clock_field("warn_at", DateTimeField()),
        clock_paused=_clock_field("paused_at", DateTimeField()),
    ).annotate(
        light=CaseWhen(
            When(clock_id__isnull=True, then=Value("")),
            When(clock_due__lte=reference, then=Value("red")),
            When(clock_warn__lte=reference, then=Value("yellow")),
            default=Value("green"),
            output_field=CharField(),
        )
    )


def board_dispatches(*, user: User, scope: BoardScope) -> QuerySet[Dispatch]:
    """The open dispatches on the user's board: all of a captain's teams, a member's own and
    their team's unassigned ones, a liaison's department's."""
    condition = Q(pk__in=[])
    if scope.captain_teams:
        condition |= Q(team_id__in=scope.captain_teams)
    if scope.member_teams:
        condition |= Q(team_id__in=scope.member_teams) & (
            Q(assignee=user) | Q(assignee__isnull=True)
        )
    if scope.departments:
        condition |= Q(department_id__in=scope.departments)
    return Dispatch.objects.filter(condition, state__in=ACTIVE, case__status__in=OPEN_STATUSES)


# The clock and light of every dispatch of a board in one pass: each dispatch's clock row is
# found once by index (its own clock, else its case's running clock), not once per expression
# that reads it, so a board of thousands of open dispatches costs one cheap statement.
BOARD_CLOCKS_SQL = """
SELECT b.id, k.id,
       CASE WHEN k.id IS NULL THEN ''
            WHEN k.due_at <= COALESCE(k.paused_at, %(now)s) THEN 'red'
            WHEN k.warn_at <= COALESCE(k.paused_at, %(now)s) THEN 'yellow'
            ELSE 'green' END
FROM ({board}) AS b
LEFT JOIN LATERAL (
    SELECT d.id, d.due_at, d.warn_at, d.paused_at FROM cases_deadline d
    WHERE d.dispatch_id = b.id AND d.met_at IS NULL
      AND ((b.state = %(waiting)s) = (d.stage = %(report_in)s))
    ORDER BY d.started_at DESC, d.id DESC LIMIT 1
) AS own ON true
LEFT JOIN LATERAL (
    SELECT d.id, d.due_at, d.warn_at, d.paused_at FROM cases_deadline d
    WHERE own.id IS NULL AND b.state <> %(waiting)s AND d.case_id = b.case_id
      AND d.dispatch_id IS NULL AND d.met_at IS NULL
    ORDER BY d.started_at DESC, d.id DESC LIMIT 1
) AS running ON true
CROSS JOIN LATERAL (
    SELECT COALESCE(own.id, running.id) AS id, COALESCE(own.due_at, running.due_at) AS due_at,
           COALESCE(own.warn_at, running.warn_at) AS warn_at,
           CASE WHEN own.id IS NOT NULL THEN own.paused_at ELSE running.paused_at END
               AS paused_at
) AS k
ORDER BY k.due_at ASC NULLS LAST, b.dispatched_at, b.id
"""


def board_clocks(
    *, queryset: QuerySet[Dispatch], now: datetime
) -> list[tuple[int, int | None, str]]:
    """(dispatch id, clock id, light) of every dispatch in `queryset`, most urgent first, by
    the rule of `with_light`; one statement on PostgreSQL (LATERAL joins), the annotated
    queryset elsewhere."""
    if connection.vendor != "postgresql":
        rows = (
            with_light(queryset, now=now)
            .order_by(F("clock_due").asc(nulls_last=True), "dispatched_at", "pk")
            .values_list("pk", "clock_id", "light")
        )
        return list(rows)
    board_sql, board_params = (
        queryset.order_by().values("id", "case_id", "state", "dispatched_at").query
    ).sql_with_params()
    # The board's own SQL uses positional parameters: name them for the outer statement.
    names = {f"board_{n}": value for n, value in enumerate(board_params)}
    board_sql = board_sql.replace("%", "%%").replace("%%s", "%s")
    board_sql = board_sql % tuple(f"%(board_{n})s" for n in range(len(board_params)))
    params = {
        **names,
        "now": now,
        "waiting": Dispatch.State.WAITING.value,
        "report_in": Stage.REPORT_IN.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(BOARD_CLOCKS_SQL.format(board=board_sql), params)
        return cursor.fetchall()


@dataclass
class DispatchRow:
    dispatch: Dispatch
    deadline: Deadline | None
    light: str
    read_only: bool
    actions: list[Action] = field(default_factory=list)
    case_actions: list[Action] = field(default_factory=list)
    # (user id, name) of whom the dispatch may be assigned to, shared by the team's rows.
    assignees: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Board:
    counts: dict[str, int]
    total: int
    page: Page
    rows: list[DispatchRow]

    @property
    def per_light(self) -> list[tuple[str, int]]:
        return [(light, self.counts[light]) for light in LIGHTS]


def team_members(*, team_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active members and captains of these teams, who may be assigned a dispatch."""
    members: dict[int, list[User]] = defaultdict(list)
    rows = (
        Membership.objects.filter(
            team_id__in=list(team_ids),
            role__in=[Role.TEAM_MEMBER, Role.TEAM_CAPTAIN],
            user__is_active=True,
        )
        .select_related("user")
        .order_by("user__username", "pk")
    )
    for membership in rows:
        if all(u.pk != membership.user_id for u in members[membership.team_id]):
            members[membership.team_id].append(membership.user)
    return members


def dispatch_board(
    *, user: User, scope: BoardScope, light: str = "", page: str | None = None
) -> Board:
    """The board: counts per light over all the user's open dispatches, then one page of the
    rows (of one light, when asked), most urgent first. The clocks of the whole board are read
    in one statement; only the page's dispatches are loaded as objects."""
    clocks = board_clocks(queryset=board_dispatches(user=user, scope=scope), now=timezone.now())
    counts = dict.fromkeys(LIGHTS, 0)
    for _pk, _clock_id, row_light in clocks:
        if row_light in counts:
            counts[row_light] += 1
    chosen = [row for row in clocks if row[2] == light] if light else clocks
    current = page_of(chosen, page, per_page=BOARD_PER_PAGE)
    loaded = (
        Dispatch.objects.filter(pk__in=[row[0] for row in current.object_list])
        .select_related(
            "case",
            "case__item",
            "case__grid",
            "case__village",
            "team",
            "department",
            "assignee",
        )
        .prefetch_related(Prefetch("case__dispatches", queryset=Dispatch.objects.order_by("pk")))
        .in_bulk()
    )
    dispatches = []
    for pk, clock_id, row_light in current.object_list:
        dispatch = loaded[pk]
        dispatch.clock_id, dispatch.light = clock_id, row_light
        dispatches.append(dispatch)
    current.object_list = dispatches
    deadlines = deadlines_by_id(d.clock_id for d in dispatches)
    members = team_members(team_ids=scope.captain_teams) if scope.captain_teams else {}
    # Named once per team, not once per row and member while the page renders.
    choices = {
        team_id: [(person.pk, person.get_full_name() or person.get_username()) for person in people]
        for team_id, people in members.items()
    }
    rows = []
    for dispatch in dispatches:
        captain = dispatch.team_id in scope.captain_teams
        liaison = dispatch.department_id in scope.departments
        own = dispatch.assignee_id == user.pk
        read_only = not (captain or liaison or own)
        actions, case_actions = [], []
        if not read_only:
            actions = actions_for(available_dispatch_actions(user=user, dispatch=dispatch))
        if captain:
            case_actions = actions_for(
                available_actions(user=user, case=dispatch.case), keep=CAPTAIN_CASE_ACTIONS
            )
        rows.append(
            DispatchRow(
                dispatch=dispatch,
                deadline=deadlines.get(dispatch.clock_id),
                light=dispatch.light,
                read_only=read_only,
                actions=actions,
                case_actions=case_actions,
                assignees=choices.get(dispatch.team_id, []) if captain else [],
            )
        )
    return Board(counts=counts, total=sum(counts.values()), page=current, rows=rows)


# The town command.


def command_towns(*, user: User) -> frozenset[int]:
    return scope_of(user).regions_of(Role.TOWN_COMMITTEE)


@dataclass
class CommandCase:
    case: Case
    deadline: Deadline | None
    actions: list[Action] = field(default_factory=list)
    dispatches: list[tuple[Dispatch, list[Action]]] = field(default_factory=list)


@dataclass
class Command:
    postponements: Page
    consultations: Page
    consultation_rows: list[CommandCase]
    suspended: Page
    suspended_rows: list[CommandCase]
    dispatched: Page
    dispatched_rows: list[CommandCase]
    overdue: Page
    overdue_rows: list[tuple[Dispatch, Deadline | None, list[Action]]]


def pending_postponements(*, towns: Iterable[int]) -> QuerySet[Postponement]:
    """Requests the town decides: those of its village- and town-level cases."""
    return (
        Postponement.objects.filter(
            decision=Postponement.Decision.PENDING,
            case__town_id__in=list(towns),
            case__level__in=[Level.VILLAGE, Level.TOWN],
        )
        .select_related(
            "case",
            "case__item",
            "deadline",
            "deadline__dispatch__team",
            "deadline__dispatch__department",
            "requested_by",
        )
        .order_by("deadline__due_at", "pk")
    )


def town_cases(*, towns: Iterable[int], statuses: Iterable[str]) -> QuerySet[Case]:
    return (
        Case.objects.filter(town_id__in=list(towns), status__in=list(statuses))
        .select_related("item", "grid", "village")
        .annotate(clock_id=running_case_deadline("pk"), clock_due=running_case_deadline("due_at"))
        .order_by(F("clock_due").asc(nulls_last=True), "filed_at", "pk")
    )


def _case_rows(
    *, user: User, page: Page, keep: Iterable[str], with_dispatches: bool = False
) -> list[CommandCase]:
    cases = list(page.object_list)
    deadlines = deadlines_by_id(case.clock_id for case in cases)
    rows = []
    for case in cases:
        row = CommandCase(
            case=case,
            deadline=deadlines.get(case.clock_id),
            actions=actions_for(available_actions(user=user, case=case), keep=keep),
        )
        if with_dispatches:
            row.dispatches = [
                (d, actions_for(available_dispatch_actions(user=user, dispatch=d), keep=["cancel"]))
                for d in case.active_dispatches
            ]
        rows.append(row)
    return rows


def town_command(*, user: User, towns: Iterable[int], pages: dict[str, str | None]) -> Command:
    towns = list(towns)
    now = timezone.now()
    postponements = page_of(pending_postponements(towns=towns), pages.get("postponements"))
    consultations = page_of(
        town_cases(towns=towns, statuses=[Status.IN_CONSULTATION]).filter(level=Level.TOWN),
        pages.get("consultations"),
    )
    suspended = page_of(
        town_cases(towns=towns, statuses=[Status.SUSPENDED]).exclude(level=Level.CITY),
        pages.get("suspended"),
    )
    active = Dispatch.objects.filter(state__in=ACTIVE).select_related(
        "team", "department", "assignee"
    )
    dispatched = page_of(
        town_cases(
            towns=towns,
            statuses=[Status.DISPATCHED, Status.IN_PROGRESS, Status.IN_CONSULTATION],
        ).prefetch_related(Prefetch("dispatches", queryset=active, to_attr="active_dispatches")),
        pages.get("dispatched"),
    )
    overdue_qs = (
        Dispatch.objects.filter(
            case__town_id__in=towns,
            case__status__in=OPEN_STATUSES,
            state=Dispatch.State.WAITING,
            report_in_due__lte=now,
        )
        .select_related("case", "case__item", "case__village", "team", "department")
        .annotate(clock_id=_dispatch_deadline(stages=Q(stage=Stage.REPORT_IN)))
        .order_by("report_in_due", "pk")
    )
    overdue = page_of(overdue_qs, pages.get("overdue"))
    late = list(overdue.object_list)
    late_deadlines = deadlines_by_id(d.clock_id for d in late)
    return Command(
        postponements=postponements,
        consultations=consultations,
        consultation_rows=_case_rows(user=user, page=consultations, keep=["escalate"]),
        suspended=suspended,
        suspended_rows=_case_rows(user=user, page=suspended, keep=["resume"]),
        dispatched=dispatched,
        dispatched_rows=_case_rows(
            user=user, page=dispatched, keep=["add_dispatch"], with_dispatches=True
        ),
        overdue=overdue,
        overdue_rows=[
            (
                d,
                late_deadlines.get(d.clock_id),
                actions_for(available_dispatch_actions(user=user, dispatch=d), keep=["cancel"]),
            )
            for d in late
        ],
    )
