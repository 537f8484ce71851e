"""The supervision page: the open supervision orders (督办) for the committees and the
supervisors, within their places."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases.selectors_pages import supervision as selectors


@require_GET
@login_required
def supervision(request: HttpRequest) -> HttpResponse:
    """Town and city committees and supervisors: the orders still waiting to be met."""
    scope = selectors.supervision_scope(user=request.user)
    if scope.empty:
        raise PermissionDenied
    page = selectors.supervision_page(scope=scope, page=request.GET.get("page"))
    return render(
        request,
        "cases/supervision/list.html",
        {"page": page, "now": timezone.now()},
    )


urlpatterns = [
    path("supervision/", supervision, name="supervision"),
]
