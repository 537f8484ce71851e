"""A JSON body nested thousands of levels deep is a malformed request (400), not a server error
(500), at every entry point that reads JSON: the REST API (core.api.parsers) and Open311."""

import pytest
from django.core.cache import cache

from cases.models import Case
from cases.open311.services import create_api_client
from tests.api.conftest import client_for
from tests.cases.conftest import org  # noqa: F401 - the shared organisation fixture

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000
OBJECTS = '{"a":' * 5000 + "1" + "}" * 5000
JUST_OVER = '{"item": ' + "[" * 40 + "]" * 40 + "}"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("body", [DEEP, OBJECTS, JUST_OVER], ids=["lists", "objects", "depth-40"])
@pytest.mark.parametrize(
    "path", ["/api/cases/", "/api/notifications/read/", "/api/cases/{pk}/accept/"]
)
def test_the_api_answers_400(org, body, path):  # noqa: F811
    from tests.cases.engine_steps import file_case

    case = file_case(org)
    client = client_for(org.village_officer)
    response = client.generic(
        "POST",
        path.format(pk=case.pk),
        body,
        content_type="application/json",
        headers={"Idempotency-Key": "deep-1"},
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "parse_error"
    assert Case.objects.count() == 1


def test_a_usual_body_still_parses(org):  # noqa: F811
    from tests.cases.engine_steps import file_case

    case = file_case(org)
    response = client_for(org.village_officer).post(
        f"/api/cases/{case.pk}/accept/", {"version": case.version}, format="json"
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_answers_4xx(client, org, fmt):  # noqa: F811
    _client, key = create_api_client(name="hotline", jurisdiction_id=org.city.code)
    for body in (DEEP, OBJECTS):
        response = client.generic(
            "POST",
            f"/open311/v2/requests.{fmt}?api_key={key}",
            body,
            content_type="application/json",
        )
        assert 400 <= response.status_code < 500, response.content
    assert Case.objects.count() == 0
