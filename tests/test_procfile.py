"""The Procfile that `make run` starts: its console shows the start banners and what goes
wrong, not a line for every timer tick (the beat sends a sweep every 5 s)."""

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import workers

ROOT = Path(__file__).resolve().parent.parent


def _procfile() -> dict[str, list[str]]:
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if ":" in line and not line.startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = shlex.split(command)
    return processes


# The beat sends only while it holds its lease in the database (whistle.beat): it runs on the
# test database, so the lease row must be committed (transaction). Not serialized_rollback:
# it needs no migrated rows, and after test_faults' flush (which makes the content types
# anew) putting the serialized rows back would collide with them.
@pytest.mark.django_db(transaction=True)
def test_the_beat_shows_its_banner_and_its_lead_but_not_every_task_it_sends(tmp_path):
    command = _procfile()["beat"]
    assert command[0] == "celery"
    command = [str(Path(sys.executable).parent / "celery"), *command[1:]]
    command += ["--schedule", str(tmp_path / "celerybeat-schedule")]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "DATABASE_URL", "LOG_LEVEL")
    }
    env.update(
        WHISTLE_VAR_DIR=str(tmp_path),
        WHISTLE_BROKER_DIR=str(tmp_path / "broker"),
        WHISTLE_SWEEP_SECONDS="1",
        DATABASE_URL=workers.test_database_url(),
        CONN_MAX_AGE="0",
    )
    beat = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        sent = tmp_path / "broker" / "queue"
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if sent.exists() and len(list(sent.iterdir())) >= 3:
                break
            time.sleep(0.5)
    finally:
        beat.terminate()
        output, _ = beat.communicate(timeout=20)
    assert len(list(sent.iterdir())) >= 3, output  # the beat did send the sweeps
    assert "celery beat" in output and "is starting" in output  # the banner
    assert "took the lead; sending the schedule" in output  # a warning, once
    assert "Sending due task" not in output
