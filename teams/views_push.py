"""JSON endpoints for the "turn on alerts on this phone" control: keep or remove the signed-in
user's Web Push subscription. Session and CSRF protected like every form."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from teams import push

MAX_BODY = 4096


def _json_body(request: HttpRequest) -> object:
    if len(request.body) > MAX_BODY:
        raise ValidationError(_("The request is too large."))
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError(_("The request is not valid JSON.")) from error


def _refused(error: ValidationError) -> JsonResponse:
    return JsonResponse({"ok": False, "message": " ".join(error.messages)}, status=400)


@never_cache
@login_required
@require_POST
def subscribe(request: HttpRequest) -> JsonResponse:
    """Body: the browser's PushSubscription.toJSON(). 201 when new, 200 when known."""
    try:
        data = push.parse_subscription(_json_body(request))
    except ValidationError as error:
        return _refused(error)
    _row, created = push.subscribe(
        user=request.user,
        subscription=data,
        user_agent=request.headers.get("User-Agent", ""),
    )
    return JsonResponse(
        {"ok": True, "message": _("Alerts are on for this phone.")},
        status=201 if created else 200,
    )


@never_cache
@login_required
@require_POST
def unsubscribe(request: HttpRequest) -> JsonResponse:
    """Body: {"endpoint": ...}. Only the user's own subscription is removed; an endpoint that
    is not theirs is 404."""
    try:
        body = _json_body(request)
    except ValidationError as error:
        return _refused(error)
    endpoint = body.get("endpoint") if isinstance(body, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        return _refused(ValidationError(_("Say which subscription to remove (endpoint).")))
    if not push.unsubscribe(user=request.user, endpoint=endpoint):
        return JsonResponse(
            {"ok": False, "message": _("You have no such subscription.")}, status=404
        )
    return JsonResponse({"ok": True, "message": _("Alerts are off for this phone.")})
