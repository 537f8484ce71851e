"""A real PostgreSQL primary and its streaming replica, for tests: two clusters of their own on
free loopback ports, made with Debian's initdb and pg_basebackup, removed afterwards.

The replica is a hot standby (`pg_basebackup -R`): it replays the primary's WAL as a deployment's
would, and `pause()` / `resume()` stop and restart its replay, so a test can make it fall behind
for real. Run as root, the clusters belong to the `postgres` user (PostgreSQL refuses root).
"""

import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

FRESHNESS_NOTE = re.compile(r'data-testid="freshness" data-source="(\w+)">\s*(.*?)\s*</p>', re.S)


def freshness_note(html: str) -> tuple[str, str] | None:
    """Where a page says its figures were read (`replica` or `default`) and its note in one
    line (includes/freshness.html); None when the page has no such note."""
    found = FRESHNESS_NOTE.search(html)
    return (found.group(1), " ".join(found.group(2).split())) if found else None


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if not found:
        raise RuntimeError("PostgreSQL's server binaries are not installed (.ci/run installs them)")
    return Path(found[-1]).parent


def _version(path: str) -> int:
    return int(Path(path).parent.parent.name.split(".")[0])


def _pg(program: str, *args: str) -> list[str]:
    return [str(_bindir() / program), *args]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Pair:
    """The primary's and the replica's ports, and how to reach them."""

    folder: Path
    primary_port: int
    replica_port: int
    database: str = "whistle"

    def url(self, port: int) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{self.database}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    def sql(self, port: int, statement: str) -> str:
        """One statement through psql; its output."""
        return subprocess.run(
            [
                *_pg(
                    "psql",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    "postgres",
                    "-d",
                    self.database,
                ),
                "-tAc",
                statement,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()

    def pause(self) -> None:
        """Stop the replica's replay, and wait until it has stopped (a pause takes effect at
        the next WAL record replayed, so the primary writes one while waiting)."""
        self.sql(self.replica_port, "SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + 30
        while self.sql(self.replica_port, "SELECT pg_get_wal_replay_pause_state()") != "paused":
            if time.monotonic() > deadline:
                raise RuntimeError("the replica's replay did not pause")
            self.sql(
                self.primary_port,
                "CREATE TABLE IF NOT EXISTS replica_tick (at timestamptz);"
                " INSERT INTO replica_tick VALUES (now())",
            )
            time.sleep(0.1)

    def resume(self) -> None:
        self.sql(self.replica_port, "SELECT pg_wal_replay_resume()")

    def stop_replica(self) -> None:
        _as_owner(_pg("pg_ctl", "-D", str(self.folder / "replica"), "-m", "immediate", "stop"))


def _as_owner(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a PostgreSQL program as the clusters' owner (postgres when we are root)."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(
        command, check=True, capture_output=True, text=True, timeout=120, **kwargs
    )


# A test's clusters need not survive a crash of the machine: no waiting for the disk.
FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def _start(folder: Path, name: str, port: int) -> None:
    _as_owner(
        [
            *_pg(
                "pg_ctl", "-D", str(folder / name), "-l", str(folder / f"{name}.log"), "-w", "start"
            ),
            "-o",
            f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} {FAST}",
        ]
    )


@contextmanager
def streaming_pair() -> Iterator[Pair]:
    """A primary with one database, and a hot standby streaming from it."""
    folder = Path(tempfile.mkdtemp(prefix="whistle-replica-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    pair = Pair(folder=folder, primary_port=free_port(), replica_port=free_port())
    bindir = _bindir()
    started = []
    try:
        _as_owner(
            [
                *_pg("initdb", "-D", str(folder / "primary"), "-U", "postgres", "--auth=trust"),
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        _start(folder, "primary", pair.primary_port)
        started.append("primary")
        _as_owner(
            [
                *_pg("createdb", "-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", "postgres"),
                pair.database,
            ]
        )
        _as_owner(
            [
                *_pg(
                    "pg_basebackup",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(pair.primary_port),
                    "-U",
                    "postgres",
                ),
                "-D",
                str(folder / "replica"),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
            ]
        )
        _start(folder, "replica", pair.replica_port)
        started.append("replica")
        deadline = time.monotonic() + 30
        while pair.sql(pair.replica_port, "SELECT pg_is_in_recovery()") != "t":
            if time.monotonic() > deadline:
                raise RuntimeError("the replica did not start as a standby")
            time.sleep(0.2)
        yield pair
    finally:
        for name in reversed(started):
            subprocess.run(
                ["runuser", "-u", "postgres", "--"] * (os.geteuid() == 0)
                + [str(bindir / "pg_ctl"), "-D", str(folder / name), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(folder, ignore_errors=True)
