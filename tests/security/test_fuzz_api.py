"""Fuzzing: schemathesis generates valid and invalid requests for every operation of the
OpenAPI schema, and Hypothesis random queries and form bodies for every Open311 endpoint (not
in the schema); no answer may be a server error (5xx).

WHISTLE_FUZZ_EXAMPLES sets the examples per operation and mode (default 5, so `make test`
stays quick); `make fuzz` runs it with several thousand requests in all and prints the count.
"""

import os
import string

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from cases.models import Dispatch, Postponement
from cases.open311.services import create_api_client
from tests.api.test_schema import ID_SOURCES, _case_ids, _keep_the_test_connection, _load_schema
from tests.cases.conftest import org
from tests.schema_modes import generation_modes
from tests.security.scenario import build_objects
from tests.tokens import api_token

__all__ = ["_keep_the_test_connection", "org"]

EXAMPLES = int(os.environ.get("WHISTLE_FUZZ_EXAMPLES", "5"))


def _fuzz_settings(examples: int = EXAMPLES):
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture
def world(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Rate limits of Open311 and anything else cached: a private cache, emptied per request.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return build_objects(org)


@pytest.mark.django_db
@pytest.mark.usefixtures("_keep_the_test_connection")
def test_the_openapi_operations_never_answer_with_a_server_error(world, capsys):
    org = world.org
    ids = {
        "cases": _case_ids(),
        "dispatches": list(Dispatch.objects.values_list("pk", flat=True)),
        "postponements": list(Postponement.objects.values_list("pk", flat=True)),
    }
    keys = {
        "committee": api_token(org.town_committee),
        "grid_worker": api_token(org.grid_worker),
        "captain": api_token(org.captain),
    }
    schema = _load_schema()
    failures: list[str] = []
    sent = {"requests": 0, "operations": 0}
    for result in schema.get_all_operations():
        operation = result.ok()
        sent["operations"] += 1
        segment = operation.path.split("/")[2]
        real_ids = ID_SOURCES.get(segment, lambda ids: [])(ids)
        for mode in generation_modes(operation):
            run = _runner(operation.as_strategy(generation_mode=mode), keys, real_ids, sent)
            try:
                run()
            except Exception as error:  # collected: one report for every operation
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {error}")
    with capsys.disabled():
        print(
            f"\nschemathesis: {sent['requests']} requests on {sent['operations']} operations, "
            f"{EXAMPLES} examples per operation and mode, {len(failures)} failures"
        )
    assert sent["operations"] >= 40
    assert sent["requests"] >= sent["operations"] * 2
    assert not failures, "\n\n".join(failures)


def _runner(strategy, keys: dict[str, str], real_ids: list[int], sent: dict):
    @given(case=strategy, data=st.data())
    @_fuzz_settings()
    def run(case, data) -> None:
        if real_ids and "id" in (case.path_parameters or {}) and data.draw(st.booleans()):
            case.path_parameters["id"] = data.draw(st.sampled_from(real_ids))
        key = keys[data.draw(st.sampled_from(sorted(keys)))]
        cache.clear()
        sent["requests"] += 1
        response = case.call(headers={"Authorization": f"Token {key}"})
        case.validate_response(response, checks=[not_a_server_error])

    return run


# --- Open311 ---------------------------------------------------------------------------------

TEXT = st.text(
    alphabet=st.sampled_from(string.printable + "村社吹哨éß\u200b\U0001f600"), max_size=40
)
NUMBERISH = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    TEXT,
)
DATES = st.one_of(st.datetimes().map(lambda d: d.isoformat()), TEXT)
PARAMETERS = {
    "jurisdiction_id": st.one_of(st.just("HN"), TEXT),
    "service_code": st.one_of(st.sampled_from(["SAN-01", "DEMO-01", ""]), TEXT),
    "service_request_id": TEXT,
    "status": st.one_of(st.sampled_from(["open", "closed", "open,closed"]), TEXT),
    "start_date": DATES,
    "end_date": DATES,
    "lat": NUMBERISH,
    "long": NUMBERISH,
    "address_string": TEXT,
    "address_id": TEXT,
    "description": st.text(max_size=3000),
    "email": TEXT,
    "first_name": TEXT,
    "last_name": TEXT,
    "phone": TEXT,
    "device_id": TEXT,
    "account_id": TEXT,
    "media_url": TEXT,
    "attribute[HOTLINE_TICKET]": TEXT,
    "attribute[x]": TEXT,
    "page": NUMBERISH,
    "page_size": NUMBERISH,
}
QUERY = st.dictionaries(st.sampled_from(sorted(PARAMETERS)), TEXT, max_size=6).flatmap(
    lambda chosen: st.fixed_dictionaries({name: PARAMETERS[name] for name in chosen})
)
SEGMENT = st.one_of(st.sampled_from(["SAN-01", "C-2025-000001", "0"]), TEXT)


def _open311_paths(fmt: str, segment: str) -> list[str]:
    from urllib.parse import quote

    part = quote(segment, safe="") or "x"
    return [
        f"/open311/v2/services.{fmt}",
        f"/open311/v2/services/{part}.{fmt}",
        f"/open311/v2/requests.{fmt}",
        f"/open311/v2/requests/{part}.{fmt}",
        f"/open311/v2/tokens/{part}.{fmt}",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "when", ["0001-01-01T01:00:01", "9999-12-31T23:59:59", "9999-12-31", "0001-01-01"]
)
@pytest.mark.parametrize("name", ["start_date", "end_date"])
def test_open311_dates_far_off_are_refused_not_crashed(world, name, when):
    """Found by the fuzzing: the year 1 overflowed the 90-day window (a 500)."""
    response = Client().get("/open311/v2/requests.json", {name: when})
    assert response.status_code == 400
    assert name in response.json()[0]["description"]


@pytest.mark.django_db
def test_the_open311_endpoints_never_answer_with_a_server_error(world, capsys):
    _client, key = create_api_client(
        name="12345 hotline", jurisdiction_id=world.org.city.code, rate_limit_per_minute=10**6
    )
    client = Client(raise_request_exception=False)  # a crash is a 500 to count, not a raise
    sent = {"requests": 0}
    problems: list[str] = []

    @given(
        fmt=st.sampled_from(["json", "xml", "html"]),
        segment=SEGMENT,
        query=QUERY,
        body=QUERY,
        with_key=st.sampled_from(["valid", "none", "wrong"]),
        method=st.sampled_from(["GET", "POST", "PUT"]),
    )
    @_fuzz_settings(EXAMPLES * 10)  # five endpoints and three methods share the examples
    def run(fmt, segment, query, body, with_key, method) -> None:
        api_key = {"valid": key, "none": None, "wrong": "not-a-key"}[with_key]
        for path in _open311_paths(fmt, segment):
            cache.clear()
            sent["requests"] += 1
            if method == "GET":
                params = {**query, **({"api_key": api_key} if api_key else {})}
                response = client.get(path, params)
            else:
                data = {**body, **({"api_key": api_key} if api_key else {})}
                if method == "POST":
                    response = client.post(path, data)
                else:
                    response = client.generic(method, path, "")
            if response.status_code >= 500:
                problems.append(f"{method} {path} {query or body}: {response.status_code}")

    run()
    with capsys.disabled():
        print(f"\nOpen311: {sent['requests']} requests, {len(problems)} server errors")
    assert sent["requests"] >= EXAMPLES * 5
    assert not problems, "\n".join(problems[:20])
