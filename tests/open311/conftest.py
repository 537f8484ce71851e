"""Fixtures of the Open311 tests: the small organisation of the case tests, a client system
with its key, and helpers that call an endpoint in either format and read the answer."""

import json
from dataclasses import dataclass
from xml.etree import ElementTree as ET

import pytest
from django.core.cache import cache

from cases.models import ApiClient
from cases.open311.services import create_api_client
from tests.cases.conftest import Org, org  # noqa: F401 - the shared organisation fixture

# The grid of `org` is a square of 0.01° around (lng 120.70, lat 30.50).
LAT, LNG = "30.5", "120.7"

SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
POST_FIELDS = ["service_request_id", "service_notice", "account_id"]
FORMATS = ["json", "xml"]


@dataclass
class Hotline:
    client: ApiClient
    key: str


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit windows live in the shared cache; each test starts with none counted."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def hotline(org) -> Hotline:  # noqa: F811 - the imported fixture
    client, key = create_api_client(name="12345 hotline", jurisdiction_id=org.city.code)
    return Hotline(client=client, key=key)


def parse_xml(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 - our own response


def parse(response, fmt: str):
    """The answer as Python: JSON as is; XML as (root tag, list of member dicts or a dict)."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(response.content)
    return parse_xml(response)


def errors_of(response, fmt: str) -> list[dict]:
    """The spec's errors array, in either format, checked for its shape."""
    if fmt == "json":
        errors = parse(response, fmt)
        assert isinstance(errors, list) and errors
        for error in errors:
            assert set(error) == {"code", "description"}
        return errors
    root = parse_xml(response)
    assert root.tag == "errors"
    errors = []
    for error in root:
        assert error.tag == "error"
        assert [child.tag for child in error] == ["code", "description"]
        errors.append(
            {"code": int(error.find("code").text), "description": error.findtext("description")}
        )
    assert errors
    return errors


def members(response, fmt: str, root_tag: str, member_tag: str) -> list[dict]:
    """The members of a list answer (services, service_requests) as dicts, with their field
    names in order; XML must use the spec's root and member element names."""
    if fmt == "json":
        rows = parse(response, fmt)
        assert isinstance(rows, list)
        return rows
    root = parse_xml(response)
    assert root.tag == root_tag
    rows = []
    for member in root:
        assert member.tag == member_tag
        rows.append({child.tag: child.text for child in member})
    return rows


def url(resource: str, fmt: str) -> str:
    return f"/open311/v2/{resource}.{fmt}"


def post_request(client, hotline: Hotline, fmt: str = "json", headers=None, **fields):
    """POST a service request with sensible defaults; a field given as None is left out."""
    data = {
        "api_key": hotline.key,
        "service_code": "SAN-01",
        "lat": LAT,
        "long": LNG,
        "description": "Garbage piled beside the bridge",
        **fields,
    }
    data = {name: value for name, value in data.items() if value is not None}
    # Error descriptions come in the request's language; these tests read the English ones.
    return client.post(
        url("requests", fmt), data, headers={"Accept-Language": "en", **(headers or {})}
    )
