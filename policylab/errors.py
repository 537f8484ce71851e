"""Errors of the policy lab, mapped by the pages and the API like the case services' errors."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError
from teams.levels import with_levels


class LabError(ServiceError):
    code = "lab_error"
    default_message = _("Please correct the errors below.")
    http_status = 400


class NotInLab(LabError, Http404):
    """Outside the user's cities a scenario or replay does not exist (HTTP 404)."""

    code = "not_found"
    default_message = _("No such scenario or replay.")
    http_status = 404


class LabNotAllowed(LabError, PermissionDenied):
    """The user holds no role that may use the policy lab (HTTP 403)."""

    code = "forbidden"
    default_message = with_levels(
        _("The policy lab is for the %(city)s committee's staff, supervisors and administrators.")
    )
    http_status = 403


class ReplayState(LabError):
    """The replay is not in a state that allows this (HTTP 409)."""

    code = "conflict"
    default_message = _("The replay cannot do this in its current state.")
    http_status = 409
