"""The case list: every case the user may see, filtered, sorted and paginated.

Without JavaScript the filter form is a plain GET form; with htmx a change of filter fetches
only the results (and pushes the URL), so the page and its URL always agree. `?format=csv|xlsx`
exports every row of the filtered list, in its order (not only the page shown).
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cases.forms_lists import CaseFilterForm
from cases.selectors_pages.bulk import export_table
from cases.selectors_pages.lists import case_list, case_path, running_deadline, visible_grids
from cases.workflow import CASE
from core.exports import export_format, export_response, file_name
from core.replica import read_on_replica

PAGE_SIZE = 25


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request for part of the page (a history restore needs the whole page)."""
    return bool(
        request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    )


@require_GET
@login_required
def case_list_page(request: HttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET, grids=visible_grids(user=request.user))
    now = timezone.now()
    queryset = case_list(user=request.user, filters=form.filters(), sort=form.sort_order(), now=now)
    try:
        fmt = export_format(request.GET)
    except ValueError:
        return HttpResponseBadRequest(_("Choose CSV or XLSX to export the list."))
    if fmt:
        # A whole list's export is a heavy read: on the read replica when it is fresh enough.
        table = read_on_replica(
            user_id=request.user.pk,
            read=lambda _: export_table(
                user=request.user, on=CASE, ids=list(queryset.values_list("pk", flat=True))
            ),
        )
        return export_response(
            table,
            fmt=fmt,
            filename=file_name("cases", timezone.localdate().isoformat(), fmt=fmt),
        )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(case, running_deadline(case), case_path(case.pk)) for case in page.object_list]
    export_query = request.GET.copy()
    export_query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "sort": form.sort_order(),
        "export_query": export_query.urlencode(),
    }
    template = "cases/lists/_results.html" if wants_fragment(request) else "cases/lists/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


urlpatterns = [
    path("cases/", case_list_page, name="list"),
]
