"""The 503 answer while the database is down or restarting (whistle.faults): try again in a
moment. Here, below every app, so that a middleware of an app that reads the database before
the view (the second factor's) answers the same way."""

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from core.api.errors import error_body

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
