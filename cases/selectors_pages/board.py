"""Reads for the dispatch board (captains, members, liaisons) and the town command.

Each dispatch carries its current clock's id and a copy of its times (cases.timers.
sync_dispatch_board), so the board filters, counts and sorts by the warning light from the
dispatch rows alone, reads one page of them and then that page's clocks by id and month: its
cost follows the page, not the thousands of clocks behind a busy team's board. Every list costs
a fixed number of queries whatever its length."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Case as CaseWhen
from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    Exists,
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

from cases.access import scope_of
from cases.models import (
    ABOVE_TOWN,
    OPEN_STATUSES,
    Case,
    Deadline,
    Dispatch,
    Event,
    Level,
    Postponement,
    Status,
    SupervisionOrder,
)
from cases.selectors_pages.village import (
    Action,
    actions_for,
    deadlines_by_id,
    page_of,
    running_case_deadline,
)
from cases.workflow import available_actions, available_dispatch_actions
from checklists.models import Stage
from teams.models import Membership, Role, User

LIGHTS = ("red", "yellow", "green")
CAPTAIN_CASE_ACTIONS = ("resolve", "request_consultation", "request_postponement")
BOARD_PER_PAGE = 50
# What the town command offers on a dispatch: withdraw it, urge the unit, a supervision order.
DISPATCH_PRESSURE = ("cancel", "urge", "supervise")


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
        Deadline.objects.filter(
            stages,
            dispatch_id=OuterRef("pk"),
            case_filed_at=OuterRef("case__filed_at"),
            met_at__isnull=True,
        )
        .order_by("-started_at", "-id")
        .values("pk")[:1],
        output_field=IntegerField(),
    )


def with_light(queryset: QuerySet[Dispatch], *, now: datetime) -> QuerySet[Dispatch]:
    """Annotate each dispatch with the `light` of its clock, by the rule of cases.timers.light:
    red from the due time, yellow from the warning time; a paused clock keeps the light it had
    when paused; no light without a clock."""
    reference = Coalesce(F("clock_paused_at"), Value(now, output_field=DateTimeField()))
    return queryset.annotate(
        light=CaseWhen(
            When(clock_due_at__isnull=True, then=Value("")),
            When(clock_due_at__lte=reference, then=Value("red")),
            When(clock_warn_at__lte=reference, then=Value("yellow")),
            default=Value("green"),
            output_field=CharField(),
        )
    )


def board_dispatches(*, user: User, scope: BoardScope) -> QuerySet[Dispatch]:
    """The open dispatches on the user's board: all of a captain's teams, a member's own and
    their team's unassigned ones, a liaison's department's. `on_board` is kept by
    cases.timers.sync_dispatch_board: waiting or reported in, on an open case."""
    condition = Q(pk__in=[])
    if scope.captain_teams:
        condition |= Q(team_id__in=scope.captain_teams)
    if scope.member_teams:
        condition |= Q(team_id__in=scope.member_teams) & (
            Q(assignee=user) | Q(assignee__isnull=True)
        )
    if scope.departments:
        condition |= Q(department_id__in=scope.departments)
    return Dispatch.objects.filter(condition, on_board=True)


def urge_count(*, dispatch_ref: str = "pk", case_ref: str = "case") -> Coalesce:
    """How often the dispatch named by `dispatch_ref` was urged, counted from the trace in a
    subquery of the page's own query (in its case's partition alone: `case_ref`)."""
    urges = (
        Event.objects.filter(
            dispatch_id=OuterRef(dispatch_ref),
            case_filed_at=OuterRef(f"{case_ref}__filed_at"),
            action="urge",
        )
        .order_by()
        .values("dispatch_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(urges, output_field=IntegerField()), Value(0))


def pressure() -> dict:
    """Annotations of a dispatch queryset: how often the unit was urged (`urged`) and the
    deadline of its open supervision order (`supervision_due`, the soonest), read in the
    page's own query whatever the number of rows."""
    orders = SupervisionOrder.objects.filter(
        dispatch_id=OuterRef("pk"), met_at__isnull=True
    ).order_by("due_at", "pk")
    return {
        "urged": urge_count(),
        "supervision_due": Subquery(orders.values("due_at")[:1], output_field=DateTimeField()),
    }


def postponement_pending() -> Exists:
    """Whether a postponement of one of the case's clocks waits for the committee, read in the
    page's own query: the row shows it and does not offer to ask again."""
    return Exists(
        Postponement.objects.filter(
            case_id=OuterRef("case_id"), decision=Postponement.Decision.PENDING
        )
    )


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
    rows (of one light, when asked), most urgent first: one grouped count and one page read."""
    chosen = with_light(board_dispatches(user=user, scope=scope), now=timezone.now())
    grouped = dict(chosen.values_list("light").annotate(n=Count("pk")).order_by())
    counts = {name: grouped.get(name, 0) for name in LIGHTS}
    if light:
        chosen = chosen.filter(light=light)
    chosen = (
        chosen.order_by(F("clock_due_at").asc(nulls_last=True), "dispatched_at", "pk")
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
        .annotate(
            # The clock each shows, kept on it (cases.timers.sync_dispatch_board).
            clock_id=F("clock_deadline_id"),
            postponement_pending=postponement_pending(),
            **pressure(),
        )
    )
    paginator = Paginator(chosen, BOARD_PER_PAGE)
    # Counted above, with the lights: the paginator need not count again.
    paginator.count = counts.get(light, 0) if light else sum(grouped.values())
    current = paginator.get_page(page)
    dispatches = list(current.object_list)
    current.object_list = dispatches
    deadlines = deadlines_by_id((d.clock_id, d.case.filed_at) for d in dispatches)
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
        deadline = deadlines.get(dispatch.clock_id)
        if captain:
            case_actions = actions_for(
                available_actions(user=user, case=dispatch.case), keep=CAPTAIN_CASE_ACTIONS
            )
            if dispatch.postponement_pending or (deadline is not None and deadline.postponed):
                # One postponement per clock, asked once: not offered while one waits.
                case_actions = [a for a in case_actions if a.name != "request_postponement"]
        rows.append(
            DispatchRow(
                dispatch=dispatch,
                deadline=deadline,
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
    deadlines = deadlines_by_id((case.clock_id, case.filed_at) for case in cases)
    rows = []
    for case in cases:
        row = CommandCase(
            case=case,
            deadline=deadlines.get(case.clock_id),
            actions=actions_for(available_actions(user=user, case=case), keep=keep),
        )
        if with_dispatches:
            row.dispatches = [
                (
                    d,
                    actions_for(
                        available_dispatch_actions(user=user, dispatch=d), keep=DISPATCH_PRESSURE
                    ),
                )
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
        # A case the city (or the prefecture) suspended is its committee's to resume.
        town_cases(towns=towns, statuses=[Status.SUSPENDED]).exclude(level__in=ABOVE_TOWN),
        pages.get("suspended"),
    )
    active = Dispatch.objects.filter(state__in=Dispatch.ACTIVE_STATES).select_related(
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
    late_deadlines = deadlines_by_id((d.clock_id, d.case.filed_at) for d in late)
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
                actions_for(
                    available_dispatch_actions(user=user, dispatch=d), keep=DISPATCH_PRESSURE
                ),
            )
            for d in late
        ],
    )
