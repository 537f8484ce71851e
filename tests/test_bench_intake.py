"""bench.intake's reading of its own figures: what the intake targets leave per whistle."""

from bench.intake import budget_line

COST = {
    "requests": 1000,
    "whistle": {"python_ms": 5.5, "postgres_ms": 2.5},
    "ceiling": {"python_ms": 1.5, "postgres_ms": 0.5},
    "statement_python_ms": 0.1,
}
STATEMENTS = {"whistle": 11, "ceiling": 2}


def test_the_budget_follows_the_ceiling_and_the_cpus():
    line = budget_line(cost=COST, statements=STATEMENTS, best_ceiling=700, cpus=2)
    # 2 CPUs / (0.6 x 700 requests/s) = 4.76 ms; 2 CPUs / 300 whistles/s = 6.67 ms.
    assert "whistle 5.50 + 2.50 = **8.00 ms**" in line
    assert "ceiling 1.50 + 0.50 = 2.00 ms" in line
    assert "60% of the ceiling (420 whistles/s) leaves at most **4.76 ms**" in line
    assert "300 whistles/s at most **6.67 ms**" in line
    assert "a whistle needs 1.7x and 1.2x what they leave" in line
    assert "PostgreSQL's share alone is 52% of the first" in line
    # The ceiling's 2.86 ms per request at 700/s, minus the 2.00 ms it needs alone: 0.86 ms of
    # HTTP and load generator. 4.76 - 2.50 - 0.86 = 1.40 ms left for the whistle's Python.
    assert "(0.86 ms: 2 CPUs over its best rate" in line
    assert "leaves **1.40 ms** for all of a whistle's Python, against 1.50 ms" in line
    # 9 statements more than the ceiling's at 0.1 ms of Python each.
    assert "the 9 statements a whistle sends beyond the ceiling's need about 0.90 ms" in line


def test_without_the_database_share_only_python_is_reported():
    cost = {**COST, "whistle": {"python_ms": 5.5, "postgres_ms": None}}
    line = budget_line(cost=cost, statements=STATEMENTS, best_ceiling=700, cpus=2)
    assert "whistle 5.50 ms of Python, ceiling 1.50 ms" in line
    assert "could not be read" in line
