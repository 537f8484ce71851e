"""The API's JSON parser: a body nested deeper than any request of ours needs is refused with a
400 like any other malformed body, never a 500 (a 5,000-level body overflows Python's
recursion limit inside the json module, and deep structures cost every later step)."""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def max_depth() -> int:
    return settings.WHISTLE_JSON_MAX_DEPTH


def depth_of(value: Any) -> int:
    """How deeply lists and objects nest in a parsed value, counted without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def too_deep() -> ParseError:
    return ParseError(
        _("The JSON body is nested too deeply (at most %(count)d levels).") % {"count": max_depth()}
    )


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with the nesting limit."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            value = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep() from None
        if depth_of(value) > max_depth():
            raise too_deep()
        return value
