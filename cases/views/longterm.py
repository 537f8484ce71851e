"""The suspended cases (挂账清单): each suspended case of the town committee's towns, the city
committee's or the supervisor's cities, with its review date and how long it has been parked."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases.selectors_pages import longterm as selectors


@require_GET
@login_required
def suspended_cases(request: HttpRequest) -> HttpResponse:
    """Town and city committees and supervisors: the cases to review, the earliest first."""
    scope = selectors.suspended_scope(user=request.user)
    if scope.empty:
        raise PermissionDenied
    page, rows = selectors.suspended_page(
        scope=scope, page=request.GET.get("page"), now=timezone.now()
    )
    return render(request, "cases/longterm/list.html", {"page": page, "rows": rows})


urlpatterns = [
    path("cases/suspended/", suspended_cases, name="suspended"),
]
