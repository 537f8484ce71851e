"""The auditor's page: search the access trail, page through it, export a search.

Only the auditor role reads it (403 for every other signed-in user). Each search is itself
recorded (audit_searched), and each export is recorded as an export by
whistle.audit.AccessAuditMiddleware, like every other export."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.forms import AuditSearchForm
from audit.models import AccessKind, AccessRecord
from audit.selectors import AuditFilters, may_audit, search_records
from audit.services import record_access
from core.exports import Table, export_format, export_response, file_name

PAGE_SIZE = 50


def _table(records) -> Table:
    return Table(
        headers=[
            _("Time"),
            _("Username"),
            _("Client address"),
            _("Kind"),
            _("Outcome"),
            _("Case number"),
            _("Target"),
            _("Detail"),
        ],
        rows=[
            (
                record.at,
                record.username,
                record.address,
                record.get_kind_display(),
                record.get_outcome_display(),
                record.case_number,
                record.target,
                record.detail,
            )
            for record in records.iterator(chunk_size=2000)
        ],
        title=_("Access audit"),
    )


@require_GET
@login_required
def audit_search(request: HttpRequest) -> HttpResponse:
    if not may_audit(user=request.user):
        raise PermissionDenied()
    form = AuditSearchForm(request.GET or None)
    # Opened plainly: every record, newest first.
    filters = form.filters() if form.is_bound else AuditFilters()
    try:
        fmt = export_format(request.GET)
    except ValueError:
        return HttpResponseBadRequest(_("Choose CSV or XLSX to export the search."))
    records = (
        search_records(filters=filters) if filters is not None else AccessRecord.objects.none()
    )
    if fmt:
        if filters is None:
            return HttpResponseBadRequest(_("Correct the search before exporting it."))
        return export_response(
            _table(records),
            fmt=fmt,
            filename=file_name("access-audit", timezone.localdate().isoformat(), fmt=fmt),
        )
    record_access(request=request, kind=AccessKind.AUDIT_SEARCHED)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "audit/search.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=400 if form.is_bound and form.errors else 200,
    )
