"""What the event log's monthly partitions cost and save a read (cases.partitions, item 3 of
issue 22): the same statements on the partitioned log and on an unpartitioned copy of it.

    python -m bench.partitions                   # 200,000 cases
    python -m bench.partitions --cases 2000000

Seeds the page benchmark's cases (bench.pages.seed: two years of whistles with their events,
in a log partitioned over ten years, 121 months and the default partition) into its database
(DATABASE_URL, default .../whistle_bench_pages; emptied, so its name must contain "bench"),
copies the log into one unpartitioned table with the same indexes, and times each statement
with EXPLAIN (ANALYZE) on both, `--repeat` times after a warm-up: PostgreSQL's planning and
execution times, medians. The statements:

- a case's history as the case page reads it (`Event.objects.of_case`: the partition key in the
  condition), and the same read without the key, as a read that names no case's month would;
- the urge count of 50 dispatches, the board's correlated subquery, with and without the key;
- 100 events read by id alone, the way the timer sweep addresses its deadlines (claim, hand
  out, fire: each by id), which no partition key narrows.

The figures replace the "Partitioned event log" section of docs/benchmarks.md and go to
var/bench/results.json under "partitions".
"""

import argparse
import json
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

FLAT = "bench_event_flat"
SECTION = "## Partitioned event log"
READING = (
    "How to read it: a statement whose condition names the case's month (the partition key) "
    "is planned against that one partition and costs what it costs on one table. A statement "
    "that does not name it is planned against every partition: the planning time grows with "
    "the number of months kept, whatever the rows, and a correlated subquery (the board's urge "
    "count) pays it once per statement even when its execution prunes at run time. A read by "
    "id alone, which is how the timer sweep claims, hands out and fires its deadlines, pays "
    "that planning and probes every partition's index: this is why the deadlines are not "
    'partitioned yet (docs/architecture.md, "Partitioned history").'
)


def _copy_flat(cursor) -> None:
    """The log as one table, with the partitioned log's indexes."""
    cursor.execute(f"DROP TABLE IF EXISTS {FLAT}")
    cursor.execute(f"CREATE TABLE {FLAT} AS SELECT * FROM cases_event")  # noqa: S608
    cursor.execute(f"ALTER TABLE {FLAT} ADD PRIMARY KEY (id)")
    for columns in ("case_id, created_at", "created_at", "dispatch_id", "action", "actor_id"):
        cursor.execute(f"CREATE INDEX ON {FLAT} ({columns})")
    cursor.execute(f"VACUUM ANALYZE {FLAT}")
    cursor.execute("VACUUM ANALYZE cases_event")


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


def measure(*, cases: int, repeat: int) -> dict:
    from django.db import connection

    started = time.perf_counter()
    seed(cases=cases)
    seeded = time.perf_counter() - started
    with connection.cursor() as cursor:
        _copy_flat(cursor)
        cursor.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'cases_event'::regclass")
        (partition_count,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM cases_event")
        (events,) = cursor.fetchone()
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
        by_id = "SELECT * FROM {t} WHERE id = ANY(%s)"
        statements = [
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
                "100 rows by id alone (how the sweep addresses its deadlines)",
                by_id,
                "",
                [event_ids],
                [event_ids],
            ),
        ]
        rows = []
        for label, sql, key, params, flat_params in statements:
            partitioned = _timed(cursor, sql.format(t="cases_event", key=key), params, repeat)
            flat_key = "" if "filed_at = %s" in key else key
            flat = _timed(cursor, sql.format(t=FLAT, key=flat_key), flat_params, repeat)
            rows.append({"statement": label, "partitioned": partitioned, "flat": flat})
        cursor.execute(f"DROP TABLE {FLAT}")
    return {
        "cases": cases,
        "events": events,
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
        f"{result['cases']:,} cases ({result['events']:,} events) seeded in "
        f"{result['seed_seconds']:.0f} s into a log of {result['partitions']} partitions "
        f"({PARTITION_YEARS} years of months, the seeded cases in the last two; the months "
        "ahead; the default one), and copied into one unpartitioned table with the same "
        "indexes. Each statement run "
        f"{result['repeat']} times under EXPLAIN (ANALYZE) after 3 warm-ups; medians, "
        "milliseconds.",
        "",
        "| statement | partitioned: planning | execution | one table: planning | execution |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        (p_plan, p_exec), (f_plan, f_exec) = row["partitioned"], row["flat"]
        lines.append(
            f"| {row['statement']} | {p_plan:.2f} | {p_exec:.2f} | {f_plan:.2f} | {f_exec:.2f} |"
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
