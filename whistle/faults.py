"""A database that is down or restarting is answered with a clean 503, not a 500.

While PostgreSQL restarts, every query fails with OperationalError (cannot connect, server
closed the connection) or InterfaceError (connection already closed). Nothing is wrong with
the request: the client should try again in a moment. The answer is a short page or, for the
API and Open311, the API's error body, in the request's language, with Retry-After. Django
drops the broken connection at the end of the request, and CONN_HEALTH_CHECKS makes the next
request open a new one, so the site recovers without a restart.
"""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from core.api.errors import error_body

logger = logging.getLogger(__name__)

# Paths answered in JSON: the API and Open311 (whose clients expect machine-readable errors).
JSON_PATHS = ("/api/", "/open311/")
RETRY_AFTER_SECONDS = 5
DATABASE_ERRORS = (OperationalError, InterfaceError)


def wants_json(request: HttpRequest) -> bool:
    if request.path.startswith(JSON_PATHS):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer: try again shortly. Renders without the database (no context
    processors, no user), in the language LocaleMiddleware chose."""
    message = _("The service is briefly unavailable. Please try again in a moment.")
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            error_body(code="service_unavailable", message=message), status=503
        )
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turns a database connection error raised by a view into a 503 (service_unavailable)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        logger.warning(
            "Database unavailable during %s %s: %s", request.method, request.path, exception
        )
        return service_unavailable(request)
