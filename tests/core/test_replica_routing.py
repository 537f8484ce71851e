"""Heavy reads go to the read replica, and back to the primary when they must
(core/replica.py, docs/architecture.md "Many machines").

Here the `replica` database is a second connection to the test database, as a deployment that
points DATABASE_REPLICA_URL at a managed read endpoint would have: the routing, the fallbacks and
the freshness note are real; the lag and read-your-writes checks against a streaming replica
that is really behind are in test_replica_streaming.py. A second connection sees only what is
committed, so these tests commit (transaction=True).
"""

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections, transaction
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import replica
from teams.levels import shape
from tests.cases.conftest import org  # noqa: F401
from tests.replicas import freshness_note

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _add_replica(settings_dict: dict) -> Any:
    """Open the `replica` database for this test only (DATABASE_REPLICA_URL makes it for a
    process: test_replica_streaming.py)."""
    backend = load_backend(settings_dict["ENGINE"])
    wrapper = backend.DatabaseWrapper(settings_dict, replica.REPLICA)
    connections[replica.REPLICA] = wrapper
    replica.replica_state(fresh=True)
    return wrapper


def _drop_replica(wrapper: Any) -> None:
    replica.mark_down()  # the next test's replica is probed afresh
    wrapper.close()
    del connections[replica.REPLICA]


@pytest.fixture
def second_connection() -> Iterator[None]:
    """The replica: a second connection to the test database."""
    wrapper = _add_replica(copy.deepcopy(connections["default"].settings_dict))
    yield
    _drop_replica(wrapper)


@pytest.fixture
def unreachable() -> Iterator[None]:
    """A replica that does not answer: a closed port, or a file in no folder."""
    conf = copy.deepcopy(connections["default"].settings_dict)
    if conf["ENGINE"].endswith("sqlite3"):
        conf["NAME"] = "/nonexistent-folder/replica.sqlite3"
    else:
        conf["PORT"] = "1"
        conf["OPTIONS"] = {**conf.get("OPTIONS", {}), "connect_timeout": 2}
    wrapper = _add_replica(conf)
    yield
    _drop_replica(wrapper)


def _freshness(html: str) -> tuple[str, str]:
    found = freshness_note(html)
    assert found, "the page says how fresh its figures are"
    return found


def test_the_dashboards_read_the_replica_and_say_so(client, org, second_connection):  # noqa: F811
    client.force_login(org.supervisor)
    with CaptureQueriesContext(connections[replica.REPLICA]) as on_replica:
        response = client.get(reverse("assessment:overview"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert len(on_replica) > 5  # the page's figures were read there
    read = " ".join(query["sql"] for query in on_replica.captured_queries)
    assert "django_session" not in read  # the session is read on the primary
    source, note = _freshness(response.content.decode())
    assert source == replica.REPLICA
    assert note.startswith("Figures read from the reporting copy at ")
    assert "at most 0 s behind the main database" in note


def test_a_page_reads_the_primary_when_no_replica_is_configured(client, org):  # noqa: F811
    client.force_login(org.supervisor)
    response = client.get(reverse("assessment:overview"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert b'data-testid="freshness"' not in response.content  # nothing to say: all is live


def test_a_replica_that_does_not_answer_leaves_the_pages_on_the_primary(
    client,
    org,  # noqa: F811
    unreachable,
):
    client.force_login(org.supervisor)
    for name in ("assessment:overview", "assessment:rankings", "assessment:hotspots"):
        response = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, name
        source, note = _freshness(response.content.decode())
        assert source == "default"
        assert note.endswith("read from the main database: the reporting copy does not answer.")
    zh = client.get(reverse("assessment:overview"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "报表副本" in _freshness(zh.content.decode())[1]


def test_a_replica_further_behind_than_the_bound_is_not_read(
    client,
    org,  # noqa: F811
    second_connection,
    settings,
):
    settings.WHISTLE_REPLICA_MAX_LAG_SECONDS = -1  # even a replica 0 s behind is too far
    client.force_login(org.supervisor)
    with CaptureQueriesContext(connections[replica.REPLICA]) as on_replica:
        response = client.get(reverse("assessment:rankings"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert [q["sql"] for q in on_replica.captured_queries if "wal" not in q["sql"]] == []
    source, note = _freshness(response.content.decode())
    assert (source, note.split(", ", 1)[1]) == (
        "default",
        "read from the main database: the reporting copy is behind.",
    )


def test_a_read_that_fails_on_the_replica_is_done_again_on_the_primary(org, second_connection):  # noqa: F811
    sources = []

    def read(freshness: replica.Freshness) -> int:
        sources.append(freshness.source)
        if freshness.on_replica:
            _break(connections[replica.REPLICA])
        return len(list(type(org.village).objects.all()))

    assert replica.read_on_replica(user_id=org.supervisor.pk, read=read) > 0
    assert sources == ["replica", "default"]
    assert not replica.replica_state().answers  # marked down until the next probe


def _break(replica_connection) -> None:
    """The replica goes away under an open connection (a restart, a network cut)."""
    replica_connection.ensure_connection()
    if replica_connection.vendor == "postgresql":
        pid = replica_connection.connection.info.backend_pid
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    else:
        replica_connection.settings_dict["NAME"] = "/nonexistent-folder/replica.sqlite3"
        replica_connection.close()


def test_reads_in_a_transaction_and_kept_reference_rows_use_the_primary(
    org,  # noqa: F811
    second_connection,
):
    with replica.replica_reads(user_id=None) as freshness:
        assert freshness.on_replica
        with CaptureQueriesContext(connections[replica.REPLICA]) as on_replica:
            with transaction.atomic():
                list(type(org.village).objects.all())
            assert on_replica.captured_queries == []
            from core.reference import changed

            changed()  # the kept copies are dropped: the next read loads them
            shape()
            assert on_replica.captured_queries == []
            list(type(org.village).objects.all())
            assert len(on_replica.captured_queries) == 1


def test_the_case_list_export_reads_the_replica(client, org, second_connection):  # noqa: F811
    client.force_login(org.supervisor)
    with CaptureQueriesContext(connections[replica.REPLICA]) as on_replica:
        response = client.get(reverse("cases:list"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="cases')
    assert len(on_replica) >= 1


def test_a_replica_without_the_shared_cache_is_warned_of(second_connection, settings):
    settings.REDIS_URL = ""
    assert [warning.id for warning in replica.check_replica()] == ["core.W001"]
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert replica.check_replica() == []


def test_no_replica_no_warning(settings):
    settings.REDIS_URL = ""
    assert replica.check_replica() == []


def test_the_assessment_api_reads_the_replica_and_says_so_in_its_headers(
    org,  # noqa: F811
    second_connection,
):
    from tests.api.conftest import client_for

    with CaptureQueriesContext(connections[replica.REPLICA]) as on_replica:
        response = client_for(org.supervisor).get("/api/assessment/indicators/")
    assert response.status_code == 200, response.content[:300]
    assert response["X-Whistle-Read-From"] == "replica"
    assert response["X-Whistle-Lag-Seconds"] == "0"
    assert len(on_replica) > 3
    read = " ".join(query["sql"] for query in on_replica.captured_queries)
    assert "knox_authtoken" not in read  # the token is checked on the primary


def test_the_assessment_api_reads_the_primary_when_the_replica_does_not_answer(
    org,  # noqa: F811
    unreachable,
):
    from tests.api.conftest import client_for

    response = client_for(org.supervisor).get("/api/assessment/rankings/")
    assert response.status_code == 200, response.content[:300]
    assert response["X-Whistle-Read-From"] == "primary"
