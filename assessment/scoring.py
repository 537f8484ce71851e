"""Scores from indicators: the scheme valid for a period, weights, floors, deductions and the
towns' evaluation of departments.

- The scheme of a period is the active scheme with the latest `valid_from` on or before the
  period's first day. A scheme change therefore applies from its date; and since a scheme is
  locked once its date has passed (it cannot be edited, deactivated or deleted, and a new
  scheme cannot start in the past), the scheme of a closed period — one that ended before
  today — never changes.
- An indicator's score is 100 when its rate reaches the floor (full marks from that rate), else
  100 · rate / floor. For rates where less is better (rework, postponement) the ceiling is used:
  100 when the rate is at most the ceiling, else 100 · (1 − rate) / (1 − ceiling).
- The indicator score is the weighted mean of the indicators that have a value (a rate with
  nothing to count is left out, and the weights of the others are rescaled).
- Deductions take points off per counted event; the score stays within 0–100.
- A department's final score = (1 − w) · its score + w · the mean of the towns' monthly
  evaluations of it in the period (w = the scheme's town evaluation weight, 30% by default);
  without any evaluation the final score is its score.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.indicators import RATE_KEYS, Indicator
from assessment.models import SchemeDeduction, SchemeIndicator, ScoringScheme, TownEvaluation
from assessment.periods import Period

# What each deduction counts, from the aggregated counts of assessment.indicators.compute.
DEDUCTION_COUNTS = {
    SchemeDeduction.Kind.PER_FAILED_VERIFICATION: "c_rework_events",
    SchemeDeduction.Kind.PER_LATE_REPORT_IN: "d_late",
    SchemeDeduction.Kind.PER_OVERDUE_CASE: "c_overdue",
    SchemeDeduction.Kind.PER_PASSED_LIMIT: "c_late_limits",
    SchemeDeduction.Kind.PER_MISSED_CONSULTATION: "d_consultation_missed",
    SchemeDeduction.Kind.PER_LATE_CONSULTATION: "d_consultation_late",
}


class InForce:
    """Marks "the scheme in force for the period" where a caller may pass another one."""


@dataclass(frozen=True)
class IndicatorWeight:
    key: str
    weight: Decimal
    floor: Decimal | None = None
    ceiling: Decimal | None = None


@dataclass(frozen=True)
class DeductionPoints:
    kind: str
    points: Decimal


@dataclass(frozen=True)
class SchemeCopy:
    """A scoring scheme held outside the database: a policy-lab scenario's weights, scored by
    the same `score` as the schemes in force."""

    town_evaluation_weight: Decimal
    indicators: tuple[IndicatorWeight, ...]
    deductions: tuple[DeductionPoints, ...] = ()

    @classmethod
    def of(cls, scheme: ScoringScheme) -> "SchemeCopy":
        return cls(
            town_evaluation_weight=scheme.town_evaluation_weight,
            indicators=tuple(
                IndicatorWeight(key=r.key, weight=r.weight, floor=r.floor, ceiling=r.ceiling)
                for r in scheme.indicators.all()
            ),
            deductions=tuple(
                DeductionPoints(kind=r.kind, points=r.points) for r in scheme.deductions.all()
            ),
        )


SchemeLike = ScoringScheme | SchemeCopy


def _rows(rows) -> list:
    """A scheme's indicator or deduction rows, from a model's manager or a SchemeCopy."""
    return list(rows.all()) if hasattr(rows, "all") else list(rows)


@dataclass(frozen=True)
class Score:
    indicator_score: float | None
    deductions: float
    town_evaluation: float | None
    total: float | None


def scheme_for(period: Period) -> ScoringScheme | None:
    """The scheme valid on the period's first day, with its indicators and deductions."""
    return (
        ScoringScheme.objects.filter(active=True, valid_from__lte=period.start)
        .order_by("-valid_from", "-id")
        .prefetch_related("indicators", "deductions")
        .first()
    )


def is_locked(scheme: ScoringScheme, *, today: date | None = None) -> bool:
    """A scheme in force on a day that is over may have scored a closed period: it is kept as
    it is."""
    return scheme.pk is not None and scheme.valid_from < (today or timezone.localdate())


def indicator_points(
    *, key: str, value: float, floor: float | None, ceiling: float | None
) -> float:
    if ceiling is not None:
        if value <= ceiling:
            return 100.0
        return max(0.0, 100.0 * (1 - value) / (1 - ceiling)) if ceiling < 1 else 0.0
    if floor is None or floor <= 0 or value >= floor:
        return 100.0
    return 100.0 * value / floor


def score(
    *,
    scheme: SchemeLike | None,
    indicators: dict[str, Indicator],
    counts: dict,
    town_evaluation: float | None = None,
) -> Score:
    if scheme is None:
        return Score(None, 0.0, town_evaluation, None)
    weighted = 0.0
    weights = 0.0
    for row in _rows(scheme.indicators):
        indicator = indicators.get(row.key)
        if indicator is None or indicator.value is None or row.weight <= 0:
            continue
        points = indicator_points(
            key=row.key,
            value=indicator.value,
            floor=float(row.floor) if row.floor is not None else None,
            ceiling=float(row.ceiling) if row.ceiling is not None else None,
        )
        weighted += float(row.weight) * points
        weights += float(row.weight)
    base = weighted / weights if weights else None
    deductions = sum(
        float(row.points) * float(counts.get(DEDUCTION_COUNTS.get(row.kind, ""), 0) or 0)
        for row in _rows(scheme.deductions)
    )
    if base is None:
        return Score(None, deductions, town_evaluation, None)
    total = min(100.0, max(0.0, base - deductions))
    if town_evaluation is not None:
        weight = float(scheme.town_evaluation_weight)
        total = (1 - weight) * total + weight * town_evaluation
    return Score(base, deductions, town_evaluation, round(total, 4))


def town_evaluations(*, department_ids: list[int], period: Period) -> dict[int, float]:
    """The mean of the towns' monthly evaluations of each department, over the months that
    start within the period (a period shorter than a month takes its month)."""
    first = period.start.replace(day=1)
    rows = (
        TownEvaluation.current()
        .filter(department_id__in=department_ids, month__gte=first, month__lt=period.end)
        .values("department_id")
        .annotate(mean=Avg("score"))
    )
    return {row["department_id"]: float(row["mean"]) for row in rows}


# --- changing schemes -----------------------------------------------------------------------


def check_scheme_change(*, scheme: ScoringScheme, today: date | None = None) -> None:
    """Refuse a change that could rewrite a closed period."""
    today = today or timezone.localdate()
    if scheme.pk is not None:
        stored = ScoringScheme.objects.filter(pk=scheme.pk).first()
        if stored is not None and is_locked(stored, today=today):
            raise ValidationError(
                _(
                    "This scheme has been in force on past days and is kept as it was. "
                    "Create a new scheme valid from today or later."
                )
            )
    if scheme.valid_from < today:
        raise ValidationError(
            {"valid_from": _("A scheme applies from today or a later date, never from the past.")}
        )


def create_scheme(
    *,
    name: str,
    valid_from: date,
    indicators: list[tuple[str, Decimal, Decimal | None, Decimal | None]],
    deductions: list[tuple[str, Decimal]] = (),
    town_evaluation_weight: Decimal = Decimal("0.30"),
    today: date | None = None,
) -> ScoringScheme:
    """A new scheme from a date (today or later), with (key, weight, floor, ceiling) rows."""
    scheme = ScoringScheme(
        name=name, valid_from=valid_from, town_evaluation_weight=town_evaluation_weight
    )
    check_scheme_change(scheme=scheme, today=today)
    unknown = [key for key, *_rest in indicators if key not in RATE_KEYS]
    if unknown:
        raise ValidationError(_("Unknown indicators: %(keys)s") % {"keys": ", ".join(unknown)})
    with transaction.atomic():
        scheme.full_clean()
        scheme.save()
        for key, weight, floor, ceiling in indicators:
            SchemeIndicator.objects.create(
                scheme=scheme, key=key, weight=weight, floor=floor, ceiling=ceiling
            )
        for kind, points in deductions:
            SchemeDeduction.objects.create(scheme=scheme, kind=kind, points=points)
    return scheme
