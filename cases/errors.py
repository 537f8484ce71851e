"""Errors the case services raise. Each carries a translatable message and a stable code, so
pages, the API and tasks can show or map them the same way."""

from collections.abc import Callable, Mapping
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError


class CaseError(ServiceError):
    """Base of the errors the case services raise; nothing was changed when one is raised."""

    code = "case_error"
    default_message = _("The case could not be changed.")
    http_status = 400


class IllegalTransition(CaseError):
    code = "illegal_transition"
    default_message = _("This action is not possible in the case's current state.")
    http_status = 409


class StaleCase(CaseError):
    code = "stale"
    default_message = _(
        "The case was changed by someone else since you opened it. Reload it and try again."
    )
    http_status = 409


class IdempotencyKeyReused(CaseError):
    """The Idempotency-Key of an earlier request came with another body: nothing is filed."""

    code = "idempotency_key_reused"
    default_message = _(
        "This Idempotency-Key was already used for a different request: nothing was filed. "
        "Send a new key with a new request."
    )
    http_status = 422


class InvalidInput(CaseError):
    code = "invalid"
    default_message = _("Please correct the errors below.")
    http_status = 400


class ScreeningRefused(CaseError):
    """Screening refused the whistle: it is not for whistling, with where to go instead."""

    code = "screening_refused"
    default_message = _("This matter cannot be whistled.")
    http_status = 400

    def __init__(self, message: str, *, redirect: str = "") -> None:
        self.redirect = redirect
        super().__init__(message, fields={"redirect": redirect} if redirect else None)


class NotAllowed(CaseError, PermissionDenied):
    """In scope, but this user's roles do not allow this action (HTTP 403)."""

    code = "forbidden"
    default_message = _("You are not allowed to do this.")
    http_status = 403


class NotInScope(CaseError, Http404):
    """Outside the user's scope the case does not exist (HTTP 404)."""

    code = "not_found"
    default_message = _("No such case.")
    http_status = 404


T = TypeVar("T")


def with_field_names(call: Callable[[], T], names: Mapping[str, str], *, dotted: bool = False) -> T:
    """Run a service call; the fields of its errors are named as the caller's input names them:
    a page form's or the API's (an action's declared form_fields or api_fields), so the page and
    the API put each message on their own field. `dotted`: a formset row's field, tasks-0-due_at
    on a page, is tasks.0.due_at in the API."""
    try:
        return call()
    except CaseError as error:
        fields = {}
        for key, value in error.fields.items():
            if dotted and key.startswith("tasks-"):
                key = key.replace("-", ".")
            fields[names.get(key, key)] = value
        error.fields = fields
        raise
