"""An import run: one uploaded file of the organisation, imported (or dry-run) by a Celery task.

The file stays under MEDIA_ROOT so the task reads what the administrator uploaded, and a clean
dry run can be run for real from the same file without a second upload.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportRun(models.Model):
    """One import of one file of one kind, queued by the admin page, run by a worker."""

    class Kind(models.TextChoices):
        LEVELS = "levels", _("level names")
        REGIONS = "regions", _("regions")
        GRIDS = "grids", _("grids")
        DEPARTMENTS = "departments", _("departments")
        TEAMS = "teams", _("teams")
        USERS = "users", _("users")
        MEMBERSHIPS = "memberships", _("memberships")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        # The engine refused rows: nothing was written.
        REFUSED = "refused", _("refused")
        # The run broke (a bug, the database gone): nothing was written either.
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="rollout/imports/%Y/%m/", max_length=255)
    filename = models.CharField(_("file name"), max_length=255)
    dry_run = models.BooleanField(_("dry run"), default=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress_done = models.PositiveIntegerField(_("rows checked"), default=0)
    progress_total = models.PositiveIntegerField(_("rows in the file"), default=0)
    # The engine's ImportReport.as_dict(): created / changed / unchanged keys and every refusal.
    report = models.JSONField(_("report"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # The report's messages are written in the language of whoever started the run.
    language = models.CharField(_("language"), max_length=16, blank=True)
    # The clean dry run this run repeats for real (same stored file).
    dry_run_of = models.ForeignKey(
        "self",
        verbose_name=_("dry run repeated"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="real_runs",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    # Moved on every progress report: a running run whose worker died stops moving.
    progress_at = models.DateTimeField(_("progress at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.filename}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))
