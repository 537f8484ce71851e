"""Indicators per unit and period: the formulas on real cases, the drill-down lists that have
exactly as many cases as each number, the percentile, scope, and a bounded query count."""

from datetime import date, timedelta

import pytest
from django.http import Http404

from assessment import selectors
from assessment.indicators import KEYS
from assessment.models import CaseFact
from assessment.periods import custom, parse_period, period_for, previous
from tests.assessment.facts_steps import eager_celery  # noqa: F401
from tests.assessment.test_rebuild import drive_all_paths
from tests.cases.conftest import Org, build_org
from tests.cases.engine_steps import T0
from tests.module_rows import ModuleBuild, build_for_module


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory):
    """The organisation and its cases down every path, built once for the module (the tests
    only read them; tests/module_rows.py)."""
    shared = ModuleBuild()

    def build(drive, clock):
        clock.move_to(T0, tick=False)
        org = build_org()
        return org, drive_all_paths(drive, org)

    build_for_module(
        shared, blocker=django_db_blocker, media=tmp_path_factory.mktemp("paths"), build=build
    )
    yield shared
    shared.close()


@pytest.fixture
def _org_and_paths(db, _built, time_machine, settings, tmp_path, eager_celery):  # noqa: F811
    return _built.for_test(time_machine=time_machine, settings=settings, tmp_path=tmp_path)


@pytest.fixture
def org(_org_and_paths) -> Org:
    return _org_and_paths[0]


@pytest.fixture
def paths(_org_and_paths) -> dict:
    return _org_and_paths[1]


SUMMER = custom(date(2025, 6, 1), date(2025, 8, 31))


def units(org) -> list[tuple[str, int]]:
    return [
        ("city", org.city.pk),
        ("town", org.town.pk),
        ("village", org.village.pk),
        ("grid", org.grid.pk),
        ("grid_worker", org.grid_worker.pk),
        ("team", org.team.pk),
        ("department", org.department.pk),
    ]


def test_the_city_numbers_follow_the_formulas(org, paths):
    values = selectors.indicators(
        user=org.supervisor, unit_type="city", unit_id=None, period=SUMMER
    )
    assert set(values) == set(KEYS)

    def pair(key):
        return values[key].numerator, values[key].denominator

    # 8 cases: one rejected (not due), one suspended now (out of the closure rates); closed:
    # on the spot, reworked then verified, postponed then on the spot.
    assert pair("closure_rate") == (3, 6)
    assert values["closure_rate"].value == pytest.approx(0.5)
    assert pair("rework_rate") == (1, 7)
    assert pair("postponement_rate") == (1, 7)
    assert pair("satisfaction_rate") == (2, 2)
    assert pair("on_the_spot_rate") == (2, 7)
    assert pair("level_village_share") == (2, 3)
    assert pair("level_town_share") == (1, 3)
    assert pair("level_city_share") == (0, 3)
    assert values["on_time_closure_rate"].numerator <= 3
    assert values["avg_handling_hours"].denominator == 3
    assert values["avg_handling_hours"].value > 0
    assert values["p90_handling_hours"].value >= values["avg_handling_hours"].value
    # The department of case 2 reported in late; its team (and two other teams) on time.
    assert values["response_rate"].numerator >= 3
    assert values["response_rate"].denominator > values["response_rate"].numerator
    params = values["closure_rate"].cases_url_params
    assert params["indicator"] == "closure_rate" and params["unit_type"] == "city"
    assert parse_period(params) == SUMMER


def test_every_number_has_exactly_its_cases_behind_it(org, paths):
    for unit_type, unit_id in units(org):
        values = selectors.indicators(
            user=org.supervisor, unit_type=unit_type, unit_id=unit_id, period=SUMMER
        )
        for key, indicator in values.items():
            for part, expected in (
                ("numerator", indicator.numerator),
                ("denominator", indicator.denominator),
            ):
                behind = selectors.cases_behind(
                    user=org.supervisor,
                    indicator_key=key,
                    part=part,
                    unit_type=unit_type,
                    unit_id=unit_id,
                    period=SUMMER,
                )
                assert behind.count() == expected, (unit_type, key, part)
                assert len(list(behind)) == expected, (unit_type, key, part)


def test_a_team_counts_the_cases_dispatched_to_it(org, paths):
    values = selectors.indicators(
        user=org.supervisor, unit_type="team", unit_id=org.team.pk, period=SUMMER
    )
    dispatched_cases = {
        case.pk for case in paths.values() if case.dispatches.filter(team=org.team).exists()
    }
    due = selectors.cases_behind(
        user=org.supervisor,
        indicator_key="rework_rate",
        part="denominator",
        unit_type="team",
        unit_id=org.team.pk,
        period=SUMMER,
    )
    assert set(due.values_list("pk", flat=True)) == dispatched_cases
    assert values["rework_rate"].denominator == len(dispatched_cases)
    other = selectors.indicators(
        user=org.supervisor, unit_type="team", unit_id=org.other_team.pk, period=SUMMER
    )
    assert other["closure_rate"].denominator == 0 and other["closure_rate"].value is None


def test_a_period_counts_the_cases_filed_in_it(org, paths):
    june = period_for("month", date(2025, 6, 10))
    may = previous(june)
    in_may = selectors.indicators(user=org.supervisor, unit_type="city", unit_id=None, period=may)
    assert in_may["rework_rate"].denominator == 0
    filed_in_june = CaseFact.objects.filter(
        filed_at__gte=june.start_at, filed_at__lt=june.end_at, rejected=False
    ).count()
    in_june = selectors.indicators(user=org.supervisor, unit_type="city", unit_id=None, period=june)
    assert in_june["rework_rate"].denominator == filed_in_june > 0


def test_the_90th_percentile_is_continuous_and_its_tail_is_listed(org, paths):
    closed = list(CaseFact.objects.filter(closed=True).order_by("pk"))
    for fact, hours in zip(closed, (1, 2, 10), strict=True):
        CaseFact.objects.filter(pk=fact.pk).update(handling_seconds=hours * 3600)
    values = selectors.indicators(
        user=org.supervisor, unit_type="city", unit_id=None, period=SUMMER
    )
    # percentile_cont(0.9) of 1, 2, 10: position 1.8 -> 2 + 0.8 * 8 = 8.4
    assert values["p90_handling_hours"].value == pytest.approx(8.4)
    assert values["avg_handling_hours"].value == pytest.approx(13 / 3)
    assert values["p90_handling_hours"].numerator == 1
    tail = selectors.cases_behind(
        user=org.supervisor,
        indicator_key="p90_handling_hours",
        part="numerator",
        unit_type="city",
        unit_id=None,
        period=SUMMER,
    )
    assert list(tail.values_list("pk", flat=True)) == [closed[2].pk]
    rows = {
        row.unit_id: row
        for row in selectors.ranking(user=org.supervisor, unit_type="town", period=SUMMER)
    }
    assert rows[org.town.pk].indicators["p90_handling_hours"].value == pytest.approx(8.4)
    assert rows[org.town.pk].indicators["p90_handling_hours"].numerator == 1


def test_ranking_rows_match_the_unit_indicators(org, paths):
    for unit_type in ("town", "village", "grid", "team", "department"):
        rows = selectors.ranking(user=org.supervisor, unit_type=unit_type, period=SUMMER)
        assert rows, unit_type
        for row in rows:
            single = selectors.indicators(
                user=org.supervisor, unit_type=unit_type, unit_id=row.unit_id, period=SUMMER
            )
            for key in KEYS:
                assert (row.indicators[key].numerator, row.indicators[key].denominator) == (
                    single[key].numerator,
                    single[key].denominator,
                ), (unit_type, row.unit_id, key)
    towns = selectors.ranking(user=org.supervisor, unit_type="town", period=SUMMER)
    assert towns[0].unit_id == org.town.pk and towns[0].rank == 1 and towns[0].score is not None
    assert towns[1].score is None and towns[1].rank is None  # the other town had no cases


def test_scope_hides_units_outside_it(org, paths):
    with pytest.raises(Http404):
        selectors.indicators(
            user=org.town_committee, unit_type="town", unit_id=org.other_town.pk, period=SUMMER
        )
    with pytest.raises(Http404):
        selectors.indicators(
            user=org.captain, unit_type="team", unit_id=org.other_team.pk, period=SUMMER
        )
    with pytest.raises(Http404):
        selectors.cases_behind(
            user=org.village_officer,
            indicator_key="closure_rate",
            part="numerator",
            unit_type="city",
            unit_id=org.city.pk,
            period=SUMMER,
        )
    own = selectors.indicators(
        user=org.town_committee, unit_type="town", unit_id=org.town.pk, period=SUMMER
    )
    assert own["closure_rate"].numerator == 3
    assert [
        row.unit_id
        for row in selectors.ranking(user=org.town_committee, unit_type="town", period=SUMMER)
    ] == [org.town.pk]
    assert (
        selectors.indicators(
            user=org.captain, unit_type="team", unit_id=org.team.pk, period=SUMMER
        )["response_rate"].denominator
        >= 1
    )


def test_a_bounded_number_of_queries(org, paths, django_assert_max_num_queries):
    org.supervisor.refresh_from_db()
    with django_assert_max_num_queries(8):
        selectors.indicators(
            user=org.supervisor, unit_type="town", unit_id=org.town.pk, period=SUMMER
        )
    with django_assert_max_num_queries(14):
        selectors.ranking(user=org.supervisor, unit_type="village", period=SUMMER)


def test_level_distribution_trend_and_red_list(org, paths):
    levels = selectors.level_distribution(
        user=org.supervisor, unit_type="city", unit_id=None, period=SUMMER
    )
    # Who solved them (70/20/10): two by the village itself, one by the town's team.
    assert levels["counts"] == {"village": 2, "team": 1, "consultation": 0}
    assert levels["targets"] == {"village": 0.7, "team": 0.2, "consultation": 0.1}
    assert levels["shares"]["village"] == pytest.approx(2 / 3)
    # The level view, without a target.
    assert {level: row["count"] for level, row in levels["closing_levels"].items()} == {
        "village": 2,
        "town": 1,
        "city": 0,
    }

    series = selectors.trend(
        user=org.supervisor,
        unit_type="city",
        unit_id=None,
        kind="month",
        count=3,
        anchor=date(2025, 7, 1),
    )
    assert [str(period) for period, _values in series] == ["2025-05", "2025-06", "2025-07"]
    assert series[0][1]["closure_rate"].denominator == 0
    assert series[1][1]["closure_rate"].denominator + series[2][1]["closure_rate"].denominator == 6

    red = list(selectors.red_and_overdue(user=org.supervisor, limit=50))
    assert red and all(case.is_open for case in red)
    assert [case.overdue_since for case in red] == sorted(case.overdue_since for case in red)
    assert list(selectors.red_and_overdue(user=org.other_captain, limit=50)) == []


def test_periods_parse_and_step_back():
    assert parse_period({"kind": "week", "anchor": "2025-06-12"}) == period_for(
        "week", date(2025, 6, 9)
    )
    quarter = period_for("quarter", date(2025, 5, 20))
    assert (quarter.start, quarter.end) == (date(2025, 4, 1), date(2025, 7, 1))
    assert previous(quarter).start == date(2025, 1, 1)
    range_ = parse_period({"kind": "custom", "start": "2025-06-01", "end": "2025-06-10"})
    assert range_.end - range_.start == timedelta(days=10)
    assert previous(range_).end == range_.start
    for bad in (
        {"kind": "fortnight"},
        {"kind": "day", "anchor": "soon"},
        {"kind": "custom", "start": "2025-06-10", "end": "2025-06-01"},
    ):
        with pytest.raises(ValueError):
            parse_period(bad)


def test_the_supervision_rates_count_the_pressed_dispatches(org, paths):
    """Case 2's department was urged and put under a supervision order, met on time."""
    pressed = paths["reworked"].dispatches.get(department__isnull=False)
    for unit_type, unit_id in (("city", None), ("department", org.department.pk)):
        values = selectors.indicators(
            user=org.supervisor, unit_type=unit_type, unit_id=unit_id, period=SUMMER
        )
        dispatched = values["response_rate"].denominator
        assert (values["urge_rate"].numerator, values["urge_rate"].denominator) == (1, dispatched)
        assert values["supervision_rate"].numerator == 1
        late = values["supervision_late_rate"]
        assert (late.numerator, late.denominator, late.value) == (0, 1, 0.0)
        behind = selectors.cases_behind(
            user=org.supervisor,
            indicator_key="urge_rate",
            part="numerator",
            unit_type=unit_type,
            unit_id=unit_id or org.city.pk,
            period=SUMMER,
        )
        assert list(behind.values_list("pk", flat=True)) == [pressed.case_id]
    team = selectors.indicators(
        user=org.supervisor, unit_type="team", unit_id=org.team.pk, period=SUMMER
    )
    assert team["urge_rate"].numerator == 0 and team["supervision_late_rate"].value is None
