"""The table of targets at the top of docs/benchmarks.md, from what the benchmarks recorded.

    python -m bench.summary          # make bench runs it last

Reads var/bench/results.json (written by bench.sweep, bench.intake, bench.pages and bench.replay
in the same `make bench`) and writes the "## Summary" section: each target, the figure measured,
its ratio to the target or ceiling, and whether it is met. Exits non-zero when a target is
missed or a benchmark left no figures.
"""

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path

from bench.common import DOC, read_results, write_section

SECTION = "## Summary"


def _row(
    what: str, target: str, measured: str, ratio: str, met: bool | None, *, held: bool = True
) -> str:
    """`held=False`: a figure reported beside the targets, not held to one."""
    if not held:
        verdict = "reported"
    else:
        verdict = "no figures" if met is None else ("met" if met else "**MISSED**")
    return f"| {what} | {target} | {measured} | {ratio} | {verdict} |"


def _page_rows(pages: dict, *, where: str, degraded: bool = True) -> tuple[list[str], bool]:
    """A row per page bench.pages recorded, held to its target; the degraded modes (the
    worker stopped) reported beside the targets, not in them, or left out (`degraded`)."""
    lines: list[str] = []
    ok = True
    for page in pages["pages"].values():
        targeted = page.get("target", True)
        if not targeted and not degraded:
            continue
        met = page["p95_ms"] <= pages["target_ms"] and page["queries_equal"]
        lines.append(
            _row(
                f"Page: {page.get('title', '?')} {where}",
                f"p95 <= {pages['target_ms']:,.0f} ms; queries do not grow"
                if targeted
                else "reported (degraded mode)",
                f"p95 {page['p95_ms']:,.0f} ms; {page['queries']} queries "
                f"({'the same' if page['queries_equal'] else 'NOT the same'} at "
                f"{pages.get('smallest', 0):,} cases)",
                f"{page['p95_ms'] / pages['target_ms']:.2f} of the target",
                met,
                held=targeted,
            )
        )
        ok = ok and (met or not targeted)
    return lines, ok


def rows(results: dict) -> tuple[list[str], bool]:
    lines: list[str] = []
    ok = True

    intake = results.get("intake")
    if intake:
        rate = intake["best_whistles_per_s"]
        ceiling = intake["ceiling_per_s"]
        ratio = intake["ratio"]
        errors = intake["errors"]
        lines.append(
            _row(
                "Whistle intake through the API",
                ">= 300 whistles/s, zero errors",
                f"{rate:,.0f} whistles/s, {errors} errors",
                f"{rate / 300:.2f}x the target",
                rate >= 300 and errors == 0,
            )
        )
        lines.append(
            _row(
                "Intake against the one-row DRF ceiling",
                ">= 60% of the ceiling",
                f"{rate:,.0f} of {ceiling:,.0f} requests/s",
                f"{ratio:.0%} of the ceiling",
                ratio >= 0.6,
            )
        )
        ok = ok and rate >= 300 and errors == 0 and ratio >= 0.6
        compare = intake.get("comparison") or {}
        if compare.get("whistle_vs_helpdesk") is not None:
            tickets = compare["helpdesk"]["per_s"]
            lines.append(
                _row(
                    "Intake against django-helpdesk's ticket creation, same server settings",
                    ">= 2.5x its tickets/s and >= 35% of the ceiling",
                    f"{rate:,.0f} whistles/s, {tickets:,.0f} tickets/s",
                    f"{compare['whistle_vs_helpdesk']:.2f}x, {compare['whistle_vs_ceiling']:.0%} "
                    "of the ceiling",
                    bool(compare["goal_met"]),
                )
            )
            ok = ok and bool(compare["goal_met"])
        else:
            lines.append(_row("Intake against django-helpdesk", ">= 2.5x", "-", "-", None))
            ok = False
    else:
        lines.append(_row("Whistle intake", ">= 300/s, >= 60% of ceiling", "-", "-", None))
        ok = False

    sweep = results.get("sweep", {})
    burst = sweep.get("burst")
    if burst:
        lines.append(
            _row(
                f"Timer burst: {burst['due']:,} due among {burst['open_cases']:,} open, "
                f"{burst['workers']} Celery workers",
                "every clock fired once, within 60 s of its due time",
                f"all fired by {burst['max_after_due_s']:.1f} s (p95 "
                f"{burst['p95_after_due_s']:.1f} s), {burst['duplicates']} fired twice",
                f"{burst['max_after_due_s'] / 60:.2f} of the limit",
                bool(burst["target_met"]),
            )
        )
        ok = ok and bool(burst["target_met"])
    else:
        lines.append(_row("Timer burst with 2 workers", "within 60 s", "-", "-", None))
        ok = False

    pages = results.get("pages")
    if pages:
        page_lines, pages_ok = _page_rows(pages, where=f"at {pages['cases']:,} cases")
        lines += page_lines
        ok = ok and pages_ok
    else:
        lines.append(_row("Pages at 2,000,000 cases", "p95, queries", "-", "-", None))
        ok = False

    history = results.get("pages_history")
    if history:
        size = f"{history.get('database_bytes', 0) / 2**30:,.0f} GiB"
        seeded = (
            f"seeded in {history['seed_seconds']:,} s" if history.get("seed_seconds") else "kept"
        )
        page_lines, pages_ok = _page_rows(
            history, where=f"over a history of {history['cases']:,} cases", degraded=False
        )
        lines += page_lines
        ok = ok and pages_ok
        lines.append(
            _row(
                f"Database of the history of {history['cases']:,} cases",
                "reported",
                f"{size} ({seeded})",
                "-",
                True,
                held=False,
            )
        )
    else:
        lines.append(_row("Pages over a megacity's history", "p95, queries", "-", "-", None))
        ok = False

    over = results.get("sweep_history")
    if over:
        lines.append(
            _row(
                f"Timer burst: {over['due']:,} due in a history of {over['cases']:,} cases, "
                f"{over['workers']} Celery workers",
                "every clock fired once, within 60 s; the idle sweep as without the history",
                f"all fired by {over['max_after_due_s']:.1f} s, {over['duplicates']} fired "
                f"twice; idle sweep {over['idle_ms']:.0f} ms, {over['idle_queries']} queries",
                f"{over['max_after_due_s'] / 60:.2f} of the limit",
                bool(over["target_met"]),
            )
        )
        ok = ok and bool(over["target_met"])
    else:
        lines.append(_row("Timer burst over a megacity's history", "within 60 s", "-", "-", None))
        ok = False

    replay = results.get("replay")
    if replay:
        lines.append(
            _row(
                f"Policy lab: a county's year replayed ({replay['cases']:,} cases, "
                f"{len(replay['seconds'])} scenarios)",
                f"each under {replay['target_s']:.0f} s",
                f"slowest {replay['worst_s']:.1f} s; peak memory {replay['peak_rss_mib']:.0f} MiB",
                f"{replay['worst_s'] / replay['target_s']:.2f} of the target",
                bool(replay["target_met"]),
            )
        )
        ok = ok and bool(replay["target_met"])
    else:
        lines.append(_row("Policy lab replay of a county's year", "under 120 s", "-", "-", None))
        ok = False

    deliveries = results.get("deliveries")
    if deliveries:
        seconds = deliveries.get("burst_seconds")
        lines.append(
            _row(
                f"{deliveries['burst']:,} SMS through a slow gateway beside the timer sweep",
                "clocks fire as late as without the burst (+10 s)",
                f"clocks {deliveries['burst_max_after_due_s']:.1f} s after due (quiet: "
                f"{deliveries['quiet_max_after_due_s']:.1f} s); burst delivered in "
                f"{f'{seconds:.0f} s' if seconds is not None else 'not all'}",
                "-",
                bool(deliveries["target_met"]),
            )
        )
        ok = ok and bool(deliveries["target_met"])
    else:
        lines.append(_row("SMS burst beside the timer sweep", "no delay", "-", "-", None))
        ok = False

    imported = results.get("import_org")
    if imported:
        lines.append(
            _row(
                "Organisation import: a county's six files (3,000 grids, 5,000 users)",
                f"first import under {imported['target_s']:.0f} s; the same files again "
                "change nothing, faster",
                f"first {imported['first_s']:.1f} s, again {imported['again_s']:.1f} s "
                f"({'nothing changed' if imported['unchanged'] else 'ROWS CHANGED'}); peak "
                f"memory {imported['peak_rss_mib']:.0f} MiB",
                f"{imported['first_s'] / imported['target_s']:.2f} of the target",
                bool(imported["target_met"]),
            )
        )
        ok = ok and bool(imported["target_met"])
    else:
        lines.append(_row("Organisation import of a county", "under 60 s", "-", "-", None))
        ok = False

    memory = []
    if intake and intake.get("gunicorn_rss_mib"):
        memory.append(f"gunicorn worker {intake['gunicorn_rss_mib']:.0f} MiB (intake)")
    if intake and intake.get("celery_rss_mib"):
        memory.append(f"Celery worker {intake['celery_rss_mib']:.0f} MiB (intake)")
    if burst and burst.get("celery_rss_mib"):
        memory.append(f"Celery worker {burst['celery_rss_mib']:.0f} MiB (timer burst)")
    if memory:
        lines.append(
            _row("Peak memory (resident) of one process", "reported", "; ".join(memory), "-", True)
        )
    return lines, ok


def section(results: dict, *, when: datetime) -> tuple[str, bool]:
    table, ok = rows(results)
    text = "\n".join(
        [
            SECTION,
            "",
            f"Written by `make bench` (scripts/bench.sh; `python -m bench.summary`) on "
            f"{when:%Y-%m-%d %H:%M %Z}, from the figures the sections below recorded; each "
            "section names its own command, date, machine and load.",
            "",
            "| what | target | measured | ratio | verdict |",
            "|---|---|---|---|---|",
            *table,
            "",
        ]
    )
    return text, ok


def _put_first(path: Path, heading: str) -> None:
    """Keep the summary right under the page title."""
    text = path.read_text()
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    block = text[start : end + 1 if end != -1 else len(text)]
    rest = text[:start] + text[start + len(block) :]
    first = rest.find("\n## ")
    if first == -1:
        rest = rest.rstrip("\n") + "\n\n" + block
    else:
        rest = rest[: first + 1] + block.rstrip("\n") + "\n\n" + rest[first + 1 :]
    path.write_text(rest.rstrip("\n") + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    import django

    django.setup()
    from django.utils import timezone

    text, ok = section(read_results(), when=timezone.localtime())
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
        _put_first(DOC, SECTION)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
