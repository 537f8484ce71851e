"""Settings come from the environment: each case starts a fresh Python with chosen variables.

Settings are read once per process, so the only honest way to test another environment is a
subprocess; the variables CI itself sets (DATABASE_URL, REDIS_URL ...) are removed first.
"""

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

# Variables that settings.py or Django's checks read; none may leak in from the shell or from
# other tests (browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process).
SETTINGS_VARIABLES = (
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "LANGUAGE_CODE",
    "TIME_ZONE",
    "WHISTLE_HTTPS",
    "WHISTLE_SITE_URL",
    "WHISTLE_BEHIND_PROXY",
    "WHISTLE_MANIFEST_STATIC",
    "WHISTLE_PG_JIT",
    "SECURE_HSTS_SECONDS",
    "STATIC_ROOT",
    "MEDIA_ROOT",
    "CONN_MAX_AGE",
    "EMAIL_HOST",
    "EMAIL_BACKEND",
    "DJANGO_SETTINGS_MODULE",
)

# Reading settings needs no app registry, so a half-written app elsewhere cannot fail these.
PRINT_SETTINGS = """
import json, sys
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))
"""


def clean_environment(var_dir: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "whistle.settings"
    env["WHISTLE_VAR_DIR"] = str(var_dir)
    env.update(overrides)
    return env


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def read_settings(var_dir: Path, *names: str, **overrides: str) -> dict:
    result = run_python(["-c", PRINT_SETTINGS, *names], clean_environment(var_dir, **overrides))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def production_environment(var_dir: Path, **overrides: str) -> dict[str, str]:
    values = {
        "DEBUG": "0",
        "WHISTLE_HTTPS": "1",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "example.gov.cn",
        "WHISTLE_SITE_URL": "https://example.gov.cn",
    }
    values.update(overrides)
    return clean_environment(var_dir, **values)


def test_database_url_selects_postgresql(tmp_path):
    values = read_settings(
        tmp_path,
        "DATABASES",
        DATABASE_URL="postgres://whistle:s3cret@db.example.gov.cn:5433/whistle_prod",
    )
    database = values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["NAME"] == "whistle_prod"
    assert database["HOST"] == "db.example.gov.cn"
    assert int(database["PORT"]) == 5433
    assert database["USER"] == "whistle"
    assert database["PASSWORD"] == "s3cret"
    assert database["CONN_MAX_AGE"] == 60
    assert database["OPTIONS"]["options"] == "-c jit=off"


def test_postgresql_jit_can_be_switched_back_on(tmp_path):
    values = read_settings(
        tmp_path,
        "DATABASES",
        DATABASE_URL="postgres://whistle@db.example.gov.cn/whistle_prod",
        WHISTLE_PG_JIT="on",
    )
    assert values["DATABASES"]["default"]["OPTIONS"]["options"] == "-c jit=on"


def test_default_database_is_sqlite_under_var_dir(tmp_path):
    database = read_settings(tmp_path, "DATABASES")["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "whistle.sqlite3")
    assert database["TEST"]["NAME"] == str(tmp_path / "test.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_default_sqlite_connection_runs_in_wal_mode(tmp_path):
    script = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    print(cursor.execute('PRAGMA journal_mode').fetchone()[0],"
        " cursor.execute('PRAGMA foreign_keys').fetchone()[0])\n"
    )
    result = run_python(["-c", script], clean_environment(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "1"]
    assert (tmp_path / "whistle.sqlite3").exists()


def test_redis_url_carries_broker_and_cache(tmp_path):
    url = "redis://127.0.0.1:6379/4"
    values = read_settings(tmp_path, "CELERY_BROKER_URL", "CACHES", REDIS_URL=url)
    assert values["CELERY_BROKER_URL"] == url
    assert values["CACHES"]["default"] == {
        "BACKEND": "whistle.cache.DegradingRedisCache",
        "LOCATION": url,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
    }


def test_default_broker_is_filesystem_under_var_dir(tmp_path):
    values = read_settings(
        tmp_path, "CELERY_BROKER_URL", "CELERY_BROKER_TRANSPORT_OPTIONS", "CACHES"
    )
    assert values["CELERY_BROKER_URL"] == "filesystem://"
    options = values["CELERY_BROKER_TRANSPORT_OPTIONS"]
    queue = Path(options["data_folder_in"])
    assert queue == tmp_path / "celery" / "queue"
    assert Path(options["data_folder_out"]) == queue
    assert Path(options["processed_folder"]) == tmp_path / "celery" / "processed"
    # Kombu would otherwise keep its exchange bindings in ./control, wherever it was started.
    assert Path(options["control_folder"]) == tmp_path / "celery" / "control"
    assert (tmp_path / "celery" / "control").is_dir()
    assert queue.is_dir()
    assert (tmp_path / "celery" / "processed").is_dir()
    cache = values["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert cache["LOCATION"] == str(tmp_path / "cache")


def test_secret_key_from_environment_wins_and_writes_no_file(tmp_path):
    key = secrets.token_urlsafe(50)
    assert read_settings(tmp_path, "SECRET_KEY", SECRET_KEY=key)["SECRET_KEY"] == key
    assert not (tmp_path / "secret_key").exists()


def test_generated_secret_key_is_kept_private_and_stable(tmp_path):
    first = read_settings(tmp_path, "SECRET_KEY")["SECRET_KEY"]
    second = read_settings(tmp_path, "SECRET_KEY")["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert first == second
    assert len(first) >= 50
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    other = read_settings(tmp_path / "elsewhere", "SECRET_KEY")["SECRET_KEY"]
    assert other != first


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), ("0", False), ("false", False), ("1", True), ("True", True)],
)
def test_debug_flag(tmp_path, value, expected):
    overrides = {} if value is None else {"DEBUG": value}
    assert read_settings(tmp_path, "DEBUG", **overrides)["DEBUG"] is expected


def test_allowed_hosts_list_parsing(tmp_path):
    hosts = read_settings(
        tmp_path, "ALLOWED_HOSTS", ALLOWED_HOSTS=" whistle.example.gov.cn, .example.org ,,10.0.0.5"
    )["ALLOWED_HOSTS"]
    assert hosts == ["whistle.example.gov.cn", ".example.org", "10.0.0.5"]
    default = read_settings(tmp_path, "ALLOWED_HOSTS")["ALLOWED_HOSTS"]
    assert "127.0.0.1" in default
    assert "localhost" in default


def test_time_zone_and_language_defaults(tmp_path):
    values = read_settings(tmp_path, "TIME_ZONE", "CELERY_TIMEZONE", "LANGUAGE_CODE", "USE_TZ")
    assert values == {
        "TIME_ZONE": "Asia/Shanghai",
        "CELERY_TIMEZONE": "Asia/Shanghai",
        "LANGUAGE_CODE": "zh-hans",
        "USE_TZ": True,
    }


def test_language_and_time_zone_overrides(tmp_path):
    values = read_settings(
        tmp_path, "TIME_ZONE", "LANGUAGE_CODE", LANGUAGE_CODE="en", TIME_ZONE="Asia/Urumqi"
    )
    assert values == {"TIME_ZONE": "Asia/Urumqi", "LANGUAGE_CODE": "en"}


def test_https_switches_on_secure_cookies_and_hsts(tmp_path):
    names = ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    on = read_settings(tmp_path, *names, "SECURE_HSTS_SECONDS", WHISTLE_HTTPS="1")
    off = read_settings(tmp_path, *names, "SECURE_HSTS_SECONDS")
    assert all(on[name] is True for name in names)
    assert on["SECURE_HSTS_SECONDS"] >= 31536000
    assert all(off[name] is False for name in names)
    assert off["SECURE_HSTS_SECONDS"] == 0


def test_check_deploy_is_clean_with_production_values(tmp_path):
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_environment(tmp_path),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output
    assert "security." not in output


def test_check_deploy_fails_with_debug_on(tmp_path):
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_environment(tmp_path, DEBUG="1"),
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr
