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

from django.http import HttpRequest, HttpResponse

from core.unavailable import DATABASE_ERRORS, service_unavailable

logger = logging.getLogger(__name__)


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
