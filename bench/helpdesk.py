"""django-helpdesk beside Whistle in the intake benchmark: its own virtualenv, database and
gunicorn, never the product's.

bench.intake compares Whistle's whistle filing with django-helpdesk's ticket creation (issue 22).
django-helpdesk must not enter the product: it is installed only into var/bench/helpdesk-venv
(made here with `python -m venv` and pip, from bench/helpdesk_site/requirements.txt, pinned),
and served from the minimal project bench/helpdesk_site by that environment's gunicorn, with
the same gunicorn.conf.py and command-line settings as Whistle's. Its database is DATABASE_URL's
with "_helpdesk" added, on the same PostgreSQL server.
"""

import hashlib
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import BASE_DIR, Server, gunicorn, var_dir

SITE = BASE_DIR / "bench" / "helpdesk_site"
REQUIREMENTS = SITE / "requirements.txt"
PATH = "/api/tickets/"
# As many queues as a small helpdesk has; tickets go to one at random.
QUEUES = 8


def venv_dir() -> Path:
    return var_dir() / "helpdesk-venv"


def python() -> Path:
    return venv_dir() / "bin" / "python"


def ensure_venv() -> dict[str, str]:
    """Make the benchmark's own virtualenv with the pinned requirements (again when they
    change); returns the versions installed there."""
    venv = venv_dir()
    stamp = venv / ".bench-requirements"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not (python().exists() and stamp.exists() and stamp.read_text() == wanted):
        print(f"Installing django-helpdesk into {venv} ...", flush=True)
        # From the product's interpreter: venv takes its base, the same Python on both sides.
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)  # noqa: S603
        subprocess.run(  # noqa: S603
            [str(python()), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True
        )
        stamp.write_text(wanted)
    frozen = subprocess.run(  # noqa: S603
        [str(python()), "-m", "pip", "freeze"], check=True, capture_output=True, text=True
    ).stdout
    versions = dict(line.split("==", 1) for line in frozen.splitlines() if "==" in line)
    return {name: versions.get(name, "?") for name in PINNED}


PINNED = ("django-helpdesk", "Django", "djangorestframework", "gunicorn", "psycopg2-binary")


def database_url(url: str) -> str:
    """DATABASE_URL with "_helpdesk" added to its database name."""
    base, _, query = url.partition("?")
    return f"{base}_helpdesk" + (f"?{query}" if query else "")


def site_env(url: str) -> dict[str, str]:
    """The environment of the comparison site's processes: no product settings, the database
    of `url` as HELPDESK_DB_*, the other environment's bin first on PATH."""
    import dj_database_url

    options = dj_database_url.parse(url)
    keep = ("HOME", "LANG", "LC_ALL", "TZ", "CONN_MAX_AGE")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(
        PATH=f"{venv_dir() / 'bin'}:/usr/bin:/bin",
        PYTHONPATH=str(BASE_DIR),
        DJANGO_SETTINGS_MODULE="bench.helpdesk_site.settings",
        HELPDESK_VAR_DIR=str(var_dir() / "helpdesk"),
        # One key for every process of the run (its tokens need none; its forms' CSRF would).
        HELPDESK_SECRET_KEY=secrets.token_urlsafe(50),
        HELPDESK_DB_NAME=options["NAME"],
        HELPDESK_DB_USER=str(options.get("USER") or ""),
        HELPDESK_DB_PASSWORD=str(options.get("PASSWORD") or ""),
        HELPDESK_DB_HOST=str(options.get("HOST") or ""),
        HELPDESK_DB_PORT=str(options.get("PORT") or ""),
        LOG_LEVEL="WARNING",
    )
    return env


def _task(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 - our own module
        [str(python()), "-m", "bench.helpdesk_site.tasks", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench.helpdesk_site.tasks {args[0]}:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def prepare(env: dict[str, str], *, users: int) -> dict[str, Any]:
    """Migrate, make `users` staff members with tokens and the queues, count one ticket's
    statements, empty the tickets and the mail: the filers, queue ids and statements."""
    return _task(env, "prepare", str(users), str(QUEUES))


def verify(env: dict[str, str], ids: list[int], workdir: str) -> dict[str, Any]:
    path = Path(workdir) / "helpdesk-ids.json"
    path.write_text(json.dumps(ids))
    return _task(env, "verify", str(path))


def server(
    *, port: int, workers: int, worker_class: str, threads: int, env: dict[str, str]
) -> Server:
    """The comparison site under the benchmark environment's gunicorn, started in the project's
    directory as Whistle's is (so gunicorn.conf.py applies to both), the same options."""
    return gunicorn(
        port=port,
        workers=workers,
        worker_class=worker_class,
        threads=threads,
        env=env,
        name="intake-helpdesk-gunicorn",
        executable=venv_dir() / "bin" / "gunicorn",
        app="bench.helpdesk_site.wsgi",
    )
