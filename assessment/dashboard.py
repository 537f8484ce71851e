"""What the dashboard pages share: who may open them and for which unit, the period's label
and URL parameters, links from every number to the cases behind it, and page tables that
render as HTML and export as CSV/XLSX from the same rows.

Reads only: the numbers come from assessment.selectors (the facts engineer's API).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessment import definitions
from assessment.exports import Table, Value
from assessment.forms import RANKED_TYPES as RANKING_CHOICES
from assessment.hotspots import TOP_ITEMS
from assessment.indicators import LABELS, QUALITY_KEYS, RETURN_KEYS, SUPERVISION_KEYS
from assessment.models import TownEvaluation
from assessment.selectors import CITY_ROLES, reason_label
from cases.access import scope_of
from cases.models import Dispatch
from cases.selectors_pages.lists import items_by_aspect
from teams.levels import (
    CITY,
    PREFECTURE,
    level_label,
    level_name,
    level_words,
    on_chain,
    with_levels,
)
from teams.models import Department, Grid, Region, Role, Team, User
from teams.service_areas import teams_serving

RATE_KEYS = (
    "on_time_closure_rate",
    "closure_rate",
    "rework_rate",
    "postponement_rate",
    "response_rate",
    "satisfaction_rate",
    "on_the_spot_rate",
)
LEVEL_KEYS = (
    "level_village_share",
    "level_town_share",
    "level_city_share",
    "level_prefecture_share",
)
# The level view's shares of the levels whose committee a deployment may leave off the
# escalation chain (teams.levels.on_chain): no case closes there then.
CHAIN_KEYS = {"level_city_share": CITY, "level_prefecture_share": PREFECTURE}
# Who solved the case, against the practice's 70/20/10.
SOLVER_KEYS = ("solved_by_village_share", "solved_by_team_share", "solved_by_consultation_share")
HOUR_KEYS = ("avg_handling_hours", "p90_handling_hours")
KPI_KEYS = RATE_KEYS + HOUR_KEYS
# The supervision rates (urged, supervised, orders met late) follow on a unit's page and in the
# API, each with its cases behind it.
# The overruled returns (退回) too, against the unit that returned.
# Whistle quality (rejected, merged, backed by a "me too") on a village's and a grid worker's.
ALL_KEYS = (
    RATE_KEYS + SOLVER_KEYS + LEVEL_KEYS + HOUR_KEYS + SUPERVISION_KEYS + RETURN_KEYS + QUALITY_KEYS
)
LOWER_IS_BETTER = frozenset(
    {
        "rework_rate",
        "postponement_rate",
        *HOUR_KEYS,
        *SUPERVISION_KEYS,
        *RETURN_KEYS,
        "rejected_share",
        "merged_share",
    }
)
SOLVER_TARGETS = {"village": 0.7, "team": 0.2, "consultation": 0.1}

# Who opens the dashboards, and the unit each role looks at first (its own place).
HOME_UNITS = (
    (Role.SUPERVISOR, "prefecture", "prefectures"),  # four levels: the whole prefecture
    (Role.ADMIN, "prefecture", "prefectures"),
    # Four levels, its committee on the chain: the cities below it, as its supervisors.
    (Role.PREFECTURE_COMMITTEE, "prefecture", "prefectures"),
    (Role.SUPERVISOR, "city", "regions"),
    (Role.CITY_COMMITTEE, "city", "regions"),
    (Role.ADMIN, "city", "regions"),
    (Role.TOWN_COMMITTEE, "town", "regions"),
    (Role.VILLAGE_OFFICER, "village", "regions"),
    (Role.TEAM_CAPTAIN, "team", "teams"),
    (Role.DEPARTMENT_LIAISON, "department", "departments"),
)

UNIT_TYPE_LABELS = {
    "prefecture": level_label("prefecture", capital=True),
    "city": level_label("city", capital=True),
    "town": level_label("town", capital=True),
    "village": level_label("village", capital=True),
    "grid": gettext_lazy("Grid"),
    "grid_worker": gettext_lazy("Grid worker"),
    "team": gettext_lazy("Team"),
    "department": gettext_lazy("Department"),
}


@dataclass(frozen=True)
class Unit:
    type: str
    id: int
    name: str

    @property
    def type_label(self) -> str:
        return str(UNIT_TYPE_LABELS.get(self.type, self.type))


def home_unit(*, user: User) -> tuple[str, int]:
    """The unit the user's dashboards open on; 403 for roles without dashboards."""
    scope = scope_of(user)
    for role, unit_type, mapping in HOME_UNITS:
        ids = getattr(scope, mapping).get(role, frozenset())
        if ids:
            return unit_type, min(ids)
    raise PermissionDenied(_("Your role has no access to the assessment dashboards."))


def is_town_committee(*, user: User) -> bool:
    return bool(scope_of(user).regions_of(Role.TOWN_COMMITTEE))


def is_supervisor(*, user: User) -> bool:
    return bool(scope_of(user).regions_of(Role.SUPERVISOR))


def unit_for(*, unit_type: str, unit_id: int) -> Unit:
    """The unit's name in the active language; 404 when there is no such unit."""
    if unit_type in ("prefecture", "city", "town", "village"):
        row = Region.objects.filter(pk=unit_id, level=unit_type).first()
    elif unit_type == "grid":
        row = Grid.objects.filter(pk=unit_id).first()
    elif unit_type == "team":
        row = Team.objects.filter(pk=unit_id).first()
    elif unit_type == "department":
        row = Department.objects.filter(pk=unit_id).first()
    elif unit_type == "grid_worker":
        row = User.objects.filter(pk=unit_id).first()
        if row is not None:
            return Unit(unit_type, unit_id, row.get_full_name() or row.get_username())
    else:
        row = None
    if row is None:
        raise Http404()
    return Unit(unit_type, unit_id, row.name)


# --- periods ---------------------------------------------------------------------------------


def period_params(period) -> dict[str, str]:
    """GET parameters that give this period back through parse_period."""
    if period.kind == "custom":
        return {
            "kind": "custom",
            "start": period.start.isoformat(),
            "end": (period.end - timedelta(days=1)).isoformat(),
        }
    return {"kind": period.kind, "anchor": period.start.isoformat()}


def period_label(period) -> str:
    last = period.end - timedelta(days=1)
    if period.kind == "day":
        return date_format(period.start, "Y-m-d")
    if period.kind == "month":
        return date_format(period.start, "Y-m")
    if period.kind == "quarter":
        return _("%(year)s Q%(quarter)s") % {
            "year": period.start.year,
            "quarter": (period.start.month - 1) // 3 + 1,
        }
    if period.kind == "year":
        return str(period.start.year)
    return f"{date_format(period.start, 'Y-m-d')} – {date_format(last, 'Y-m-d')}"


def short_period_label(period) -> str:
    """A compact label for chart axes."""
    if period.kind in ("day", "week", "custom"):
        return date_format(period.start, "m-d")
    return period_label(period)


def query_string(**params: object) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


# --- numbers and their cases -----------------------------------------------------------------


def cases_url(*, key: str, part: str, unit_type: str, unit_id: int | None, period) -> str:
    """The drill-down list of the cases counted in one number."""
    return (
        reverse("assessment:cases")
        + "?"
        + query_string(
            indicator=key,
            part=part,
            unit_type=unit_type,
            unit_id=unit_id,
            **period_params(period),
        )
    )


@dataclass(frozen=True)
class CountLink:
    """A count shown on a page; `url` lists exactly `count` cases."""

    count: int
    url: str
    part: str


def format_value(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    if key in HOUR_KEYS:
        return _("%(hours)s h") % {"hours": f"{value:.1f}"}
    return f"{value * 100:.1f}%"


def export_value(key: str, value: float | None) -> float | None:
    """Rates as percentages, hours as hours, one decimal."""
    if value is None:
        return None
    return round(value if key in HOUR_KEYS else value * 100, 1)


@dataclass
class Kpi:
    key: str
    label: str
    value: float | None
    display: str
    numerator: CountLink | None
    denominator: CountLink | None
    change: float | None = None  # in percentage points (rates) or hours
    change_display: str = ""
    trend: str = ""  # "better", "worse", "same" or ""
    source: str = "case"  # what it counts: "case" or "dispatch"
    # What it counts and what its words mean (assessment.definitions).
    help: list = field(default_factory=list)


def kpi(indicator, *, unit_type: str, unit_id: int | None, period, previous=None) -> Kpi:
    """One indicator with links from its counts to their cases and its change since `previous`."""
    key = indicator.key

    def link(part: str) -> CountLink | None:
        count = getattr(indicator, part)
        if count is None:
            return None
        return CountLink(
            count=int(count),
            url=cases_url(key=key, part=part, unit_type=unit_type, unit_id=unit_id, period=period),
            part=part,
        )

    # The mean's numerator and denominator are the same cases: show them once.
    numerator = None if key == "avg_handling_hours" else link("numerator")
    result = Kpi(
        key=key,
        label=str(indicator.label),
        value=indicator.value,
        display=format_value(key, indicator.value),
        numerator=numerator,
        denominator=link("denominator"),
        source=indicator.source,
        help=definitions.help_text(key),
    )
    if previous is not None and indicator.value is not None and previous.value is not None:
        change = indicator.value - previous.value
        result.change = export_value(key, change)
        sign = "+" if result.change > 0 else ""
        unit = _("h") if key in HOUR_KEYS else _("pp")
        result.change_display = f"{sign}{result.change:.1f} {unit}"
        if result.change == 0:
            result.trend = "same"
        else:
            better = (change < 0) if key in LOWER_IS_BETTER else (change > 0)
            result.trend = "better" if better else "worse"
    return result


# --- tables that render and export alike -----------------------------------------------------


@dataclass
class Cell:
    value: Value
    text: str = ""
    url: str = ""
    links: Sequence[CountLink] = ()
    css: str = ""

    def __post_init__(self) -> None:
        if not self.text:
            self.text = "" if self.value is None else str(self.value)


@dataclass
class PageTable:
    """A table as the page shows it; `export()` gives the same rows as plain values."""

    name: str
    title: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)

    @property
    def labelled_rows(self) -> list[list[tuple[str, Cell]]]:
        """Each cell with its column's header, for the phone layout's labels."""
        return [list(zip(self.headers, row, strict=False)) for row in self.rows]

    def export(self) -> Table:
        return Table(
            headers=self.headers,
            rows=[[cell.value for cell in row] for row in self.rows],
            title=self.title,
        )


def indicator_cell(kpi_: Kpi) -> Cell:
    """The value with its counts; empty when the period has nothing to count."""
    if kpi_.value is None and (kpi_.denominator is None or kpi_.denominator.count == 0):
        return Cell(value=None, text="")
    links = [link for link in (kpi_.numerator, kpi_.denominator) if link is not None]
    return Cell(value=export_value(kpi_.key, kpi_.value), text=kpi_.display, links=links)


def indicator_headers(keys: Sequence[str], labels: dict[str, str]) -> list[str]:
    headers = []
    for key in keys:
        label = labels.get(key) or str(LABELS.get(key, key))
        headers.append(
            _("%(indicator)s (h)") % {"indicator": label}
            if key in HOUR_KEYS
            else _("%(indicator)s (%%)") % {"indicator": label}
        )
    return headers


def first_of_month(day: date) -> date:
    return day.replace(day=1)


# --- page parts ------------------------------------------------------------------------------

# The cases a unit's page lists: every case counted for the unit in the period ("due").
UNIT_CASES_KEY = "rework_rate"
# The top level's regions are ranked too, for whoever oversees several (a prefecture's
# supervisors, four levels): a county's own staff would rank one. The kinds and their labels
# are the ranking form's choices.
RANKED_TYPES = tuple(key for key, _label in RANKING_CHOICES)
REPORT_RANKINGS = {
    "prefecture": ("city", "department"),
    "city": ("town", "department"),
    "town": ("village", "team", "department"),
}


def ranked_labels() -> dict[str, str]:
    return {key: str(label) for key, label in RANKING_CHOICES}


def ranked_types(*, user: User) -> list[tuple[str, str]]:
    """The kinds of units a ranking compares; the top level's only for a user who looks at
    more than one of its regions."""
    several = len(scope_of(user).regions_of(*CITY_ROLES)) > 1
    labels = ranked_labels()
    return [(key, labels[key]) for key in RANKED_TYPES if key != "city" or several]


def report_rankings(unit_type: str) -> tuple[str, ...]:
    return REPORT_RANKINGS.get(unit_type, ())


def kpi_table(kpis: list[Kpi], *, previous_label: str) -> PageTable:
    rows = []
    for item in kpis:
        rows.append(
            [
                Cell(value=item.label),
                Cell(value=export_value(item.key, item.value), text=item.display),
                _count_cell(item.numerator),
                _count_cell(item.denominator),
                Cell(
                    value=item.change,
                    text=item.change_display or "—",
                    css=f"change-{item.trend}" if item.trend else "",
                ),
            ]
        )
    return PageTable(
        name="indicators",
        title=_("Indicators"),
        headers=[
            _("Indicator"),
            _("Value"),
            _("Counted"),
            _("Out of"),
            _("Change since %(period)s") % {"period": previous_label},
        ],
        rows=rows,
    )


def _count_cell(link: CountLink | None) -> Cell:
    if link is None:
        return Cell(value=None, text="—")
    return Cell(value=link.count, text=str(link.count), url=link.url, css="kpi-count")


def trend_table(trend: list, *, unit_type: str, unit_id: int | None) -> PageTable:
    """One row per period: the seven rates and the handling times, each linked to its cases."""
    labels: dict[str, str] = {}
    rows = []
    for period, values in trend:
        labels.update({key: str(ind.label) for key, ind in values.items()})
        row = [Cell(value=period_label(period))]
        for key in KPI_KEYS:
            indicator = values.get(key)
            if indicator is None:
                row.append(Cell(value=None, text="—"))
                continue
            row.append(
                indicator_cell(kpi(indicator, unit_type=unit_type, unit_id=unit_id, period=period))
            )
        rows.append(row)
    return PageTable(
        name="trend",
        title=_("Trend"),
        headers=[_("Period"), *indicator_headers(KPI_KEYS, labels)],
        rows=rows,
    )


def trend_chart(trend: list) -> dict:
    """Data for the line chart: one series per rate, in percent."""
    labels = [short_period_label(period) for period, _values in trend]
    series = []
    for key in RATE_KEYS:
        name = ""
        data = []
        for _period, values in trend:
            indicator = values.get(key)
            if indicator is not None:
                name = str(indicator.label)
            data.append(export_value(key, indicator.value) if indicator is not None else None)
        series.append({"key": key, "name": name or key, "data": data})
    return {"labels": labels, "series": series, "unit": "%"}


def _level_counts(levels: dict) -> dict[str, tuple[float | None, int, float]]:
    """who solved it -> (share, count, target), whatever shape the selector's dict has."""
    result = {}
    shares = levels.get("shares") or {}
    counts = levels.get("counts") or {}
    targets = levels.get("targets") or SOLVER_TARGETS
    for solver in SOLVER_TARGETS:
        result[solver] = (
            shares.get(solver),
            int(counts.get(solver) or 0),
            float(targets.get(solver, SOLVER_TARGETS[solver])),
        )
    return result


SOLVER_LABELS = {
    "village": with_levels(gettext_lazy("The %(village)s itself")),
    "team": with_levels(gettext_lazy("The %(town)s's teams")),
    "consultation": gettext_lazy("A committee consultation"),
}
LEVEL_LABELS = {
    "village": level_label("village", capital=True),
    "town": level_label("town", capital=True),
    "city": level_label("city", capital=True),
    "prefecture": level_label("prefecture", capital=True),
}


def closing_levels() -> list[str]:
    """The levels a case can close at: the top one (and the prefecture, four levels) only
    while its committee sits on the escalation chain (teams.levels.on_chain)."""
    return [level for level in LEVEL_LABELS if on_chain(level)]


def offered(key: str) -> bool:
    """Whether the pages and the API offer this indicator: a level's share only where cases
    can climb to that level's committee."""
    return key not in CHAIN_KEYS or on_chain(CHAIN_KEYS[key])


def listed(key: str) -> bool:
    """Whether the API's rows and the policy lab's comparison offer this indicator: the
    prefecture's share only on four levels with its committee on the chain; the rest as they
    always were (the top level's share with them on two levels too)."""
    return key != "level_prefecture_share" or offered(key)


def shown_keys() -> tuple[str, ...]:
    """The indicators a unit's page shows: the top level's (and the prefecture's) share only
    where cases can climb there."""
    return tuple(key for key in ALL_KEYS if offered(key))


def level_chart(levels: dict) -> dict:
    """Who solved the closed cases, next to the 70/20/10 target."""
    data = _level_counts(levels)
    return {
        "labels": [str(SOLVER_LABELS[solver]) for solver in data],
        "actual": [None if s is None else round(s * 100, 1) for s, _c, _t in data.values()],
        "target": [round(t * 100, 1) for _s, _c, t in data.values()],
        "names": {"actual": _("Actual share"), "target": _("Target")},
        "unit": "%",
    }


def _share_row(
    label: str, key: str, indicator, *, unit_type: str, unit_id: int | None, period
) -> list[Cell]:
    count = indicator.numerator if indicator is not None else 0
    share = indicator.value if indicator is not None else None
    count_cell = Cell(value=count)
    if indicator is not None:
        count_cell = Cell(
            value=count,
            url=cases_url(
                key=key, part="numerator", unit_type=unit_type, unit_id=unit_id, period=period
            ),
            css="kpi-count",
        )
    return [
        Cell(value=label),
        count_cell,
        Cell(value=export_value(key, share), text=format_value(key, share)),
    ]


def level_table(
    current: dict, levels: dict, *, unit_type: str, unit_id: int | None, period
) -> PageTable:
    """Closed cases by who solved them against 70/20/10; each count links to its cases."""
    rows = []
    for solver, (_share, _count, target) in _level_counts(levels).items():
        key = f"solved_by_{solver}_share"
        row = _share_row(
            str(SOLVER_LABELS[solver]),
            key,
            current.get(key),
            unit_type=unit_type,
            unit_id=unit_id,
            period=period,
        )
        row.append(Cell(value=round(target * 100, 1), text=f"{target * 100:.0f}%"))
        rows.append(row)
    return PageTable(
        name="levels",
        title=_("Who solved the cases, against 70/20/10"),
        headers=[_("Solved by"), _("Closed cases"), _("Share (%)"), _("Target (%)")],
        rows=rows,
    )


def closing_level_table(current: dict, *, unit_type: str, unit_id: int | None, period) -> PageTable:
    """The level view: closed cases by the administrative level they closed at (no target: a
    case settled at a town consultation is a town case here)."""
    rows = [
        _share_row(
            str(LEVEL_LABELS[level]),
            f"level_{level}_share",
            current.get(f"level_{level}_share"),
            unit_type=unit_type,
            unit_id=unit_id,
            period=period,
        )
        for level in closing_levels()
    ]
    return PageTable(
        name="closing-levels",
        title=_("Level view: the level at which cases closed"),
        headers=[_("Level"), _("Closed cases"), _("Share (%)")],
        rows=rows,
    )


def case_detail_url(case_id: int) -> str:
    try:
        return reverse("cases:detail", args=[case_id])
    except NoReverseMatch:
        return ""


def case_rows(queryset):
    """The cases of a list with what each row shows, in one query per page."""
    return queryset.select_related("item", "grid", "village").order_by("-filed_at", "-id")


def _dispatch_handlers(cases: list) -> dict[int, str] | None:
    """The unit of each row of a list counted in dispatches (rows carry the dispatch they
    stand for, assessment.indicators.behind); None for a list of cases."""
    ids = [getattr(case, "counted_dispatch_id", None) for case in cases]
    if not cases or any(pk is None for pk in ids):
        return None
    dispatches = Dispatch.objects.select_related("team", "department").in_bulk(ids)
    return {pk: dispatch.handler.name for pk, dispatch in dispatches.items()}


def case_table(cases, *, title: str) -> PageTable:
    """One row per case, or per dispatch (with its unit) for a number counted in dispatches."""
    cases = list(cases)
    handlers = _dispatch_handlers(cases)
    rows = []
    for case in cases:
        rows.append(
            [
                Cell(value=case.number, url=case_detail_url(case.pk), css="case-number"),
                *(
                    [Cell(value=handlers.get(case.counted_dispatch_id, ""))]
                    if handlers is not None
                    else []
                ),
                Cell(value=case.item.name),
                Cell(value=case.village.name),
                Cell(value=case.grid.name),
                Cell(value=case.get_status_display()),
                Cell(value=case.get_level_display()),
                Cell(
                    value=case.filed_at,
                    text=date_format(timezone.localtime(case.filed_at), "Y-m-d H:i"),
                ),
                Cell(
                    value=case.closed_at,
                    text=date_format(timezone.localtime(case.closed_at), "Y-m-d H:i")
                    if case.closed_at
                    else "—",
                ),
            ]
        )
    return PageTable(
        name="cases",
        title=title or _("Cases"),
        headers=[
            _("Number"),
            *([_("Dispatched to")] if handlers is not None else []),
            _("Item"),
            level_name("village", capital=True),
            _("Grid"),
            _("Status"),
            _("Level"),
            _("Filed at"),
            _("Closed at"),
        ],
        rows=rows,
    )


def reasons_table(
    reasons: list[tuple[str, int]], *, unit_type: str, unit_id: int | None, period
) -> PageTable:
    """Why the unit's whistles were rejected, each count linking to exactly those cases."""
    base = cases_url(
        key="rejected_share", part="numerator", unit_type=unit_type, unit_id=unit_id, period=period
    )
    rows = [
        [
            Cell(reason, text=reason_label(reason) or _("(no reason given)")),
            Cell(count, url=f"{base}&{urlencode({'reason': reason})}", css="kpi-count"),
        ]
        for reason, count in reasons
    ]
    return PageTable(
        name="reasons",
        title=_("Why whistles were rejected"),
        headers=[_("Reason"), _("Whistles")],
        rows=rows,
    )


def red_table(cases: list) -> PageTable:
    rows = []
    for case in cases:
        due = getattr(case, "overdue_since", None) or getattr(case, "light_due_at", None)
        rows.append(
            [
                Cell(value=case.number, url=case_detail_url(case.pk), css="case-number"),
                Cell(value=case.item.name),
                Cell(value=case.village.name),
                Cell(value=case.grid.name),
                Cell(value=case.get_status_display()),
                Cell(value=case.get_level_display()),
                Cell(
                    value=due,
                    text=date_format(timezone.localtime(due), "Y-m-d H:i") if due else "—",
                ),
            ]
        )
    return PageTable(
        name="red-overdue",
        title=_("Red and overdue"),
        headers=[
            _("Number"),
            _("Item"),
            level_name("village", capital=True),
            _("Grid"),
            _("Status"),
            _("Level"),
            _("Due"),
        ],
        rows=rows,
    )


def ranking_table(rows: list, *, unit_type: str, period) -> PageTable:
    """Rank, unit, score (and the towns' evaluation for departments), then each indicator."""
    labels: dict[str, str] = {}
    with_evaluation = unit_type == "department"
    body = []
    for row in rows:
        labels.update({key: str(ind.label) for key, ind in row.indicators.items()})
        cells = [
            Cell(value=row.rank),
            Cell(
                value=row.unit_name,
                url=reverse("assessment:unit", args=[unit_type, row.unit_id])
                + "?"
                + query_string(**period_params(period)),
            ),
            Cell(
                value=None if row.score is None else round(float(row.score), 2),
                text="—" if row.score is None else f"{float(row.score):.2f}",
                css="score",
            ),
        ]
        if with_evaluation:
            evaluation = getattr(row, "town_evaluation", None)
            cells.append(
                Cell(
                    value=None if evaluation is None else round(float(evaluation), 2),
                    text="—" if evaluation is None else f"{float(evaluation):.2f}",
                )
            )
        for key in KPI_KEYS:
            indicator = row.indicators.get(key)
            if indicator is None:
                cells.append(Cell(value=None, text="—"))
                continue
            cells.append(
                indicator_cell(
                    kpi(indicator, unit_type=unit_type, unit_id=row.unit_id, period=period)
                )
            )
        body.append(cells)
    headers = [_("Rank"), str(UNIT_TYPE_LABELS[unit_type]), _("Score")]
    if with_evaluation:
        headers.append(_("%(Towns)s' evaluation") % level_words())
    headers += indicator_headers(KPI_KEYS, labels)
    return PageTable(
        name=f"ranking-{unit_type}",
        title=_("Ranking: %(units)s") % {"units": ranked_labels().get(unit_type, unit_type)},
        headers=headers,
        rows=body,
    )


def rows_within(rows: list, *, unit_type: str, parent: Unit) -> list:
    """Keep the ranked units that lie in the report's unit: a town's villages and teams, a
    city's towns and departments, a prefecture's cities and departments (whoever oversees
    several cities ranks them all otherwise)."""
    ids = [row.unit_id for row in rows]
    if parent.type in ("city", "prefecture"):
        cities = (
            [parent.id]
            if parent.type == "city"
            else list(Region.objects.filter(parent_id=parent.id).values_list("pk", flat=True))
        )
        if unit_type in ("city", "town"):
            inside = set(
                Region.objects.filter(pk__in=ids, level=unit_type)
                .filter(Q(pk__in=cities) | Q(parent_id__in=cities))
                .values_list("pk", flat=True)
            )
        elif unit_type == "department":
            inside = set(
                Department.objects.filter(pk__in=ids)
                .filter(Q(region_id__in=cities) | Q(region__parent_id__in=cities))
                .values_list("pk", flat=True)
            )
        else:
            return rows
        return [row for row in rows if row.unit_id in inside]
    if parent.type != "town":
        return rows
    if unit_type == "village":
        inside = set(
            Region.objects.filter(pk__in=ids, parent_id=parent.id).values_list("pk", flat=True)
        )
    elif unit_type == "team":
        inside = set(
            teams_serving(towns=[parent.id]).filter(pk__in=ids).values_list("pk", flat=True)
        )
    else:
        return rows
    return [row for row in rows if row.unit_id in inside]


def default_report_unit(*, user: User, unit_type: str, home: tuple[str, int]) -> int:
    """The report's unit when none is named: the user's town, or their city."""
    home_type, home_id = home
    if unit_type == home_type:
        return home_id
    if unit_type == "prefecture":
        raise Http404()  # only a prefecture's own overseers
    scope = scope_of(user)
    if unit_type == "town":
        towns = scope.regions_of(Role.TOWN_COMMITTEE)
        if towns:
            return min(towns)
        below = {"city": "parent_id", "prefecture": "parent__parent_id"}.get(home_type)
        first = (
            Region.objects.filter(level="town", **{below: home_id}).order_by("code").first()
            if below
            else None
        )
        if first is None:
            raise Http404()
        return first.pk
    cities = scope.regions_of(*CITY_ROLES)
    if cities:
        return min(cities)
    raise PermissionDenied(
        _("The %(city)s's report is for %(city)s staff and supervisors.") % level_words()
    )


def report_counties(*, unit: Unit) -> list[tuple[int, str]]:
    """The cities a prefecture's report links to (four levels), for choosing a city's report."""
    if unit.type != "prefecture":
        return []
    return [
        (city.pk, city.name)
        for city in Region.objects.filter(level="city", parent_id=unit.id).order_by("code")
    ]


def report_towns(*, unit: Unit) -> list[tuple[int, str]]:
    """The towns a city report links to, for choosing a town's report."""
    if unit.type != "city":
        return []
    return [
        (town.pk, town.name)
        for town in Region.objects.filter(level="town", parent_id=unit.id).order_by("code")
    ]


# --- hot spots -------------------------------------------------------------------------------


class ItemFilterForm(forms.Form):
    item = forms.TypedChoiceField(
        label=gettext_lazy("Checklist item"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", gettext_lazy("All items"))]
        for aspect, items in items_by_aspect():
            choices.append((aspect, [(str(pk), name) for pk, name in items]))
        self.fields["item"].choices = choices


def item_filter(query) -> ItemFilterForm:
    return ItemFilterForm(query)


def hot_spot_table(found: list[dict], *, period, item_id: int | None) -> PageTable:
    """Grids by count, with their most frequent items; counts link to the case list."""
    rows = []
    base = {
        "filed_from": period.start.isoformat(),
        "filed_to": period.last_day.isoformat(),
        "taken_up": "on",
    }
    for spot in found:
        top = spot["items"][: spots_top()]
        rows.append(
            [
                Cell(value=spot["code"]),
                Cell(value=spot["name"]),
                Cell(
                    value=spot["total"],
                    url=_case_list_url(grid=spot["code"], item=item_id or "", **base),
                    css="kpi-count",
                ),
                Cell(
                    value="; ".join(f"{entry['name']} ({entry['count']})" for entry in top),
                    links=[
                        CountLink(
                            count=entry["count"],
                            url=_case_list_url(grid=spot["code"], item=entry["item_id"], **base),
                            part=entry["name"],
                        )
                        for entry in top
                    ],
                    css="top-items",
                ),
            ]
        )
    return PageTable(
        name="hotspots",
        title=_("Hot spots"),
        headers=[_("Grid code"), _("Grid"), _("Cases"), _("Most frequent items")],
        rows=rows,
    )


def spots_top() -> int:
    return TOP_ITEMS


def _case_list_url(**params: object) -> str:
    try:
        return reverse("cases:list") + "?" + query_string(**params)
    except NoReverseMatch:
        return ""


def tile_settings() -> dict[str, str]:
    return {
        "url": settings.WHISTLE_TILE_URL,
        "attribution": settings.WHISTLE_TILE_ATTRIBUTION,
        "crs": settings.WHISTLE_TILE_CRS,
    }


# --- the town's evaluation -------------------------------------------------------------------


def evaluating_towns(*, user: User) -> list[Region]:
    ids = scope_of(user).regions_of(Role.TOWN_COMMITTEE)
    return list(Region.objects.filter(pk__in=ids, level="town").order_by("code"))


def evaluable_departments(*, towns: list[Region]):
    regions = {town.pk for town in towns} | {town.parent_id for town in towns}
    return Department.objects.filter(region_id__in=regions).order_by("code")


def town_evaluations(*, towns: list[Region], month: date) -> list:
    return list(
        TownEvaluation.current()
        .filter(town__in=towns, month=month)
        .select_related("department", "evaluated_by")
        .order_by("department__code")
    )


def month_from(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:7] + "-01")
    except ValueError:
        return None
