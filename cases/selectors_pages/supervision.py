"""Reads for the supervision page: the open supervision orders (督办) in the places of a town
committee, a city committee or a supervisor, soonest deadline first.

A page costs a fixed number of queries whatever its length: the order's case, dispatch, unit
and issuer come in the page's own query, the urges as a subquery."""

from dataclasses import dataclass

from django.core.paginator import Page
from django.db.models import Q, QuerySet

from cases.access import scope_of
from cases.models import OPEN_STATUSES, Dispatch, SupervisionOrder
from cases.selectors_pages.board import urge_count
from cases.selectors_pages.village import page_of
from teams.models import Role, User


@dataclass(frozen=True)
class SupervisionScope:
    """Where the user follows supervision orders: towns as their committee, cities as their
    committee or supervisor (the cases they see)."""

    towns: frozenset[int]
    cities: frozenset[int]

    @property
    def empty(self) -> bool:
        return not (self.towns or self.cities)


def supervision_scope(*, user: User) -> SupervisionScope:
    scope = scope_of(user)
    return SupervisionScope(
        towns=scope.regions_of(Role.TOWN_COMMITTEE),
        cities=scope.regions_of(Role.CITY_COMMITTEE, Role.SUPERVISOR),
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
