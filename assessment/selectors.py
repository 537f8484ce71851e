"""What the dashboards read: indicators, rankings, trends, lists — within the user's scope.

A unit outside the user's scope does not exist for them (Http404). Every function reads the
fact tables with a bounded number of aggregate queries, whatever the number of cases.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Case as Choose
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone

from assessment import indicators as formulas
from assessment import scoring
from assessment.indicators import UNIT_TYPES, Indicator
from assessment.models import CaseFact, ClosureCorrection, DispatchFact, FactMonth, PeriodCounts
from assessment.periods import Period, period_for, previous
from cases import timers
from cases.access import scope_of, visible_cases
from cases.models import OPEN_STATUSES, Case, Deadline
from cases.rejections import RejectionReason, reason_text
from teams.levels import PREFECTURE, on_chain
from teams.models import Department, Grid, Region, Role, Team, User
from teams.service_areas import teams_serving, teams_within

__all__ = [
    "UNIT_TYPES",
    "Indicator",
    "RankRow",
    "cases_behind",
    "count_periods",
    "fact_states",
    "indicators",
    "indicators_over",
    "level_distribution",
    "ranking",
    "reason_label",
    "red_and_overdue",
    "rejected_for",
    "rejection_reasons",
    "stored_period_counts",
    "trend",
    "units_in_scope",
]

# The roles that read a whole city's assessment; the prefecture committee's (four levels, held
# at a prefecture) reads each city below it, as a supervisor held there does (cases.access).
CITY_ROLES = (Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE, Role.SUPERVISOR, Role.ADMIN)
# Counted indicators are kept this long at most, even if a month's token change was lost.
COUNTS_CACHE_SECONDS = 600
COUNTS_VERSION = 4  # bump when what is counted changes
# The overview's trend: this many periods of the chosen kind up to the chosen one.
TREND_COUNT = 12


@dataclass
class RankRow:
    unit_id: int
    unit_name: str
    score: float | None
    rank: int | None
    indicators: dict[str, Indicator]
    town_evaluation: float | None = None
    indicator_score: float | None = None
    deductions: float = 0.0
    extra: dict = field(default_factory=dict)


# --- scope ----------------------------------------------------------------------------------


def units_in_scope(*, user: User, unit_type: str) -> QuerySet:
    """The units of this type the user may look at: the whole city for the city's committee,
    supervisors and administrators (every city below it, and the prefecture itself, for those
    held at a prefecture and for the prefecture's committee, four levels); a town and what
    lies in it for its committee; a village and its grids for its officers; their own team,
    department or grids otherwise."""
    if unit_type not in UNIT_TYPES:
        raise Http404()
    scope = scope_of(user) if user.is_authenticated and user.is_active else None
    if scope is None:
        return Region.objects.none()
    cities = scope.regions_of(*CITY_ROLES)
    towns = scope.regions_of(Role.TOWN_COMMITTEE)
    villages = scope.regions_of(Role.VILLAGE_OFFICER)
    grids = scope.grids.get(Role.GRID_WORKER, frozenset())
    teams = scope.teams.get(Role.TEAM_CAPTAIN, frozenset()) | scope.teams.get(
        Role.TEAM_MEMBER, frozenset()
    )
    departments = scope.departments.get(Role.DEPARTMENT_LIAISON, frozenset())
    if unit_type == "prefecture":
        held = (scope.prefectures.get(role, frozenset()) for role in CITY_ROLES)
        prefectures = frozenset().union(*held)
        return Region.objects.filter(level=Region.Level.PREFECTURE, pk__in=prefectures)
    if unit_type == "city":
        return Region.objects.filter(level=Region.Level.CITY, pk__in=cities)
    if unit_type == "town":
        return Region.objects.filter(
            Q(parent_id__in=cities) | Q(pk__in=towns), level=Region.Level.TOWN
        )
    if unit_type == "village":
        return Region.objects.filter(
            Q(parent__parent_id__in=cities) | Q(parent_id__in=towns) | Q(pk__in=villages),
            level=Region.Level.VILLAGE,
        )
    grid_condition = (
        Q(village__parent__parent_id__in=cities)
        | Q(village__parent_id__in=towns)
        | Q(village_id__in=villages)
        | Q(pk__in=grids)
    )
    if unit_type == "grid":
        return Grid.objects.filter(grid_condition)
    if unit_type == "team":
        return Team.objects.filter(
            Q(pk__in=teams_within(cities=cities).values("pk"))
            | Q(pk__in=teams_serving(towns=towns).values("pk"))
            | Q(pk__in=teams)
        )
    if unit_type == "department":
        return Department.objects.filter(
            Q(region_id__in=cities)
            | Q(region__parent_id__in=cities)
            | Q(region_id__in=towns)
            | Q(pk__in=departments)
        )
    # grid_worker: the grid workers of the grids in scope (and oneself).
    return User.objects.filter(
        Q(pk=user.pk, memberships__role=Role.GRID_WORKER)
        | Q(
            memberships__role=Role.GRID_WORKER,
            memberships__grid__in=Grid.objects.filter(grid_condition),
        )
    ).distinct()


def _unit(*, user: User, unit_type: str, unit_id: int | None) -> int:
    """The unit id if the user may see it (the user's city when a city is asked without an
    id); Http404 otherwise."""
    allowed = units_in_scope(user=user, unit_type=unit_type)
    if unit_id is None:
        if unit_type != "city":
            raise Http404()
        first = allowed.order_by("pk").values_list("pk", flat=True).first()
        if first is None:
            raise Http404()
        return first
    if not allowed.filter(pk=unit_id).exists():
        raise Http404()
    return int(unit_id)


def _params(unit_type: str, unit_id: int, period: Period) -> dict[str, str]:
    return {"unit_type": unit_type, "unit_id": str(unit_id), **period.as_params()}


# --- indicators -----------------------------------------------------------------------------


def indicators(
    *, user: User, unit_type: str, unit_id: int | None, period: Period
) -> dict[str, Indicator]:
    """Every indicator of one unit and period (four aggregate queries on the facts)."""
    unit_id = _unit(user=user, unit_type=unit_type, unit_id=unit_id)
    return _computed_periods(unit_type=unit_type, unit_id=unit_id, periods=[period])[period]


def level_distribution(
    *,
    user: User,
    unit_type: str,
    unit_id: int | None,
    period: Period,
    values: dict[str, Indicator] | None = None,
) -> dict:
    """Shares of closed cases by who solved them (the village itself, the town's teams, a
    committee's consultation), with the 70/20/10 targets and counts, and, as "closing_levels",
    the level view (the administrative level they closed at, no target; the prefecture's only
    where its committee is on the escalation chain); `values` are the period's indicators when
    the caller already has them."""
    if values is None:
        values = indicators(user=user, unit_type=unit_type, unit_id=unit_id, period=period)
    closed = values["solved_by_village_share"].denominator
    result: dict = {"closed": closed, "levels": {}, "closing_levels": {}}
    for solver, target in formulas.SOLVER_TARGETS.items():
        indicator = values[f"solved_by_{solver}_share"]
        result["levels"][solver] = {
            "count": indicator.numerator,
            "share": indicator.value,
            "target": target,
            "indicator": indicator,
        }
    for level in _closing_levels():
        indicator = values[f"level_{level}_share"]
        result["closing_levels"][level] = {
            "count": indicator.numerator,
            "share": indicator.value,
            "indicator": indicator,
        }
    result["shares"] = {level: row["share"] for level, row in result["levels"].items()}
    result["targets"] = dict(formulas.SOLVER_TARGETS)
    result["counts"] = {level: row["count"] for level, row in result["levels"].items()}
    return result


def _closing_levels() -> tuple[str, ...]:
    """The levels of the level view: the prefecture's too where a case can climb to its
    committee (four levels, teams.levels.on_chain), so three levels see what they always saw."""
    return ("village", "town", "city", *((PREFECTURE,) if on_chain(PREFECTURE) else ()))


def trend(
    *, user: User, unit_type: str, unit_id: int | None, kind: str, count: int, anchor: date
) -> list[tuple[Period, dict[str, Indicator]]]:
    """The last `count` periods of this kind up to the one holding `anchor`, oldest first."""
    unit_id = _unit(user=user, unit_type=unit_type, unit_id=unit_id)
    periods = trend_periods(kind=kind, count=count, anchor=anchor)
    computed = _computed_periods(unit_type=unit_type, unit_id=unit_id, periods=periods)
    return [(period, computed[period]) for period in periods]


def overview_periods(*, kind: str, anchor: date) -> list[Period]:
    """Every period the overview of the period of this kind holding `anchor` shows: its trend
    (which ends with it) and the period before it."""
    periods = trend_periods(kind=kind, count=TREND_COUNT, anchor=anchor)
    return [*periods, previous(periods[-1])]


def trend_periods(*, kind: str, count: int, anchor: date) -> list[Period]:
    """The last `count` (1 to 60) periods of this kind up to the one holding `anchor`, oldest
    first."""
    count = max(1, min(int(count), 60))
    periods = [period_for(kind, anchor)]
    while len(periods) < count:
        periods.append(previous(periods[-1]))
    periods.reverse()
    return periods


def indicators_over(
    *, user: User, unit_type: str, unit_id: int | None, periods: list[Period]
) -> dict[Period, dict[str, Indicator]]:
    """The indicators of one unit for several periods at once (the overview's period, the one
    before and the trend): a region's counts for all of them in four grouped queries."""
    unit_id = _unit(user=user, unit_type=unit_type, unit_id=unit_id)
    return _computed_periods(
        unit_type=unit_type, unit_id=unit_id, periods=list(dict.fromkeys(periods))
    )


def _computed_periods(
    *, unit_type: str, unit_id: int, periods: list[Period]
) -> dict[Period, dict[str, Indicator]]:
    """The indicators of each period: from the cache while none of the period's months had a
    fact written since they were counted; else from the counts the worker stored, while they
    are current or young enough (PeriodCounts); else counted now (grouped when the periods are
    disjoint) and kept in the cache."""
    states = fact_states(periods)
    keys = {period: counts_key(unit_type, unit_id, period, states[period]) for period in periods}
    cached = cache.get_many(list(keys.values()))
    counts = {period: cached[keys[period]] for period in periods if keys[period] in cached}
    behind: dict[Period, datetime] = {}
    missing = [period for period in periods if period not in counts]
    if missing:
        for period, (stored, counted_at) in _stored_counts(
            unit_type, unit_id, missing, states
        ).items():
            counts[period] = stored
            if counted_at is not None:
                behind[period] = counted_at
        missing = [period for period in missing if period not in counts]
    if missing:
        counts.update(count_periods(unit_type, unit_id, missing))
        cache.set_many(
            {keys[period]: counts[period] for period in missing},
            COUNTS_CACHE_SECONDS,
        )
    return {
        period: formulas.build(
            counts[period],
            params=_params(unit_type, unit_id, period),
            counted_at=behind.get(period),
        )
        for period in periods
    }


def _stored_counts(
    unit_type: str, unit_id: int, periods: list[Period], states: dict[Period, str]
) -> dict[Period, tuple[dict, datetime | None]]:
    """The stored counts of these periods that are current (with None), or stale but counted
    less than WHISTLE_COUNTS_STALE_SECONDS ago (with when; the worker recounts them
    meanwhile)."""
    stale_seconds = settings.WHISTLE_COUNTS_STALE_SECONDS
    youngest = timezone.now() - timedelta(seconds=stale_seconds)
    by_range = {(period.start, period.end): period for period in periods}
    rows = stored_period_counts(unit_type=unit_type, unit_id=unit_id, periods=periods).values_list(
        "start", "end", "counts", "state", "counted_at"
    )
    found = {}
    for start, end, counts, state, counted_at in rows:
        period = by_range.get((start, end))
        if period is None:
            continue
        if state == states[period]:
            found[period] = (counts, None)
        elif stale_seconds > 0 and counted_at >= youngest:
            found[period] = (counts, counted_at)
    return found


def stored_period_counts(
    *, unit_type: str, unit_id: int, periods: list[Period]
) -> QuerySet[PeriodCounts]:
    """The stored counts of one unit for these periods (and, rarely, a few more rows: those
    whose start and end each match some period; callers match them by range)."""
    return PeriodCounts.objects.filter(
        unit_type=unit_type,
        unit_id=unit_id,
        start__in={period.start for period in periods},
        end__in={period.end for period in periods},
    )


def count_periods(unit_type: str, unit_id: int, periods: list[Period]) -> dict[Period, dict]:
    """Count these periods of one unit from the fact tables (the expensive part)."""
    if not periods:
        return {}
    if unit_type not in formulas.REGION_FIELDS or _overlapping(periods):
        return {
            period: formulas.compute(
                unit_type=unit_type, unit_id=unit_id, period=period, params={}
            )["counts"]
            for period in periods
        }
    grouped = _grouped_by_period(unit_type, unit_id, periods)
    return dict(zip(periods, grouped, strict=True))


def _months_of(period: Period) -> list[date]:
    months = []
    month = period.start.replace(day=1)
    while month < period.end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def fact_states(periods: list[Period]) -> dict[Period, str]:
    """The state of each period's facts, made of the tokens of its months (FactMonth): every
    write of a month's facts gives it a new token, so a state stands for one version of the
    facts. A month without a token has had no fact written since tokens exist; its first
    write gives it one, which changes the state."""
    wanted = {month for period in periods for month in _months_of(period)}
    tokens = dict(FactMonth.objects.filter(month__in=wanted).values_list("month", "token"))
    states: dict[Period, str] = {}
    for period in periods:
        state = ".".join(
            tokens[month].hex if month in tokens else "-" for month in _months_of(period)
        )
        states[period] = hashlib.sha1(state.encode(), usedforsecurity=False).hexdigest()
    return states


def counts_key(unit_type: str, unit_id: int, period: Period, state: str) -> str:
    """The cache key of a period's counts in one state of its facts."""
    return (
        f"assessment:counts:{COUNTS_VERSION}:{unit_type}:{unit_id}:"
        f"{period.start.isoformat()}:{period.end.isoformat()}:{state}"
    )


def _overlapping(periods: list[Period]) -> bool:
    ordered = sorted(periods, key=lambda period: period.start)
    return any(a.end > b.start for a, b in pairwise(ordered))


def _bucket(field_name: str, periods: list[Period]) -> Choose:
    """Which of the (disjoint) periods a timestamp falls in, as the period's index."""
    return Choose(
        *[
            When(
                **{f"{field_name}__gte": period.start_at, f"{field_name}__lt": period.end_at},
                then=Value(index),
            )
            for index, period in enumerate(periods)
        ],
        default=None,
        output_field=IntegerField(),
    )


def _period_end(periods: list[Period]) -> Choose:
    """The end of the period each case fact falls in (by its filing), per row: a period counts
    what happened before its end (formulas.case_conditions, as_of)."""
    return Choose(
        *[
            When(
                filed_at__gte=period.start_at, filed_at__lt=period.end_at, then=Value(period.end_at)
            )
            for period in periods
        ],
        default=None,
        output_field=DateTimeField(),
    )


def _grouped_by_period(unit_type: str, unit_id: int, periods: list[Period]) -> list[dict]:
    """The counts `formulas.compute` gives for each period, grouped by period: one pass over
    the unit's facts of the whole span per kind of count instead of one per period."""
    column = formulas.REGION_FIELDS[unit_type]
    start = min(period.start_at for period in periods)
    end = max(period.end_at for period in periods)
    counts: list[dict] = [{"c_measured": 0} for _ in periods]
    cases = CaseFact.objects.filter(
        filed_at__gte=start, filed_at__lt=end, **{column: unit_id}
    ).annotate(period_index=_bucket("filed_at", periods), period_end=_period_end(periods))
    dispatches = DispatchFact.objects.filter(
        dispatched_at__gte=start, dispatched_at__lt=end, **{column: unit_id}
    ).annotate(period_index=_bucket("dispatched_at", periods))
    for facts, aggregates in (
        (cases, formulas.case_aggregates(as_of=F("period_end"))),
        (dispatches, formulas.dispatch_aggregates()),
    ):
        rows = (
            facts.filter(period_index__isnull=False)
            .values("period_index")
            .annotate(**aggregates)
            .order_by()
        )
        for row in rows:
            counts[row.pop("period_index")].update(row)
    measured = cases.filter(
        formulas.case_conditions(as_of=F("period_end"))["measured"], period_index__isnull=False
    )
    tails = _tails(measured, "period_index")
    for index in range(len(periods)):
        counts[index]["p90_seconds"], counts[index]["c_slow_tail"] = tails.get(index, (None, 0))
    return counts


def cases_behind(
    *,
    user: User,
    indicator_key: str,
    part: str,
    unit_type: str,
    unit_id: int | None,
    period: Period,
) -> QuerySet[Case]:
    """Exactly the cases counted by one side of an indicator (Http404 for an unknown one)."""
    unit_id = _unit(user=user, unit_type=unit_type, unit_id=unit_id)
    if indicator_key not in formulas.FORMULAS or part not in ("numerator", "denominator"):
        raise Http404()
    p90 = None
    if indicator_key == "p90_handling_hours" and part == "numerator":
        p90 = formulas.compute(unit_type=unit_type, unit_id=unit_id, period=period, params={})[
            "counts"
        ]["p90_seconds"]
    return formulas.behind(
        indicator_key=indicator_key,
        part=part,
        unit_type=unit_type,
        unit_id=unit_id,
        period=period,
        p90_seconds=p90,
    )


# The indicator whose numerator the rejection reasons break down (whistle quality).
REJECTED_KEY = "rejected_share"


def rejection_reasons(
    *, user: User, unit_type: str, unit_id: int | None, period: Period, top: int = 10
) -> list[tuple[str, int]]:
    """Why a unit's whistles were rejected (merged duplicates apart): each reason as the
    village officer wrote it or took it from a template, most frequent first. Each count is
    the length of `rejected_for(reason=...)` over the same cases (the drill-down)."""
    rejected = cases_behind(
        user=user,
        indicator_key=REJECTED_KEY,
        part="numerator",
        unit_type=unit_type,
        unit_id=unit_id,
        period=period,
    )
    rows = (
        rejected.order_by()
        .values("rejection_code", "rejection_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "rejection_code", "rejection_reason")[:top]
    )
    return [(_reason_key(row["rejection_code"], row["rejection_reason"]), row["n"]) for row in rows]


# A reason as one key (a link's parameter): "<code>|<own words>" for a common reason chosen by
# its code, the words alone for the reasons written before the codes.
def _reason_key(code: str, text: str) -> str:
    return f"{code}|{text}" if code else text


def _split_reason(key: str) -> tuple[str, str]:
    code, bar, text = key.partition("|")
    return (code, text) if bar and code in RejectionReason.values else ("", key)


def reason_label(key: str) -> str:
    """A reason key in the reader's language."""
    code, text = _split_reason(key)
    return reason_text(code=code, text=text)


def rejected_for(cases: QuerySet[Case], *, reason: str) -> QuerySet[Case]:
    """The rejected whistles of one reason, among the cases behind the rejected share."""
    code, text = _split_reason(reason)
    return cases.filter(rejection_code=code, rejection_reason=text)


# --- rankings -------------------------------------------------------------------------------


def _names(unit_type: str, ids: list[int]) -> dict[int, str]:
    if unit_type == "grid_worker":
        return {
            user.pk: user.get_full_name() or user.get_username()
            for user in User.objects.filter(pk__in=ids)
        }
    model = {"team": Team, "department": Department, "grid": Grid}.get(unit_type, Region)
    return {row.pk: row.name for row in model.objects.filter(pk__in=ids)}


def _grouped(
    unit_type: str, unit_ids: list[int], period: Period, facts: formulas.Facts | None = None
) -> dict[int, dict]:
    """Counts of every region-like unit in a few grouped queries."""
    facts = facts or formulas.live_facts()
    column = formulas.REGION_FIELDS[unit_type]
    counts: dict[int, dict] = {unit_id: {} for unit_id in unit_ids}
    cases = facts.cases.filter(
        filed_at__gte=period.start_at, filed_at__lt=period.end_at, **{f"{column}__in": unit_ids}
    )
    aggregates = formulas.case_aggregates(as_of=period.end_at, facts=facts)
    for row in cases.values(column).annotate(**aggregates).order_by():
        counts[row.pop(column)].update(row)
    dispatches = facts.dispatches.filter(
        dispatched_at__gte=period.start_at,
        dispatched_at__lt=period.end_at,
        **{f"{column}__in": unit_ids},
    )
    for row in dispatches.values(column).annotate(**formulas.dispatch_aggregates()).order_by():
        counts[row.pop(column)].update(row)
    measured = cases.filter(formulas.case_conditions(as_of=period.end_at)["measured"])
    for unit_id, (p90, slow) in _tails(measured, column).items():
        counts[unit_id]["p90_seconds"], counts[unit_id]["c_slow_tail"] = p90, slow
    return counts


def _grouped_p90(
    measured: QuerySet, column: str, seconds: str = "handling_seconds"
) -> dict[int, float]:
    if connection.vendor == "postgresql":
        rows = (
            measured.values(column).annotate(p90=formulas.PercentileCont(seconds, 0.9)).order_by()
        )
        return {row[column]: row["p90"] for row in rows}
    # SQLite (development): the values of each unit, read once in order.
    values: dict[int, list[int]] = {}
    for unit_id, value in measured.order_by(column, seconds).values_list(column, seconds):
        values.setdefault(unit_id, []).append(value)
    result = {}
    for unit_id, series in values.items():
        position = 0.9 * (len(series) - 1)
        low = int(position)
        high = min(low + 1, len(series) - 1)
        result[unit_id] = series[low] + (series[high] - series[low]) * (position - low)
    return result


def _tails(
    measured: QuerySet, column: str, seconds: str = "handling_seconds"
) -> dict[int, tuple[float, int]]:
    """Per group: the 90th percentile of the measured handling times and how many cases took
    at least that long (the slow tail), in two grouped queries."""
    thresholds = _grouped_p90(measured, column, seconds)
    if not thresholds:
        return {}
    threshold = Choose(
        *[When(**{column: key}, then=p90) for key, p90 in thresholds.items()], default=None
    )
    slow = (
        measured.annotate(threshold=threshold)
        .filter(**{f"{seconds}__gte": F("threshold")})
        .values(column)
        .annotate(n=Count("pk"))
        .order_by()
    )
    counted = {row[column]: row["n"] for row in slow}
    return {key: (p90, counted.get(key, 0)) for key, p90 in thresholds.items()}


def _grouped_handlers(
    unit_type: str, unit_ids: list[int], period: Period, facts: formulas.Facts | None = None
) -> dict[int, dict]:
    """The counts `formulas.compute` gives each team or department, in a few grouped queries.

    A unit's cases are those with a dispatch of its still standing (not cancelled, not handed
    back): each counted once, through the first such dispatch, so a case dispatched twice to
    the same unit is not counted twice."""
    facts = facts or formulas.live_facts()
    column = formulas.HANDLER_FIELDS[unit_type]
    counts: dict[int, dict] = {unit_id: {} for unit_id in unit_ids}
    standing = facts.dispatches.filter(cancelled=False, returned=False)
    # The period's cases were dispatched after it began: the dispatch facts' months from then
    # on alone (formulas.dispatched_from; cases.partitions).
    sent_since = formulas.dispatched_from(period.start_at)
    first = standing.filter(
        sent_since,
        case_fact__filed_at__gte=period.start_at,
        case_fact__filed_at__lt=period.end_at,
        **{f"{column}__in": unit_ids},
    ).exclude(
        Exists(
            standing.filter(
                sent_since,
                case_fact_id=OuterRef("case_fact_id"),
                pk__lt=OuterRef("pk"),
                **{column: OuterRef(column)},
            )
        )
    )
    prefix = "case_fact__"
    aggregates = formulas.case_aggregates(
        prefix, handler=(unit_type, None), as_of=period.end_at, since=period.start_at, facts=facts
    )
    for row in first.values(column).annotate(**aggregates).order_by():
        counts[row.pop(column)].update(row)
    # Failed verifications charged to the unit: those of its own dispatches (any of them) in
    # the cases it is counted for.
    counted = standing.filter(
        sent_since, case_fact_id=OuterRef("case_fact_id"), **{column: OuterRef(column)}
    )
    charged = facts.dispatches.filter(
        sent_since,
        Exists(counted),
        case_fact__filed_at__gte=period.start_at,
        case_fact__filed_at__lt=period.end_at,
        case_fact__rejected=False,
        **{f"{column}__in": unit_ids},
    )
    for unit_id in unit_ids:
        counts[unit_id]["c_rework_events"] = 0
    for row in charged.values(column).annotate(n=Sum("rework_count")).order_by():
        counts[row[column]]["c_rework_events"] = row["n"] or 0
    dispatches = facts.dispatches.filter(
        dispatched_at__gte=period.start_at,
        dispatched_at__lt=period.end_at,
        **{f"{column}__in": unit_ids},
    )
    for row in dispatches.values(column).annotate(**formulas.dispatch_aggregates()).order_by():
        counts[row.pop(column)].update(row)
    measured = first.filter(formulas.case_conditions(prefix, as_of=period.end_at)["measured"])
    tails = _tails(measured, column, prefix + "handling_seconds")
    for unit_id in unit_ids:
        counts[unit_id]["p90_seconds"], counts[unit_id]["c_slow_tail"] = tails.get(
            unit_id, (None, 0)
        )
    return counts


def ranking(
    *,
    user: User,
    unit_type: str,
    period: Period,
    facts: formulas.Facts | None = None,
    scheme: "scoring.SchemeLike | type[scoring.InForce] | None" = scoring.InForce,
    unit_ids: list[int] | None = None,
) -> list[RankRow]:
    """The units of this type in the user's scope (or `unit_ids`), scored by the scheme valid
    for the period (or `scheme`, a policy-lab scenario's) and ranked (best first; equal scores
    share a rank; units without a score come last). `facts`: a replay's facts instead of the
    live ones.

    Every unit's counts come from a few grouped queries (`_grouped`, `_grouped_handlers`),
    the same numbers `formulas.compute` gives one unit."""
    if unit_ids is None:
        unit_ids = list(units_in_scope(user=user, unit_type=unit_type).values_list("pk", flat=True))
    if unit_type in formulas.REGION_FIELDS:
        counts = _grouped(unit_type, unit_ids, period, facts=facts)
    else:
        counts = _grouped_handlers(unit_type, unit_ids, period, facts=facts)
    if scheme is scoring.InForce:
        scheme = scoring.scheme_for(period)
    evaluations = (
        scoring.town_evaluations(department_ids=unit_ids, period=period)
        if unit_type == "department"
        else {}
    )
    names = _names(unit_type, unit_ids)
    rows = []
    for unit_id in unit_ids:
        values = formulas.build(counts[unit_id], params=_params(unit_type, unit_id, period))
        result = scoring.score(
            scheme=scheme,
            indicators=values,
            counts=counts[unit_id],
            town_evaluation=evaluations.get(unit_id),
        )
        rows.append(
            RankRow(
                unit_id=unit_id,
                unit_name=names.get(unit_id, str(unit_id)),
                score=result.total,
                rank=None,
                indicators=values,
                town_evaluation=result.town_evaluation,
                indicator_score=result.indicator_score,
                deductions=result.deductions,
            )
        )
    rows.sort(key=lambda row: (row.score is None, -(row.score or 0), row.unit_name))
    previous_score, previous_rank = None, 0
    for position, row in enumerate(rows, start=1):
        if row.score is None:
            continue
        if row.score != previous_score:
            previous_rank, previous_score = position, row.score
        row.rank = previous_rank
    return rows


# --- lists ----------------------------------------------------------------------------------


RED_FIRST_CHUNK = 500  # running clocks past due read per query at first; doubled each time


def red_and_overdue(*, user: User, limit: int) -> list[Case]:
    """Open visible cases with a running deadline past due (red light), the longest overdue
    first; `overdue_since` is the earliest such due time.

    The cost follows the list, not the history: the running clocks past due are read in due
    order from their own index, a chunk at a time (a case first met there is at its earliest
    due time), the user's scope and the open status are checked on those cases by primary key,
    and reading stops once `limit` cases are found; only the listed cases are loaded."""
    now = timezone.now()
    limit = max(0, int(limit))
    # Only open cases are listed: their clocks lie in the months from the oldest open case's
    # on, and the older months' partitions are left out of the plan (cases.partitions).
    since = timers.running_since()
    if since is None:
        return []
    running = Deadline.objects.filter(
        timers.current_clock_condition(since=since),  # not a limit the case moved on from
        case_filed_at__gte=since,
        paused_at__isnull=True,
        due_at__lte=now,
    ).order_by("due_at", "case_id", "pk")
    shown: list[tuple[int, object]] = []
    seen: set[int] = set()
    after: tuple | None = None
    size = RED_FIRST_CHUNK
    while len(shown) < limit:
        page = running
        if after is not None:
            due, case_id, pk = after
            page = page.filter(
                Q(due_at__gte=due),  # where the index range starts
                Q(due_at__gt=due)
                | Q(due_at=due, case_id__gt=case_id)
                | Q(due_at=due, case_id=case_id, pk__gt=pk),
            )
        rows = list(page.values_list("due_at", "case_id", "pk")[:size])
        if not rows:
            break
        after = rows[-1]
        firsts = []
        for due, case_id, _pk in rows:
            if case_id not in seen:
                seen.add(case_id)
                firsts.append((case_id, due))
        if firsts:
            visible = set(
                visible_cases(user=user)
                .filter(status__in=OPEN_STATUSES, pk__in=[case_id for case_id, _due in firsts])
                .values_list("pk", flat=True)
            )
            shown += [row for row in firsts if row[0] in visible][: limit - len(shown)]
        if len(rows) < size:
            break
        size *= 2
    if not shown:
        return []
    cases = Case.objects.select_related("item", "grid", "village", "town").in_bulk(
        [case_id for case_id, _since in shown]
    )
    result = []
    for case_id, since in shown:
        case = cases[case_id]
        case.overdue_since = since
        result.append(case)
    return result


def corrected_case(*, user: User, number: str) -> Case | None:
    """The case of that number among those the user may see, or None."""
    return visible_cases(user=user).filter(number=number.strip()).first()


def closure_corrections(*, cases: QuerySet[Case], limit: int = 100) -> list[ClosureCorrection]:
    """The corrections (with their reasons) of these cases' closing, newest first: what
    changed a closed period's figures after the fact."""
    return list(
        ClosureCorrection.objects.filter(case__in=cases.values("pk"))
        .select_related("case", "recorded_by")
        .order_by("-recorded_at", "-pk")[:limit]
    )
