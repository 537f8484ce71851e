"""The dashboards on a real streaming replica: a primary and a hot standby of its own
(tests/replicas.py), the demo city migrated and seeded on the primary, and gunicorn serving
Whistle with DATABASE_URL and DATABASE_REPLICA_URL, as a deployment would
(core/replica.py, docs/architecture.md "Many machines").

The replica's replay is paused and resumed for real, so the lag bound, read-your-writes and the
way back are what a supervisor would meet; then the replica is stopped under the running site.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from bench.drill import signed_in
from tests.replicas import Pair, free_port, freshness_note, streaming_pair

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
GUNICORN = ("--workers", "1", "--no-control-socket")
LAG_BOUND = 3  # seconds: WHISTLE_REPLICA_MAX_LAG_SECONDS of the site under test
# Settings variables of this shell that must not reach the site under test.
SCRUBBED = ("DATABASE_URL", "REDIS_URL", "WHISTLE_VAR_DIR", "DJANGO_SETTINGS_MODULE", "DEBUG")


def _environment(pair: Pair, var: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    env.update(
        DATABASE_URL=pair.primary_url,
        DATABASE_REPLICA_URL=pair.replica_url,
        WHISTLE_VAR_DIR=str(var),
        WHISTLE_REPLICA_MAX_LAG_SECONDS=str(LAG_BOUND),
        WHISTLE_REPLICA_CHECK_SECONDS="0",  # every page asks the replica afresh
        WHISTLE_REQUIRE_TWO_FACTOR="0",
        WHISTLE_MANIFEST_STATIC="0",
        SECRET_KEY="replica-test-" + "x" * 50,
        LANGUAGE_CODE="en",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[Pair, str]]:
    """The demo city on a primary with a replica, served by gunicorn; (pair, base URL)."""
    var = tmp_path_factory.mktemp("replica-site")
    with streaming_pair() as pair:
        env = _environment(pair, var)
        _manage(env, "migrate", "--noinput", "--verbosity", "0")
        _manage(env, "seed_demo")
        port = free_port()
        web = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "whistle.wsgi",
                "--config",
                "gunicorn.conf.py",
                *GUNICORN,
                "--bind",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(lambda: _answers(base), what="gunicorn to answer", timeout=120)
            yield pair, base
        finally:
            web.terminate()
            web.wait(timeout=30)


def _answers(base: str) -> bool:
    """Whether gunicorn serves the sign-in page yet: a worker still importing Django on a
    busy machine (CI runs four suites on two cores) is slow to answer, not broken."""
    try:
        return requests.get(f"{base}/accounts/login/", timeout=30).status_code == 200
    except (requests.ConnectionError, requests.Timeout):
        return False


def _wait(condition: Callable[[], object], *, what: str, timeout: float = 30) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"waited {timeout} s for {what}")


def _overview(base: str, session: requests.Session) -> tuple[str, str]:
    """Where the overview's figures were read, and why (the page's freshness note)."""
    answer = session.get(f"{base}/assessment/", timeout=30)
    assert answer.status_code == 200, answer.text[:500]
    found = freshness_note(answer.text)
    assert found, "the page says where its figures were read"
    return found


def _on(source: str, base: str, session: requests.Session) -> Callable[[], bool]:
    return lambda: _overview(base, session)[0] == source


def test_the_dashboards_follow_the_streaming_replica(site):
    pair, base = site
    supervisor = signed_in(base, "supervisor1")
    city = signed_in(base, "city1")

    # Caught up: both read the replica, and say how far behind it may be.
    for session in (supervisor, city):
        _wait(_on("replica", base, session), what="the replica to have the sign-in")
    source, note = _overview(base, city)
    assert note.startswith("Figures read from the reporting copy at ")

    pair.pause()
    try:
        # The supervisor changes something: their own pages wait for the replica to have it.
        answer = supervisor.post(
            f"{base}/alerts/",
            data={"action": "defaults", "csrfmiddlewaretoken": supervisor.cookies["csrftoken"]},
            headers={"Referer": f"{base}/alerts/"},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.url.endswith("/alerts/")
        source, note = _overview(base, supervisor)  # one read: its note names its second
        assert source == "default"
        _note_of(note, "your latest change has not reached the copy")
        # The other reader keeps the replica until it is further behind than the bound.
        _wait(
            lambda: _overview(base, city)[1].endswith("the reporting copy is behind."),
            what="the replica to fall behind the bound",
            timeout=LAG_BOUND + 20,
        )
        assert _overview(base, city)[0] == "default"
    finally:
        pair.resume()

    # Replay again: both are back on the replica.
    for session in (supervisor, city):
        _wait(_on("replica", base, session), what="the replica to catch up")

    # The replica goes away under the running site: the pages go on from the primary.
    pair.stop_replica()
    source, note = _overview(base, city)
    assert source == "default"
    assert note.endswith("read from the main database: the reporting copy does not answer.")
    assert requests.get(f"{base}/accounts/login/", timeout=10).status_code == 200


def _note_of(note: str, reason: str) -> str:
    """The note, checked to give `reason`."""
    assert note.endswith(f"read from the main database: {reason}."), note
    return note
