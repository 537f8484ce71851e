"""A replay's helper processes: one county's year is a few minutes of Python on one CPU, so a
replay cuts its cases into spans of ids and hands every span but its own to a process of its
own (`manage.py replay_span`), on the machine's other CPUs (docs/architecture.md, The policy
lab).

A helper replays its span exactly as the task replays its own (policylab.replay.replay_span),
adds its progress to the replay's row and stops at the next chunk when a cancel is asked or
when the process that started it is gone; it prints its counts as JSON and exits. Any helper
failing fails the replay (the task removes every row it wrote, as for any failure). Only on
PostgreSQL and outside a transaction: a helper reads what the task committed, and the embedded
SQLite takes one writer at a time.
"""

import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from policylab import replay as engine
from policylab.models import Replay
from policylab.replay import Cancelled, Tally

logger = logging.getLogger(__name__)

# A helper's exit status when it stopped for a cancel (any other non-zero status is a failure).
CANCELLED_STATUS = 3


@dataclass
class Helper:
    span: tuple[int, int]
    process: subprocess.Popen
    # Its resident high-water mark, as it reported it when done (MiB; None where unknown).
    peak_mib: float | None = None


def can_fan_out() -> bool:
    return (
        settings.WHISTLE_REPLAY_PROCESSES > 1
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )


def spans(case_ids: list[int], *, parts: int) -> list[tuple[int, int]]:
    """Cut the ordered ids into at most `parts` spans (first id, last id) of about as many
    cases each, in whole chunks; none for no case."""
    if not case_ids:
        return []
    chunk = engine.CHUNK
    chunks = -(-len(case_ids) // chunk)
    parts = max(1, min(parts, chunks))
    result = []
    for part in range(parts):
        first = part * chunks // parts * chunk
        last = min((part + 1) * chunks // parts * chunk, len(case_ids)) - 1
        result.append((case_ids[first], case_ids[last]))
    return result


def start(*, replay: Replay, spans: list[tuple[int, int]], changed: set[tuple]) -> list[Helper]:
    """Start one helper per span, handing it the kinds of clock the scenario changes (on its
    standard input, a file of its own: a pipe not yet read would hold this process up)."""
    helpers = []
    kinds = json.dumps(sorted(list(kind) for kind in changed))
    for low, high in spans:
        with tempfile.TemporaryFile("w+") as payload:
            payload.write(kinds)
            payload.seek(0)
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
                [
                    sys.executable,
                    str(settings.BASE_DIR / "manage.py"),
                    "replay_span",
                    str(replay.pk),
                    str(low),
                    str(high),
                ],
                env={**os.environ, "WHISTLE_DATABASE_NAME": connection.settings_dict["NAME"]},
                stdin=payload,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        helpers.append(Helper(span=(low, high), process=process))
    return helpers


def join(helpers: list[Helper]) -> list[Tally]:
    """Wait for every helper and return their counts; a helper that stopped for a cancel
    raises Cancelled, one that failed raises RuntimeError with its last words."""
    tallies = []
    for helper in helpers:
        out, err = helper.process.communicate()
        status = helper.process.returncode
        if status == CANCELLED_STATUS:
            raise Cancelled()
        if status != 0:
            last = (err.strip().splitlines() or [f"exit status {status}"])[-1]
            raise RuntimeError(f"cases {helper.span[0]}-{helper.span[1]}: {last}")
        report = json.loads(out.strip().splitlines()[-1])
        helper.peak_mib = report.get("peak_mib")
        logger.info("Replay helper of cases %s-%s done, peak %s MiB", *helper.span, helper.peak_mib)
        tallies.append(Tally.from_json(report["tally"]))
    return tallies


def stop(helpers: list[Helper]) -> None:
    """Stop the helpers still running (the task failed or was cancelled)."""
    for helper in helpers:
        if helper.process.poll() is None:
            helper.process.kill()
            helper.process.wait()


def peak_mib() -> float | None:
    """This process's resident high-water mark in MiB (Linux's VmHWM; None elsewhere): a
    helper reports its own, which the process that started it cannot read."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
