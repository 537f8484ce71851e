"""What every page that changes something shares: running a service and showing its refusal
in the user's language next to the right field, and the htmx-aware redirect after a successful
action."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from core.errors import ServiceError


def run_service(
    request: HttpRequest, form: forms.Form | None, call: Callable[[], Any]
) -> tuple[bool, Any]:
    """Call a service. On a refusal (core.errors.ServiceError) the error lands on the form
    (field errors next to their field, the message at the top) or, without a form, in the
    messages; nothing changed.

    A refusal that is also Http404 or PermissionDenied (cases.errors.NotInScope, NotAllowed)
    propagates, so Django answers 404 and 403."""
    try:
        return True, call()
    except (Http404, PermissionDenied):
        raise
    except ServiceError as error:
        if form is not None:
            placed = False
            for field, errors in error.fields.items():
                target = field if field in form.fields else None
                for message in errors if isinstance(errors, list | tuple) else [errors]:
                    form.add_error(target, message)
                    placed = True
            if not placed or error.fields:
                form.add_error(None, error.message)
        else:
            messages.error(request, error.message)
            for errors in error.fields.values():
                for message in errors if isinstance(errors, list | tuple) else [errors]:
                    messages.error(request, message)
        return False, error


def done(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect after a successful POST; htmx requests follow with HX-Redirect."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
