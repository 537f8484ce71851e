"""Reads for long-term cases (挂账): the suspended cases of a town committee's towns, a city
committee's, a prefecture committee's (the cities below it) or a supervisor's cities, with their
review dates; the request waiting for the committee; the review date the forms propose.

A page of the list costs a fixed number of queries whatever its length: the review clock, the
suspension event and its request come as subqueries of the page's own query."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.paginator import Page
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from cases import calendar
from cases.access import scope_of
from cases.models import Case, Deadline, Event, Status, SuspensionRequest
from cases.selectors_pages.village import page_of
from checklists.models import Stage
from checklists.selectors import time_limit
from teams.models import Role, User
from teams.names import person_name

DEFAULT_REVIEW_DAYS = 30


@dataclass(frozen=True)
class SuspendedScope:
    """Where the user follows suspended cases: towns as their committee, cities as their
    committee, their prefecture's committee or supervisor."""

    towns: frozenset[int]
    cities: frozenset[int]

    @property
    def empty(self) -> bool:
        return not (self.towns or self.cities)


def suspended_scope(*, user: User) -> SuspendedScope:
    scope = scope_of(user)
    return SuspendedScope(
        towns=scope.regions_of(Role.TOWN_COMMITTEE),
        cities=scope.regions_of(Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE, Role.SUPERVISOR),
    )


def _review_clock(field_name: str) -> Subquery:
    """A field of the case's review clock not yet met (fired or not)."""
    return Subquery(
        Deadline.objects.filter(
            case_id=OuterRef("pk"),
            case_filed_at=OuterRef("filed_at"),  # its partition alone (cases.partitions)
            stage=Stage.SUSPENSION_REVIEW,
            dispatch__isnull=True,
            met_at__isnull=True,
        )
        .order_by("-started_at", "-id")
        .values(field_name)[:1]
    )


def _suspension(field_name: str) -> Subquery:
    """A field of the case's latest `suspend` event: when and by whom it was suspended."""
    return Subquery(
        Event.objects.filter(
            case_id=OuterRef("pk"), case_filed_at=OuterRef("filed_at"), action="suspend"
        )
        .order_by("-created_at", "-id")
        .values(field_name)[:1]
    )


def suspended_cases(*, scope: SuspendedScope) -> QuerySet[Case]:
    """The suspended cases in the scope, the earliest review first (an overdue one first of
    all), each with its review clock, since when it is suspended, the reason, and who asked."""
    place = Q(town_id__in=scope.towns) | Q(city_id__in=scope.cities)
    return (
        Case.objects.filter(place, status=Status.SUSPENDED)
        .select_related("item", "village", "town")
        .annotate(
            review_due=_review_clock("due_at"),
            review_warn=_review_clock("warn_at"),
            suspended_at=_suspension("created_at"),
            suspension_data=_suspension("data"),
            suspended_by_first=_suspension("actor__first_name"),
            suspended_by_last=_suspension("actor__last_name"),
            suspended_by_username=_suspension("actor__username"),
        )
        .order_by(F("review_due").asc(nulls_last=True), "pk")
    )


@dataclass(frozen=True)
class SuspendedRow:
    case: Case
    suspended_at: datetime | None
    age_days: int | None
    review_on: date | None
    light: str  # red: the review date passed; yellow: near it; green
    reason: str
    requested_by: str  # who asked (the committee itself, for a direct suspension)


def _name(first: str | None, last: str | None, username: str | None) -> str:
    return person_name(given=first, family=last) or (username or "")


def suspended_page(*, scope: SuspendedScope, page: str | None, now: datetime) -> tuple[Page, list]:
    """One page of the suspended cases, each as a SuspendedRow, and the page itself."""
    chosen = page_of(suspended_cases(scope=scope), page)
    cases = list(chosen.object_list)
    request_ids = [
        data.get("request")
        for case in cases
        if isinstance(data := case.suspension_data, dict) and data.get("request")
    ]
    requesters = {
        request.pk: request.requested_by
        for request in SuspensionRequest.objects.filter(pk__in=request_ids).select_related(
            "requested_by"
        )
    }
    rows = []
    today = timezone.localdate(now)
    for case in cases:
        data = case.suspension_data if isinstance(case.suspension_data, dict) else {}
        asker = requesters.get(data.get("request"))
        if asker is not None:
            requested_by = _name(asker.first_name, asker.last_name, asker.username)
        else:
            requested_by = _name(
                case.suspended_by_first, case.suspended_by_last, case.suspended_by_username
            )
        review_on = None
        light = ""
        if case.review_due is not None:
            review_on = (timezone.localtime(case.review_due) - timedelta(microseconds=1)).date()
            light = (
                "red"
                if now >= case.review_due
                else "yellow"
                if now >= case.review_warn
                else "green"
            )
        suspended_at = case.suspended_at
        rows.append(
            SuspendedRow(
                case=case,
                suspended_at=suspended_at,
                age_days=(today - timezone.localdate(suspended_at)).days if suspended_at else None,
                review_on=review_on,
                light=light,
                reason=str(data.get("reason") or ""),
                requested_by=requested_by,
            )
        )
    return chosen, rows


def pending_suspension_request(*, case: Case) -> SuspensionRequest | None:
    """The request of the case waiting for the committee, if any."""
    if not case.suspension_requested:
        return None
    return (
        SuspensionRequest.objects.filter(case=case, state=SuspensionRequest.State.PENDING)
        .select_related("requested_by")
        .first()
    )


def proposed_review_on(*, case: Case, now: datetime | None = None) -> date:
    """The review date the forms propose: the item's review period (its suspension-review limit)
    from now, and at least tomorrow."""
    now = now or timezone.now()
    limit = time_limit(item_id=case.item_id, stage=Stage.SUSPENSION_REVIEW)
    if limit is None:
        moment = now + timedelta(days=DEFAULT_REVIEW_DAYS)
    else:
        moment = calendar.add_duration(start=now, amount=limit.amount, unit=limit.unit)
    return max(timezone.localdate(moment), timezone.localdate(now) + timedelta(days=1))
