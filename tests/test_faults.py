"""Faults the application must survive without a 500 (docs/reliability.md, "Faults").

The database is made really unreachable (the connection's settings point at a file in a
missing folder, or at a closed port on PostgreSQL) and Redis is a real redis-server that is
stopped and started again. `make chaos` does the same with real servers under load.
"""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext

from cases.open311 import ratelimit
from tests.factories import UserFactory
from tests.tokens import api_token
from whistle import cache as degrading_cache
from whistle.cache import DegradingRedisCache

MESSAGE = "The service is briefly unavailable. Please try again in a moment."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def database_down() -> Iterator[None]:
    """Every new connection fails (as during a restart) until the block ends."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-whistle-folder/down.sqlite3"
    else:
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def user():
    return UserFactory(username="faults")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_page_with_database_down_is_a_clean_503_in_the_users_language(client, user, language):
    client.force_login(user)
    with database_down():
        response = client.get("/", HTTP_ACCEPT_LANGUAGE=language)
    body = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Language"] == language
    assert f'<html lang="{language}"' in body
    assert 'data-testid="error-503"' in body
    with translation.override(language):
        assert gettext(MESSAGE) in body
    assert "Traceback" not in body and "OperationalError" not in body


@pytest.mark.two_factor
def test_the_second_factor_check_with_database_down_is_a_clean_503(client, user):
    # The check reads the session and the devices before the view: a 503, never a 500, and
    # nothing served unchecked (make chaos found the 500s).
    client.force_login(user)
    for path in ("/", "/my/cases/"):
        with database_down():
            response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 503, path
        assert 'data-testid="error-503"' in response.content.decode()
    with database_down():
        response = client.get("/api/cases/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_api_with_database_down_is_a_503_error_body(client, user, language):
    token = api_token(user)
    with database_down():
        response = client.get(
            "/api/cases/",
            HTTP_AUTHORIZATION=f"Token {token}",
            HTTP_ACCEPT_LANGUAGE=language,
        )
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    with translation.override(language):
        expected = gettext(MESSAGE)
    assert response.json() == {"code": "service_unavailable", "message": expected, "fields": {}}


def test_the_site_recovers_without_a_restart_once_the_database_is_back(client, user):
    token = api_token(user)
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    assert client.get("/api/cases/", **headers).status_code == 200
    with database_down():
        assert client.get("/api/cases/", **headers).status_code == 503
    response = client.get("/api/cases/", **headers)
    assert response.status_code == 200
    assert response.json()["count"] == 0


# The cache on a real Redis that stops and starts.


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        limit = time.monotonic() + 10
        while time.monotonic() < limit:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def _cache(url: str) -> DegradingRedisCache:
    return DegradingRedisCache(url, {"OPTIONS": {"socket_connect_timeout": 0.5}})


def test_cache_reads_as_a_miss_while_redis_is_down_and_works_again_after(redis_server, monkeypatch):
    monkeypatch.setattr(degrading_cache, "BREAKER_SECONDS", 0.3)
    cache = _cache(redis_server.url)
    cache.set("k", "v")
    assert cache.get("k") == "v"

    redis_server.stop()
    assert cache.get("k", "missing") == "missing"
    # The breaker is open: no call waits on Redis, every one is a miss.
    started = time.monotonic()
    assert cache.add("n", 0) is False
    assert cache.incr("n") == 1
    cache.set("k", "w")
    assert cache.get_many(["k"]) == {}
    assert cache.has_key("k") is False
    cache.delete("k")
    assert time.monotonic() - started < 0.2

    redis_server.start()
    time.sleep(0.35)
    cache.set("k", "back")
    assert cache.get("k") == "back"
    assert cache.add("n2", 0) is True
    assert cache.incr("n2") == 1


def test_open311_rate_limit_allows_requests_while_the_cache_is_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "whistle.cache.DegradingRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    assert isinstance(caches["default"], DegradingRedisCache)
    allowed, retry_after = ratelimit.hit(bucket="faults", limit=1, window_seconds=60)
    assert allowed and 1 <= retry_after <= 60


def test_with_the_database_down_the_process_is_alive_and_not_ready(client):
    """The load balancer takes the machine out (503 from /readyz) without its process being
    restarted (200 from /healthz, which touches nothing); back when the database is."""
    with database_down():
        assert client.get("/healthz").json() == {"status": "ok"}
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == "failed"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


def test_with_redis_down_the_machine_stays_ready_and_the_metrics_say_so(client, settings):
    """Without Redis the pages go on, so readiness holds (every machine would fail alike); the
    monitoring sees it in /metrics."""
    down = f"redis://127.0.0.1:{free_port()}/0"
    settings.REDIS_URL = down
    settings.CACHES = {
        "default": {
            "BACKEND": "whistle.cache.DegradingRedisCache",
            "LOCATION": down,
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    settings.WHISTLE_METRICS_TOKEN = "metrics-token-for-the-tests"
    assert client.get("/readyz").status_code == 200
    metrics = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-for-the-tests")
    assert metrics.status_code == 200
    assert "whistle_cache_up 0.0" in metrics.content.decode()
