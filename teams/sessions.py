"""How long a signed-in session lasts, and "sign out everywhere".

A session ends after a while without requests (WHISTLE_SESSION_IDLE_MINUTES_PRIVILEGED for the
privileged roles of teams.privilege, whose accounts reach a whole town or city;
WHISTLE_SESSION_IDLE_MINUTES for others) and, whatever happens, WHISTLE_SESSION_MAX_HOURS after
it began. The times are kept in the session itself, so every web process agrees.

"Sign out everywhere" raises the user's session generation, which is part of the session hash
Django checks at every request (teams.models.User), so every other session is refused at its
next request wherever it is; it also revokes the user's API tokens.
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.db import DatabaseError, transaction
from django.db.models import F
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from teams.models import User
from teams.privilege import is_privileged
from teams.tokens import revoke_all_api_tokens

STARTED = "whistle_session_started"
LAST_SEEN = "whistle_session_last_seen"
# A request within this many seconds of the last recorded one is not written down again, so
# that a busy page does not save the session at every request.
LAST_SEEN_RESOLUTION = 60


@transaction.atomic
def sign_out_everywhere(*, user: User) -> int:
    """End every session of the user and revoke their API tokens; how many tokens."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    return revoke_all_api_tokens(user=user)


def idle_limit_seconds(*, user: User) -> int:
    minutes = (
        settings.WHISTLE_SESSION_IDLE_MINUTES_PRIVILEGED
        if is_privileged(user=user)
        else settings.WHISTLE_SESSION_IDLE_MINUTES
    )
    return minutes * 60


def session_expired(*, user: User, started: float, last_seen: float, now: float) -> bool:
    if now - started > settings.WHISTLE_SESSION_MAX_HOURS * 3600:
        return True
    idle = now - last_seen
    shortest = 60 * min(
        settings.WHISTLE_SESSION_IDLE_MINUTES_PRIVILEGED, settings.WHISTLE_SESSION_IDLE_MINUTES
    )
    # the roles are looked up only when the session has been idle long enough to matter
    return idle > shortest and idle > idle_limit_seconds(user=user)


@receiver(user_logged_in, dispatch_uid="teams.sessions.mark_started")
def mark_session_started(sender, request, user, **kwargs) -> None:
    """The clocks start at sign-in, written with the sign-in's own session save, so the first
    page after it does not save the session again."""
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[STARTED] = now
        request.session[LAST_SEEN] = now


class SessionLimitsMiddleware:
    """Signs out a session that was idle too long or began too long ago; the page then asks
    for a sign-in as for anyone signed out, with a message saying why."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                self._check(request, user)
        except DatabaseError:
            # The database is down (restarting): no user can be read, so there is no session
            # to end; the view's own query answers 503 (whistle.faults).
            pass
        return self.get_response(request)

    def _check(self, request: HttpRequest, user: User) -> None:
        session = request.session
        now = time.time()
        started = session.get(STARTED)
        last_seen = session.get(LAST_SEEN)
        if started is None or last_seen is None:  # signed in just now (or before this check)
            session[STARTED] = started or now
            session[LAST_SEEN] = now
            return
        if session_expired(user=user, started=started, last_seen=last_seen, now=now):
            logout(request)
            messages.info(request, _("Your session has ended. Please sign in again."))
            return
        if now - last_seen >= LAST_SEEN_RESOLUTION:
            session[LAST_SEEN] = now
