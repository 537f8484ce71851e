"""Sign out everywhere: the user ends all their sessions (this one too) and revokes their API
tokens, e.g. after leaving a session open on a shared computer or losing a phone."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from teams.sessions import sign_out_everywhere as end_all_sessions


@require_POST
@login_required
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    end_all_sessions(user=request.user)
    logout(request)
    messages.success(request, _("You were signed out everywhere and your API tokens were revoked."))
    return redirect("login")
