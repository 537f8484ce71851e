"""Reads for the case list and the notification inbox pages.

The case list computes each case's warning light in SQL (from its earliest running case-level
deadline), so filtering and sorting by light or due time stay one query per page however many
cases the user can see.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Case as SqlCase
from django.db.models import (
    CharField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cases import notifications
from cases.access import scope_of, visible_cases
from cases.channels import delivery
from cases.models import Case, Deadline, Notification, Status
from cases.timers import GREEN, RED, YELLOW
from checklists.demo import items_for_grids
from checklists.models import Item, Stage
from teams.models import Grid, Role, User

SORTS = {
    "-filed_at": ("-filed_at", "-id"),
    "filed_at": ("filed_at", "id"),
    "number": ("number",),
    "-number": ("-number",),
    "due": (F("light_due_at").asc(nulls_last=True), "-filed_at", "-id"),
    "-due": (F("light_due_at").desc(nulls_last=True), "-filed_at", "-id"),
}
DEFAULT_SORT = "-filed_at"
LIGHTS = (RED, YELLOW, GREEN)


@dataclass(frozen=True)
class CaseFilters:
    """The list's filters, already validated; None or "" means "any"."""

    status: str = ""
    level: str = ""
    item_id: int | None = None
    grid_id: int | None = None
    light: str = ""
    filed_from: date | None = None
    filed_to: date | None = None
    text: str = ""
    # Only the whistles taken up: no rejected ones (merged duplicates among them), as hot
    # spots count them.
    taken_up: bool = False


def _running_deadlines() -> QuerySet[Deadline]:
    """The case's running case-level clocks (not per dispatch, not paused), earliest first. A
    suspended case's review clock runs until it is reviewed, fired or not: red once overdue."""
    return Deadline.objects.filter(
        Q(fired_at__isnull=True) | Q(stage=Stage.SUSPENSION_REVIEW),
        case=OuterRef("pk"),
        case_filed_at=OuterRef("filed_at"),  # its partition alone (cases.partitions)
        dispatch__isnull=True,
        met_at__isnull=True,
        paused_at__isnull=True,
    ).order_by("due_at", "id")


def with_light(queryset: QuerySet[Case], *, now: datetime) -> QuerySet[Case]:
    """Annotate the running deadline (id, due, yellow-from, unit) and the light it gives now."""
    running = _running_deadlines()
    return queryset.annotate(
        light_deadline_id=Subquery(running.values("id")[:1]),
        light_due_at=Subquery(running.values("due_at")[:1]),
        light_warn_at=Subquery(running.values("warn_at")[:1]),
        light_unit=Subquery(running.values("unit")[:1]),
    ).annotate(
        light=SqlCase(
            When(light_due_at__lte=now, then=Value(RED)),
            When(light_warn_at__lte=now, then=Value(YELLOW)),
            When(light_due_at__isnull=False, then=Value(GREEN)),
            default=Value(""),
            output_field=CharField(),
        )
    )


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def case_list(
    *, user: User, filters: CaseFilters, sort: str = DEFAULT_SORT, now: datetime | None = None
) -> QuerySet[Case]:
    """The cases `user` may see, filtered and sorted, ready to show a page of rows without a
    query per row."""
    now = now or timezone.now()
    queryset = with_light(visible_cases(user=user), now=now).select_related(
        "item", "grid", "village"
    )
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.level:
        queryset = queryset.filter(level=filters.level)
    if filters.item_id:
        queryset = queryset.filter(item_id=filters.item_id)
    if filters.grid_id:
        queryset = queryset.filter(grid_id=filters.grid_id)
    if filters.light:
        queryset = queryset.filter(light=filters.light)
    if filters.filed_from:
        queryset = queryset.filter(filed_at__gte=_local_midnight(filters.filed_from))
    if filters.filed_to:
        queryset = queryset.filter(filed_at__lt=_local_midnight(filters.filed_to + timedelta(1)))
    if filters.taken_up:
        queryset = queryset.exclude(status=Status.REJECTED)
    if filters.text:
        queryset = queryset.filter(
            Q(number__icontains=filters.text) | Q(description__icontains=filters.text)
        )
    return queryset.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


def running_deadline(case: Case) -> Deadline | None:
    """The annotated running deadline as an (unsaved) Deadline, for the time-left filter."""
    if getattr(case, "light_deadline_id", None) is None:
        return None
    return Deadline(
        pk=case.light_deadline_id,
        case_id=case.pk,
        due_at=case.light_due_at,
        warn_at=case.light_warn_at,
        unit=case.light_unit,
    )


def visible_grids(*, user: User) -> QuerySet[Grid]:
    """The grids of the places the user works in: their own grids, their village's, their
    town's (committee), their team's service area or their city's (city committee, the
    committee of the prefecture above it, supervisors, departments)."""
    scope = scope_of(user)
    condition = Q(pk__in=scope.grids.get(Role.GRID_WORKER, frozenset()))
    villages = scope.regions_of(Role.VILLAGE_OFFICER)
    if villages:
        condition |= Q(village_id__in=villages)
    served = scope.served(Role.TEAM_CAPTAIN, Role.TEAM_MEMBER)  # teams: their service areas
    if scope.stationed:
        condition |= Q(village_id__in=scope.stationed)
    towns = scope.regions_of(Role.TOWN_COMMITTEE) | served.towns
    if towns:
        condition |= Q(village__parent_id__in=towns)
    cities = served.cities | scope.regions_of(
        Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE, Role.SUPERVISOR, Role.ADMIN
    )
    if cities:
        condition |= Q(village__parent__parent_id__in=cities)
    return Grid.objects.filter(condition).order_by("code")


def items_by_aspect(
    *, grids: QuerySet[Grid] | None = None
) -> list[tuple[str, list[tuple[int, str]]]]:
    """Checklist items grouped by aspect, named in the active language; with `grids` (the
    user's), the demo item only where one lies in the demo city (checklists.demo)."""
    groups: dict[int, tuple[str, list[tuple[int, str]]]] = {}
    items = (
        Item.objects.all() if grids is None else items_for_grids(Item.objects.all(), grids=grids)
    )
    for item in items.select_related("aspect").order_by(
        "aspect__order", "aspect__code", "order", "code"
    ):
        groups.setdefault(item.aspect_id, (item.aspect.name, []))[1].append((item.pk, item.name))
    return list(groups.values())


# --- the notification inbox ------------------------------------------------------------------


@dataclass(frozen=True)
class InboxEntry:
    notification: Notification
    subject: str
    body: str
    case_url: str | None
    # How the notification travelled beyond the inbox: "SMS: sent 10:02", "WeCom: failed,
    # retrying" (cases.channels.delivery.describe).
    deliveries: list[str] = field(default_factory=list)

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None


def notification_rows(*, user: User) -> QuerySet[Notification]:
    """The user's own notifications, newest first (paginated by the page)."""
    return (
        Notification.objects.filter(recipient=user)
        .select_related("case__item")
        .prefetch_related("deliveries")
    )


def case_path(case_id: int | None) -> str | None:
    """The case page's path, or None while that page is not installed."""
    if case_id is None:
        return None
    try:
        return reverse("cases:detail", args=[case_id])
    except NoReverseMatch:
        return None


def inbox_entries(rows: list[Notification]) -> list[InboxEntry]:
    """Each notification rendered in the active language, with a link to its case."""
    entries = []
    for row in rows:
        subject, body = notifications.render(row)
        entries.append(
            InboxEntry(
                notification=row,
                subject=subject,
                body=body,
                case_url=case_path(row.case_id),
                deliveries=[delivery.describe(d) for d in row.deliveries.all()],
            )
        )
    return entries
