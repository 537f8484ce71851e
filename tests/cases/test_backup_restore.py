"""`make backup` / `make restore` (scripts/backup.py): a backup of the database and the media,
restored into a fresh database and var dir, gives back every case with a chain that verifies
(`manage.py verify_trace` run on the restored database) and every uploaded file byte for byte.
On PostgreSQL through pg_dump/pg_restore, on SQLite through its online backup API."""

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from cases.models import Attachment, Case, Event
from tests.cases.engine_steps import resolved_by_team, whistled

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
SCRIPT = Path(settings.BASE_DIR) / "scripts" / "backup.py"


def _url(name: str) -> str:
    """A DATABASE_URL for database `name` on the test database's server."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    values = connection.settings_dict
    auth = quote(values["USER"] or "", safe="")
    if values.get("PASSWORD"):
        auth += ":" + quote(values["PASSWORD"], safe="")
    host = values.get("HOST") or "localhost"
    port = f":{values['PORT']}" if values.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{name}"


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("MEDIA_ROOT", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def _target(var_dir: Path, database: str | None) -> dict[str, str]:
    """The environment of a fresh installation: its var dir, and its database (SQLite: the
    var dir's default file)."""
    if connection.vendor == "sqlite":
        return {"WHISTLE_VAR_DIR": str(var_dir), "DATABASE_URL": _url(f"{var_dir}/whistle.sqlite3")}
    return {"WHISTLE_VAR_DIR": str(var_dir), "DATABASE_URL": _url(database)}


@pytest.fixture
def restored_database():
    """The name of a database that does not exist yet; dropped afterwards."""
    if connection.vendor == "sqlite":
        yield None
        return
    name = f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restores_into_a_fresh_database_and_var_dir(
    org, settings, tmp_path, restored_database
):
    settings.MEDIA_ROOT = tmp_path / "media"
    resolved_by_team(org)
    whistled(org, description="Broken street light")
    assert Attachment.objects.exists()
    media = _files(tmp_path / "media")
    assert media
    events = Event.objects.count()

    source = {
        "DATABASE_URL": _url(connection.settings_dict["NAME"]),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    taken = _run("backup", "--to", str(tmp_path / "backups"), env=source)
    assert taken.returncode == 0, taken.stderr
    backup = Path(taken.stdout.strip().splitlines()[-1])
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["trace_verified"] and "heads.json" in manifest["sha256"]

    var_dir = tmp_path / "restored"
    target = _target(var_dir, restored_database)
    back = _run("restore", str(backup), env=target)
    assert back.returncode == 0, back.stdout + back.stderr
    # verify_trace ran on the restored database: its summary counts this test's cases.
    cases = Case.objects.count()
    assert re.search(rf"\b{cases}\b\D+\b{events}\b", back.stdout), back.stdout
    assert _files(var_dir / "media") == media

    # A second restore over it is refused: nothing is overwritten without --force.
    again = _run("restore", str(backup), env=target)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_a_damaged_backup_is_refused(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    whistled(org)
    source = {
        "DATABASE_URL": _url(connection.settings_dict["NAME"]),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    backup = Path(_run("backup", "--to", str(tmp_path / "b"), env=source).stdout.split()[-1])
    with (backup / "media.tar.gz").open("ab") as archive:
        archive.write(b"tampered")
    var_dir = tmp_path / "restored"
    never_created = f"{connection.settings_dict['NAME']}_never_{uuid.uuid4().hex[:8]}"
    back = _run("restore", str(backup), env=_target(var_dir, never_created))
    assert back.returncode == 2 and "media.tar.gz" in back.stderr
    assert not (var_dir / "media").exists()
