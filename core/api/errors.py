"""One shape for every error of the API: {"code", "message", "fields"}.

The message is in the request's language (LocaleMiddleware reads Accept-Language), the code is
stable for clients to branch on, and `fields` maps each input field to its messages. The
services' errors (core.errors.ServiceError, e.g. cases.errors) keep their own status (404
outside the scope, 403 not allowed, 409 stale or illegal, 400 bad input); DRF's own exceptions
keep theirs.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ServiceError

# DRF's default codes that the API names otherwise.
CODES = {
    "permission_denied": "forbidden",
    "not_authenticated": "not_authenticated",
}


class ErrorSerializer(serializers.Serializer):
    """The body of every error response (for the OpenAPI schema)."""

    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


def error_body(*, code: str, message: Any, fields: dict | None = None) -> dict:
    return {"code": code, "message": str(message), "fields": flatten_fields(fields or {})}


def flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error details (dicts of lists of dicts ...) as {"a.0.b": ["message"]}."""
    result: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in flatten_fields(value, name).items():
                result.setdefault(field, []).extend(messages)
    elif isinstance(detail, list | tuple):
        if all(not isinstance(value, dict | list | tuple) for value in detail):
            if detail:
                result[prefix or "non_field_errors"] = [str(value) for value in detail]
        else:
            for index, value in enumerate(detail):
                if value in ({}, [], None):
                    continue
                name = f"{prefix}.{index}" if prefix else str(index)
                for field, messages in flatten_fields(value, name).items():
                    result.setdefault(field, []).extend(messages)
    elif detail not in (None, ""):
        result[prefix or "non_field_errors"] = [str(detail)]
    return result


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every handled error in the one shape; anything else
    is left to Django (a 500, logged)."""
    if isinstance(exc, ServiceError):  # before Http404/PermissionDenied, which some also are
        return Response(
            error_body(code=exc.code, message=exc.message, fields=exc.fields),
            status=exc.http_status,
        )
    if isinstance(exc, exceptions.ValidationError):
        return Response(
            error_body(
                code="invalid", message=_("Please correct the errors below."), fields=exc.detail
            ),
            status=exc.status_code,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    detail = exc.detail
    code = getattr(detail, "code", None) or exc.default_code
    if isinstance(exc, exceptions.NotAuthenticated):
        code = "not_authenticated"
    response.data = error_body(code=CODES.get(code, code), message=detail)
    if response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        response.data["code"] = "method_not_allowed"
    return response
