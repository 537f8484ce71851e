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
    # No sleep 60 is left behind.
    leftover = subprocess.run(["pgrep", "-f", f"touch {marker}"], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
