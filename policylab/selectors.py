"""Reading the policy lab: the comparison of the rules in force with up to three replays, the
cases behind each of its numbers and the cases whose verdict a replay changes.

Every number comes from the replays' summaries (Replay.summary, counted when they ran); the
drill-down lists count the same conditions (assessment.indicators.behind) on the replay's own
facts or on the live ones, so a list has as many rows as its number. The pages, the XLSX
export and the API build on these functions only.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessment import dashboard as board
from assessment import indicators as formulas
from assessment.indicators import LABELS, SOLVER_TARGETS
from assessment.models import CaseFact, DispatchFact
from assessment.periods import Period
from assessment.scoring import SchemeCopy, scheme_for
from cases.models import Case, Dispatch
from checklists.models import Item, TimeLimit, TimeUnit, stage_choices
from policylab import access
from policylab.errors import LabError
from policylab.models import Replay, ReplayCaseFact, ReplayDispatchFact
from policylab.rules import STAGES, scheme_json
from policylab.services import RANKED_TYPES, ranked_units, replay_facts, replay_period_of
from teams.levels import PREFECTURE, level_label, level_words, on_chain, with_levels
from teams.models import Department, Region, Team, User

MAX_COMPARED = 3
SIDES = ("live", "scenario")
PARTS = ("numerator", "denominator")
# What "would have escalated" counts, by where the timer would have sent the case.
ESCALATION_TARGETS = {
    "town": with_levels(gettext_lazy("Whistled to the %(town)s")),
    "town_consultation": with_levels(gettext_lazy("Sent to a %(town)s consultation")),
    "city": with_levels(gettext_lazy("Escalated to the %(city)s")),
    # Four levels, the prefecture's committee on the chain: the city's consultation timer.
    "prefecture": with_levels(gettext_lazy("Escalated to the %(prefecture)s")),
}
LEVEL_ROWS = {
    "cases": gettext_lazy("Cases filed"),
    "whistled": with_levels(gettext_lazy("Whistled to the %(town)s")),
    "escalated": with_levels(gettext_lazy("Escalated to the %(city)s")),
    "overdue": gettext_lazy("Overdue (a limit passed)"),
}
UNIT_TYPE_LABELS = {
    "town": level_label("town", plural=True, capital=True),
    "village": level_label("village", plural=True, capital=True),
    "team": gettext_lazy("Teams"),
    "department": gettext_lazy("Departments"),
}
UNIT_MODELS = {"town": Region, "village": Region, "team": Team, "department": Department}


# --- what a comparison holds ----------------------------------------------------------------


@dataclass(frozen=True)
class RuleChange:
    """One rule a scenario sets otherwise than the rules in force."""

    topic: str
    in_force: str
    scenario: str


@dataclass
class Number:
    """One indicator of one column: its value, counts and (for a replay) change."""

    key: str
    value: float | None
    display: str
    numerator: int
    denominator: int
    numerator_url: str = ""
    denominator_url: str = ""
    change: float | None = None  # in percentage points, or hours
    change_display: str = ""
    trend: str = ""  # "better", "worse", "same" or ""

    @property
    def export_value(self) -> float | None:
        return board.export_value(self.key, self.value)


@dataclass
class IndicatorRow:
    key: str
    label: str
    live: Number
    replays: list[Number]
    source: str = "case"


@dataclass
class DistributionRow:
    solver: str
    label: str
    key: str
    target: float
    live: Number
    replays: list[Number]


@dataclass
class Count:
    count: int | None
    change: int | None = None


@dataclass
class EscalationRow:
    key: str
    label: str
    live: Count
    replays: list[Count]


@dataclass
class Rank:
    score: float | None
    rank: int | None
    score_change: float | None = None
    rank_change: int | None = None  # positive: moved up

    @property
    def moved(self) -> int:
        """How many places the unit moved (up or down)."""
        return abs(self.rank_change or 0)

    @property
    def score_display(self) -> str:
        return "—" if self.score is None else f"{self.score:.2f}"


@dataclass
class RankingRow:
    unit_type: str
    unit_id: int
    name: str
    live: Rank
    replays: list[Rank]


@dataclass
class Ranking:
    unit_type: str
    label: str
    rows: list[RankingRow]


@dataclass
class Column:
    """One replay as a column of the comparison."""

    replay: Replay
    summary: dict
    rules_changed: list[RuleChange]
    cases_changed: int
    dispatches_changed: int
    would_escalate: int
    would_escalate_by: dict[str, int]
    changed_url: str
    replay_url: str

    @property
    def name(self) -> str:
        return self.replay.name

    @property
    def scenario_name(self) -> str:
        return self.replay.scenario.name


@dataclass
class Comparison:
    place: Region
    period: Period
    period_label: str
    counted_at: datetime | None
    live_changed: bool  # the live numbers changed between the replays' runs
    columns: list[Column]
    indicators: list[IndicatorRow]
    distribution: list[DistributionRow]
    escalations: list[EscalationRow]
    would_escalate: list[EscalationRow]
    rankings: list[Ranking]
    replay_ids: list[int] = field(default_factory=list)

    @property
    def query(self) -> str:
        """The comparison's GET parameters (?replay=..&replay=..)."""
        return urlencode([("replay", pk) for pk in self.replay_ids])

    def movers(self, top: int = 5) -> list[tuple[Column, RankingRow, Rank]]:
        """The units whose rank moves most under each replay (for the printed summary)."""
        result = []
        for index, column in enumerate(self.columns):
            moved = [
                (column, row, row.replays[index])
                for ranking in self.rankings
                for row in ranking.rows
                if row.replays[index].rank_change
            ]
            moved.sort(key=lambda found: (-abs(found[2].rank_change or 0), found[1].name))
            result.extend(moved[:top])
        return result


# --- loading the replays --------------------------------------------------------------------


def _replay_ids(values) -> list[int]:
    ids: list[int] = []
    for value in values:
        try:
            pk = int(str(value).strip())
        except ValueError:
            raise LabError(
                fields={"replay": [_("“%(value)s” is not a replay.") % {"value": value}]}
            ) from None
        if pk not in ids:
            ids.append(pk)
    return ids


def comparable_replays(*, user: User, replay_ids: list) -> list[Replay]:
    """The replays to compare, in the order given: each in the user's cities (404 otherwise,
    403 without a lab role), done, and of the same place and period; one to three of them."""
    access.require_lab(user)
    ids = _replay_ids(replay_ids)
    if not ids:
        raise LabError(fields={"replay": [_("Choose one to three replays to compare.")]})
    if len(ids) > MAX_COMPARED:
        raise LabError(
            fields={
                "replay": [
                    _("At most %(max)s replays can be compared side by side (%(count)s chosen).")
                    % {"max": MAX_COMPARED, "count": len(ids)}
                ]
            }
        )
    replays = [access.access_replay(user=user, pk=pk) for pk in ids]
    not_done = [replay.name for replay in replays if replay.state != Replay.State.DONE]
    if not_done:
        raise LabError(
            fields={
                "replay": [
                    _("Only finished replays can be compared; not finished: %(names)s.")
                    % {"names": ", ".join(not_done)}
                ]
            }
        )
    first = replays[0]
    for replay in replays[1:]:
        if (replay.region_id, replay.period_start, replay.period_end) != (
            first.region_id,
            first.period_start,
            first.period_end,
        ):
            raise LabError(
                fields={
                    "replay": [
                        _(
                            "Replays can be compared only over the same place and period: "
                            "“%(first)s” covers %(place)s, %(period)s; “%(other)s” covers "
                            "%(other_place)s, %(other_period)s."
                        )
                        % {
                            "first": first.name,
                            "place": first.region.name,
                            "period": board.period_label(replay_period_of(first)),
                            "other": replay.name,
                            "other_place": replay.region.name,
                            "other_period": board.period_label(replay_period_of(replay)),
                        }
                    ]
                }
            )
    return replays


def done_replays(*, user: User) -> QuerySet[Replay]:
    """The finished replays the user may compare, newest first (the comparison's chooser)."""
    access.require_lab(user)
    return (
        access.replays_of(user)
        .filter(state=Replay.State.DONE)
        .select_related("scenario", "region")
        .order_by("region_id", "-period_start", "-period_end", "-created_at", "-id")
    )


# --- the rules a scenario changes ------------------------------------------------------------


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _limit_text(amount: int, unit: str) -> str:
    return f"{amount} {TimeUnit(unit).label}" if unit in TimeUnit.values else f"{amount} {unit}"


def rules_changed(*, replay: Replay) -> list[RuleChange]:
    """What the replay's rules set otherwise than the rules in force for its period: limits,
    calendar days, yellow light, scoring weights."""
    rules = replay.rules or {}
    changes: list[RuleChange] = []
    in_force = {
        (item, stage): (amount, unit, yellow)
        for item, stage, amount, unit, yellow in TimeLimit.objects.filter(
            stage__in=STAGES
        ).values_list("item_id", "stage", "amount", "unit", "yellow_at_percent")
    }
    items = {item.pk: item.name for item in Item.objects.all()}
    stage_labels = dict(stage_choices())
    # The same change of a stage's limit on many items is one line (naming a few of them).
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for row in rules.get("limits") or []:
        live = in_force.get((row["item"], row["stage"]))
        if live is not None and (live[0], live[1]) == (row["amount"], row["unit"]):
            continue
        key = (
            row["stage"],
            _limit_text(live[0], live[1]) if live else "—",
            _limit_text(row["amount"], row["unit"]),
        )
        grouped.setdefault(key, []).append(str(items.get(row["item"], row["item"])))
    order = {stage: index for index, stage in enumerate(STAGES)}
    for (stage, live_text, scenario_text), names in sorted(
        grouped.items(), key=lambda found: (order.get(found[0][0], 99), found[0][1:])
    ):
        if len(names) == 1:
            what = names[0]
        else:
            shown = ", ".join(names[:3]) + ("…" if len(names) > 3 else "")
            what = _("%(count)s items: %(names)s") % {"count": len(names), "names": shown}
        changes.append(
            RuleChange(
                topic=_("Time limit of %(stage)s (%(items)s)")
                % {"stage": stage_labels.get(stage, stage), "items": what},
                in_force=live_text,
                scenario=scenario_text,
            )
        )
    if rules.get("holidays"):
        changes.append(
            RuleChange(
                topic=_("Extra holidays"), in_force="—", scenario=", ".join(rules["holidays"])
            )
        )
    if rules.get("workdays"):
        changes.append(
            RuleChange(
                topic=_("Extra working days"), in_force="—", scenario=", ".join(rules["workdays"])
            )
        )
    if rules.get("yellow_at_percent") is not None:
        changes.append(
            RuleChange(
                topic=_("Yellow light"),
                in_force=_("each limit's own"),
                scenario=f"{rules['yellow_at_percent']}%",
            )
        )
    changes += _scheme_changes(
        rules.get("scheme") or {}, period=replay_period_of(replay), labels=LABELS
    )
    return changes


def _scheme_changes(scenario: dict, *, period: Period, labels: dict) -> list[RuleChange]:
    if not scenario:
        return []
    live_scheme = scheme_for(period)
    live = scheme_json(SchemeCopy.of(live_scheme)) if live_scheme is not None else {}
    changes = []
    if _decimal(live.get("town_evaluation_weight")) != _decimal(
        scenario.get("town_evaluation_weight")
    ):
        changes.append(
            RuleChange(
                topic=_("Weight of the %(towns)s' evaluation of departments") % level_words(),
                in_force=str(live.get("town_evaluation_weight") or "—"),
                scenario=str(scenario.get("town_evaluation_weight") or "—"),
            )
        )

    def weights(scheme: dict) -> dict[str, tuple]:
        return {
            row["key"]: tuple(_decimal(row.get(name)) for name in ("weight", "floor", "ceiling"))
            for row in scheme.get("indicators") or []
        }

    def text(values: tuple | None) -> str:
        if values is None:
            return "—"
        weight, floor, ceiling = values
        result = str(weight)
        if floor is not None:
            result += " " + _("(full marks from %(rate)s)") % {"rate": floor}
        if ceiling is not None:
            result += " " + _("(full marks up to %(rate)s)") % {"rate": ceiling}
        return result

    live_weights, scenario_weights = weights(live), weights(scenario)
    for key in [*live_weights, *(k for k in scenario_weights if k not in live_weights)]:
        if live_weights.get(key) != scenario_weights.get(key):
            changes.append(
                RuleChange(
                    topic=_("Weight: %(indicator)s") % {"indicator": labels.get(key, key)},
                    in_force=text(live_weights.get(key)),
                    scenario=text(scenario_weights.get(key)),
                )
            )
    live_points = {row["kind"]: _decimal(row["points"]) for row in live.get("deductions") or []}
    scenario_points = {
        row["kind"]: _decimal(row["points"]) for row in scenario.get("deductions") or []
    }
    for kind in sorted(set(live_points) | set(scenario_points)):
        if live_points.get(kind) != scenario_points.get(kind):
            changes.append(
                RuleChange(
                    topic=_("Deduction: %(kind)s") % {"kind": kind},
                    in_force=str(live_points.get(kind, "—")),
                    scenario=str(scenario_points.get(kind, "—")),
                )
            )
    return changes


# --- the comparison -------------------------------------------------------------------------


def cases_url(
    *, replay_id: int, key: str, part: str, side: str, unit: tuple[str, int] | None = None
) -> str:
    """The drill-down list of the cases behind one number of a replay (or of the live side)."""
    params = {"indicator": key, "part": part, "side": side}
    if unit is not None:
        params.update(unit_type=unit[0], unit_id=unit[1])
    return reverse("policylab:replay_cases", args=[replay_id]) + "?" + urlencode(params)


def _number(key: str, values: dict | None, *, replay_id: int, side: str) -> Number:
    values = values or {}
    value = values.get("v")
    return Number(
        key=key,
        value=value,
        display=board.format_value(key, value),
        numerator=int(values.get("n") or 0),
        denominator=int(values.get("d") or 0),
        numerator_url=cases_url(replay_id=replay_id, key=key, part="numerator", side=side),
        denominator_url=cases_url(replay_id=replay_id, key=key, part="denominator", side=side),
    )


def _with_change(number: Number, live: Number) -> Number:
    if number.value is None or live.value is None:
        return number
    change = number.value - live.value
    number.change = board.export_value(number.key, change)
    unit = _("h") if number.key in board.HOUR_KEYS else _("pp")
    sign = "+" if number.change > 0 else ""
    number.change_display = f"{sign}{number.change:.1f} {unit}"
    if number.change == 0:
        number.trend = "same"
    else:
        lower = number.key in board.LOWER_IS_BETTER or number.key in formulas.LOWER_IS_BETTER
        number.trend = "better" if (change < 0) == lower else "worse"
    return number


def _indicator_rows(first: Replay, live: dict, columns: list[Column]) -> list[IndicatorRow]:
    rows = []
    # The prefecture's level share only where its committee is on the chain (four levels).
    for key in filter(board.listed, formulas.keys_in_use()):
        live_number = _number(
            key, live.get("indicators", {}).get(key), replay_id=first.pk, side="live"
        )
        rows.append(
            IndicatorRow(
                key=key,
                label=str(LABELS[key]),
                live=live_number,
                replays=[
                    _with_change(
                        _number(
                            key,
                            column.summary.get("indicators", {}).get(key),
                            replay_id=column.replay.pk,
                            side="scenario",
                        ),
                        live_number,
                    )
                    for column in columns
                ],
                source=formulas.FORMULAS[key][0],
            )
        )
    return rows


def _distribution(indicators: list[IndicatorRow]) -> list[DistributionRow]:
    by_key = {row.key: row for row in indicators}
    return [
        DistributionRow(
            solver=solver,
            label=str(board.SOLVER_LABELS[solver]),
            key=f"solved_by_{solver}_share",
            target=target,
            live=by_key[f"solved_by_{solver}_share"].live,
            replays=by_key[f"solved_by_{solver}_share"].replays,
        )
        for solver, target in SOLVER_TARGETS.items()
    ]


def _escalations(live: dict, columns: list[Column]) -> tuple[list, list]:
    levels = []
    for key, label in LEVEL_ROWS.items():
        live_count = (live.get("levels") or {}).get(key)
        counts = []
        for column in columns:
            count = (column.summary.get("levels") or {}).get(key)
            change = count - live_count if count is not None and live_count is not None else None
            counts.append(Count(count=count, change=change))
        levels.append(
            EscalationRow(key=key, label=str(label), live=Count(live_count), replays=counts)
        )
    would = [
        EscalationRow(
            key="would_escalate",
            label=_("Would have escalated (all)"),
            live=Count(None),
            replays=[Count(column.would_escalate) for column in columns],
        )
    ]
    for target, label in ESCALATION_TARGETS.items():
        if target == PREFECTURE and not on_chain(PREFECTURE):
            continue  # three levels: no timer sends a case there
        would.append(
            EscalationRow(
                key=f"would_escalate_{target}",
                label=str(label),
                live=Count(None),
                replays=[
                    Count(int(column.would_escalate_by.get(target) or 0)) for column in columns
                ],
            )
        )
    return levels, would


def unit_names(unit_type: str, ids) -> dict[int, str]:
    """The units' names in the active language."""
    model = UNIT_MODELS[unit_type]
    return {pk: unit.name for pk, unit in model.objects.in_bulk(list(ids)).items()}


def _float(value) -> float | None:
    return None if value is None else float(value)


def _rankings(live: dict, columns: list[Column]) -> list[Ranking]:
    result = []
    for unit_type in RANKED_TYPES:
        live_rows = {row["id"]: row for row in (live.get("rankings") or {}).get(unit_type, [])}
        replay_rows = [
            {row["id"]: row for row in (column.summary.get("rankings") or {}).get(unit_type, [])}
            for column in columns
        ]
        ids = list(live_rows)
        for rows in replay_rows:
            ids += [pk for pk in rows if pk not in ids]
        if not ids:
            continue
        names = unit_names(unit_type, ids)
        body = []
        for pk in ids:
            live_row = live_rows.get(pk) or {}
            live_rank = Rank(score=_float(live_row.get("score")), rank=live_row.get("rank"))
            ranks = []
            for rows in replay_rows:
                row = rows.get(pk) or {}
                rank = Rank(score=_float(row.get("score")), rank=row.get("rank"))
                if rank.score is not None and live_rank.score is not None:
                    rank.score_change = round(rank.score - live_rank.score, 2)
                if rank.rank is not None and live_rank.rank is not None:
                    rank.rank_change = live_rank.rank - rank.rank
                ranks.append(rank)
            body.append(
                RankingRow(
                    unit_type=unit_type,
                    unit_id=pk,
                    name=names.get(pk, str(pk)),
                    live=live_rank,
                    replays=ranks,
                )
            )
        body.sort(key=lambda row: (row.live.rank is None, row.live.rank or 0, row.name))
        result.append(
            Ranking(unit_type=unit_type, label=str(UNIT_TYPE_LABELS[unit_type]), rows=body)
        )
    return result


def _replay_url(replay: Replay) -> str:
    try:
        return reverse("policylab:replay", args=[replay.pk])
    except NoReverseMatch:
        return ""


def _column(replay: Replay) -> Column:
    tally = (replay.summary or {}).get("tally") or {}
    return Column(
        replay=replay,
        summary=(replay.summary or {}).get("scenario") or {},
        rules_changed=rules_changed(replay=replay),
        cases_changed=ReplayCaseFact.objects.filter(replay=replay, verdict_changed=True).count(),
        dispatches_changed=ReplayDispatchFact.objects.filter(
            replay=replay, verdict_changed=True
        ).count(),
        would_escalate=int(tally.get("would_escalate") or 0),
        would_escalate_by=dict(tally.get("would_escalate_by") or {}),
        changed_url=reverse("policylab:replay_changed", args=[replay.pk]),
        replay_url=_replay_url(replay),
    )


def comparison(*, user: User, replay_ids: list) -> Comparison:
    """The rules in force (the first replay's live part) and each replay side by side.
    LabError (400) for fewer than one or more than three replays, one not finished, or
    replays of different places or periods; 404/403 as access_replay."""
    replays = comparable_replays(user=user, replay_ids=replay_ids)
    first = replays[0]
    live = (first.summary or {}).get("live") or {}
    columns = [_column(replay) for replay in replays]
    indicators = _indicator_rows(first, live, columns)
    levels, would = _escalations(live, columns)
    counted_at = (first.summary or {}).get("counted_at")
    period = replay_period_of(first)
    return Comparison(
        place=first.region,
        period=period,
        period_label=board.period_label(period),
        counted_at=parse_datetime(counted_at) if counted_at else None,
        live_changed=any(
            ((replay.summary or {}).get("live") or {}) != live for replay in replays[1:]
        ),
        columns=columns,
        indicators=indicators,
        distribution=_distribution(indicators),
        escalations=levels,
        would_escalate=would,
        rankings=_rankings(live, columns),
        replay_ids=[replay.pk for replay in replays],
    )


# --- the cases behind a number --------------------------------------------------------------


@dataclass
class Behind:
    """The cases behind one number of a replay (rows: one per case, or per dispatch)."""

    replay: Replay
    key: str
    label: str
    part: str
    side: str
    unit_type: str
    unit_id: int
    unit_name: str
    source: str
    number: int | None  # the count the summary holds (for the replay's place)
    rows: QuerySet[Case]


def _unit_of(replay: Replay, unit_type: str | None, unit_id) -> tuple[str, int]:
    place = replay.region
    if not unit_type and not unit_id:
        return place.level, place.pk
    try:
        unit_id = int(unit_id)
    except (TypeError, ValueError):
        raise LabError(fields={"unit_id": [_("Name a unit by its number.")]}) from None
    if (unit_type, unit_id) == (place.level, place.pk):
        return unit_type, unit_id
    if unit_id in ranked_units(place).get(unit_type or "", []):
        return unit_type, unit_id
    raise LabError(fields={"unit_id": [_("The replay does not cover this unit.")]})


def cases_behind(
    *,
    user: User,
    replay_id: int,
    indicator_key: str,
    part: str,
    side: str,
    unit_type: str | None = None,
    unit_id: int | str | None = None,
) -> Behind:
    """The cases counted in one side of an indicator, live (the facts as they stand now) or
    as the replay's rules made them, for the replay's place (or one of its ranked units) and
    period: as many rows as the number."""
    replay = access.access_replay(user=user, pk=replay_id)
    errors: dict[str, list[str]] = {}
    if indicator_key not in formulas.FORMULAS:
        errors["indicator"] = [_("No such indicator.")]
    if part not in PARTS:
        errors["part"] = [_("Choose the numerator or the denominator.")]
    if side not in SIDES:
        errors["side"] = [_("Choose the rules in force or the scenario.")]
    if errors:
        raise LabError(fields=errors)
    if replay.state != Replay.State.DONE:
        raise LabError(fields={"replay": [_("The replay has not finished.")]})
    unit_type, unit_id = _unit_of(replay, unit_type, unit_id)
    period = replay_period_of(replay)
    facts = replay_facts(replay) if side == "scenario" else None
    p90 = None
    if indicator_key == "p90_handling_hours":
        p90 = formulas.compute(
            unit_type=unit_type, unit_id=unit_id, period=period, params={}, facts=facts
        )["counts"]["p90_seconds"]
    rows = formulas.behind(
        indicator_key=indicator_key,
        part=part,
        unit_type=unit_type,
        unit_id=unit_id,
        period=period,
        p90_seconds=p90,
        facts=facts,
    )
    number = None
    if (unit_type, unit_id) == (replay.region.level, replay.region_id):
        values = ((replay.summary or {}).get(side) or {}).get("indicators", {}).get(indicator_key)
        if values:
            number = values["d" if part == "denominator" else "n"]
    if unit_type in UNIT_MODELS:
        unit_name = unit_names(unit_type, [unit_id]).get(unit_id, str(unit_id))
    else:
        unit_name = replay.region.name
    return Behind(
        replay=replay,
        key=indicator_key,
        label=str(LABELS[indicator_key]),
        part=part,
        side=side,
        unit_type=unit_type,
        unit_id=unit_id,
        unit_name=unit_name,
        source=formulas.FORMULAS[indicator_key][0],
        number=number,
        rows=board.case_rows(rows),
    )


def changed_marks(*, replay: Replay, cases: list[Case]) -> dict[int, bool]:
    """For each row of a drill-down page (a case, or a dispatch for a dispatch-counted
    number): whether the replay changed its verdict. Keyed by case or dispatch id."""
    dispatch_ids = [getattr(case, "counted_dispatch_id", None) for case in cases]
    if cases and all(pk is not None for pk in dispatch_ids):
        return dict(
            ReplayDispatchFact.objects.filter(
                replay=replay, dispatch_id__in=dispatch_ids
            ).values_list("dispatch_id", "verdict_changed")
        )
    return dict(
        ReplayCaseFact.objects.filter(
            replay=replay, case_id__in=[case.pk for case in cases]
        ).values_list("case_id", "verdict_changed")
    )


# --- the verdicts a replay changes ----------------------------------------------------------


def case_verdict(*, overdue: bool, closed_on_time: bool) -> str:
    if overdue:
        return _("late")
    if closed_on_time:
        return _("closed on time")
    return _("on time so far")


def dispatch_verdict(*, late: bool, reported_on_time: bool) -> str:
    if late:
        return _("reported in late")
    if reported_on_time:
        return _("reported in on time")
    return _("not reported in yet")


@dataclass
class ChangedCase:
    case_id: int
    number: str
    item: str
    live_verdict: str
    scenario_verdict: str
    live_overdue_at: datetime | None
    scenario_overdue_at: datetime | None
    would_escalate_at: datetime | None


@dataclass
class ChangedDispatch:
    case_id: int
    dispatch_id: int
    number: str
    handler: str
    live_verdict: str
    scenario_verdict: str
    live_due: datetime | None
    scenario_due: datetime | None


def changed_case_facts(*, replay: Replay) -> QuerySet[ReplayCaseFact]:
    return ReplayCaseFact.objects.filter(replay=replay, verdict_changed=True).order_by(
        "filed_at", "case_id"
    )


def changed_dispatch_facts(*, replay: Replay) -> QuerySet[ReplayDispatchFact]:
    return ReplayDispatchFact.objects.filter(replay=replay, verdict_changed=True).order_by(
        "dispatched_at", "dispatch_id"
    )


def changed_cases(*, rows) -> list[ChangedCase]:
    """A page of a replay's changed case facts, with the live verdict beside the replay's."""
    rows = list(rows)
    ids = [row.case_id for row in rows]
    live = CaseFact.objects.in_bulk(ids, field_name="case_id")
    cases = Case.objects.select_related("item").in_bulk(ids)
    result = []
    for row in rows:
        fact, case = live.get(row.case_id), cases.get(row.case_id)
        result.append(
            ChangedCase(
                case_id=row.case_id,
                number=case.number if case else str(row.case_id),
                item=case.item.name if case else "",
                live_verdict=case_verdict(overdue=fact.overdue, closed_on_time=fact.closed_on_time)
                if fact
                else "—",
                scenario_verdict=case_verdict(
                    overdue=row.overdue, closed_on_time=row.closed_on_time
                ),
                live_overdue_at=fact.overdue_at if fact else None,
                scenario_overdue_at=row.overdue_at,
                would_escalate_at=row.would_escalate_at,
            )
        )
    return result


def changed_dispatches(*, rows) -> list[ChangedDispatch]:
    rows = list(rows)
    ids = [row.dispatch_id for row in rows]
    live = DispatchFact.objects.in_bulk(ids, field_name="dispatch_id")
    dispatches = Dispatch.objects.select_related("case", "team", "department").in_bulk(ids)
    result = []
    for row in rows:
        fact, dispatch = live.get(row.dispatch_id), dispatches.get(row.dispatch_id)
        result.append(
            ChangedDispatch(
                case_id=dispatch.case_id if dispatch else 0,
                dispatch_id=row.dispatch_id,
                number=dispatch.case.number if dispatch else str(row.dispatch_id),
                handler=dispatch.handler.name if dispatch else "",
                live_verdict=dispatch_verdict(
                    late=fact.late, reported_on_time=fact.reported_on_time
                )
                if fact
                else "—",
                scenario_verdict=dispatch_verdict(
                    late=row.late, reported_on_time=row.reported_on_time
                ),
                live_due=fact.report_in_due if fact else None,
                scenario_due=row.report_in_due,
            )
        )
    return result


def changed_replay(*, user: User, replay_id: int) -> Replay:
    """The replay whose changed verdicts are listed (finished)."""
    replay = access.access_replay(user=user, pk=replay_id)
    if replay.state != Replay.State.DONE:
        raise LabError(fields={"replay": [_("The replay has not finished.")]})
    return replay
