"""The user's own API tokens: list them, create one (shown once: only a digest is kept),
revoke one or all. Administrators see every token by its first characters in the admin."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from teams import tokens as api_tokens


@never_cache
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """GET lists the tokens; POST action=create makes a new one and shows it this once,
    action=revoke with prefix=... revokes that one, action=revoke-all revokes every one."""
    new_key = None
    if request.method == "POST":
        operation = request.POST.get("action")
        if operation == "create":
            try:
                new_key = api_tokens.create_api_token(user=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return redirect("tokens")
            messages.success(request, _("A new API token was created. Copy it now."))
        elif operation == "revoke":
            prefix = request.POST.get("prefix", "")
            if api_tokens.revoke_api_token(user=request.user, prefix=prefix):
                messages.success(request, _("The API token was revoked."))
            else:
                messages.error(request, _("There is no such API token."))
            return redirect("tokens")
        elif operation == "revoke-all":
            if api_tokens.revoke_all_api_tokens(user=request.user):
                messages.success(request, _("All your API tokens were revoked."))
            return redirect("tokens")
        else:
            return redirect("tokens")
    return render(
        request,
        "teams/tokens.html",
        {"tokens": api_tokens.api_tokens(user=request.user), "new_key": new_key},
    )
