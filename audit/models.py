"""The access audit trail (MLPS 2.0 level 3 "security audit"): who signed in, failed, was locked
out or refused, and who opened which case, attachment, export or drill-down, from where.

Append-only: the database refuses UPDATE, and DELETE of a record younger than
MINIMUM_RETENTION_DAYS (migration 0002); the retention purge deletes only older ones.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The legal floor: MLPS 2.0 (GB/T 22239-2019) and the Cybersecurity Law (art. 21) ask that logs
# be kept at least six months. The database trigger holds it, whatever the settings say.
MINIMUM_RETENTION_DAYS = 180


class AccessKind(models.TextChoices):
    SIGN_IN = "sign_in", _("signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("sign-in failed")
    SECOND_FACTOR = "second_factor", _("second factor given")
    SECOND_FACTOR_FAILED = "second_factor_failed", _("second factor refused")
    LOCKED_OUT = "locked_out", _("locked out")
    SIGN_OUT = "sign_out", _("signed out")
    REFUSED = "refused", _("refused (403)")
    CASE_VIEWED = "case_viewed", _("case opened")
    ATTACHMENT_OPENED = "attachment_opened", _("attachment opened")
    EXPORT = "export", _("export")
    DRILL_DOWN = "drill_down", _("dashboard drill-down")
    AUDIT_SEARCHED = "audit_searched", _("audit trail searched")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("success")
    FAILURE = "failure", _("failure")


FAILURES = frozenset(
    {
        AccessKind.SIGN_IN_FAILED,
        AccessKind.SECOND_FACTOR_FAILED,
        AccessKind.LOCKED_OUT,
        AccessKind.REFUSED,
    }
)


class AccessRecord(models.Model):
    """One access: when, who (the account, or the username as typed), from which address,
    what kind, on what, and whether it succeeded."""

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # No database constraint and nothing done on delete: the record outlives the account (the
    # username is kept as text too), and the trigger would refuse a SET NULL anyway.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # searched by username, which failed sign-ins have too
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(_("username"), max_length=150, blank=True, db_index=True)
    address = models.CharField(_("client address"), max_length=64, blank=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=24, choices=AccessKind.choices)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    case_number = models.CharField(_("case number"), max_length=64, blank=True, db_index=True)
    target = models.CharField(
        _("target"), max_length=500, blank=True, help_text=_("The address asked for.")
    )
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("access record")
        verbose_name_plural = _("access records")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["kind", "at"], name="audit_kind_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.kind}"
