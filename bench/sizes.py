"""Bytes per case: how much disk a case takes in each table and its indexes, for the capacity
model of docs/scaling.md.

    python -m bench.sizes                      # 200,000 cases
    python -m bench.sizes --cases 1000000

Seeds the cases of the page benchmark (bench.pages.seed: two years of whistles with their
events, dispatches, deadlines and assessment facts, set-based SQL) into its database
(DATABASE_URL, default .../whistle_bench_pages; emptied, so its name must contain "bench"),
runs VACUUM ANALYZE, then reads each table's heap (with TOAST) and index sizes and divides them
by the number of cases. Rows per case are reported too, so the figures scale to another mix.
Prints a Markdown table and records it in var/bench/results.json under "sizes".
"""

import argparse
import time

from bench.common import (
    add_common_arguments,
    database_bytes,
    machine,
    machine_line,
    record_results,
    set_up,
)
from bench.pages import _prepare_environment, seed

# The tables that grow with the cases; the reference tables (organisation, checklist) do not.
TABLES = [
    "cases_case",
    "cases_event",
    "cases_deadline",
    "cases_dispatch",
    "cases_notification",
    "assessment_casefact",
    "assessment_dispatchfact",
]


def measure(*, cases: int) -> dict:
    from django.db import connection

    started = time.perf_counter()
    seed(cases=cases)
    seeded = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
        rows = []
        for table in TABLES:
            cursor.execute(
                "SELECT count(*) FROM " + table  # noqa: S608 (a name from TABLES)
            )
            (count,) = cursor.fetchone()
            # A partitioned table (the event log, cases.partitions) keeps its rows in its
            # partitions: the sums over them (a plain table is its own one).
            leaves = (
                "(SELECT relid FROM pg_partition_tree(%(t)s) WHERE isleaf"
                " UNION SELECT %(t)s::regclass"
                " WHERE (SELECT relkind FROM pg_class WHERE oid = %(t)s::regclass) = 'r')"
            )
            cursor.execute(
                "SELECT sum(pg_table_size(oid)), sum(pg_indexes_size(oid)) "  # noqa: S608
                f"FROM pg_class WHERE oid IN {leaves}",
                {"t": table},
            )
            heap, indexes = cursor.fetchone()
            cursor.execute(
                "SELECT coalesce(parent.inhparent, i.indexrelid)::regclass::text,"  # noqa: S608
                " sum(pg_relation_size(i.indexrelid))"
                " FROM pg_index i LEFT JOIN pg_inherits parent ON parent.inhrelid = i.indexrelid"
                f" WHERE i.indrelid IN {leaves}"
                " GROUP BY 1 ORDER BY 2 DESC",
                {"t": table},
            )
            rows.append(
                {
                    "table": table,
                    "rows": count,
                    "heap": heap,
                    "indexes": indexes,
                    "index_sizes": cursor.fetchall(),
                }
            )
    return {"cases": cases, "seed_seconds": seeded, "database": database_bytes(), "tables": rows}


def section(result: dict, info: dict[str, str], command: str) -> str:
    cases = result["cases"]
    lines = [
        f"Command: `{command}` on {time.strftime('%Y-%m-%d %H:%M %Z')}.",
        "",
        machine_line(info),
        "",
        f"{cases:,} cases seeded in {result['seed_seconds']:.0f} s; database "
        f"{result['database'] / 2**20:,.0f} MiB in all.",
        "",
        "| table | rows per case | heap bytes per case | index bytes per case | total per case |",
        "|---|---:|---:|---:|---:|",
    ]
    total_heap = total_index = 0
    for row in result["tables"]:
        total_heap += row["heap"]
        total_index += row["indexes"]
        lines.append(
            f"| {row['table']} | {row['rows'] / cases:.1f} | {row['heap'] / cases:,.0f} | "
            f"{row['indexes'] / cases:,.0f} | {(row['heap'] + row['indexes']) / cases:,.0f} |"
        )
    lines.append(
        f"| **all** | | {total_heap / cases:,.0f} | {total_index / cases:,.0f} | "
        f"**{(total_heap + total_index) / cases:,.0f}** |"
    )
    lines.append("")
    lines.append("The largest indexes, bytes per case:")
    lines.append("")
    biggest = sorted(
        ((size, name) for row in result["tables"] for name, size in row["index_sizes"]),
        reverse=True,
    )[:10]
    lines.extend(f"- `{name}`: {size / cases:,.0f}" for size, name in biggest)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200_000, help="cases to seed")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    _prepare_environment()
    set_up(force=args.force)
    result = measure(cases=args.cases)
    info = machine()
    text = section(result, info, f"python -m bench.sizes --cases {args.cases}")
    print(text)
    record_results("sizes", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
