"""What keeps the everyday pages fast on a large history (bench.pages measures them at 2,000,000
cases): the dispatch board's one-statement clocks agree with the light rule, the overview's
grouped counts agree with the per-period formulas, and the pages' query counts do not grow
with the rows they read."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessment import indicators as formulas
from assessment import selectors as assessment_selectors
from assessment.periods import period_for, previous
from assessment.services import rebuild_all_facts
from cases import timers
from cases.models import Deadline
from cases.selectors_pages.board import LIGHTS, board_dispatches, board_scope, dispatch_board
from cases.services import report_in, suspend_case
from checklists.models import Stage
from tests.assessment.dashboards_steps import closed_by_team, closed_on_spot
from tests.board_copies import expected_clock
from tests.cases import conftest as cases_conftest
from tests.cases.engine_steps import file_case
from tests.cases.test_pages_board import team_dispatch, whistled

org = cases_conftest.org

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 6, 10, 9, 0, tzinfo=TZ)  # a Tuesday in office hours


def rule_lights(dispatches, now) -> list[tuple[int, int | None, str]]:
    """(dispatch, clock, light) by the rule written out in Python, most urgent first."""
    rows = []
    for dispatch in dispatches:
        running = list(Deadline.objects.filter(case_id=dispatch.case_id, met_at__isnull=True))
        clock = expected_clock(dispatch, running)
        light = timers.light(clock, now=now) if clock else ""
        due = clock.due_at if clock else None
        rows.append(((due is None, due or now, dispatch.dispatched_at, dispatch.pk), clock, light))
    rows.sort(key=lambda row: row[0])
    return [(key[-1], clock.pk if clock else None, light) for key, clock, light in rows]


def test_board_lights_follow_the_light_rule(org):
    """Waiting (report-in clock), reported (the case's handling clock), a task clock of its
    own, a paused clock, and lights of every colour as time passes: the board's order, lights,
    counts and clocks, read from the dispatches' copies, agree with the rule."""
    with time_machine.travel(T0, tick=False) as traveller:
        waiting = [whistled(org, n) for n in range(3)]
        reported = [whistled(org, n) for n in range(3, 6)]
        for case in reported:
            report_in(user=org.captain, dispatch_id=team_dispatch(case).pk)
        # A task clock of the dispatch itself, due later than the case's clock.
        own = team_dispatch(reported[0])
        Deadline.objects.create(
            case=reported[0],
            dispatch=own,
            stage=Stage.HANDLING,
            amount=1,
            unit="working_days",
            started_at=T0 + timedelta(minutes=5),
            warn_at=T0 + timedelta(days=3),
            due_at=T0 + timedelta(days=4),
            case_filed_at=reported[0].filed_at,
        )
        timers.sync_dispatch_board(case=reported[0])
        suspend_case(
            user=org.town_committee,
            case_id=reported[1].pk,
            reason="Waiting for the court",
            review_on=(T0 + timedelta(days=30)).date(),
        )
        scope = board_scope(user=org.captain)
        dispatches = list(board_dispatches(user=org.captain, scope=scope))
        seen_lights = set()
        for hours in (0, 20, 30, 24 * 5, 24 * 20):
            traveller.move_to(T0 + timedelta(hours=hours))
            now = T0 + timedelta(hours=hours)
            expected = rule_lights(dispatches, now)
            board = dispatch_board(user=org.captain, scope=scope)
            shown = [(row.dispatch.pk, row.dispatch.clock_id, row.light) for row in board.rows]
            assert shown == expected
            assert [row.deadline.pk for row in board.rows] == [clock for _, clock, _ in expected]
            for light in LIGHTS:
                assert board.counts[light] == sum(1 for row in expected if row[2] == light)
            seen_lights |= {light for _pk, _clock, light in expected}
        assert len(expected) == len(waiting) + len(reported)  # the suspended one is paused
    assert {"green", "red"} <= seen_lights


def test_board_light_filter_and_counts_come_from_the_same_rows(client, org):
    with time_machine.travel(T0, tick=False) as traveller:
        for n in range(4):
            whistled(org, n)
        traveller.move_to(T0 + timedelta(days=10))
        client.force_login(org.captain)
        board = client.get(reverse("cases:board")).context["board"]
        red = client.get(reverse("cases:board"), {"light": "red"}).context["board"]
    assert board.total == 4 and board.counts["red"] == 4
    assert [row.light for row in red.rows] == ["red"] * 4
    assert all(row.deadline is not None for row in board.rows)


def months_of_cases(org) -> None:
    """Cases closed, open and rejected in three different months, facts rebuilt."""
    with time_machine.travel(T0 - timedelta(days=70), tick=False):
        closed_by_team(org)
    with time_machine.travel(T0 - timedelta(days=35), tick=False):
        closed_on_spot(org)
        file_case(org)
    with time_machine.travel(T0, tick=False):
        closed_on_spot(org)
        closed_by_team(org)
        file_case(org)
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        rebuild_all_facts()


@pytest.mark.parametrize("kind", ["month", "week", "quarter"])
def test_grouped_counts_equal_the_per_period_formulas(org, kind):
    months_of_cases(org)
    periods = [period_for(kind, T0.date())]
    while len(periods) < 6:
        periods.append(previous(periods[-1]))
    for unit_type, unit_id in (("city", org.city.pk), ("town", org.town.pk)):
        grouped = assessment_selectors.indicators_over(
            user=org.supervisor, unit_type=unit_type, unit_id=unit_id, periods=periods
        )
        for period in periods:
            one = formulas.compute(unit_type=unit_type, unit_id=unit_id, period=period, params={})[
                "indicators"
            ]
            for key, indicator in one.items():
                got = grouped[period][key]
                assert (got.numerator, got.denominator) == (
                    indicator.numerator,
                    indicator.denominator,
                ), (unit_type, period, key)
                assert got.value == pytest.approx(indicator.value), (unit_type, period, key)
    counted = [p for p in periods if grouped[p]["rework_rate"].denominator]
    assert len(counted) >= (1 if kind == "quarter" else 2)  # cases in several periods


def overview_queries(client, *, recount: bool = False) -> int:
    """The overview's queries; `recount`: every month changed since it was counted."""
    if recount:
        from assessment.services import touch_fact_months

        month = T0.date().replace(day=1)
        months = []
        for _n in range(14):
            months.append(month)
            month = (month - timedelta(days=1)).replace(day=1)
        touch_fact_months(months=months)
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("assessment:overview"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return len(context.captured_queries)


def test_overview_counts_all_periods_in_a_fixed_number_of_queries(client, org):
    with time_machine.travel(T0 - timedelta(days=10), tick=False):
        file_case(org)  # left alone: on the red list at T0
    with time_machine.travel(T0, tick=False):
        closed_on_spot(org)
        rebuild_all_facts()
        client.force_login(org.supervisor)
        overview_queries(client)  # warm the per-process caches
        few = overview_queries(client, recount=True)
    months_of_cases(org)
    with time_machine.travel(T0, tick=False):
        many = overview_queries(client, recount=True)
        cached = overview_queries(client)
    assert many == few
    assert cached < many  # nothing changed: every period from the cache
    assert few <= 20  # the period, the one before and twelve months: grouped, not per period


def test_filing_page_reads_no_cases(client, org):
    client.force_login(org.grid_worker)
    with time_machine.travel(T0, tick=False):
        client.get(reverse("cases:file"))
        with CaptureQueriesContext(connection) as few:
            assert client.get(reverse("cases:file")).status_code == 200
        for _n in range(3):
            file_case(org)
        with CaptureQueriesContext(connection) as many:
            assert client.get(reverse("cases:file")).status_code == 200
    assert len(many) == len(few)
    assert not [q for q in many.captured_queries if '"cases_case"' in q["sql"]]


def test_counted_months_come_from_the_cache_until_a_fact_of_theirs_changes(client, org):
    """Months' counts are kept while nothing of theirs changes; writing a fact of a month gives
    it a new token, and only its numbers are counted again."""
    from assessment.models import FactMonth
    from assessment.services import refresh_case_facts, touch_fact_months

    months_of_cases(org)
    assert FactMonth.objects.count() == 3  # April, May and June have facts
    june = period_for("month", T0.date())
    periods = [previous(previous(june)), previous(june), june]

    def counted() -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as context:
            values = assessment_selectors.indicators_over(
                user=org.supervisor, unit_type="city", unit_id=org.city.pk, periods=periods
            )
        return len(context.captured_queries), values

    first, values = counted()
    again, same = counted()
    assert again < first  # scope and tokens only
    assert {p: v["rework_rate"].denominator for p, v in same.items()} == {
        p: v["rework_rate"].denominator for p, v in values.items()
    }
    touch_fact_months(months=[june.start])
    assert counted()[0] > again  # June counted again (its grouped queries)
    assert counted()[0] == again
    with time_machine.travel(T0, tick=False):
        case = file_case(org)
        refresh_case_facts(case_id=case.pk)
    _queries, after = counted()
    assert after[june]["rework_rate"].denominator == values[june]["rework_rate"].denominator + 1
    assert after[periods[0]]["rework_rate"].denominator == (
        values[periods[0]]["rework_rate"].denominator
    )
