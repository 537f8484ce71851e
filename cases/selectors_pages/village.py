"""Reads for the village inbox: the whistles a village officer screens, handles and verifies.

Each list costs a fixed number of queries whatever its length: the running deadline and the
photo count come as subqueries, the deadline rows of a page in one more query."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.access import scope_of
from cases.models import Attachment, Case, Deadline, Status
from cases.workflow import CASE, DISPATCH, REGISTRY, available_actions
from teams.levels import with_levels
from teams.models import Role, User

PER_PAGE = 20
# Offered on the case page, where the photos and the trace are, not on the inbox's cards.
CASE_PAGE_ONLY = frozenset({"post_update", "publish_photo", "publish_case"})


@dataclass(frozen=True)
class Action:
    name: str
    label: str | Promise
    inline: bool


def actions_for(names: Iterable[str], *, keep: Iterable[str] | None = None) -> list[Action]:
    """The named actions as offered on a list page, optionally only those in `keep`."""
    kept = None if keep is None else set(keep)
    return [
        Action(name=name, label=spec.button, inline=spec.inline)
        for name in names
        if (spec := REGISTRY.get(on=CASE, name=name) or REGISTRY.get(on=DISPATCH, name=name))
        if kept is None or name in kept
    ]


def running_case_deadline(field_name: str, *, case_ref: str = "pk") -> Subquery:
    """A field of the case's running clock: its latest-started case-level deadline not yet met
    (a fired one is still running, only overdue)."""
    # The case's filing time names the deadlines' partition (cases.partitions).
    filed_ref = "filed_at" if case_ref == "pk" else f"{case_ref.removesuffix('_id')}__filed_at"
    return Subquery(
        Deadline.objects.filter(
            case_id=OuterRef(case_ref),
            case_filed_at=OuterRef(filed_ref),
            dispatch__isnull=True,
            met_at__isnull=True,
        )
        .order_by("-started_at", "-id")
        .values(field_name)[:1]
    )


def deadlines_by_id(clocks: Iterable[tuple[int | None, datetime]]) -> dict[int, Deadline]:
    """The clocks a page shows, by id, from (clock id, its case's filing time) pairs: read from
    the partitions of those cases' months alone (cases.partitions)."""
    wanted = {(pk, filed) for pk, filed in clocks if pk}
    if not wanted:
        return {}
    rows = Deadline.objects.by_ids(
        {pk for pk, _filed in wanted}, filed=(filed for _pk, filed in wanted)
    )
    return {deadline.pk: deadline for deadline in rows}


def page_of(queryset: QuerySet, number: str | int | None, *, per_page: int = PER_PAGE) -> Page:
    """One page of a list; a page number out of range or not a number gives the nearest page."""
    return Paginator(queryset, per_page).get_page(number)


def officer_villages(*, user: User) -> frozenset[int]:
    return scope_of(user).regions_of(Role.VILLAGE_OFFICER)


@dataclass
class CaseRow:
    case: Case
    deadline: Deadline | None
    actions: list[Action] = field(default_factory=list)


@dataclass
class Section:
    key: str
    title: str | Promise
    page: Page
    rows: list[CaseRow]


SECTIONS: tuple[tuple[str, str, Promise], ...] = (
    ("new", Status.FILED, _("New whistles to screen")),
    ("handling", Status.VILLAGE_HANDLING, with_levels(_("Handled by the %(village)s"))),
    ("resolved", Status.RESOLVED, _("Resolved, waiting for verification")),
)


def village_cases(*, villages: Iterable[int], status: str) -> QuerySet[Case]:
    """The village's cases in one status, most urgent deadline first."""
    photos = (
        Attachment.objects.filter(
            case_id=OuterRef("pk"), kind=Attachment.Kind.PHOTO, purpose=Attachment.Purpose.FILING
        )
        .order_by()
        .values("case_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Case.objects.filter(village_id__in=list(villages), status=status)
        .select_related("item", "grid", "village", "possible_duplicate_of")
        .prefetch_related("dispatches")
        .annotate(
            photo_count=Coalesce(Subquery(photos, output_field=IntegerField()), Value(0)),
            clock_id=running_case_deadline("pk"),
            clock_due=running_case_deadline("due_at"),
        )
        .order_by(F("clock_due").asc(nulls_last=True), "filed_at", "id")
    )


def village_inbox(
    *, user: User, villages: Iterable[int], pages: dict[str, str | None]
) -> list[Section]:
    """The three sections of the inbox, each paginated on its own."""
    sections = []
    for key, status, title in SECTIONS:
        page = page_of(village_cases(villages=villages, status=status), pages.get(key))
        cases = list(page.object_list)
        deadlines = deadlines_by_id((case.clock_id, case.filed_at) for case in cases)
        rows = [
            CaseRow(
                case=case,
                deadline=deadlines.get(case.clock_id),
                actions=[
                    action
                    for action in actions_for(available_actions(user=user, case=case))
                    if action.name not in CASE_PAGE_ONLY
                ],
            )
            for case in cases
        ]
        sections.append(Section(key=key, title=title, page=page, rows=rows))
    return sections
