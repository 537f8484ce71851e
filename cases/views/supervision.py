"""The supervision page: the open supervision orders (督办) and the returned dispatches (退回)
waiting for a ruling, for the committees and the supervisors, within their places."""

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
    """Town and city committees and supervisors: the orders still waiting to be met, and the
    returns the committee has still to rule on (each list paged on its own)."""
    scope = selectors.supervision_scope(user=request.user)
    if scope.empty:
        raise PermissionDenied
    page = selectors.supervision_page(scope=scope, page=request.GET.get("page"))
    returns = selectors.returns_page(scope=scope, page=request.GET.get("returns"))
    return render(
        request,
        "cases/supervision/list.html",
        {
            "page": page,
            "returns": returns,
            "now": timezone.now(),
            # Each pager keeps the other list's page.
            "orders_extra": f"returns={returns.number}&",
            "returns_extra": f"page={page.number}&",
        },
    )


urlpatterns = [
    path("supervision/", supervision, name="supervision"),
]
