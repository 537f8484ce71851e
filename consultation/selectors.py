"""Reads for the consultation and investigation pages; each list costs a fixed number of
queries whatever its length."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.paginator import Page
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from cases.access import scope_of
from cases.errors import NotInScope
from cases.models import Case, Deadline, Dispatch, Level, Status
from cases.selectors_pages.village import deadlines_by_id, page_of, running_case_deadline
from checklists.demo import items_for_cities
from checklists.models import Aspect, Item
from consultation.models import (
    AgendaItem,
    Consultation,
    Finding,
    HotSpotSettings,
    Investigation,
    Invitation,
)
from consultation.services import (
    VIEW_CONSULTATION_PERMISSION,
    answers_for,
    can_see,
    can_see_investigation,
    invitable_departments,
    is_committee_of,
    officers_below,
    place_teams,
)
from teams.models import Department, Grid, Membership, Region, Role, User
from teams.service_areas import teams_serving

# --- where the user sits on a committee --------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """One committee the user works for: its level and its town, city or prefecture."""

    level: str
    region: Region


def committee_seats(*, user: User) -> list[Seat]:
    """The user's committees; a prefecture's (four levels) sits at the prefecture itself, not
    at the cities below it where its member sees the cases."""
    scope = scope_of(user)
    levels = {
        **dict.fromkeys(scope.regions_of(Role.TOWN_COMMITTEE), Consultation.Level.TOWN),
        **dict.fromkeys(scope.regions_of(Role.CITY_COMMITTEE), Consultation.Level.CITY),
        **dict.fromkeys(
            scope.prefectures.get(Role.PREFECTURE_COMMITTEE, frozenset()),
            Consultation.Level.PREFECTURE,
        ),
    }
    regions = Region.objects.filter(pk__in=list(levels)).order_by("level", "code")
    return [Seat(level=levels[r.pk], region=r) for r in regions]


# --- the committee's queue ---------------------------------------------------------------------


@dataclass
class QueueRow:
    case: Case
    deadline: Deadline | None
    consultation_id: int | None


def waiting_cases(*, seats: Iterable[Seat]) -> QuerySet[Case]:
    """Cases in consultation at the level and in the region of one of the user's seats, the
    one about to climb first on top."""
    condition = Q(pk__in=[])
    for seat in seats:
        if seat.level == Consultation.Level.TOWN:
            condition |= Q(level=Level.TOWN, town_id=seat.region.pk)
        elif seat.level == Consultation.Level.PREFECTURE:
            condition |= Q(level=Level.PREFECTURE, city__parent_id=seat.region.pk)
        else:
            condition |= Q(level=Level.CITY, city_id=seat.region.pk)
    scheduled = AgendaItem.objects.filter(
        case_id=OuterRef("pk"),
        decision=AgendaItem.Decision.PENDING,
        consultation__status__in=[Consultation.Status.PLANNED, Consultation.Status.HELD],
    ).values("consultation_id")[:1]
    return (
        Case.objects.filter(condition, status=Status.IN_CONSULTATION)
        .select_related("item", "grid", "village", "town")
        .annotate(
            clock_id=running_case_deadline("pk"),
            clock_due=running_case_deadline("due_at"),
            consultation_id=Subquery(scheduled),
        )
        .order_by(F("clock_due").asc(nulls_last=True), "filed_at", "pk")
    )


def queue(*, user: User, seats: list[Seat], page: str | None = None) -> tuple[Page, list[QueueRow]]:
    current = page_of(waiting_cases(seats=seats), page)
    cases = list(current.object_list)
    deadlines = deadlines_by_id((case.clock_id, case.filed_at) for case in cases)
    rows = [
        QueueRow(case=c, deadline=deadlines.get(c.clock_id), consultation_id=c.consultation_id)
        for c in cases
    ]
    return current, rows


def committee_consultations(*, seats: Iterable[Seat], archived: bool = False) -> QuerySet:
    regions = [seat.region.pk for seat in seats]
    rows = Consultation.objects.filter(region_id__in=regions).select_related("region")
    rows = rows.annotate(
        agenda_count=Count("agenda_items", distinct=True),
        pending_count=Count(
            "agenda_items",
            filter=Q(agenda_items__decision=AgendaItem.Decision.PENDING),
            distinct=True,
        ),
    )
    if archived:
        return rows.filter(status=Consultation.Status.ARCHIVED)
    return rows.exclude(status=Consultation.Status.ARCHIVED).order_by("scheduled_at", "pk")


# --- calling -----------------------------------------------------------------------------------


def invitable(*, seat: Seat) -> tuple[QuerySet, QuerySet, QuerySet]:
    """Departments, teams and people (lawyers, village officers) a committee may invite: the
    same the service accepts (consultation.services._check_invitees)."""
    region = seat.region
    departments = Department.objects.filter(invitable_departments(level=seat.level, region=region))
    teams = place_teams(level=seat.level, region=region)
    villages = Q(memberships__role=Role.VILLAGE_OFFICER) & Q(
        **{f"memberships__region__{officers_below(seat.level)}": region}
    )
    lawyers = Q(
        memberships__force=Membership.Force.LAWYER,
        memberships__team_id__in=teams.values("pk"),
    )
    people = (
        User.objects.filter(villages | lawyers, is_active=True)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
    return departments.order_by("code"), teams.order_by("code"), people


# --- one consultation --------------------------------------------------------------------------


@dataclass
class AgendaRow:
    item: AgendaItem
    deadline: Deadline | None
    tasks: list[Dispatch] = field(default_factory=list)


@dataclass
class ConsultationView:
    consultation: Consultation
    agenda: list[AgendaRow]
    invitations: list[Invitation]
    is_committee: bool
    mine: list[Invitation]

    @property
    def can_run(self) -> bool:
        """The committee may still record arrivals, decisions and minutes."""
        return self.is_committee and self.consultation.is_open


def consultation_for(*, user: User, pk: int) -> Consultation:
    """The consultation if the user may see it; otherwise 404 (also for an uninvited
    department)."""
    consultation = Consultation.objects.select_related("region", "called_by").filter(pk=pk).first()
    if consultation is None or not can_see(user=user, consultation=consultation):
        raise NotInScope()
    return consultation


def consultation_view(*, user: User, consultation: Consultation) -> ConsultationView:
    tasks = Dispatch.objects.filter(origin=Dispatch.Origin.DECISION).select_related(
        "team", "department"
    )
    items = list(
        consultation.agenda_items.select_related(
            "case", "case__item", "case__grid", "case__village", "decided_by"
        )
        .prefetch_related(Prefetch("case__dispatches", queryset=tasks, to_attr="decision_tasks"))
        .annotate(clock_id=running_case_deadline("pk", case_ref="case_id"))
        .order_by("order", "pk")
    )
    deadlines = deadlines_by_id((item.clock_id, item.case.filed_at) for item in items)
    agenda = []
    for item in items:
        # The tasks this decision gave: decided for the case after the meeting was called.
        shown = [
            d
            for d in item.case.decision_tasks
            if item.decided_at is not None
            and consultation.created_at <= d.dispatched_at <= item.decided_at
        ]
        agenda.append(AgendaRow(item=item, deadline=deadlines.get(item.clock_id), tasks=shown))
    invitations = list(
        consultation.invitations.select_related("department", "team", "user").order_by("pk")
    )
    return ConsultationView(
        consultation=consultation,
        agenda=agenda,
        invitations=invitations,
        is_committee=is_committee_of(user, consultation),
        mine=[inv for inv in invitations if answers_for(user, inv)],
    )


def invited_consultations(*, user: User) -> QuerySet[Consultation]:
    """The consultations this user was invited to (object grants), newest first; archived ones
    are gone with their grants."""
    return (
        get_objects_for_user(
            user, VIEW_CONSULTATION_PERMISSION, klass=Consultation, accept_global_perms=False
        )
        .select_related("region")
        .prefetch_related(
            Prefetch(
                "agenda_items",
                queryset=AgendaItem.objects.select_related("case", "case__item").order_by("order"),
            ),
            Prefetch(
                "invitations",
                queryset=Invitation.objects.select_related("department", "team", "user"),
            ),
        )
        .order_by("-scheduled_at", "-pk")
    )


# --- hot spots ---------------------------------------------------------------------------------


@dataclass
class HotSpot:
    item: Item
    grid: Grid
    count: int
    cases: list[Case]
    investigations: list[Investigation]


def hot_spot_regions(*, user: User) -> tuple[frozenset[int], frozenset[int]]:
    """(towns, cities) whose hot spots the user may see."""
    scope = scope_of(user)
    return (
        scope.regions_of(Role.TOWN_COMMITTEE),
        scope.regions_of(
            Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE, Role.SUPERVISOR, Role.ADMIN
        ),
    )


def hot_spots(
    *,
    towns: Iterable[int] = (),
    cities: Iterable[int] = (),
    now: datetime | None = None,
    settings: HotSpotSettings | None = None,
    limit: int = 50,
) -> list[HotSpot]:
    """The same item filed again and again in the same grid: item x grid pairs with at least
    the threshold of cases filed within the window, most frequent first, with their cases."""
    settings = settings or HotSpotSettings.current()
    now = now or timezone.now()
    since = now - timedelta(days=settings.window_days)
    region = Q(town_id__in=list(towns)) | Q(city_id__in=list(cities))
    recent = Case.objects.filter(region, filed_at__gte=since, filed_at__lte=now)
    pairs = list(
        recent.order_by()
        .values("item_id", "grid_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=settings.threshold)
        .order_by("-n", "item_id", "grid_id")[:limit]
    )
    if not pairs:
        return []
    wanted = {(p["item_id"], p["grid_id"]) for p in pairs}
    by_pair: dict[tuple[int, int], list[Case]] = defaultdict(list)
    for case in (
        recent.filter(item_id__in={i for i, _ in wanted}, grid_id__in={g for _, g in wanted})
        .select_related("item", "grid", "village")
        .order_by("-filed_at", "-pk")
    ):
        if (case.item_id, case.grid_id) in wanted:
            by_pair[(case.item_id, case.grid_id)].append(case)
    investigations: dict[tuple[int, int], list[Investigation]] = defaultdict(list)
    for investigation in Investigation.objects.filter(
        hotspot_item_id__in={i for i, _ in wanted}, hotspot_grid_id__in={g for _, g in wanted}
    ).order_by("-planned_for"):
        investigations[(investigation.hotspot_item_id, investigation.hotspot_grid_id)].append(
            investigation
        )
    spots = []
    for pair in pairs:
        key = (pair["item_id"], pair["grid_id"])
        cases = by_pair.get(key, [])
        if not cases:
            continue
        spots.append(
            HotSpot(
                item=cases[0].item,
                grid=cases[0].grid,
                count=pair["n"],
                cases=cases,
                investigations=investigations.get(key, []),
            )
        )
    return spots


# --- investigations ----------------------------------------------------------------------------


def investigations_for(*, user: User) -> QuerySet[Investigation]:
    scope = scope_of(user)
    teams = scope.teams.get(Role.TEAM_CAPTAIN, frozenset()) | scope.teams.get(
        Role.TEAM_MEMBER, frozenset()
    )
    cities = scope.regions_of(Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE, Role.SUPERVISOR)
    departments = scope.departments.get(Role.DEPARTMENT_LIAISON, frozenset())
    condition = (
        Q(town_id__in=scope.regions_of(Role.TOWN_COMMITTEE))
        | Q(team_id__in=teams)
        | Q(town__parent_id__in=cities)
    )
    if departments:
        condition |= Q(departments__in=departments)
    return (
        Investigation.objects.filter(condition)
        .distinct()
        .select_related("town", "team", "grid", "hotspot_item")
        .annotate(finding_count=Count("findings", distinct=True))
        .order_by("-planned_for", "-pk")
    )


def investigation_for(*, user: User, pk: int) -> Investigation:
    investigation = (
        Investigation.objects.select_related("town", "team", "grid", "hotspot_item", "hotspot_grid")
        .filter(pk=pk)
        .first()
    )
    if investigation is None or not can_see_investigation(user=user, investigation=investigation):
        raise NotInScope()
    return investigation


@dataclass
class InvestigationView:
    investigation: Investigation
    attendance: list
    checks: list
    items_by_aspect: dict[int, list[Item]]
    findings: list[Finding]
    departments: list[Department]
    aspects: list[Aspect]


def investigation_view(*, investigation: Investigation) -> InvestigationView:
    checks = list(investigation.checks.select_related("aspect"))
    aspect_ids = [c.aspect_id for c in checks]
    items: dict[int, list[Item]] = defaultdict(list)
    offered = items_for_cities(
        Item.objects.filter(aspect_id__in=aspect_ids, active=True),
        city_ids={investigation.town.parent_id},
    )
    for item in offered.order_by("order", "code"):
        items[item.aspect_id].append(item)
    return InvestigationView(
        investigation=investigation,
        attendance=list(investigation.attendance.select_related("department", "team")),
        checks=checks,
        items_by_aspect=dict(items),
        findings=list(
            investigation.findings.select_related("case", "case__item", "aspect").order_by("pk")
        ),
        departments=list(investigation.departments.order_by("code")),
        aspects=[c.aspect for c in checks],
    )


def planning_choices(*, towns: Iterable[int]) -> dict[str, QuerySet]:
    towns = list(towns)
    cities = Region.objects.filter(pk__in=towns).values("parent_id")
    return {
        "towns": Region.objects.filter(pk__in=towns).order_by("code"),
        "grids": Grid.objects.filter(village__parent_id__in=towns)
        .select_related("village")
        .order_by("code"),
        "teams": teams_serving(towns=towns).order_by("code"),
        "departments": Department.objects.filter(
            Q(region_id__in=towns) | Q(region_id__in=cities)
        ).order_by("code"),
        "aspects": Aspect.objects.order_by("order", "code"),
    }


def grid_outlines(*, grids: Iterable[Grid]) -> dict:
    """The grids as GeoJSON (WGS-84, names in the active language) for the place map of an
    investigation: a tap on the map picks the grid the place lies in."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": grid.pk,
                "geometry": grid.polygon,
                "properties": {
                    "id": grid.pk,
                    "label": f"{grid.code} {grid.name} ({grid.village.name})",
                },
            }
            for grid in grids
            if grid.polygon
        ],
    }


def task_targets(*, consultation: Consultation) -> tuple[list, list]:
    """(id, name) of the teams and departments a decision may task: those of the agenda's
    towns and of the city (of the agenda's cities, for a prefecture's consultation: a task's
    department is of its case's town or city, cases.services), read once for the whole page."""
    if consultation.level == Consultation.Level.TOWN:
        towns = [consultation.region_id]
        cities = [consultation.region.parent_id]
    elif consultation.level == Consultation.Level.PREFECTURE:
        places = list(consultation.agenda_items.values_list("case__town_id", "case__city_id"))
        towns = [town for town, _city in places]
        cities = [city for _town, city in places]
    else:
        towns = list(consultation.agenda_items.values_list("case__town_id", flat=True))
        cities = [consultation.region_id]
    teams = teams_serving(towns=towns).order_by("code")
    departments = Department.objects.filter(
        Q(region_id__in=towns) | Q(region_id__in=cities)
    ).order_by("code")
    return [(t.pk, t.name) for t in teams], [(d.pk, d.name) for d in departments]


def visible_consultations(*, user: User) -> QuerySet[Consultation]:
    """Every consultation the user may read: its committee's, the city's for supervisors (the
    prefecture's for a prefecture's supervisors), and the ones the user was invited to (object
    grants); the same answer as consultation.services.can_see."""
    scope = scope_of(user)
    towns = scope.regions_of(Role.TOWN_COMMITTEE)
    cities = scope.regions_of(Role.CITY_COMMITTEE)
    prefectures = scope.prefectures.get(Role.PREFECTURE_COMMITTEE, frozenset())
    supervised = scope.regions_of(Role.SUPERVISOR)
    supervised_prefectures = scope.prefectures.get(Role.SUPERVISOR, frozenset())
    granted = get_objects_for_user(
        user, VIEW_CONSULTATION_PERMISSION, klass=Consultation, accept_global_perms=False
    ).values("pk")
    return Consultation.objects.filter(
        Q(level=Consultation.Level.TOWN, region_id__in=towns)
        | Q(level=Consultation.Level.CITY, region_id__in=cities)
        | Q(level=Consultation.Level.PREFECTURE, region_id__in=prefectures)
        | Q(level=Consultation.Level.TOWN, region__parent_id__in=supervised)
        | Q(level=Consultation.Level.CITY, region_id__in=supervised)
        | Q(level=Consultation.Level.PREFECTURE, region_id__in=supervised_prefectures)
        | Q(pk__in=granted)
    )


def agenda_item_for(*, user: User, pk: int) -> AgendaItem:
    """An agenda item of a consultation the user may see; otherwise 404."""
    item = AgendaItem.objects.select_related("case").filter(pk=pk).first()
    if item is None:
        raise NotInScope()
    item.consultation = consultation_for(user=user, pk=item.consultation_id)
    return item


def invitation_for(*, user: User, pk: int) -> Invitation:
    """An invitation to a consultation the user may see; otherwise 404."""
    invitation = Invitation.objects.filter(pk=pk).first()
    if invitation is None:
        raise NotInScope()
    invitation.consultation = consultation_for(user=user, pk=invitation.consultation_id)
    return invitation
