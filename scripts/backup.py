#!/usr/bin/env python3
# ruff: noqa: S603, S607 -- runs the PostgreSQL client tools found on PATH, with fixed arguments
"""Back up and restore Whistle's data: the database and the uploaded media (`make backup`,
`make restore`; README, "Backup and restore").

    backup.py backup [--to DIR]            -> DIR/whistle-<UTC time>/ (printed)
    backup.py restore BACKUP [--force] [--no-verify]

The database and media are those of the environment, read through the Django settings as the
application reads them (DATABASE_URL, WHISTLE_VAR_DIR, MEDIA_ROOT). A backup holds:
  database.dump     PostgreSQL: pg_dump's custom format
  database.sqlite3  SQLite: a consistent copy through SQLite's online backup API
  media.tar.gz      every file under MEDIA_ROOT
  heads.json        each case's last event link, written by `verify_trace --save-heads` just
                    before the dump (an anchor: kept off the machine, it shows a chain cut back
                    or rewritten later, `verify_trace --heads`)
  manifest.json     what it is, when it was taken, and the SHA-256 of each file
A backup of a trace that does not verify is still taken (exit status 3, no heads.json).
A restore checks the SHA-256s, refuses a database or media folder that is not empty (--force
replaces them), fills them, then runs `manage.py verify_trace --heads` on the restored database.
Secrets (SECRET_KEY, WHISTLE_TRACE_KEY) are not in a backup: keep them apart.
"""

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
FORMAT = 1


class Refused(Exception):
    """The restore would overwrite data, or the backup is not whole."""


def _settings():
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    from django.conf import settings

    return settings


def _database() -> tuple[str, dict]:
    database = _settings().DATABASES["default"]
    engine = database["ENGINE"]
    if "postgresql" in engine:
        return "postgresql", database
    if "sqlite3" in engine:
        return "sqlite", database
    raise Refused(f"unsupported database engine {engine}")


def _pg_env(database: dict, name: str | None = None) -> dict[str, str]:
    """libpq's variables for the database, so no password shows on a command line."""
    env = dict(os.environ)
    values = {
        "PGDATABASE": name or database["NAME"],
        "PGUSER": database.get("USER"),
        "PGPASSWORD": database.get("PASSWORD"),
        "PGHOST": database.get("HOST"),
        "PGPORT": str(database.get("PORT") or ""),
        "PGSSLMODE": (database.get("OPTIONS") or {}).get("sslmode"),
    }
    env.update({key: value for key, value in values.items() if value})
    return env


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (its WAL included), page by page."""
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)


def _media_root() -> Path:
    return Path(_settings().MEDIA_ROOT)


def _verify_trace(*args: str) -> int:
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "verify_trace", *args]
    ).returncode


def backup(*, to: Path) -> tuple[Path, bool]:
    """Take a backup into a new folder under `to`; its path, and whether the trace verified."""
    vendor, database = _database()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = to / f"whistle-{stamp}"
    target.mkdir(parents=True)
    # Before the dump, so the dump holds every recorded head (and perhaps later events).
    heads = target / "heads.json"
    verified = _verify_trace("--save-heads", str(heads)) == 0
    if vendor == "postgresql":
        dump = target / "database.dump"
        subprocess.run(
            ["pg_dump", "--format=custom", "--file", str(dump)],
            env=_pg_env(database),
            check=True,
        )
    else:
        dump = target / "database.sqlite3"
        _sqlite_copy(Path(database["NAME"]), dump)
    media = target / "media.tar.gz"
    root = _media_root()
    with tarfile.open(media, "w:gz") as archive:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                archive.add(path, arcname=str(path.relative_to(root)), recursive=False)
    manifest = {
        "format": FORMAT,
        "taken_at": datetime.now(UTC).isoformat(),
        "database": {"vendor": vendor, "file": dump.name},
        "media": {"file": media.name},
        "trace_verified": verified,
        "sha256": {path.name: _sha256(path) for path in (dump, media, heads) if path.exists()},
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return target, verified


def _check(source: Path) -> dict:
    manifest = json.loads((source / "manifest.json").read_text())
    if manifest.get("format") != FORMAT:
        raise Refused(f"unknown backup format {manifest.get('format')!r}")
    for name, expected in manifest["sha256"].items():
        if _sha256(source / name) != expected:
            raise Refused(f"{name} does not match its SHA-256 in manifest.json")
    return manifest


def _restore_postgresql(dump: Path, database: dict, *, force: bool) -> None:
    env = _pg_env(database)
    exists = subprocess.run(
        ["psql", "-XAtc", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"],
        env=env,
        capture_output=True,
        text=True,
    )
    if exists.returncode != 0:
        if "does not exist" not in exists.stderr:
            raise Refused(exists.stderr.strip())
        maintenance = _pg_env(database, name="postgres")
        subprocess.run(["createdb", database["NAME"]], env=maintenance, check=True)
    elif int(exists.stdout.strip() or 0) and not force:
        raise Refused(f"database {database['NAME']} is not empty (--force replaces it)")
    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error"]
    if force:
        command += ["--clean", "--if-exists"]
    subprocess.run(
        [*command, "--single-transaction", "--dbname", database["NAME"], str(dump)],
        env=env,
        check=True,
    )


def _restore_sqlite(copy: Path, database: dict, *, force: bool) -> None:
    path = Path(database["NAME"])
    if path.exists() and path.stat().st_size and not force:
        with closing(sqlite3.connect(path)) as existing:
            tables = existing.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise Refused(f"database {path} is not empty (--force replaces it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    _sqlite_copy(copy, path)


def _restore_media(archive_path: Path, *, force: bool) -> None:
    root = _media_root()
    if root.is_dir() and any(root.iterdir()):
        if not force:
            raise Refused(f"media folder {root} is not empty (--force replaces it)")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive_path, "r:gz") as archive:
        archive.extractall(root, filter="data")


def restore(*, source: Path, force: bool, verify: bool) -> int:
    """Restore `source` into this environment's database and media; verify_trace's status."""
    manifest = _check(source)
    vendor, database = _database()
    if manifest["database"]["vendor"] != vendor:
        raise Refused(f"a {manifest['database']['vendor']} backup cannot go into {vendor}")
    dump = source / manifest["database"]["file"]
    if vendor == "postgresql":
        _restore_postgresql(dump, database, force=force)
    else:
        _restore_sqlite(dump, database, force=force)
    _restore_media(source / manifest["media"]["file"], force=force)
    if not verify:
        return 0
    heads = source / "heads.json"
    return _verify_trace(*(["--heads", str(heads)] if heads.exists() else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("backup", help="back up the database and the media")
    take.add_argument("--to", type=Path, default=BASE_DIR / "var" / "backups")
    back = commands.add_parser("restore", help="restore a backup into this environment")
    back.add_argument("backup", type=Path)
    back.add_argument("--force", action="store_true", help="replace a non-empty database/media")
    back.add_argument("--no-verify", dest="verify", action="store_false")
    options = parser.parse_args(argv)
    try:
        if options.command == "backup":
            target, verified = backup(to=options.to)
            print(target)
            if not verified:
                print("the trace does not verify: backed up all the same", file=sys.stderr)
                return 3
            return 0
        return restore(source=options.backup, force=options.force, verify=options.verify)
    except Refused as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
