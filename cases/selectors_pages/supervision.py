"""Reads for the supervision page: the open supervision orders (督办) in the places of a town
committee, a city committee (or a prefecture's, four levels) or a supervisor, soonest deadline
first; and the returned dispatches (退回) still waiting for the committee's ruling, soonest
re-dispatch deadline first.

A page costs a fixed number of queries whatever its length: the order's case, dispatch, unit
and issuer come in the page's own query, the urges as a subquery."""

from dataclasses import dataclass

from django.core.paginator import Page
from django.db.models import DateTimeField, OuterRef, Q, QuerySet, Subquery

from cases.access import scope_of
from cases.models import ABOVE_TOWN, OPEN_STATUSES, Deadline, Dispatch, Level, SupervisionOrder
from cases.selectors_pages.board import urge_count
from cases.selectors_pages.village import page_of
from checklists.models import Stage
from teams.models import Role, User


@dataclass(frozen=True)
class SupervisionScope:
    """Where the user follows supervision orders: towns as their committee, cities as their
    committee, their prefecture's committee or supervisor (the cases they see)."""

    towns: frozenset[int]
    cities: frozenset[int]
    # The cities whose committee the user sits on: it rules on the city's returns.
    city_committees: frozenset[int] = frozenset()
    # The cities below the prefecture whose committee the user sits on (four levels): it
    # rules on the returns of their prefecture-level cases.
    prefecture_committees: frozenset[int] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.towns or self.cities)


def supervision_scope(*, user: User) -> SupervisionScope:
    scope = scope_of(user)
    return SupervisionScope(
        towns=scope.regions_of(Role.TOWN_COMMITTEE),
        cities=scope.regions_of(Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE, Role.SUPERVISOR),
        city_committees=scope.regions_of(Role.CITY_COMMITTEE),
        prefecture_committees=scope.regions_of(Role.PREFECTURE_COMMITTEE),
    )


def open_orders(*, scope: SupervisionScope) -> QuerySet[SupervisionOrder]:
    """The orders not met yet, on units still on the case, of open cases in the scope."""
    place = Q(case__town_id__in=scope.towns) | Q(case__city_id__in=scope.cities)
    return (
        SupervisionOrder.objects.filter(
            place,
            met_at__isnull=True,
            dispatch__state__in=Dispatch.ACTIVE_STATES,
            case__status__in=OPEN_STATUSES,
        )
        .select_related(
            "case",
            "case__item",
            "case__village",
            "case__town",
            "dispatch",
            "dispatch__team",
            "dispatch__department",
            "issued_by",
        )
        .annotate(urged=urge_count(dispatch_ref="dispatch_id"))
        .order_by("due_at", "pk")
    )


def supervision_page(*, scope: SupervisionScope, page: str | None) -> Page:
    return page_of(open_orders(scope=scope), page)


def returns_to_rule_on(*, scope: SupervisionScope) -> QuerySet[Dispatch]:
    """Returned dispatches not ruled on yet, of open cases, in the places where the user sees
    them: the town's for a town or village case, the city's for any case of its city (the
    city committee rules on its own level's, the prefecture's committee on its level's, the
    supervisors follow). `redispatch_due` is the committee's re-dispatch deadline
    (docs/workflow.md, Return a dispatch)."""
    place = Q(case__town_id__in=scope.towns) & ~Q(case__level__in=ABOVE_TOWN)
    place |= Q(case__city_id__in=scope.cities)
    clock = Deadline.objects.filter(
        dispatch_id=OuterRef("pk"),
        case_filed_at=OuterRef("case__filed_at"),  # its partition alone (cases.partitions)
        stage=Stage.REDISPATCH,
        met_at__isnull=True,
    ).order_by("due_at")
    return (
        Dispatch.objects.filter(
            place,
            state=Dispatch.State.RETURNED,
            return_ruling="",
            case__status__in=OPEN_STATUSES,
        )
        .select_related(
            "case",
            "case__item",
            "case__village",
            "case__town",
            "team",
            "department",
            "returned_by",
        )
        .annotate(redispatch_due=Subquery(clock.values("due_at")[:1], output_field=DateTimeField()))
        .order_by("redispatch_due", "pk")
    )


def returns_page(*, scope: SupervisionScope, page: str | None) -> Page:
    """A page of the returns, each marked `may_rule` when the user's committee rules on it
    (the same answer as cases.access.is_committee_at_level, from the scope already read)."""
    result = page_of(returns_to_rule_on(scope=scope), page)
    for dispatch in result.object_list:
        case = dispatch.case
        if case.level == Level.CITY:
            dispatch.may_rule = case.city_id in scope.city_committees
        elif case.level == Level.PREFECTURE:
            dispatch.may_rule = case.city_id in scope.prefecture_committees
        else:
            dispatch.may_rule = case.town_id in scope.towns
    return result
