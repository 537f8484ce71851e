"""Keeps a session that owes its second factor on the code and enrolment pages.

After the password, a user with an authenticator is sent to give its code, and a privileged
user without one to set one up; every other page redirects there (with ?next= to come back),
and the admin too. The API answers 403 to such a session; a request that carries a token
(Authorization header) is judged by its token alone, the session it may also carry does not
count. WHISTLE_REQUIRE_TWO_FACTOR off (tests only) turns all of it off."""

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseRedirect,
    JsonResponse,
)
from django.urls import reverse
from django.utils.translation import gettext as _

from core.api.errors import error_body
from core.unavailable import DATABASE_ERRORS, service_unavailable
from teams.two_factor.selectors import Owed, has_second_factor, owed

# Pages a session that owes its second factor may still open (signing in and out, choosing
# the language, the public tracking page, and the second factor's own pages).
OPEN_URL_NAMES = frozenset(
    {
        "login",
        "logout",
        "admin:login",
        "admin:logout",
        "set_language",
        "track",
        "track_attachment",
        "two_factor_verify",
        "two_factor_enrol",
        # The operations endpoints (whistle.health) answer machines, not sessions.
        "healthz",
        "readyz",
        "metrics",
    }
)
# Namespaces with their own keys (Open311 clients), never a user's session.
OPEN_NAMESPACES = frozenset({"open311"})
# A session found to owe nothing is asked again after this long (a new role, a new device).
RECHECK_SECONDS = 60
CHECKED_KEY = "whistle_two_factor_checked"


def _owed(request: HttpRequest) -> Owed:
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return Owed.NOTHING
    checked = request.session.get(CHECKED_KEY)
    if checked is not None and time.time() - checked < RECHECK_SECONDS:
        return Owed.NOTHING
    result = owed(user=user, verified=False)
    if result is Owed.NOTHING:
        request.session[CHECKED_KEY] = time.time()
    else:
        request.session.pop(CHECKED_KEY, None)
    return result


class TwoFactorMiddleware:
    """Needs django_otp's OTPMiddleware before it (request.user.is_verified)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not settings.WHISTLE_REQUIRE_TWO_FACTOR:
            return None
        try:
            return self._check(request)
        except DATABASE_ERRORS:
            # The session and the devices live in the database: while it restarts nothing can
            # be checked, so nothing is served; a clean 503 as for any view (whistle.faults).
            return service_unavailable(request)

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        match = request.resolver_match
        if match.view_name in OPEN_URL_NAMES or OPEN_NAMESPACES & set(match.namespaces):
            return None
        if "api" in match.namespaces:
            return self._api(request)
        due = _owed(request)
        if due is Owed.NOTHING and "admin" in match.namespaces:
            due = self._admin(request)
        if due is Owed.NOTHING:
            return None
        if request.headers.get("HX-Request"):
            # A fragment (the unread badge of the header, shown on the code page too) gets
            # nothing: a redirect would swap the code page into it.
            return HttpResponseForbidden()
        target = "two_factor_verify" if due is Owed.CODE else "two_factor_enrol"
        return HttpResponseRedirect(
            f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}"
        )

    @staticmethod
    def _admin(request: HttpRequest) -> Owed:
        """The admin asks every signed-in user for a verified session, privileged or not."""
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return Owed.NOTHING
        return Owed.CODE if has_second_factor(user=user) else Owed.ENROLMENT

    def _api(self, request: HttpRequest) -> HttpResponse | None:
        if request.headers.get("Authorization"):
            if _owed(request) is not Owed.NOTHING:
                request.user = AnonymousUser()  # the token decides, not the half-done session
            return None
        if _owed(request) is Owed.NOTHING:
            return None
        body = error_body(
            code="second_factor_required",
            message=_(
                "This session has not given its second factor. Sign in on the web page with "
                "your authentication code first, or use an API token."
            ),
        )
        return JsonResponse(body, status=403)
