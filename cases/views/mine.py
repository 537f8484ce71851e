"""My cases: what the grid worker filed, and what waits for their check on site."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from cases.models import Satisfaction, Status
from cases.selectors_pages import filing as selectors
from cases.views.filing import act_url, case_url

PAGE_SIZE = 20


def _page(request: HttpRequest, queryset, parameter: str):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get(parameter))
    for case in page:
        case.running_deadline = case.running_deadlines[0] if case.running_deadlines else None
        case.detail_url = case_url(case.pk)
        case.verify_url = act_url(case.pk, "verify")
        case.evaluate_url = act_url(case.pk, "evaluate")
        case.can_evaluate = case.status == Status.CLOSED and not case.satisfaction
    return page


@login_required
@require_GET
def my_cases(request: HttpRequest) -> HttpResponse:
    """Two paginated lists, each in a fixed number of queries whatever the page size."""
    to_verify = _page(request, selectors.to_verify(user=request.user), "verify_page")
    filed = _page(request, selectors.filed_by(user=request.user), "page")
    return render(
        request,
        "cases/filing/mine.html",
        {
            "to_verify": to_verify,
            "filed": filed,
            "satisfaction_choices": Satisfaction.choices,
            "here": request.get_full_path(),
        },
    )


urlpatterns = [path("my/cases/", my_cases, name="mine")]
