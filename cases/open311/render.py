"""The two formats of GeoReport v2: a JSON array (or object) and XML with the spec's element
names, both UTF-8; errors as the spec's errors array."""

import json
from typing import Any
from xml.etree import ElementTree as ET  # builds our own XML; never parses input

from django.http import HttpResponse

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# The element name of each member of a list, by the list's own name.
MEMBER_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    element = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, child in value.items():
            _append(element, key, child)
    elif isinstance(value, list):
        member = MEMBER_TAGS.get(tag, "item")
        for child in value:
            _append(element, member, child)
    else:
        element.text = _text(value)


def to_xml(root: str, value: dict | list) -> bytes:
    """`<root>` holding the list's members (e.g. <services><service>) or the object's fields."""
    element = ET.Element(root)
    if isinstance(value, list):
        member = MEMBER_TAGS[root]
        for child in value:
            _append(element, member, child)
    else:
        for key, child in value.items():
            _append(element, key, child)
    return XML_DECLARATION + ET.tostring(element, encoding="unicode").encode()


def respond(fmt: str, root: str, value: dict | list, *, status: int = 200) -> HttpResponse:
    body = to_xml(root, value) if fmt == "xml" else json.dumps(value, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def errors_response(
    fmt: str, status: int, descriptions: list[str], *, retry_after: int | None = None
) -> HttpResponse:
    errors = [{"code": status, "description": description} for description in descriptions]
    response = respond(fmt, "errors", errors, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response
