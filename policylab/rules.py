"""A scenario's rules as the replay reads them, made from the rules in force and checked.

The rules are plain values (no rows), so a replay keeps exactly what it ran under
(Replay.rules) and a later edit of the scenario, or of the rules in force, changes no result.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.indicators import RATE_KEYS
from assessment.models import SchemeDeduction
from assessment.periods import Period
from assessment.scoring import DeductionPoints, IndicatorWeight, SchemeCopy, scheme_for
from cases.errors import InvalidInput
from checklists.models import Stage, TimeLimit, TimeUnit

# The limits a scenario may change: every stage with a clock (the suspension review is a
# review date the committee picks, not a limit the rules set).
STAGES = tuple(stage for stage in Stage if stage != Stage.SUSPENSION_REVIEW)
UNITS = tuple(TimeUnit)
WORKING_UNITS = frozenset({TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS})
MAX_AMOUNT = 10_000


@dataclass(frozen=True)
class Rules:
    """What a replay applies: limits per (item, stage), calendar changes, yellow, scheme."""

    limits: dict[tuple[int, str], tuple[int, str]]
    holidays: frozenset[date]
    workdays: frozenset[date]
    yellow_at_percent: int | None
    scheme: SchemeCopy | None

    @property
    def calendar_changed(self) -> bool:
        return bool(self.holidays or self.workdays)

    def as_json(self) -> dict:
        return {
            "limits": [
                {"item": item, "stage": stage, "amount": amount, "unit": unit}
                for (item, stage), (amount, unit) in sorted(self.limits.items())
            ],
            "holidays": sorted(day.isoformat() for day in self.holidays),
            "workdays": sorted(day.isoformat() for day in self.workdays),
            "yellow_at_percent": self.yellow_at_percent,
            "scheme": scheme_json(self.scheme),
        }


def limits_in_force() -> list[dict]:
    """Every item's limits as they stand (the start of a new scenario)."""
    return [
        {"item": item, "stage": stage, "amount": amount, "unit": unit}
        for item, stage, amount, unit in TimeLimit.objects.filter(stage__in=STAGES)
        .order_by("item_id", "stage")
        .values_list("item_id", "stage", "amount", "unit")
    ]


def scheme_in_force(*, today: date | None = None) -> dict:
    """The scoring scheme in force today, as a scenario stores it ({} when there is none)."""
    today = today or timezone.localdate()
    scheme = scheme_for(Period(start=today, end=today, kind="day"))
    return scheme_json(SchemeCopy.of(scheme)) if scheme is not None else {}


def scheme_json(scheme: SchemeCopy | None) -> dict:
    if scheme is None:
        return {}
    return {
        "town_evaluation_weight": str(scheme.town_evaluation_weight),
        "indicators": [
            {
                "key": row.key,
                "weight": str(row.weight),
                "floor": None if row.floor is None else str(row.floor),
                "ceiling": None if row.ceiling is None else str(row.ceiling),
            }
            for row in scheme.indicators
        ],
        "deductions": [{"kind": row.kind, "points": str(row.points)} for row in scheme.deductions],
    }


def _decimal(value, *, errors: dict, field: str, low: Decimal, high: Decimal | None) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("“%(value)s” is not a number.") % {"value": value})
        return low
    if not number.is_finite() or number < low or (high is not None and number > high):
        errors.setdefault(field, []).append(
            _("%(value)s is outside %(low)s–%(high)s.")
            % {"value": value, "low": low, "high": high if high is not None else "∞"}
        )
    return number


def parse_scheme(data: dict, *, errors: dict) -> SchemeCopy | None:
    """A scenario's scheme from its stored or submitted form; errors are collected by field."""
    if not data:
        return None
    weight = _decimal(
        data.get("town_evaluation_weight", "0"),
        errors=errors,
        field="town_evaluation_weight",
        low=Decimal(0),
        high=Decimal(1),
    )
    indicators, seen = [], set()
    for row in data.get("indicators") or []:
        key = row.get("key")
        if key not in RATE_KEYS and key not in ("avg_handling_hours", "p90_handling_hours"):
            errors.setdefault("scheme", []).append(
                _("“%(key)s” is not an indicator a scheme can weigh.") % {"key": key}
            )
            continue
        if key in seen:
            errors.setdefault("scheme", []).append(
                _("The indicator “%(key)s” is weighed twice.") % {"key": key}
            )
            continue
        seen.add(key)
        field = f"weight_{key}"
        floor = row.get("floor")
        ceiling = row.get("ceiling")
        if floor not in (None, "") and ceiling not in (None, ""):
            errors.setdefault(field, []).append(
                _("Give full marks from a rate or up to a rate, not both.")
            )
        indicators.append(
            IndicatorWeight(
                key=key,
                weight=_decimal(
                    row.get("weight"), errors=errors, field=field, low=Decimal(0), high=None
                ),
                floor=None
                if floor in (None, "")
                else _decimal(floor, errors=errors, field=field, low=Decimal(0), high=Decimal(1)),
                ceiling=None
                if ceiling in (None, "")
                else _decimal(ceiling, errors=errors, field=field, low=Decimal(0), high=Decimal(1)),
            )
        )
    if indicators and sum(row.weight for row in indicators) <= 0:
        errors.setdefault("scheme", []).append(
            _("The weights must add up to more than zero: a scheme with no weight scores nothing.")
        )
    deductions, kinds = [], set(SchemeDeduction.Kind.values)
    for row in data.get("deductions") or []:
        kind = row.get("kind")
        if kind not in kinds:
            errors.setdefault("scheme", []).append(
                _("“%(kind)s” is not a kind of deduction.") % {"kind": kind}
            )
            continue
        points = _decimal(
            row.get("points"), errors=errors, field=f"deduction_{kind}", low=Decimal(0), high=None
        )
        deductions.append(DeductionPoints(kind=kind, points=points))
    return SchemeCopy(
        town_evaluation_weight=weight, indicators=tuple(indicators), deductions=tuple(deductions)
    )


def _dates(values, *, errors: dict, field: str) -> frozenset[date]:
    days = set()
    for value in values or []:
        try:
            days.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            errors.setdefault(field, []).append(
                _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value}
            )
    return frozenset(days)


def parse_rules(
    *,
    limits: list[dict],
    holidays: list,
    workdays: list,
    yellow_at_percent: int | None,
    scheme: dict,
) -> Rules:
    """Check a scenario's rules and return them; raise InvalidInput listing every error
    (field -> messages) and change nothing."""
    errors: dict[str, list[str]] = {}
    parsed: dict[tuple[int, str], tuple[int, str]] = {}
    for row in limits:
        field = f"limit_{row.get('item')}_{row.get('stage')}"
        try:
            item, stage = int(row["item"]), str(row["stage"])
        except (KeyError, TypeError, ValueError):
            errors.setdefault("limits", []).append(_("A limit names no item or stage."))
            continue
        if stage not in STAGES:
            errors.setdefault(field, []).append(
                _("“%(stage)s” is not a stage with a limit.") % {"stage": stage}
            )
            continue
        unit = row.get("unit")
        if unit not in UNITS:
            errors.setdefault(field, []).append(
                _("“%(unit)s” is not a unit of time.") % {"unit": unit}
            )
            continue
        try:
            amount = int(str(row.get("amount")).strip())
        except ValueError:
            errors.setdefault(field, []).append(
                _("“%(value)s” is not a whole number.") % {"value": row.get("amount")}
            )
            continue
        if amount <= 0:
            errors.setdefault(field, []).append(
                _("A time limit must be more than zero (%(value)s given).") % {"value": amount}
            )
            continue
        if amount > MAX_AMOUNT:
            errors.setdefault(field, []).append(
                _("Give a limit of at most %(max)s.") % {"max": MAX_AMOUNT}
            )
            continue
        parsed[(item, stage)] = (amount, unit)
    holiday_days = _dates(holidays, errors=errors, field="holidays")
    workday_days = _dates(workdays, errors=errors, field="workdays")
    both = holiday_days & workday_days
    if both:
        errors.setdefault("workdays", []).append(
            _("A day cannot be both a holiday and a working day: %(days)s.")
            % {"days": ", ".join(sorted(day.isoformat() for day in both))}
        )
    if yellow_at_percent in ("", None):
        yellow_at_percent = None
    else:
        try:
            yellow_at_percent = int(str(yellow_at_percent).strip())
        except ValueError:
            yellow_at_percent = 0
        if not 0 < yellow_at_percent < 100:
            errors.setdefault("yellow_at_percent", []).append(
                _("The yellow light comes at a share of the limit between 1 and 99%.")
            )
    scheme_copy = parse_scheme(scheme, errors=errors)
    if errors:
        raise InvalidInput(fields=errors)
    return Rules(
        limits=parsed,
        holidays=holiday_days,
        workdays=workday_days,
        yellow_at_percent=yellow_at_percent,
        scheme=scheme_copy,
    )


def rules_of(data: dict) -> Rules:
    """The rules a replay stored (Replay.rules), or a scenario's fields as a dict."""
    return parse_rules(
        limits=data.get("limits") or [],
        holidays=data.get("holidays") or [],
        workdays=data.get("workdays") or [],
        yellow_at_percent=data.get("yellow_at_percent"),
        scheme=data.get("scheme") or {},
    )
