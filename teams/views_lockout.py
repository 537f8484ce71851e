"""The answer to a sign-in while its username, its address or the pair is locked out
(django-axes calls it through AXES_LOCKOUT_CALLABLE; teams.lockout counts): the sign-in page
again, saying why and for how long."""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """429 Too Many Requests with the login form and a translated message."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    message = ngettext(
        "Too many failed sign-in attempts. Signing in is locked for %(minutes)d minute; "
        "try again later or ask your administrator.",
        "Too many failed sign-in attempts. Signing in is locked for %(minutes)d minutes; "
        "try again later or ask your administrator.",
        minutes,
    ) % {"minutes": minutes}
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    return render(
        request,
        "registration/login.html",
        {"form": form, "lockout_message": message, "next": request.POST.get("next", "")},
        status=429,
    )
