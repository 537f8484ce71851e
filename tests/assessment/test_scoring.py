"""Scores: floors and ceilings, weights, deductions, the towns' evaluation of departments, the
scheme valid for a period (a change never rewrites a closed period), and the evaluation form's
service."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from assessment import scoring, selectors
from assessment.admin import SchemeIndicatorForm
from assessment.indicators import Indicator
from assessment.models import SchemeIndicator, ScoringScheme, TownEvaluation
from assessment.periods import period_for, previous
from assessment.services import record_town_evaluation
from cases.errors import InvalidInput, NotAllowed
from tests.assessment.facts_steps import Driver, eager_celery  # noqa: F401
from tests.assessment.test_rebuild import drive_all_paths
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0

TODAY = T0.date()  # 2025-06-10


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def rate(key: str, value: float | None) -> Indicator:
    return Indicator(key=key, label=key, numerator=0, denominator=1, value=value)


def test_the_default_scheme_has_the_seven_rates_and_thirty_percent(db):
    scheme = scoring.scheme_for(period_for("month", TODAY))
    assert scheme is not None
    assert {row.key for row in scheme.indicators.all()} == {
        "on_time_closure_rate",
        "closure_rate",
        "rework_rate",
        "postponement_rate",
        "response_rate",
        "satisfaction_rate",
        "on_the_spot_rate",
    }
    assert sum(row.weight for row in scheme.indicators.all()) == 100
    assert scheme.town_evaluation_weight == Decimal("0.300")


def test_floors_ceilings_weights_and_deductions(db):
    assert scoring.indicator_points(key="x", value=0.75, floor=0.7, ceiling=None) == 100
    assert scoring.indicator_points(key="x", value=0.35, floor=0.7, ceiling=None) == pytest.approx(
        50
    )
    assert scoring.indicator_points(key="x", value=0.05, floor=None, ceiling=0.1) == 100
    assert scoring.indicator_points(key="x", value=0.55, floor=None, ceiling=0.1) == pytest.approx(
        50
    )
    scheme = scoring.create_scheme(
        name="Two rates",
        valid_from=TODAY,
        indicators=[
            ("closure_rate", Decimal("3"), Decimal("0.8"), None),
            ("rework_rate", Decimal("1"), None, Decimal("0.1")),
        ],
        deductions=[("per_failed_verification", Decimal("2"))],
        today=TODAY,
    )
    values = {"closure_rate": rate("closure_rate", 0.4), "rework_rate": rate("rework_rate", 0.0)}
    result = scoring.score(scheme=scheme, indicators=values, counts={"c_rework_events": 3})
    # (3 * 50 + 1 * 100) / 4 = 62.5, minus 3 failed verifications * 2 points
    assert result.indicator_score == pytest.approx(62.5)
    assert result.deductions == pytest.approx(6)
    assert result.total == pytest.approx(56.5)
    # A rate with nothing to count is left out and the other weights rescaled.
    values["closure_rate"] = rate("closure_rate", None)
    assert scoring.score(scheme=scheme, indicators=values, counts={}).total == 100
    # A department: 70% indicators, 30% the towns' evaluation.
    values["closure_rate"] = rate("closure_rate", 0.8)
    result = scoring.score(scheme=scheme, indicators=values, counts={}, town_evaluation=50)
    assert result.total == pytest.approx(0.7 * 100 + 0.3 * 50)


def test_a_scheme_change_applies_from_its_date_and_never_rewrites_a_closed_period(db):
    default = ScoringScheme.objects.get()
    may = period_for("month", date(2025, 5, 1))
    june = period_for("month", TODAY)
    july = period_for("month", date(2025, 7, 1))
    assert may.is_closed(today=TODAY) and not june.is_closed(today=TODAY)

    new = scoring.create_scheme(
        name="From July",
        valid_from=date(2025, 7, 1),
        indicators=[("closure_rate", Decimal("1"), Decimal("0.9"), None)],
        today=TODAY,
    )
    assert scoring.scheme_for(may) == default
    assert scoring.scheme_for(june) == default  # June started before the new scheme
    assert scoring.scheme_for(july) == new
    assert scoring.scheme_for(period_for("day", date(2025, 7, 2))) == new

    with pytest.raises(ValidationError):
        scoring.create_scheme(
            name="Backdated",
            valid_from=date(2025, 5, 1),
            indicators=[("closure_rate", Decimal("1"), None, None)],
            today=TODAY,
        )
    # The default scheme has been in force: it is locked, in the service and in the admin.
    assert scoring.is_locked(default, today=TODAY)
    with pytest.raises(ValidationError):
        scoring.check_scheme_change(scheme=default, today=TODAY)
    request = RequestFactory().get("/")
    request.user = type(
        "Admin", (), {"is_active": True, "is_staff": True, "has_perm": lambda *a: True}
    )()
    admin = site._registry[ScoringScheme]
    assert not admin.has_change_permission(request, default)
    assert admin.has_change_permission(request, new)
    assert scoring.scheme_for(may) == default
    assert SchemeIndicator.objects.filter(scheme=default).count() == 7


def test_a_closed_period_keeps_its_score_after_a_new_scheme(
    org,  # noqa: F811
    django_capture_on_commit_callbacks,
    time_machine,
    eager_celery,  # noqa: F811
):
    drive_all_paths(Driver(django_capture_on_commit_callbacks, time_machine), org)
    june = period_for("month", TODAY)
    time_machine.move_to(T0 + timedelta(days=60), tick=False)  # August: June is closed
    today = (T0 + timedelta(days=60)).date()
    assert june.is_closed(today=today)
    before = {
        row.unit_id: row.score
        for row in selectors.ranking(user=org.supervisor, unit_type="town", period=june)
    }
    scoring.create_scheme(
        name="Closure only",
        valid_from=today,
        indicators=[("closure_rate", Decimal("1"), Decimal("1"), None)],
        today=today,
    )
    after = {
        row.unit_id: row.score
        for row in selectors.ranking(user=org.supervisor, unit_type="town", period=june)
    }
    assert after == before and before[org.town.pk] is not None
    this_month = period_for("month", today)
    next_month = period_for("month", today + timedelta(days=31))
    assert scoring.scheme_for(this_month).name.startswith("Default")
    assert scoring.scheme_for(next_month).name == "Closure only"


def test_departments_rank_with_the_towns_evaluation(
    org,  # noqa: F811
    django_capture_on_commit_callbacks,
    time_machine,
    eager_celery,  # noqa: F811
):
    drive_all_paths(Driver(django_capture_on_commit_callbacks, time_machine), org)
    june = period_for("month", TODAY)
    plain = selectors.ranking(user=org.supervisor, unit_type="department", period=june)
    row = next(r for r in plain if r.unit_id == org.department.pk)
    assert row.town_evaluation is None and row.score == pytest.approx(
        max(0, min(100, row.indicator_score - row.deductions)), abs=1e-3
    )
    record_town_evaluation(
        user=org.town_committee,
        town_id=org.town.pk,
        department_id=org.department.pk,
        month=TODAY,
        score=40,
    )
    rated = next(
        r
        for r in selectors.ranking(user=org.supervisor, unit_type="department", period=june)
        if r.unit_id == org.department.pk
    )
    assert rated.town_evaluation == 40
    assert rated.score == pytest.approx(0.7 * row.score + 0.3 * 40, abs=1e-3)


def test_record_town_evaluation_rules(org):  # noqa: F811
    evaluation = record_town_evaluation(
        user=org.town_committee,
        town_id=org.town.pk,
        department_id=org.department.pk,
        month=date(2025, 6, 17),
        score="88.5",
        note=" Quick ",
    )
    assert evaluation.month == date(2025, 6, 1) and evaluation.score == Decimal("88.50")
    assert evaluation.note == "Quick" and evaluation.evaluated_by == org.town_committee
    again = record_town_evaluation(
        user=org.town_committee,
        town_id=org.town.pk,
        department_id=org.department.pk,
        month=date(2025, 6, 1),
        score=70,
    )
    # Given again, a new row replaces the first (append-only); the first stays as it was.
    assert again.pk != evaluation.pk and again.replaces_id == evaluation.pk
    assert TownEvaluation.current().get().score == 70
    assert TownEvaluation.objects.get(pk=evaluation.pk).score == Decimal("88.50")
    record_town_evaluation(
        user=org.town_committee,
        town_id=org.town.pk,
        department_id=org.department.pk,
        month=date(2025, 5, 3),
        score=0,
    )
    assert TownEvaluation.current().count() == 2 and TownEvaluation.objects.count() == 3

    for user, town in ((org.town_committee, org.other_town), (org.supervisor, org.town)):
        with pytest.raises(NotAllowed):
            record_town_evaluation(
                user=user, town_id=town.pk, department_id=org.department.pk, month=TODAY, score=50
            )
    for month, score, field in (
        (date(2025, 4, 1), 50, "month"),
        (date(2025, 7, 1), 50, "month"),
        (TODAY, 101, "score"),
        (TODAY, -1, "score"),
        (TODAY, "lots", "score"),
        (TODAY, "NaN", "score"),
    ):
        with pytest.raises(InvalidInput) as error:
            record_town_evaluation(
                user=org.town_committee,
                town_id=org.town.pk,
                department_id=org.department.pk,
                month=month,
                score=score,
            )
        assert field in error.value.fields
    assert TownEvaluation.objects.count() == 3
    assert previous(period_for("month", TODAY)).start == date(2025, 5, 1)


def test_the_supervision_rates_can_be_weighed(db):
    """Urged, supervised and orders met late are rates where less is better: a scheme weighs
    them with a ceiling, like the rework rate."""
    scheme = scoring.create_scheme(
        name="Pressed units",
        valid_from=TODAY,
        indicators=[
            ("closure_rate", Decimal("1"), Decimal("0.5"), None),
            ("urge_rate", Decimal("1"), None, Decimal("0.1")),
            ("supervision_late_rate", Decimal("2"), None, Decimal("0")),
        ],
        today=TODAY,
    )
    indicators = {
        "closure_rate": rate("closure_rate", 0.5),  # 100 points
        "urge_rate": rate("urge_rate", 0.55),  # 50 points
        "supervision_late_rate": rate("supervision_late_rate", 0.5),  # 50 points, weighing 2
    }
    result = scoring.score(scheme=scheme, indicators=indicators, counts={})
    assert result.indicator_score == pytest.approx((100 + 50 + 2 * 50) / 4)
    # The administrator can choose them for a scheme.
    choices = dict(SchemeIndicatorForm.base_fields["key"].choices)
    assert {"urge_rate", "supervision_rate", "supervision_late_rate"} <= set(choices)
