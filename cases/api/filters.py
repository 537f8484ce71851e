"""Filters of the case and dispatch lists. Ids are plain numbers: an unknown id gives an empty
list, never a hint that a row exists outside the user's scope."""

from datetime import date, datetime, time

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from cases.models import Case, Dispatch, Notification, Source, Status
from teams.levels import level_choices

MAX_ID = 2**63 - 1


def _id(field_name: str, help_text: str) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(
        field_name=field_name, min_value=1, max_value=MAX_ID, help_text=help_text
    )


def _midnight(day: date) -> datetime:
    # Clamped: the first and last days of the calendar overflow when converted to UTC.
    day = min(max(day, date(1900, 1, 1)), date(9000, 1, 1))
    return timezone.make_aware(datetime.combine(day, time.min))


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Status.choices)
    level = django_filters.ChoiceFilter(choices=level_choices())
    source = django_filters.ChoiceFilter(choices=Source.choices)
    item = _id("item_id", "Checklist item id.")
    grid = _id("grid_id", "Grid id.")
    village = _id("village_id", "Village id.")
    town = _id("town_id", "Town id.")
    filed_after = django_filters.DateFilter(
        method="filter_filed_after", help_text="Filed on or after this day (local time)."
    )
    filed_before = django_filters.DateFilter(
        method="filter_filed_before", help_text="Filed before this day (local time)."
    )
    number = django_filters.CharFilter(
        field_name="number", lookup_expr="iexact", max_length=32, help_text="The case number."
    )
    light = django_filters.ChoiceFilter(
        choices=[("green", "green"), ("yellow", "yellow"), ("red", "red")],
        help_text="Warning light of the running case-level deadline.",
    )

    class Meta:
        model = Case
        fields = []

    def filter_filed_after(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(filed_at__gte=_midnight(value))

    def filter_filed_before(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(filed_at__lt=_midnight(value))


class DispatchFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Dispatch.State.choices)
    team = _id("team_id", "Team id.")
    department = _id("department_id", "Department id.")
    case = _id("case_id", "Case id.")

    class Meta:
        model = Dispatch
        fields = []


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", help_text="Only unread (true) or read (false)."
    )

    class Meta:
        model = Notification
        fields = []
