"""The base of every API viewset: its schema documents the error responses, whose body is the
one shape of core.api.errors."""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import viewsets

from core.api.errors import ErrorSerializer


class ApiAutoSchema(AutoSchema):
    """Documents the error bodies every endpoint may answer with."""

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        for status_code, response in self.error_responses().items():
            if status_code not in responses:
                responses[status_code] = self._get_response_for_code(response, status_code)
        return responses

    def error_responses(self) -> dict[str, Any]:
        """The error responses of this operation by status code (a subclass adds its own)."""
        return {
            "400": OpenApiResponse(ErrorSerializer, description="Bad input"),
            "401": OpenApiResponse(ErrorSerializer, description="Not signed in"),
            "403": OpenApiResponse(ErrorSerializer, description="Not allowed"),
            "404": OpenApiResponse(ErrorSerializer, description="Not found, or outside scope"),
        }


class ApiViewSet(viewsets.GenericViewSet):
    """Base of every API viewset: documented errors. A viewset whose POSTs change cases
    honours the Idempotency-Key header as well (cases.api.idempotency.IdempotentViewSet)."""

    schema = ApiAutoSchema()
