"""Reads for the bulk actions of the list pages: the labels of the selected rows on the result
page, and the selected rows as a table to export (CSV or XLSX, core.exports).

Both read only what the user may see (cases.access): a selected row outside the scope gets no
label and no line, as if it did not exist. Each costs one query whatever the number of rows."""

from collections.abc import Sequence

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from cases.access import visible_cases
from cases.models import Dispatch
from cases.selectors_pages.village import running_case_deadline
from cases.workflow import CASE
from core.exports import Table
from teams.levels import VILLAGE, level_name
from teams.models import User


def _visible_dispatches(*, user: User) -> QuerySet[Dispatch]:
    return Dispatch.objects.filter(case__in=visible_cases(user=user).values("pk"))


def row_labels(*, user: User, on: str, ids: Sequence[int]) -> dict[int, str]:
    """How each selected row is named on the result page: the case number, and for a dispatch
    its unit too. Rows outside the user's scope are left out."""
    if on == CASE:
        rows = visible_cases(user=user).filter(pk__in=list(ids)).values_list("pk", "number")
        return {pk: number or f"#{pk}" for pk, number in rows}
    dispatches = (
        _visible_dispatches(user=user)
        .filter(pk__in=list(ids))
        .select_related("case", "team", "department")
    )
    return {d.pk: f"{d.case.number or f'#{d.case_id}'} · {d.handler.name}" for d in dispatches}


def export_table(*, user: User, on: str, ids: Sequence[int]) -> Table:
    """The selected rows the user may see, in the order selected, as the list shows them."""
    order = {pk: n for n, pk in enumerate(ids)}
    if on == CASE:
        cases = (
            visible_cases(user=user)
            .filter(pk__in=list(ids))
            .select_related("item", "village", "grid")
            .annotate(clock_due=running_case_deadline("due_at"))
        )
        return Table(
            title=_("Cases"),
            headers=[
                _("Number"),
                _("Item"),
                level_name(VILLAGE, capital=True),
                _("Grid"),
                _("Status"),
                _("Level"),
                _("Filed at"),
                _("Due"),
                _("Description"),
            ],
            rows=[
                [
                    case.number,
                    case.item.name,
                    case.village.name,
                    case.grid.name,
                    case.get_status_display(),
                    case.get_level_display(),
                    case.filed_at,
                    case.clock_due,
                    case.description,
                ]
                for case in sorted(cases, key=lambda c: order[c.pk])
            ],
        )
    dispatches = (
        _visible_dispatches(user=user)
        .filter(pk__in=list(ids))
        .select_related("case", "case__item", "case__village", "team", "department", "assignee")
    )
    return Table(
        title=_("Dispatches"),
        headers=[
            _("Case"),
            _("Item"),
            level_name(VILLAGE, capital=True),
            _("Handler"),
            _("State"),
            _("Assigned to"),
            _("Dispatched at"),
            _("Report-in due"),
            _("Due"),
        ],
        rows=[
            [
                d.case.number,
                d.case.item.name,
                d.case.village.name,
                d.handler.name,
                d.get_state_display(),
                (d.assignee.get_full_name() or d.assignee.get_username()) if d.assignee else "",
                d.dispatched_at,
                d.report_in_due,
                d.clock_due_at,
            ]
            for d in sorted(dispatches, key=lambda d: order[d.pk])
        ],
    )
