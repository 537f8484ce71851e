"""What the monthly partitions of the event log, the deadlines and the assessment facts cost
and save a statement (cases.partitions, item 3 of issue 22): the same statements on the
partitioned tables and on unpartitioned copies of them.

    python -m bench.partitions                   # 200,000 cases
    python -m bench.partitions --cases 2000000

Seeds the page benchmark's cases (bench.pages.seed: two years of whistles with their events and
clocks, in tables partitioned over ten years, 121 months and the default partition) into its
database (DATABASE_URL, default .../whistle_bench_pages; emptied, so its name must contain
"bench"), copies the log, the deadlines and the facts each into one unpartitioned table with
the same indexes, and times each statement with EXPLAIN (ANALYZE) on both, `--repeat` times after a
warm-up: PostgreSQL's planning and execution times, medians. The statements:

- a case's history as the case page reads it (`Event.objects.of_case`: the partition key in the
  condition), and the same read without the key, as a read that names no case's month would;
- the urge count of 50 dispatches, the board's correlated subquery, with and without the key;
- 100 events read by id alone;
- a case's clocks (`Deadline.objects.of_case`), with and without the key;
- the firing's conditional UPDATE of one deadline by id and month, and by id alone;
- 100 deadlines by id alone, as the sweep reads and marks a batch it hands out;
- the sweep's claim of the due deadlines, oldest first, which names no month;
- a town's month and a city's thirteen months of case facts counted, as the overview counts a
  period (the partition key is the period's own condition), and one case's facts by its key;
- a team's dispatch facts of a month counted by when they were sent (their partition key);
- a month's case facts with a dispatch of a team (a team's cases, `indicators.unit_case_facts`),
  the correlated subquery bounded by the month's start (`indicators.dispatched_from`) and
  unbounded, against partitioned case facts.

The figures replace the "Partitioned event log" section of docs/benchmarks.md and go to
var/bench/results.json under "partitions".
"""

import argparse
import datetime
import json
import re
import statistics
import time

from bench.common import (
    DOC,
    add_common_arguments,
    machine,
    machine_line,
    record_results,
    set_up,
    write_section,
)
from bench.pages import PARTITION_YEARS, _prepare_environment, seed

# Each table's unpartitioned copy and the key it keeps there.
FLATS = {
    "cases_event": ("bench_event_flat", "id"),
    "cases_deadline": ("bench_deadline_flat", "id"),
    "assessment_casefact": ("bench_casefact_flat", "case_id"),
    "assessment_dispatchfact": ("bench_dispatchfact_flat", "dispatch_id"),
}
SECTION = "## Partitioned event log"
READING = (
    "How to read it: a statement whose condition names the case's month (the partition key) "
    "is planned against that one partition and costs what it costs on one table. A statement "
    "that does not name it is planned against every partition: the planning time grows with "
    "the number of months kept, whatever the rows, and a correlated subquery (the board's urge "
    "count) pays it once per statement even when its execution prunes at run time. So every "
    "statement about one case, and the firing of one deadline, names the month; what does "
    "not is a statement per sweep (the claim of what is due) or per batch of 100 handed-out "
    'deadlines (docs/architecture.md, "Partitioned history"). The facts are partitioned by '
    "the times a period selects them by (a case's filing, a dispatch's sending), so a period's "
    "counts name their months; a lookup from a period's cases to their dispatch facts cannot "
    "name each row's month, and is bounded by the period's start instead (a case is "
    "dispatched after it is filed), which leaves out every month before it."
)


def _copy_flat(cursor, table: str) -> str:
    """The table as one unpartitioned table with the same indexes; its name."""
    flat, key = FLATS[table]
    cursor.execute(f"DROP TABLE IF EXISTS {flat}")
    cursor.execute(f"CREATE TABLE {flat} AS SELECT * FROM {table}")  # noqa: S608
    cursor.execute(f"ALTER TABLE {flat} ADD PRIMARY KEY ({key})")
    cursor.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE %s",
        [table, "%pkey"],
    )
    for (definition,) in cursor.fetchall():
        cursor.execute(re.sub(r"INDEX \S+ ON (ONLY )?\S+", f"INDEX ON {flat}", definition, count=1))
    cursor.execute(f"VACUUM ANALYZE {flat}")
    cursor.execute(f"VACUUM ANALYZE {table}")
    return flat


def _timed(cursor, sql: str, params: list, repeat: int) -> tuple[float, float]:
    """Median planning and execution milliseconds of EXPLAIN (ANALYZE) of the statement."""
    planning, execution = [], []
    for round_ in range(repeat + 3):
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
        plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]
        if round_ >= 3:
            planning.append(plan["Planning Time"])
            execution.append(plan["Execution Time"])
    return statistics.median(planning), statistics.median(execution)


def _event_statements(cursor) -> list[tuple]:
    # The case with the long history (bench.pages) and recent dispatches of the board.
    cursor.execute(
        "SELECT c.id, c.filed_at FROM cases_case c JOIN cases_event e ON e.case_id = c.id "
        "GROUP BY c.id ORDER BY count(*) DESC LIMIT 1"
    )
    case_id, filed_at = cursor.fetchone()
    cursor.execute(
        "SELECT d.id FROM cases_dispatch d JOIN cases_case c ON c.id = d.case_id "
        "ORDER BY c.filed_at DESC LIMIT 50"
    )
    dispatch_ids = [row[0] for row in cursor.fetchall()]
    cursor.execute("SELECT id FROM cases_event ORDER BY random() LIMIT 100")
    event_ids = [row[0] for row in cursor.fetchall()]
    history = "SELECT * FROM {t} WHERE case_id = %s{key} ORDER BY created_at, id"
    urges = (
        "SELECT d.id, (SELECT count(*) FROM {t} e WHERE e.dispatch_id = d.id{key} "
        "AND e.action = 'urge') FROM cases_dispatch d JOIN cases_case c ON c.id = d.case_id "
        "WHERE d.id = ANY(%s)"
    )
    return [
        (
            "a case's history, with its month (the case page)",
            history,
            " AND case_filed_at = %s",
            [case_id, filed_at],
            [case_id],
        ),
        ("a case's history, without its month", history, "", [case_id], [case_id]),
        (
            "50 dispatches' urge counts, with their months (the board)",
            urges,
            " AND e.case_filed_at = c.filed_at",
            [dispatch_ids],
            [dispatch_ids],
        ),
        (
            "50 dispatches' urge counts, without their months",
            urges,
            "",
            [dispatch_ids],
            [dispatch_ids],
        ),
        (
            "100 events by id alone",
            "SELECT * FROM {t} WHERE id = ANY(%s)",
            "",
            [event_ids],
            [event_ids],
        ),
    ]


def _deadline_statements(cursor) -> list[tuple]:
    # A recent open case's clocks, one running clock, and 100 clocks as a batch is handed out.
    cursor.execute(
        "SELECT d.case_id, d.case_filed_at, d.id FROM cases_deadline d "
        "WHERE d.met_at IS NULL AND d.fired_at IS NULL ORDER BY d.case_filed_at DESC LIMIT 1"
    )
    case_id, filed_at, clock_id = cursor.fetchone()
    cursor.execute(
        "SELECT id FROM cases_deadline WHERE met_at IS NULL AND fired_at IS NULL "
        "ORDER BY random() LIMIT 100"
    )
    batch = [row[0] for row in cursor.fetchall()]
    clocks = "SELECT * FROM {t} WHERE case_id = %s{key} ORDER BY started_at, id"
    # The firing's conditional claim, written so it changes nothing when measured.
    fire = "UPDATE {t} SET claimed_until = claimed_until WHERE id = %s{key} AND fired_at IS NULL"
    return [
        (
            "a case's clocks, with its month (the case page, pause, meet)",
            clocks,
            " AND case_filed_at = %s",
            [case_id, filed_at],
            [case_id],
        ),
        ("a case's clocks, without its month", clocks, "", [case_id], [case_id]),
        (
            "one deadline fired by id and month (the sweep's firing)",
            fire,
            " AND case_filed_at = %s",
            [clock_id, filed_at],
            [clock_id],
        ),
        ("one deadline written by id alone", fire, "", [clock_id], [clock_id]),
        (
            "100 deadlines by id alone (a batch handed out: read, begun, claimed)",
            "SELECT * FROM {t} WHERE id = ANY(%s)",
            "",
            [batch],
            [batch],
        ),
        (
            "the due deadlines, oldest first (the sweep's claim)",
            "SELECT id FROM {t} WHERE fired_at IS NULL AND met_at IS NULL "
            "AND paused_at IS NULL AND due_at <= now(){key} ORDER BY due_at, id LIMIT 1000",
            "",
            [],
            [],
        ),
    ]


def _month_bounds(cursor) -> tuple[datetime.datetime, datetime.datetime, datetime.datetime]:
    """The start of last month, of this month, and thirteen months back (the overview's)."""
    cursor.execute(
        "SELECT date_trunc('month', now()) - interval '1 month', date_trunc('month', now()), "
        "date_trunc('month', now()) - interval '12 months'"
    )
    return cursor.fetchone()


def _case_fact_statements(cursor) -> list[tuple]:
    start, end, year_ago = _month_bounds(cursor)
    cursor.execute(
        "SELECT town_id, city_id FROM assessment_casefact WHERE filed_at >= %s AND filed_at < %s "
        "GROUP BY town_id, city_id ORDER BY count(*) DESC LIMIT 1",
        [start, end],
    )
    town_id, city_id = cursor.fetchone()
    cursor.execute(
        "SELECT case_id, filed_at FROM assessment_casefact ORDER BY filed_at DESC LIMIT 1"
    )
    case_id, filed_at = cursor.fetchone()
    town_month = (
        "SELECT count(*), count(*) FILTER (WHERE closed), count(*) FILTER (WHERE overdue) "
        "FROM {t} WHERE town_id = %s AND filed_at >= %s AND filed_at < %s{key}"
    )
    city_months = (
        "SELECT date_trunc('month', filed_at), count(*), count(*) FILTER (WHERE closed) "
        "FROM {t} WHERE city_id = %s AND filed_at >= %s AND filed_at < %s{key} GROUP BY 1"
    )
    return [
        (
            "a town's month of case facts counted (the overview's period)",
            town_month,
            "",
            [town_id, start, end],
            [town_id, start, end],
        ),
        (
            "a city's thirteen months of case facts counted by month",
            city_months,
            "",
            [city_id, year_ago, end],
            [city_id, year_ago, end],
        ),
        (
            "one case's facts by its key (the refresh's row)",
            "SELECT * FROM {t} WHERE case_id = %s{key}",
            " AND filed_at = %s",
            [case_id, filed_at],
            [case_id],
        ),
    ]


def _dispatch_fact_statements(cursor) -> list[tuple]:
    start, end, _year_ago = _month_bounds(cursor)
    cursor.execute(
        "SELECT team_id FROM assessment_dispatchfact WHERE team_id IS NOT NULL "
        "AND dispatched_at >= %s AND dispatched_at < %s "
        "GROUP BY team_id ORDER BY count(*) DESC LIMIT 1",
        [start, end],
    )
    (team_id,) = cursor.fetchone()
    sent = (
        "SELECT count(*), count(*) FILTER (WHERE reported_on_time) FROM {t} "
        "WHERE team_id = %s AND dispatched_at >= %s AND dispatched_at < %s{key}"
    )
    cases = (
        "SELECT count(*) FROM assessment_casefact c WHERE c.filed_at >= %s AND c.filed_at < %s "
        "AND EXISTS (SELECT 1 FROM {t} d WHERE d.case_id = c.case_id AND d.team_id = %s{key} "
        "AND NOT d.cancelled AND NOT d.returned)"
    )
    return [
        (
            "a team's dispatch facts sent in a month (the overview's period)",
            sent,
            "",
            [team_id, start, end],
            [team_id, start, end],
        ),
        (
            "a month's case facts with a dispatch of a team, sent since the month began",
            cases,
            " AND d.dispatched_at >= %s",
            [start, end, team_id, start],
            [start, end, team_id, start],
        ),
        (
            "a month's case facts with a dispatch of a team, unbounded",
            cases,
            "",
            [start, end, team_id],
            [start, end, team_id],
        ),
    ]


def measure(*, cases: int, repeat: int) -> dict:
    from django.db import connection

    started = time.perf_counter()
    seed(cases=cases)
    seeded = time.perf_counter() - started
    rows = []
    counts = {}
    with connection.cursor() as cursor:
        for table, statements in (
            ("cases_event", _event_statements),
            ("cases_deadline", _deadline_statements),
            ("assessment_casefact", _case_fact_statements),
            ("assessment_dispatchfact", _dispatch_fact_statements),
        ):
            flat = _copy_flat(cursor, table)
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            (counts[table],) = cursor.fetchone()
            for label, sql, key, params, flat_params in statements(cursor):
                partitioned = _timed(cursor, sql.format(t=table, key=key), params, repeat)
                flat_key = "" if "filed_at = %s" in key else key
                flat_sql = sql.format(t=flat, key=flat_key)
                rows.append(
                    {
                        "table": table,
                        "statement": label,
                        "partitioned": partitioned,
                        "flat": _timed(cursor, flat_sql, flat_params, repeat),
                    }
                )
            cursor.execute(f"DROP TABLE {flat}")
        cursor.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'cases_event'::regclass")
        (partition_count,) = cursor.fetchone()
    return {
        "cases": cases,
        "events": counts["cases_event"],
        "deadlines": counts["cases_deadline"],
        "case_facts": counts["assessment_casefact"],
        "dispatch_facts": counts["assessment_dispatchfact"],
        "partitions": partition_count,
        "seed_seconds": seeded,
        "repeat": repeat,
        "rows": rows,
    }


def section(result: dict, info: dict[str, str], command: str) -> str:
    lines = [
        SECTION,
        "",
        f"Command: `{command}` on {time.strftime('%Y-%m-%d %H:%M %Z')}.",
        "",
        machine_line(info),
        "",
        f"{result['cases']:,} cases ({result['events']:,} events, "
        f"{result['deadlines']:,} deadlines, {result.get('case_facts', 0):,} case facts, "
        f"{result.get('dispatch_facts', 0):,} dispatch facts) seeded in "
        f"{result['seed_seconds']:.0f} s into a log, deadlines and facts of "
        f"{result['partitions']} partitions each ({PARTITION_YEARS} years of months, the "
        "seeded cases in the last two; "
        "the months ahead; the default one), and each copied into one unpartitioned table with "
        "the same indexes. Each statement run "
        f"{result['repeat']} times under EXPLAIN (ANALYZE) after 3 warm-ups; medians, "
        "milliseconds.",
        "",
        "| table | statement | partitioned: planning | execution | one table: planning | "
        "execution |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        (p_plan, p_exec), (f_plan, f_exec) = row["partitioned"], row["flat"]
        lines.append(
            f"| {row['table']} | {row['statement']} | {p_plan:.2f} | "
            f"{p_exec:.2f} | {f_plan:.2f} | {f_exec:.2f} |"
        )
    lines += ["", READING]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200_000, help="cases to seed")
    parser.add_argument("--repeat", type=int, default=50, help="measured runs per statement")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    _prepare_environment()
    set_up(force=args.force)
    result = measure(cases=args.cases, repeat=args.repeat)
    info = machine()
    text = section(result, info, f"python -m bench.partitions --cases {args.cases}")
    print(text)
    record_results("partitions", result)
    if not args.no_write:
        write_section(SECTION, text, DOC)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
