"""The village inbox: what a village officer screens, handles and verifies."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from cases.selectors_pages import village as selectors


@login_required
def village_inbox(request: HttpRequest) -> HttpResponse:
    """Village officers only; the cases of the villages where they hold the role."""
    villages = selectors.officer_villages(user=request.user)
    if not villages:
        raise PermissionDenied
    sections = selectors.village_inbox(
        user=request.user,
        villages=villages,
        pages={key: request.GET.get(f"{key}_page") for key, _s, _t in selectors.SECTIONS},
    )
    return render(
        request,
        "cases/village/inbox.html",
        {"sections": sections, "next_url": request.get_full_path()},
    )


urlpatterns = [
    path("village/inbox/", village_inbox, name="village_inbox"),
]
