"""The access audit's catch-all: every refusal (403), every file export and every dashboard
drill-down list goes into the trail (audit.services.record_access), whichever view answered.

Views that know the object record it themselves (the case page and its attachments, with the
case number); this middleware records what is known only from the answer: a 403 from any
view, API view, CSRF check or permission class, and a response that core.exports marked as an
export. It sits after the authentication middleware, so the user is known; an API view's token
user is set on the request by DRF."""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from audit.models import AccessKind
from audit.services import record_access

logger = logging.getLogger(__name__)

# The lists of cases behind a dashboard's numbers (the unit page lists its cases too).
DRILL_DOWNS = frozenset({"assessment:cases", "assessment:unit", "api:assessment-cases"})


def access_kind(request: HttpRequest, response: HttpResponse) -> AccessKind | None:
    """What the trail records of this answer, if anything."""
    if response.status_code == 403:
        return AccessKind.REFUSED
    if not 200 <= response.status_code < 300:
        return None
    if getattr(response, "export_file_name", None):
        return AccessKind.EXPORT
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name in DRILL_DOWNS:
        return AccessKind.DRILL_DOWN
    return None


class AccessAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        kind = access_kind(request, response)
        if kind is None:
            return response
        detail = request.method if kind == AccessKind.REFUSED else ""
        if kind == AccessKind.EXPORT:
            detail = response.export_file_name
        try:
            record_access(request=request, kind=kind, detail=detail)
        except (OperationalError, InterfaceError) as error:
            # The answer goes out; a database that is down has refused the request's work too.
            logger.warning("Access record lost (%s %s): %s", kind, request.path, error)
        return response
