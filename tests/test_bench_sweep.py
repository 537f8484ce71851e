"""bench.sweep's reading of the due-deadline plan, its burst report and bench.summary's history
rows: what says that the sweep reads indexes, how cold a burst found the database, and that a
megacity's history met its targets."""

from bench import sweep
from bench.summary import rows
from bench.sweep import _reads_indexes

EMPTY_MONTHS = [
    "Limit (actual time=0.4..0.4 rows=0 loops=1)",
    "  ->  Append (actual time=0.3..0.3 rows=0 loops=1)",
    "        ->  Seq Scan on cases_deadline_2017_01 cases_deadline_1 (actual time=0.02..0.02 "
    "rows=0 loops=1)",
    "              Filter: ((fired_at IS NULL) AND (due_at <= now()))",
    "        ->  Index Scan using deadline_pending_due_2026_11 on cases_deadline_2026_11 "
    "cases_deadline_2 (actual time=0.01..0.05 rows=12 loops=1)",
    "              Index Cond: (due_at <= now())",
]


def test_a_plan_of_indexes_and_empty_months_reads_indexes():
    assert _reads_indexes(EMPTY_MONTHS)


def test_a_small_month_scanned_in_full_still_counts_as_indexed():
    plan = [*EMPTY_MONTHS]
    plan[3:4] = [plan[3], "              Rows Removed by Filter: 497"]
    assert _reads_indexes(plan)


def test_a_month_scanned_row_by_row_does_not():
    plan = [*EMPTY_MONTHS]
    plan[3:4] = [plan[3], "              Rows Removed by Filter: 820000"]
    assert not _reads_indexes(plan)
    returned = [line.replace("rows=0 loops", "rows=1000 loops") for line in EMPTY_MONTHS]
    assert not _reads_indexes(returned)


def test_a_plan_without_any_index_does_not():
    assert not _reads_indexes(EMPTY_MONTHS[:4])


HISTORY = {
    "pages_history": {
        "cases": 20_000_000,
        "smallest": 20_000,
        "target_ms": 300.0,
        "database_bytes": 70 * 2**30,
        "seed_seconds": 4321,
        "pages": {
            "board": {"title": "board", "p95_ms": 210.0, "queries": 9, "queries_equal": True},
            "stopped": {
                "title": "worker stopped",
                "p95_ms": 900.0,
                "queries": 12,
                "queries_equal": True,
                "target": False,
            },
        },
    },
    "sweep_history": {
        "cases": 20_000_000,
        "due": 10_000,
        "workers": 2,
        "max_after_due_s": 41.5,
        "duplicates": 0,
        "idle_ms": 40.0,
        "idle_queries": 2,
        "target_met": True,
    },
}


def _history_rows(results: dict) -> list[str]:
    lines, _ok = rows(results)
    return [line for line in lines if "history" in line]


def test_the_summary_holds_the_history_to_the_targets():
    lines = _history_rows(HISTORY)
    assert any(
        "board over a history of 20,000,000 cases" in line and "| met |" in line for line in lines
    )
    assert not any("worker stopped" in line for line in lines)
    assert any("70 GiB (seeded in 4,321 s)" in line and "reported" in line for line in lines)
    assert any(
        "all fired by 41.5 s, 0 fired twice; idle sweep 40 ms, 2 queries" in line for line in lines
    )


def test_a_slow_page_or_a_missing_history_is_a_miss():
    slow = {**HISTORY, "pages_history": {**HISTORY["pages_history"]}}
    slow["pages_history"]["pages"] = {
        "board": {"title": "board", "p95_ms": 310.0, "queries": 9, "queries_equal": True}
    }
    assert any("**MISSED**" in line for line in _history_rows(slow))
    missing = _history_rows({})
    assert [line.split(" | ")[-1] for line in missing] == ["no figures |", "no figures |"]


def test_the_burst_says_how_cold_the_database_was():
    run = sweep.WorkerRun(
        history=20_000_000,
        open_cases=808_149,
        due=10_000,
        workers=2,
        concurrency=1,
        sweep_seconds=5,
        seed_seconds=0,
        fired=10_000,
        events=10_000,
        duplicates=0,
        latencies=[1.0, 30.0],
        all_fired_after=31.0,
        progress=[(10.0, 5_000), (31.0, 10_000)],
        drained_after=40.0,
        blocks=(250_000, 3_000_000),
    )
    text = "\n".join(sweep._worker_section(run))
    assert "read 250,000 blocks (1,953 MiB)" in text
    assert "25 per firing" in text and "3,000,000 in them (300 per firing" in text
    assert "**met**" in text
