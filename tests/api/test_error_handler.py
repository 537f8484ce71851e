"""The exception handler maps every kind of error to {"code", "message", "fields"}."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import translation
from rest_framework import exceptions

from cases.errors import IllegalTransition, InvalidInput, NotInScope, ScreeningRefused
from core.api.errors import exception_handler, flatten_fields


def handle(error):
    with translation.override("en"):
        response = exception_handler(error, {})
        return response.status_code, response.data


def test_case_errors_keep_their_status_and_code():
    assert handle(NotInScope()) == (
        404,
        {"code": "not_found", "message": "No such case.", "fields": {}},
    )
    status, body = handle(IllegalTransition())
    assert (status, body["code"]) == (409, "illegal_transition")
    status, body = handle(InvalidInput(fields={"reason": ["Give the reason."]}))
    assert (status, body["fields"]) == (400, {"reason": ["Give the reason."]})
    status, body = handle(ScreeningRefused("Not for whistling", redirect="The court"))
    assert (status, body["code"], body["fields"]) == (
        400,
        "screening_refused",
        {"redirect": ["The court"]},
    )


def test_framework_and_django_errors():
    assert handle(Http404()) == (404, {"code": "not_found", "message": "Not found.", "fields": {}})
    assert handle(PermissionDenied()) == (
        403,
        {
            "code": "forbidden",
            "message": "You do not have permission to perform this action.",
            "fields": {},
        },
    )
    status, body = handle(exceptions.Throttled(wait=5))
    assert (status, body["code"]) == (429, "throttled")
    status, body = handle(exceptions.NotAuthenticated())
    assert (status, body["code"]) == (401, "not_authenticated")
    status, body = handle(exceptions.ParseError())
    assert (status, body["code"]) == (400, "parse_error")
    assert exception_handler(RuntimeError("boom"), {}) is None  # a 500, left to Django


def test_validation_errors_are_flattened_per_field():
    error = exceptions.ValidationError(
        {"tasks": [{}, {"due_at": ["Required."]}], "version": ["Required."]}
    )
    status, body = handle(error)
    assert status == 400 and body["code"] == "invalid"
    assert body["message"] == "Please correct the errors below."
    assert body["fields"] == {"tasks.1.due_at": ["Required."], "version": ["Required."]}
    assert flatten_fields(["Invalid data."]) == {"non_field_errors": ["Invalid data."]}
    assert flatten_fields("Oops") == {"non_field_errors": ["Oops"]}
