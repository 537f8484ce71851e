"""The import page in the administration: upload a file of the organisation, follow its run
(a Celery task) on a progress bar, read its report, run a clean dry run for real; download
each kind's template and the current organisation.

Deployment administrators only: staff with the permission rollout.add_importrun
(rollout.runs.may_import). The runs are made by the services, never edited here.
"""

import mimetypes

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from core.views import run_service
from rollout import (
    admin_levels,  # noqa: F401  (the level names page)
    run_selectors,
    runs,
)
from rollout.forms import ImportForm
from rollout.models import ImportRun

TABLE_FORMATS = ("csv", "xlsx")
GEO_FORMATS = ("geojson",)
TEMPLATE_LANGUAGES = (("zh-hans", "中文"), ("en", "English"))
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


def formats_of(kind: str) -> tuple[str, ...]:
    return GEO_FORMATS if kind in runs.GEO_KINDS else TABLE_FORMATS


def _download(filename: str, content: bytes) -> HttpResponse:
    suffix = filename.rsplit(".", 1)[-1].lower()
    content_type = CONTENT_TYPES.get(suffix) or (
        mimetypes.guess_type(filename)[0] or "application/octet-stream"
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "filename",
        "dry_run",
        "status",
        "progress_done",
        "progress_total",
        "created_by",
        "created_at",
        "finished_at",
    ]
    list_display_links = ["id", "filename"]
    list_filter = ["status", "kind", "dry_run"]
    search_fields = ["filename", "created_by__username"]
    list_select_related = ["created_by"]
    change_list_template = "admin/rollout/importrun/change_list.html"

    # Who may see and start runs: deployment administrators (runs.may_import).
    def has_module_permission(self, request: HttpRequest) -> bool:
        return runs.may_import(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return runs.may_import(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return runs.may_import(request.user)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def _guard(self, request: HttpRequest) -> None:
        if not runs.may_import(request.user):
            raise PermissionDenied

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        name = "rollout_importrun"
        return [
            path("<int:pk>/progress/", wrap(self.progress_view), name=f"{name}_progress"),
            path("<int:pk>/for-real/", wrap(self.for_real_view), name=f"{name}_for_real"),
            path(
                "template/<str:kind>/<str:fmt>/<str:language>/",
                wrap(self.template_view),
                name=f"{name}_template",
            ),
            path("export/<str:kind>/<str:fmt>/", wrap(self.export_view), name=f"{name}_export"),
            *super().get_urls(),
        ]

    def _downloads(self) -> list[dict]:
        """Per kind: its template in each format and language, and its export."""
        return [
            {
                "kind": kind,
                "label": label,
                "templates": [
                    {"fmt": fmt, "language": language, "language_label": language_label}
                    for fmt in formats_of(kind)
                    for language, language_label in TEMPLATE_LANGUAGES
                ],
                "exports": list(formats_of(kind)),
            }
            for kind, label in ImportRun.Kind.choices
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        return super().changelist_view(
            request, {**(extra_context or {}), "downloads": self._downloads()}
        )

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        """The upload form; a valid upload queues a run and shows its page."""
        self._guard(request)
        if request.method == "POST":
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                ok, run = run_service(
                    request,
                    form,
                    lambda: runs.start_import(
                        user=request.user,
                        kind=form.cleaned_data["kind"],
                        upload=form.cleaned_data.get("file"),
                        dry_run=form.cleaned_data["dry_run"],
                    ),
                )
                if ok:
                    messages.success(request, _("The file is queued for import."))
                    return HttpResponseRedirect(self._run_url(run))
            status = 400
        else:
            form = ImportForm()
            status = 200
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import the organisation from a file"),
            "form": form,
            "downloads": self._downloads(),
            "recent": run_selectors.recent_runs(limit=10),
            "max_bytes": settings.WHISTLE_IMPORT_MAX_BYTES,
        }
        return TemplateResponse(
            request, "admin/rollout/importrun/upload.html", context, status=status
        )

    def _run_url(self, run: ImportRun) -> str:
        return reverse("admin:rollout_importrun_change", args=[run.pk])

    def _run(self, pk) -> ImportRun:
        try:
            return get_object_or_404(ImportRun.objects.select_related("created_by"), pk=int(pk))
        except (TypeError, ValueError) as error:
            raise Http404 from error

    def _progress_context(self, run: ImportRun) -> dict:
        done, total = run_selectors.live_progress(run)
        return {
            "run": run,
            "done": done,
            "total": total,
            "percent": 100 if run.finished else (min(100, 100 * done // total) if total else 0),
            "running": not run.finished,
        }

    def change_view(self, request: HttpRequest, object_id: str, form_url="", extra_context=None):
        """A run's page: the progress bar while it runs (htmx polls it), then its report."""
        self._guard(request)
        run = self._run(object_id)
        real_run = run_selectors.real_run_of(run) if run.dry_run else None
        context = {
            **self.admin_site.each_context(request),
            **self._progress_context(run),
            "opts": self.opts,
            "title": _("Import run %(id)s") % {"id": run.pk},
            "original": run,
            "report": run_selectors.report_of(run),
            "real_run": real_run,
            "may_run_for_real": run_selectors.may_run_for_real(run),
        }
        return TemplateResponse(request, "admin/rollout/importrun/run.html", context)

    def progress_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The progress fragment, polled every second while the run is queued or running; once
        it has finished, a poll reloads the page (HX-Refresh) to show the report."""
        self._guard(request)
        run = self._run(pk)
        response = TemplateResponse(
            request, "admin/rollout/importrun/_progress.html", self._progress_context(run)
        )
        if request.headers.get("HX-Request") and run.finished:
            response["HX-Refresh"] = "true"
        return response

    def for_real_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """POST: queue the real import of a clean dry run's stored file."""
        self._guard(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._run(pk)
        ok, run = run_service(
            request, None, lambda: runs.run_for_real(user=request.user, run_id=pk)
        )
        if ok:
            messages.success(request, _("The file is queued for a real import."))
            return HttpResponseRedirect(self._run_url(run))
        return HttpResponseRedirect(reverse("admin:rollout_importrun_change", args=[pk]))

    def template_view(self, request: HttpRequest, kind: str, fmt: str, language: str):
        """An empty file of a kind to fill in, headers in the language asked for."""
        from rollout.services import template_for

        self._guard(request)
        _checked_download(kind, fmt)
        if language not in dict(TEMPLATE_LANGUAGES):
            raise Http404
        return _download(*template_for(kind=kind, fmt=fmt, language=language))

    def export_view(self, request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
        """The current organisation's kind as a file that imports back unchanged."""
        from rollout.services import export_org

        self._guard(request)
        _checked_download(kind, fmt)
        filename, content = export_org(kind=kind, fmt=fmt)
        response = _download(filename, content)
        response.export_file_name = filename  # the access audit records the export
        return response


def _checked_download(kind: str, fmt: str) -> None:
    if kind not in ImportRun.Kind.values or fmt not in formats_of(kind):
        raise Http404
