"""The indicators of docs/architecture.md, Facts and indicators, computed on the fact tables.

Which cases a period counts ("due")
-----------------------------------
A case is DUE in a period when it was FILED in that period and is not rejected (a rejected or
merged whistle was never for handling). Every case-based indicator counts the cases due in the
period, and the drill-down lists (`cases_behind`) filter on exactly the same conditions, so a
list always has as many cases as the number it explains. A period's rates therefore follow its
cohort of whistles: they move while that cohort is still being handled, and settle as it closes.

- on_time_closure_rate = closed on time / (due − suspended), of the cases FALLEN DUE: closed,
                         or overdue (a handling limit passed); an open case still within its
                         limits is out of the denominator until it closes or falls due
- closure_rate         = closed / (due − suspended)
- rework_rate          = reworked / due; for a team or department: the cases where a
                         resolution its own dispatch took part in failed verification (it had
                         reported in) / its cases: a unit on the case that never acted is not
                         charged with others' rework
- postponement_rate    = postponed / due
- response_rate        = DISPATCHES reported in on time / dispatches (counted in dispatches,
                         listed with their unit) (dispatched in the period,
                         not cancelled, not returned; one case dispatched twice to a team counts
                         twice)
- satisfaction_rate    = (satisfied + basically satisfied) / evaluated (among the due cases)
- on_the_spot_rate     = closed at village level / accepted (among the due cases)
- solved_by_*_share    = closed cases solved by the village itself / by the town's teams and
                         departments / by a consultation of a town, city or prefecture
                         committee, out of the closed cases: the practice's 70/20/10
                         (assessment.facts, solved_by)
- level_*_share        = closed at that administrative level / closed: the level view, with
                         no target (a case settled at a town consultation is a town case; the
                         prefecture's only where its committee is on the escalation chain)
- avg_handling_hours   = mean working hours from filing to resolution of the closed cases;
                         numerator and denominator are both the number of those cases
- p90_handling_hours   = the 90th percentile (continuous) of the same; numerator: the cases at
                         or above it (the slow tail)
- overruled_return_rate = returns (退回) the committee overruled / dispatches received (not
                         cancelled, returned or not): a unit that hands back what was its to do;
                         an upheld return is not held against it
- false_reply_rate     = dispatches whose reply a spot check's revisit (抽查) found false
                         (虚假回复) / dispatches spot-checked (a revisit recorded), by the date
                         of the dispatch that reported the case resolved
- rejected_share       = whistles rejected (not merged) / whistles filed (rejected included):
                         whistle quality of a village and of a grid worker (the reporter)
- merged_share         = whistles merged into the case they repeat / whistles filed
- supported_share      = whistles backed by at least one "me too" (附议) / whistles filed
- urge_rate            = dispatches urged (催办) / dispatches
- supervision_rate     = dispatches under a supervision order (督办) / dispatches
- supervision_late_rate = dispatches whose supervision order was met late / dispatches under a
                         supervision order

"due", "late", "accepted" and "suspended" are defined once in assessment.definitions (shown as
each indicator's help text, and in docs/architecture.md): a case parked (挂账) within its filing
month and its limits leaves the closure rates for good, so a closed month's figures do not move
when an old case is suspended or resumed later.
A team's or department's case-based indicators count the cases dispatched to it (a dispatch not
cancelled nor returned: an overruled return gives it a new dispatch), but charge it only with
what its own dispatch did (rework); a grid worker's count the cases they filed.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from assessment.models import CaseFact, DispatchFact, SolvedBy
from assessment.periods import Period
from cases.models import Case, Level, Satisfaction
from teams.levels import PREFECTURE, on_chain, with_levels

KEYS = (
    "on_time_closure_rate",
    "closure_rate",
    "rework_rate",
    "postponement_rate",
    "response_rate",
    "satisfaction_rate",
    "on_the_spot_rate",
    "level_village_share",
    "level_town_share",
    "level_city_share",
    "solved_by_village_share",
    "solved_by_team_share",
    "solved_by_consultation_share",
    "avg_handling_hours",
    "p90_handling_hours",
    "overruled_return_rate",
    "false_reply_rate",
    "rejected_share",
    "merged_share",
    "supported_share",
    "urge_rate",
    "supervision_rate",
    "supervision_late_rate",
)
# The level view's share of the prefecture (four levels): an indicator only where its committee
# is on the escalation chain (teams.levels.on_chain), so three levels count what they always
# did; it follows the city's (keys_in_use).
PREFECTURE_KEY = "level_prefecture_share"
# Pressed by the committees and the supervisors: urged, supervised, orders met late.
SUPERVISION_KEYS = KEYS[-3:]
# The rates a scoring scheme may weigh.
# Held against a unit that hands back a dispatch that was its own.
RETURN_KEYS = ("overruled_return_rate",)
# Held against a unit whose reply a spot check found false (虚假回复).
SPOT_CHECK_KEYS = ("false_reply_rate",)
# Whistle quality per village and grid worker: rejected, merged as duplicates, backed by others.
QUALITY_KEYS = ("rejected_share", "merged_share", "supported_share")
RATE_KEYS = (*KEYS[:7], *SUPERVISION_KEYS, *RETURN_KEYS, *SPOT_CHECK_KEYS, *QUALITY_KEYS)
# The practice's 70/20/10 is of who solved the case (solved_by_*_share), not of the level.
SOLVER_TARGETS = {"village": 0.7, "team": 0.2, "consultation": 0.1}
LEVEL_TARGETS = SOLVER_TARGETS

LABELS: dict[str, Promise] = {
    "on_time_closure_rate": _("On-time closure rate"),
    "closure_rate": _("Closure rate"),
    "rework_rate": _("Rework rate"),
    "postponement_rate": _("Postponement rate"),
    "response_rate": _("Response rate (dispatches reported in on time)"),
    "satisfaction_rate": _("Satisfaction rate"),
    "on_the_spot_rate": _("On-the-spot rate"),
    "level_village_share": with_levels(_("Closed at %(village)s level (level view)")),
    "level_town_share": with_levels(_("Closed at %(town)s level (level view)")),
    "level_city_share": with_levels(_("Closed at %(city)s level (level view)")),
    "level_prefecture_share": with_levels(_("Closed at %(prefecture)s level (level view)")),
    "solved_by_village_share": with_levels(_("Solved by the %(village)s itself")),
    "solved_by_team_share": with_levels(_("Solved by the %(town)s's teams")),
    "solved_by_consultation_share": _("Solved by a committee consultation"),
    "avg_handling_hours": _("Average handling time (working hours)"),
    "p90_handling_hours": _("90th percentile of handling time (working hours)"),
    "overruled_return_rate": _("Overruled returns"),
    "false_reply_rate": _("False replies found in spot checks"),
    "rejected_share": _("Rejected whistles"),
    "merged_share": _("Whistles merged as duplicates"),
    "supported_share": _("Whistles backed by a “me too”"),
    "urge_rate": _("Urged dispatches"),
    "supervision_rate": _("Dispatches under supervision"),
    "supervision_late_rate": _("Supervision orders met late"),
}
# Rates where less is better (scoring uses a ceiling for them).
LOWER_IS_BETTER = frozenset(
    {
        "rework_rate",
        "postponement_rate",
        *SUPERVISION_KEYS,
        *RETURN_KEYS,
        *SPOT_CHECK_KEYS,
        "rejected_share",
        "merged_share",
    }
)

# key: (source, numerator condition, denominator condition)
FORMULAS: dict[str, tuple[str, str, str]] = {
    "on_time_closure_rate": ("case", "closed_on_time", "fallen_due"),
    "closure_rate": ("case", "closed", "active"),
    "rework_rate": ("case", "reworked", "due"),
    "postponement_rate": ("case", "postponed", "due"),
    "response_rate": ("dispatch", "reported_on_time", "dispatched"),
    "satisfaction_rate": ("case", "satisfied", "evaluated"),
    "on_the_spot_rate": ("case", "on_the_spot", "accepted"),
    "level_village_share": ("case", "closed_village", "closed"),
    "level_town_share": ("case", "closed_town", "closed"),
    "level_city_share": ("case", "closed_city", "closed"),
    "level_prefecture_share": ("case", "closed_prefecture", "closed"),
    "solved_by_village_share": ("case", "solved_village", "closed"),
    "solved_by_team_share": ("case", "solved_team", "closed"),
    "solved_by_consultation_share": ("case", "solved_consultation", "closed"),
    "avg_handling_hours": ("case", "measured", "measured"),
    "p90_handling_hours": ("case", "slow_tail", "measured"),
    "overruled_return_rate": ("dispatch", "overruled_returns", "received"),
    "false_reply_rate": ("dispatch", "false_replies", "spot_checked"),
    "rejected_share": ("case", "rejected_whistles", "whistles"),
    "merged_share": ("case", "merged_whistles", "whistles"),
    "supported_share": ("case", "supported_whistles", "whistles"),
    "urge_rate": ("dispatch", "urged", "dispatched"),
    "supervision_rate": ("dispatch", "supervised", "dispatched"),
    "supervision_late_rate": ("dispatch", "supervision_late", "supervised"),
}

UNIT_TYPES = (
    "prefecture",
    "city",
    "town",
    "village",
    "grid",
    "grid_worker",
    "team",
    "department",
)
# The fact column that places a case or dispatch in a unit of this type (a prefecture's: its
# counties', four levels).
REGION_FIELDS = {
    "prefecture": "city__parent_id",
    "city": "city_id",
    "town": "town_id",
    "village": "village_id",
    "grid": "grid_id",
    "grid_worker": "reporter_id",
}
HANDLER_FIELDS = {"team": "team_id", "department": "department_id"}


@dataclass(frozen=True)
class Facts:
    """The fact tables the indicators count: the live ones (the default), or the facts a
    policy-lab replay computed under other rules (same columns: CaseFactValues), so a
    replay's numbers come from exactly the conditions the dashboards use."""

    cases: QuerySet
    dispatches: QuerySet


def keys_in_use() -> tuple[str, ...]:
    """The indicators of this deployment, in order: KEYS, and the prefecture's level share
    after the city's where a case can climb to its committee (four levels)."""
    if not on_chain(PREFECTURE):
        return KEYS
    after = KEYS.index("level_city_share") + 1
    return (*KEYS[:after], PREFECTURE_KEY, *KEYS[after:])


def live_facts() -> Facts:
    return Facts(cases=CaseFact.objects.all(), dispatches=DispatchFact.objects.all())


def case_conditions(
    prefix: str = "",
    *,
    handler: tuple[str, int | None] | None = None,
    as_of: datetime | F | None = None,
    since: datetime | None = None,
    facts: Facts | None = None,
) -> dict[str, Q]:
    """The counted sets, as conditions on CaseFact (or on a relation to it, via prefix).

    `handler` ("team" or "department", id): a unit's cases, where what the case's other units
    did is not held against it (rework: only of what its own dispatch took part in); with the
    id None, the rows are the units' dispatches (prefix "case_fact__"), each judged for its
    own unit (the rankings' grouped counts).
    `as_of` (the period's end, or an expression giving it per row): each fact counts as it
    stood then: closed (now, since before it; or its first closing stood then, whatever
    reopened it later), overdue, rated, reworked, postponed only if that happened before;
    later events land in later figures, so a closed period's numbers do not move (a
    ClosureCorrection may move its closing, with a reason). A fact without the moment (stored
    before the moments were kept, until `rebuild_facts`) counts as it stands now.
    `since` (the period's start): the cases were filed from then on, which bounds the months
    of dispatch facts their unit's rework is looked up in."""

    def q(**kwargs: object) -> Q:
        return Q(**{prefix + name: value for name, value in kwargs.items()})

    def before(name: str) -> Q:
        """Happened before the period's end (or the moment is not known)."""
        if as_of is None:
            return Q()
        return q(**{f"{name}__isnull": True}) | q(**{f"{name}__lt": as_of})

    is_closed = q(closed=True)
    is_overdue = q(overdue=True)
    on_time = q(closed_on_time=True)
    if as_of is not None:
        first_closing_stood = q(first_closed_at__lt=as_of) & (
            q(reopened_at__isnull=True) | q(reopened_at__gte=as_of)
        )
        is_closed = (is_closed & q(closed_at__lt=as_of)) | first_closing_stood
        is_overdue &= q(overdue_at__lt=as_of)
        # Closed on time: no limit passed before the period's end (one passing after a later
        # reopening does not make the closing late).
        on_time |= q(overdue_at__gte=as_of)
    due = q(rejected=False)
    active = due & q(suspended=False)
    closed = active & is_closed
    evaluated = due & ~q(satisfaction="") & before("rated_at")
    accepted = due & q(accepted=True)
    return {
        "due": due,
        "suspended": due & q(suspended=True),
        "active": active,
        "closed": closed,
        "closed_on_time": closed & on_time,
        # Closed, or past a handling limit: the cases on-time closure judges.
        "fallen_due": active & (is_closed | is_overdue),
        "overdue": due & is_overdue,
        "reworked": due
        & (
            q(reworked=True) & before("reworked_at")
            if handler is None
            else _own_rework(handler, as_of=as_of, since=since, facts=facts)
        ),
        "postponed": due & q(postponed=True) & before("postponed_at"),
        "evaluated": evaluated,
        "satisfied": evaluated
        & q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED]),
        "accepted": accepted,
        "on_the_spot": accepted & is_closed & q(suspended=False, closed_level=Level.VILLAGE),
        "closed_village": closed & q(closed_level=Level.VILLAGE),
        "closed_town": closed & q(closed_level=Level.TOWN),
        "closed_city": closed & q(closed_level=Level.CITY),
        "closed_prefecture": closed & q(closed_level=Level.PREFECTURE),
        "solved_village": closed & q(solved_by=SolvedBy.VILLAGE),
        "solved_team": closed & q(solved_by=SolvedBy.TEAM),
        "solved_consultation": closed & q(solved_by=SolvedBy.CONSULTATION),
        "measured": closed & q(handling_seconds__isnull=False),
        # Whistle quality counts every whistle filed, the rejected ones included.
        "whistles": q(filed_at__isnull=False),
        "rejected_whistles": q(rejected=True, merged=False),
        "merged_whistles": q(rejected=True, merged=True),
        "supported_whistles": q(supporters__gt=0),
    }


def _own_rework(
    handler: tuple[str, int | None],
    *,
    as_of: datetime | F | None = None,
    since: datetime | None = None,
    facts: Facts | None = None,
) -> Q:
    """The case had a failed verification of a resolution this unit's dispatch took part in
    (before `as_of`, the period's end). Unit None: the row is a dispatch, of its own unit.
    `since`: the cases were filed from then on, so their dispatches were sent after it
    (`dispatched_from`)."""
    unit_type, unit_id = handler
    column = HANDLER_FIELDS[unit_type]
    own = (
        {"case_fact_id": OuterRef("case_fact_id"), column: OuterRef(column)}
        if unit_id is None
        else {"case_fact_id": OuterRef("pk"), column: unit_id}
    )
    rows = (facts or live_facts()).dispatches.filter(reworked=True, **own)
    rows = rows.filter(dispatched_from(since))
    if as_of is not None:
        end = OuterRef(as_of.name) if isinstance(as_of, F) else as_of
        rows = rows.filter(Q(reworked_at__isnull=True) | Q(reworked_at__lt=end))
    return Q(Exists(rows))


def handler_of(unit_type: str, unit_id: int) -> tuple[str, int] | None:
    """The (type, id) case_conditions takes for a team or department; None for a region."""
    return (unit_type, unit_id) if unit_type in HANDLER_FIELDS else None


def dispatch_conditions() -> dict[str, Q]:
    # Every dispatch the unit received; those it still had to answer: not handed back (a
    # return is judged by the committee's ruling instead, not as an unanswered dispatch).
    received = Q(cancelled=False)
    dispatched = received & Q(returned=False)
    return {
        "received": received,
        "returned": received & Q(returned=True),
        "returns_upheld": received & Q(return_upheld=True),
        "overruled_returns": received & Q(return_overruled=True),
        "spot_checked": received & Q(spot_checked=True),
        "false_replies": received & Q(spot_checked=True, false_reply=True),
        "dispatched": dispatched,
        "reported_on_time": dispatched & Q(reported_on_time=True),
        "late": dispatched & Q(late=True),
        "consultation_missed": dispatched
        & Q(consultation_invited=True, consultation_attended=False),
        "consultation_late": dispatched & Q(consultation_late=True),
        "urged": dispatched & Q(urged=True),
        "supervised": dispatched & Q(supervised=True),
        "supervision_late": dispatched & Q(supervised=True, supervision_late=True),
    }


CASE_COUNTS = tuple(case_conditions())
DISPATCH_COUNTS = tuple(dispatch_conditions())


@dataclass
class Indicator:
    key: str
    label: Promise
    numerator: int
    denominator: int
    value: float | None
    cases_url_params: dict[str, str] = field(default_factory=dict)
    # When counted from an older state of the facts (stored counts the worker is renewing).
    counted_at: datetime | None = None

    @property
    def source(self) -> str:
        """What it counts: "case" or "dispatch"."""
        return FORMULAS[self.key][0]

    def params(self, part: str) -> dict[str, str]:
        """The drill-down GET parameters for the numerator or the denominator."""
        return {**self.cases_url_params, "part": part}


# --- which facts a unit and period cover -----------------------------------------------------


def dispatched_from(since: datetime | None) -> Q:
    """Dispatch facts sent from `since` on (no bound for None). The dispatch facts are
    partitioned by the month they were sent (cases.partitions): a lookup from a period's cases
    to their dispatches says that they were sent after the period began (a case is dispatched
    after it is filed), so PostgreSQL plans it against the months since then alone, not every
    month of the history."""
    return Q() if since is None else Q(dispatched_at__gte=since)


def unit_case_facts(
    *, unit_type: str, unit_id: int, period: Period, facts: Facts | None = None
) -> QuerySet[CaseFact]:
    facts = facts or live_facts()
    rows = facts.cases.filter(filed_at__gte=period.start_at, filed_at__lt=period.end_at)
    if unit_type in REGION_FIELDS:
        return rows.filter(**{REGION_FIELDS[unit_type]: unit_id})
    if unit_type in HANDLER_FIELDS:
        return rows.filter(
            Exists(
                facts.dispatches.filter(
                    dispatched_from(period.start_at),
                    case_fact_id=OuterRef("pk"),
                    cancelled=False,
                    returned=False,
                    **{HANDLER_FIELDS[unit_type]: unit_id},
                )
            )
        )
    raise ValueError(unit_type)


def unit_dispatch_facts(
    *, unit_type: str, unit_id: int, period: Period, facts: Facts | None = None
) -> QuerySet[DispatchFact]:
    rows = (facts or live_facts()).dispatches.filter(
        dispatched_at__gte=period.start_at, dispatched_at__lt=period.end_at
    )
    column = REGION_FIELDS.get(unit_type) or HANDLER_FIELDS.get(unit_type)
    if column is None:
        raise ValueError(unit_type)
    return rows.filter(**{column: unit_id})


def case_aggregates(
    prefix: str = "",
    *,
    handler: tuple[str, int | None] | None = None,
    as_of: datetime | F | None = None,
    since: datetime | None = None,
    facts: Facts | None = None,
) -> dict[str, Aggregate]:
    """One conditional count per counted set, the mean handling time and the scoring counts
    (of a team's or department's own doing, with `handler`), as of the period's end; over
    rows that hold one case each (the case's columns under `prefix`)."""
    conditions = case_conditions(prefix, handler=handler, as_of=as_of, since=since, facts=facts)
    result: dict[str, Aggregate] = {
        f"c_{name}": Count("pk", filter=condition) for name, condition in conditions.items()
    }
    result["c_avg_seconds"] = Avg(
        prefix + "handling_seconds", filter=conditions["measured"], output_field=FloatField()
    )
    result["c_rework_events"] = Sum(prefix + "rework_count", filter=conditions["due"])
    result["c_overdue"] = Count("pk", filter=conditions["overdue"])
    # Every passed limit of the cases' own stages (each firing counts: assessment.facts).
    result["c_late_limits"] = Sum(prefix + "late_count", filter=conditions["due"])
    return result


def dispatch_aggregates() -> dict[str, Aggregate]:
    return {f"d_{name}": Count("pk", filter=cond) for name, cond in dispatch_conditions().items()}


# --- percentiles ----------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(rows: QuerySet, column: str, fraction: float, count: int) -> float | None:
    """The continuous percentile of `column` over `rows` (which hold `count` values): one
    aggregate on PostgreSQL, one OFFSET read of at most two values elsewhere."""
    if count <= 0:
        return None
    if connection.vendor == "postgresql":
        return rows.aggregate(value=PercentileCont(column, fraction))["value"]
    position = fraction * (count - 1)
    low = int(position)
    values = list(rows.order_by(column).values_list(column, flat=True)[low : low + 2])
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return float(values[0]) + (float(values[1]) - float(values[0])) * (position - low)


# --- the numbers ----------------------------------------------------------------------------


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def compute(
    *,
    unit_type: str,
    unit_id: int,
    period: Period,
    params: dict[str, str],
    facts: Facts | None = None,
) -> dict:
    """All indicators of one unit and period, plus the counts scoring needs, in four queries."""
    facts = facts or live_facts()
    cases = unit_case_facts(unit_type=unit_type, unit_id=unit_id, period=period, facts=facts)
    handler = handler_of(unit_type, unit_id)
    as_of = period.end_at
    since = period.start_at
    counts = cases.aggregate(
        **case_aggregates(handler=handler, as_of=as_of, since=since, facts=facts)
    )
    if handler is not None:
        # Failed verifications charged to the unit: those of its own dispatches.
        counts["c_rework_events"] = (
            facts.dispatches.filter(
                dispatched_from(since),
                case_fact__in=cases.filter(case_conditions()["due"]),
                **{HANDLER_FIELDS[unit_type]: unit_id},
            ).aggregate(n=Sum("rework_count"))["n"]
            or 0
        )
    counts.update(
        unit_dispatch_facts(
            unit_type=unit_type, unit_id=unit_id, period=period, facts=facts
        ).aggregate(**dispatch_aggregates())
    )
    measured = cases.filter(case_conditions(as_of=as_of)["measured"])
    p90 = percentile(measured, "handling_seconds", 0.9, counts["c_measured"])
    counts["c_slow_tail"] = (
        measured.filter(handling_seconds__gte=p90).count() if p90 is not None else 0
    )
    counts["p90_seconds"] = p90
    return {"indicators": build(counts, params=params), "counts": counts}


def build(
    counts: dict, *, params: dict[str, str], counted_at: datetime | None = None
) -> dict[str, Indicator]:
    """Indicators from the aggregated counts (keys c_<condition> and d_<condition>);
    `counted_at` when the counts are behind the facts."""
    result = {}
    prefecture = on_chain(PREFECTURE)
    for key, (source, num_name, den_name) in FORMULAS.items():
        if key == PREFECTURE_KEY and not prefecture:
            continue  # no case climbs there (keys_in_use)
        prefix = "d_" if source == "dispatch" else "c_"
        numerator = counts.get(prefix + num_name) or 0
        denominator = counts.get(prefix + den_name) or 0
        if key == "avg_handling_hours":
            seconds = counts.get("c_avg_seconds")
            value = seconds / 3600 if denominator and seconds is not None else None
        elif key == "p90_handling_hours":
            seconds = counts.get("p90_seconds")
            value = seconds / 3600 if denominator and seconds is not None else None
        else:
            value = ratio(numerator, denominator)
        result[key] = Indicator(
            key=key,
            label=LABELS[key],
            numerator=int(numerator),
            denominator=int(denominator),
            value=value,
            cases_url_params={**params, "indicator": key, "part": "numerator"},
            counted_at=counted_at,
        )
    return result


def behind(
    *,
    indicator_key: str,
    part: str,
    unit_type: str,
    unit_id: int,
    period: Period,
    p90_seconds: float | None = None,
    facts: Facts | None = None,
) -> QuerySet[Case]:
    """The cases counted by one side of an indicator (as rows: one per dispatch for the
    response rate, one per case otherwise)."""
    if indicator_key not in FORMULAS or part not in ("numerator", "denominator"):
        raise ValueError(indicator_key)
    source, num_name, den_name = FORMULAS[indicator_key]
    name = num_name if part == "numerator" else den_name
    if source == "dispatch":
        dispatches = unit_dispatch_facts(
            unit_type=unit_type, unit_id=unit_id, period=period, facts=facts
        )
        ids = dispatches.filter(dispatch_conditions()[name]).values("dispatch_id")
        # One row per dispatch, which names it: the list shows each row's unit.
        return Case.objects.filter(dispatches__in=ids).annotate(
            counted_dispatch_id=F("dispatches__id")
        )
    cases = unit_case_facts(unit_type=unit_type, unit_id=unit_id, period=period, facts=facts)
    as_of = period.end_at
    if name == "slow_tail":
        cases = cases.filter(case_conditions(as_of=as_of)["measured"])
        if p90_seconds is None:
            return Case.objects.none()
        cases = cases.filter(handling_seconds__gte=p90_seconds)
    else:
        conditions = case_conditions(
            handler=handler_of(unit_type, unit_id),
            as_of=as_of,
            since=period.start_at,
            facts=facts,
        )
        cases = cases.filter(conditions[name])
    return Case.objects.filter(pk__in=cases.values("case_id"))
