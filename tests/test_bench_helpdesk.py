"""The intake benchmark's django-helpdesk comparison stays out of the product: django-helpdesk
is installed only in the benchmark's own virtualenv (bench.helpdesk), never in the product's
environment, its lock file or its settings; and bench.intake's reading of the three endpoints."""

import importlib.util
import re
from pathlib import Path

from django.conf import settings

from bench.helpdesk import REQUIREMENTS, database_url
from bench.intake import Step, comparison, comparison_lines

ROOT = Path(__file__).resolve().parent.parent


def test_helpdesk_is_not_in_the_product():
    assert importlib.util.find_spec("helpdesk") is None
    lock = (ROOT / "requirements.lock").read_text().lower()
    assert not re.search(r"^django-helpdesk\b", lock, re.M)
    assert not any("helpdesk" in app for app in settings.INSTALLED_APPS)


def test_the_benchmark_environment_is_pinned():
    lines = [
        line
        for line in REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert any(line.startswith("django-helpdesk==") for line in lines)
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[^=\s]+", line) for line in lines), lines


def test_its_database_is_the_benchmark_database_with_a_suffix():
    assert (
        database_url("postgres://postgres@127.0.0.1:5432/whistle_bench_intake")
        == "postgres://postgres@127.0.0.1:5432/whistle_bench_intake_helpdesk"
    )
    assert (
        database_url("postgres://u@h/whistle_bench?sslmode=disable")
        == "postgres://u@h/whistle_bench_helpdesk?sslmode=disable"
    )


def _step(kind: str, clients: int, ok: int, web_ms: float, worker_ms: float = 0.0) -> Step:
    server = "helpdesk" if kind == "helpdesk" else "gunicorn"
    return Step(
        kind=kind,
        concurrency=clients,
        seconds=10,
        ok=ok,
        errors=0,
        elapsed=10.0,
        p50=10,
        p95=20,
        p99=30,
        load="0.5 / 0.6",
        cpu_ms={server: web_ms, "celery": worker_ms},
    )


def test_the_comparison_takes_each_endpoints_best_rate_and_its_own_servers_cpu():
    steps = [
        _step("ceiling", 4, 6000, 2.0),
        _step("whistle", 4, 1800, 8.0, 1.0),
        _step("helpdesk", 4, 1000, 16.0, 0.5),
        _step("ceiling", 8, 7000, 2.0),
        _step("whistle", 8, 1700, 6.0, 1.0),
        _step("helpdesk", 8, 900, 14.0, 0.5),
    ]
    figures = comparison(steps)
    assert figures["ceiling"]["per_s"] == 700
    assert figures["whistle"]["per_s"] == 180
    assert figures["whistle"]["clients"] == 4
    assert figures["helpdesk"]["per_s"] == 100
    assert figures["whistle_vs_helpdesk"] == 1.8
    assert figures["whistle_vs_ceiling"] == round(180 / 700, 3)
    # Web CPU is the mean over the steps, of the server that served them; the Celery worker's
    # share counts for whistles only (helpdesk does its work in the request).
    assert figures["whistle"]["web_cpu_ms"] == 7.0
    assert figures["helpdesk"]["web_cpu_ms"] == 15.0
    assert figures["helpdesk"]["all_cpu_ms"] == 15.0
    assert figures["whistle"]["all_cpu_ms"] == 8.0
    assert figures["web_cpu_vs_helpdesk"] == round(7 / 15, 2)
    assert figures["goal_met"] is False
    text = "\n".join(comparison_lines(figures))
    assert "**1.80x** (goal at least 2.5x)" in text
    assert "over the ceiling: **26%** (goal at least 35%)" in text
    assert "issue 22's goal: **NOT met**" in text


def test_the_goal_needs_both_ratios():
    steps = [
        _step("ceiling", 4, 5000, 2.0),
        _step("whistle", 4, 2000, 6.0),
        _step("helpdesk", 4, 700, 16.0),
    ]
    assert comparison(steps)["goal_met"] is True
    assert comparison(steps[:2])["goal_met"] is False
    assert comparison_lines(comparison(steps[:2])) == []
