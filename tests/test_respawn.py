"""scripts/respawn.sh, which the Procfile runs the Celery worker through: a command that dies is
started again; a stop request stops both it and the wrapper."""

import signal
import subprocess
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "respawn.sh"


def test_a_command_that_dies_is_started_again_and_a_stop_request_stops_it(tmp_path):
    starts = tmp_path / "starts"
    command = f"echo started >> {starts}; sleep 0.2; exit 3"
    wrapper = subprocess.Popen(
        [str(SCRIPT), "sh", "-c", command], stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if starts.exists() and len(starts.read_text().splitlines()) >= 2:
                break
            time.sleep(0.2)
        assert len(starts.read_text().splitlines()) >= 2
        wrapper.send_signal(signal.SIGTERM)
        assert wrapper.wait(timeout=10) == 0
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
    assert "exited with status 3; starting it again" in wrapper.stderr.read()


def test_a_stop_request_stops_a_running_command(tmp_path):
    marker = tmp_path / "running"
    wrapper = subprocess.Popen([str(SCRIPT), "sh", "-c", f"touch {marker}; exec sleep 60"])
    try:
        deadline = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists()
        wrapper.send_signal(signal.SIGTERM)
        assert wrapper.wait(timeout=10) == 0
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
    # Nothing of the command is left behind (a process being torn down under load may show
    # for a moment after the wrapper exits: give it the process manager's 5 s).
    deadline = time.monotonic() + 5
    while _pids_running(f"touch {marker}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _pids_running(f"touch {marker}") == ""


def _pids_running(pattern: str) -> str:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.strip()


def test_a_command_slow_to_stop_is_ended_within_the_process_managers_5_seconds(tmp_path):
    """honcho kills what has not stopped 5 s after Ctrl-C: a worker finishing its tasks (here
    one that ignores TERM, with a child of its own) is cut short in time, child and all."""
    marker = tmp_path / "busy"
    command = f"trap '' TERM; touch {marker}; sleep 61 & wait"
    wrapper = subprocess.Popen([str(SCRIPT), "sh", "-c", command])
    try:
        deadline = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists()
        time.sleep(0.3)
        started = time.monotonic()
        wrapper.send_signal(signal.SIGTERM)
        assert wrapper.wait(timeout=10) == 0
        assert time.monotonic() - started < 4.5
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
    time.sleep(0.2)
    assert _pids_running(f"touch {marker}") == ""
    assert _pids_running("sleep 61") == ""
