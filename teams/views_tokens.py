"""The user's own API token: create it (shown once) and revoke it. Administrators manage
everyone's tokens in the admin (rest_framework.authtoken)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """GET shows whether a token exists; POST action=create makes a new one (replacing the
    old) and shows its key this once; POST action=revoke deletes it."""
    new_key = None
    if request.method == "POST":
        operation = request.POST.get("action")
        if operation == "create":
            Token.objects.filter(user=request.user).delete()
            new_key = Token.objects.create(user=request.user).key
            messages.success(request, _("A new API token was created. Copy it now."))
        elif operation == "revoke":
            deleted, _rows = Token.objects.filter(user=request.user).delete()
            if deleted:
                messages.success(request, _("Your API token was revoked."))
            return redirect("tokens")
        else:
            return redirect("tokens")
    token = Token.objects.filter(user=request.user).first()
    return render(request, "teams/tokens.html", {"token": token, "new_key": new_key})
