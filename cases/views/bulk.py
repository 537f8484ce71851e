"""Bulk actions from the list pages: the ticked rows of the village inbox, the board and the
town command, each carried out on its own (cases.services.bulk), then a page with what became
of every row; or the ticked rows exported as CSV or XLSX."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from cases.forms_bulk import EXPORT, BulkForm
from cases.selectors_pages.bulk import export_table, row_labels
from cases.services.bulk import perform_bulk
from cases.workflow import CASE, DISPATCH, REGISTRY
from core.exports import export_response, file_name
from core.views import run_service


def _back(request: HttpRequest) -> str:
    """The list the rows were ticked in (a local address only), or the case list."""
    value = request.POST.get("next")
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("cases:list")


def _bulk(request: HttpRequest, on: str) -> HttpResponse:
    form = BulkForm(request.POST, on=on)
    back = _back(request)
    context = {"form": form, "back": back, "results": []}
    if not form.is_valid():
        return render(request, "cases/bulk/result.html", context, status=400)
    action, ids = form.cleaned_data["action"], form.cleaned_data["ids"]
    if action == EXPORT:
        fmt = form.cleaned_data["format"] or "csv"
        kind = "cases" if on == CASE else "dispatches"
        return export_response(
            export_table(user=request.user, on=on, ids=ids),
            fmt=fmt,
            filename=file_name(kind, timezone.localdate().isoformat(), fmt=fmt),
        )
    ok, results = run_service(
        request,
        form,
        lambda: perform_bulk(
            user=request.user, on=on, action=action, ids=ids, data=form.action_data()
        ),
    )
    if not ok:
        return render(request, "cases/bulk/result.html", context, status=400)
    # Named after the rows were done, as the user may see them now (none outside the scope).
    labels = row_labels(user=request.user, on=on, ids=ids)
    context.update(
        title=REGISTRY.get(on=on, name=action).button,
        results=[(result, labels.get(result.id, f"#{result.id}")) for result in results],
        done=sum(result.done for result in results),
        refused=sum(not result.done for result in results),
    )
    return render(request, "cases/bulk/result.html", context)


@login_required
@require_POST
def case_bulk(request: HttpRequest) -> HttpResponse:
    return _bulk(request, CASE)


@login_required
@require_POST
def dispatch_bulk(request: HttpRequest) -> HttpResponse:
    return _bulk(request, DISPATCH)


urlpatterns = [
    path("cases/bulk/", case_bulk, name="bulk"),
    path("dispatches/bulk/", dispatch_bulk, name="dispatch_bulk"),
]
