"""Idempotency-Key on every POST of the API: a retried request returns the first result and
files nothing twice, also when both copies arrive at once.

With the header, the request runs in one transaction that first inserts its claim
(IdempotencyKey: key, user, endpoint, fingerprint of the body). A concurrent copy blocks on the
claim's unique index (PostgreSQL) or on the write lock (SQLite) until the first commits, then
fails to insert and returns the stored response. The response, errors (4xx) included, is
stored on the claim in the same transaction; a server error (5xx) rolls everything back, so a
retry runs again. The same key with a different body is refused (422).

Use: base a viewset on `IdempotentViewSet` (or put `IdempotentPostMixin` first in a view's
bases); every POST handler of the view is covered, and its schema documents the header and the
422. The claims are kept in cases' IdempotencyKey (with the case a request created or changed,
shared with the filing of Open311 requests), so the mixin belongs to the cases app; core's
ApiViewSet only documents the errors.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from cases.models import IdempotencyKey
from cases.models.idempotency import request_fingerprint
from cases.uploads import undo_stored_files_on_failure
from core.api.errors import ErrorSerializer, error_body
from core.api.views import ApiAutoSchema, ApiViewSet

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 128


class _ServerError(Exception):
    """Carries a 5xx response out of the transaction so that nothing of it is kept."""

    def __init__(self, response: Response) -> None:
        self.response = response
        super().__init__(response.status_code)


def fingerprint(request: Request) -> str:
    """A hash of what the client sent, the same for a retry whatever the multipart boundary."""
    data = request.data
    fields: dict[str, Any] = {}
    if hasattr(data, "lists"):
        for name, values in data.lists():
            fields[name] = [_value_fingerprint(value) for value in values]
    else:
        fields = {"json": data}
    files = getattr(request, "FILES", None)
    if files:
        for name, uploads in files.lists():
            fields[name] = [_value_fingerprint(upload) for upload in uploads]
    return request_fingerprint(fields)


def _value_fingerprint(value: Any) -> Any:
    if hasattr(value, "chunks"):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": digest.hexdigest(), "size": value.size}
    return value


def _endpoint(request: Request, kwargs: dict) -> str:
    match = request.resolver_match
    name = match.url_name if match is not None else request.path
    return f"{name}:{kwargs.get('pk', '')}"[:100]


def _replay(claim: IdempotencyKey) -> Response:
    response = Response(claim.response_body, status=claim.response_status)
    response[REPLAYED_HEADER] = "true"
    return response


def _lookup(*, key: str, user_id: int, endpoint: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(key=key, user_id=user_id, endpoint=endpoint).first()


def _reused() -> Response:
    return Response(
        error_body(
            code="idempotency_key_reused",
            message=_("This Idempotency-Key was already used for a different request."),
        ),
        status=422,
    )


def run_idempotent(
    *, request: Request, key: str, endpoint: str, call: Callable[[], Response]
) -> Response:
    """Run `call` once per (key, user, endpoint); later copies get the stored response.

    The claim is the transaction's first statement: a new key (the usual case) costs one
    INSERT and no lookup; a key already claimed fails that INSERT (after waiting for the
    claimer to commit), and only then is the stored answer read."""
    request_hash = fingerprint(request)
    user_id = request.user.pk
    claimed = False
    try:
        # A request rolled back after it stored files (an error, a 5xx) deletes them again.
        with undo_stored_files_on_failure(), transaction.atomic():
            claim = IdempotencyKey.objects.create(
                key=key, user_id=user_id, endpoint=endpoint, request_hash=request_hash
            )
            claimed = True
            response = call()
            if response.status_code >= 500:
                raise _ServerError(response)
            claim.response_status = response.status_code
            claim.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
            case_id = getattr(response, "idempotent_case_id", None)
            if case_id:
                claim.case_id = case_id
            claim.save(update_fields=["response_status", "response_body", "case"])
            return response
    except _ServerError as error:
        return error.response
    except IntegrityError:
        if claimed:
            raise
    # A concurrent copy claimed the key first and has committed by now: answer as it did.
    earlier = _lookup(key=key, user_id=user_id, endpoint=endpoint)
    if earlier is None or earlier.response_status is None:
        return Response(
            error_body(
                code="idempotency_in_progress",
                message=_("The same request is still being processed. Try again shortly."),
            ),
            status=409,
        )
    return _replay(earlier) if earlier.request_hash == request_hash else _reused()


class IdempotentPostMixin:
    """Every POST handler of the view honours the Idempotency-Key header."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method != "POST":
            return
        key = (request.headers.get(HEADER) or "").strip()
        if not key:
            return
        handler = getattr(self, "post", None)
        if handler is None:
            return
        if len(key) > MAX_KEY_LENGTH:
            raise ValidationError(
                {HEADER: [_("Use at most %(count)d characters.") % {"count": MAX_KEY_LENGTH}]}
            )

        def run_once(request: Request, *args: Any, **kwargs: Any) -> Response:
            def call() -> Response:
                try:
                    return handler(request, *args, **kwargs)
                except Exception as exc:  # answered like DRF would, and stored if a 4xx
                    return self.handle_exception(exc)

            return run_idempotent(
                request=request, key=key, endpoint=_endpoint(request, kwargs), call=call
            )

        self.post = run_once


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A key the client chooses for this request (at most 128 characters). A retry with the "
        "same key and body returns the first response with the header Idempotent-Replayed: "
        "true; the same key with another body is refused with 422."
    ),
)


class IdempotentAutoSchema(ApiAutoSchema):
    """Also documents the Idempotency-Key header, the 409 and the 422 on every POST."""

    def get_override_parameters(self) -> list:
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters.append(IDEMPOTENCY_PARAMETER)
        return parameters

    def error_responses(self) -> dict[str, Any]:
        responses = super().error_responses()
        if self.method == "POST":
            responses["409"] = OpenApiResponse(
                ErrorSerializer, description="Stale version or illegal transition"
            )
            responses["422"] = OpenApiResponse(
                ErrorSerializer, description="Idempotency-Key reused for another request"
            )
        return responses


class IdempotentViewSet(IdempotentPostMixin, ApiViewSet):
    """Base of the API viewsets of cases: idempotent POSTs, documented errors."""

    schema = IdempotentAutoSchema()
